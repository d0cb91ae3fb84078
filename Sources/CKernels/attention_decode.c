// One query row against cached keys and values, as ggml's one-chunk flash attention computes it:
// q rounded to F16, for each position in order s = scale·q·k; a new maximum rescales the F16
// accumulator by e^(M_old − s) and adds v, otherwise v·e^(s − M) is added; every accumulator update
// rounds to F16. Partial results over chunks of positions merge the way ggml's split-KV path does.
//
// The AVX2 path handles the heads of a GQA group together and positions in blocks: scores for a
// block, then the running maxima and exponentials (vectorized), then the accumulator updates with
// the accumulator held in registers (16-lane AVX-512 vectors where the CPU has them: the F16 round
// trips bound this loop). Where the CPU has AVX512-FP16 the accumulator is kept and updated in F16
// itself (values read straight from the cache, each update rounding once, its factor rounded to F16):
// the same precision as ggml's accumulator without the conversions, which made the loop 2-3 times
// slower. Each head's result is computed with the same operations in the same order as one head alone.
#include "kernels_internal.h"

#include "attention_internal.h"

#include <math.h>
#include <string.h>

// Scratch: [MAXQ][hd] query as floats; scores, rescale factors and weights, [MAXQ][BLOCK] each;
// the block's values as floats, [BLOCK][hd] (converted once for all heads of the group); the heads'
// accumulators, [MAXQ][hd] (in the thread's own scratch until the end: partials of other threads
// and other heads lie around the caller's buffer, and reading them back after each block stalled).
static inline float *query_rows(float *scratch) { return scratch; }
static inline float *scores_of(float *scratch, int64_t hd) { return scratch + MAXQ * hd; }
static inline float *rescales_of(float *scratch, int64_t hd) { return scratch + MAXQ * hd + MAXQ * BLOCK; }
static inline float *weights_of(float *scratch, int64_t hd) { return scratch + MAXQ * hd + 2 * MAXQ * BLOCK; }
static inline float *values_of(float *scratch, int64_t hd) { return scratch + MAXQ * hd + 3 * MAXQ * BLOCK; }
static inline float *accumulators_of(float *scratch, int64_t hd) { return values_of(scratch, hd) + BLOCK * hd; }

static inline float round_half(float x) { return sk_half_to_float_scalar(sk_float_to_half_scalar(x)); }

static void partial_scalar(const float *q, int64_t g, int64_t hd, float scale, float cap, const sk_kv_segment *segs,
                           int64_t nsegs, int64_t lo, int64_t hi, float *partials, int64_t pstride, float *scratch) {
    float *qf = query_rows(scratch);
    for (int64_t j = 0; j < g; j++) {
        for (int64_t d = 0; d < hd; d++) qf[d] = round_half(q[j * hd + d]);
        float *part = partials + j * pstride;
        float *acc = part + 2;
        for (int64_t d = 0; d < hd; d++) acc[d] = 0.0f;
        float m = -INFINITY, sum = 0.0f;
        for (int64_t si = 0; si < nsegs; si++) {
            int64_t first;
            const int64_t n = clip(&segs[si], lo, hi, &first);
            for (int64_t t = first; t < first + n; t++) {
                const uint16_t *kt = (const uint16_t *)segs[si].k + t * hd;
                const uint16_t *vt = (const uint16_t *)segs[si].v + t * hd;
                float dot = 0.0f;
                for (int64_t d = 0; d < hd; d++) dot += sk_half_to_float_scalar(kt[d]) * qf[d];
                const float s = sk_cap_score(dot * scale, cap);
                float ms = 1.0f, vs = 1.0f;
                if (s > m) {
                    ms = expf(m - s);
                    m = s;
                    for (int64_t d = 0; d < hd; d++) acc[d] = round_half(acc[d] * ms);
                } else {
                    vs = expf(s - m);
                }
                for (int64_t d = 0; d < hd; d++) acc[d] = round_half(acc[d] + sk_half_to_float_scalar(vt[d]) * vs);
                sum = sum * ms + vs;
            }
        }
        part[0] = m;
        part[1] = sum;
    }
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "avx2_math.h"

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

SK_INLINE __m256 load_h8(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }
SK_INLINE __m256 round_h8(__m256 x) { return _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT)); }

// scores[j * BLOCK + b] = scale · dot(q_j, k_b) for NQ ≤ 3 heads, four positions at a time (12
// independent accumulators; each key chunk converted once), then one position at a time.
SK_INLINE void block_scores(int nq, const float *qf, const uint16_t *k, const uint16_t *v, int64_t ahead,
                            int64_t nb, int64_t hd, float scale, float *scores) {
    const __m128 vs = _mm_set1_ps(scale);
    int64_t b = 0;
    for (; b + 4 <= nb; b += 4) {
        if (ahead) {  // prefetch the rows `ahead` values further on
            for (int64_t o = 0; o < 4 * hd; o += 32) {
                _mm_prefetch((const char *)(k + b * hd + ahead + o), _MM_HINT_T0);
                _mm_prefetch((const char *)(v + b * hd + ahead + o), _MM_HINT_T0);
            }
        }
        __m256 acc[3][4];
        for (int j = 0; j < nq; j++)
            for (int p = 0; p < 4; p++) acc[j][p] = _mm256_setzero_ps();
        for (int64_t d = 0; d < hd; d += 8) {
            for (int p = 0; p < 4; p++) {
                const __m256 kv = load_h8(k + (b + p) * hd + d);
                for (int j = 0; j < nq; j++) acc[j][p] = _mm256_fmadd_ps(kv, _mm256_loadu_ps(qf + j * hd + d), acc[j][p]);
            }
        }
        for (int j = 0; j < nq; j++) {  // four horizontal sums at once
            const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(acc[j][0], acc[j][1]), _mm256_hadd_ps(acc[j][2], acc[j][3]));
            const __m128 sums = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
            _mm_storeu_ps(scores + j * BLOCK + b, _mm_mul_ps(sums, vs));
        }
    }
    for (; b < nb; b++) {
        __m256 acc[3] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
        for (int64_t d = 0; d < hd; d += 8) {
            const __m256 kv = load_h8(k + b * hd + d);
            for (int j = 0; j < nq; j++) acc[j] = _mm256_fmadd_ps(kv, _mm256_loadu_ps(qf + j * hd + d), acc[j]);
        }
        for (int j = 0; j < nq; j++) scores[j * BLOCK + b] = hsum8(acc[j]) * scale;
    }
}

// For NH ≤ 3 heads, acc_j[0..<32] (F16 values held as floats; acc_j = acc + j·acc_stride) += the
// block's values (floats, rows hd apart, 32 columns from v), position by position: rescale when
// the maximum moved (factor ≠ 1), then add v·w, rounding to F16 each time. Twelve independent
// accumulators hide the latency of the F16 round trip.
SK_INLINE void block_values(int nh, float *acc, int64_t acc_stride, const float *v, int64_t nb, int64_t hd,
                            const float *rescale, const float *weight, const int *rescaled) {
    __m256 a[3][4];
    for (int j = 0; j < nh; j++)
        for (int c = 0; c < 4; c++) a[j][c] = _mm256_loadu_ps(acc + j * acc_stride + 8 * c);
    for (int64_t b = 0; b < nb; b++) {
        const float *vb = v + b * hd;
        for (int j = 0; j < nh; j++) {
            if (rescaled[j] && rescale[j * BLOCK + b] != 1.0f) {
                const __m256 f = _mm256_set1_ps(rescale[j * BLOCK + b]);
                for (int c = 0; c < 4; c++) a[j][c] = round_h8(_mm256_mul_ps(a[j][c], f));
            }
        }
        for (int j = 0; j < nh; j++) {
            const __m256 w = _mm256_broadcast_ss(weight + j * BLOCK + b);
            for (int c = 0; c < 4; c++) a[j][c] = round_h8(_mm256_fmadd_ps(_mm256_loadu_ps(vb + 8 * c), w, a[j][c]));
        }
    }
    for (int j = 0; j < nh; j++)
        for (int c = 0; c < 4; c++) _mm256_storeu_ps(acc + j * acc_stride + 8 * c, a[j][c]);
}

// The same for one head and 8 columns (head sizes that are not a multiple of 32).
SK_INLINE void block_values8(float *acc, const float *v, int64_t nb, int64_t hd, const float *rescale,
                             const float *weight, int rescaled) {
    __m256 a = _mm256_loadu_ps(acc);
    for (int64_t b = 0; b < nb; b++) {
        if (rescaled && rescale[b] != 1.0f) a = round_h8(_mm256_mul_ps(a, _mm256_set1_ps(rescale[b])));
        a = round_h8(_mm256_fmadd_ps(_mm256_loadu_ps(v + b * hd), _mm256_broadcast_ss(weight + b), a));
    }
    _mm256_storeu_ps(acc, a);
}

#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma,f16c"))), apply_to = function)

SK_INLINE __m512 round_h16(__m512 x) { return _mm512_cvtph_ps(_mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT)); }

// block_values with 16-lane vectors: NH ≤ 3 heads × 64 columns, the same operations lane by lane.
SK_INLINE void block_values16(int nh, float *acc, int64_t acc_stride, const float *v, int64_t nb, int64_t hd,
                              const float *rescale, const float *weight, const int *rescaled) {
    __m512 a[3][4];
    for (int j = 0; j < nh; j++)
        for (int c = 0; c < 4; c++) a[j][c] = _mm512_loadu_ps(acc + j * acc_stride + 16 * c);
    for (int64_t b = 0; b < nb; b++) {
        const float *vb = v + b * hd;
        for (int j = 0; j < nh; j++) {
            if (rescaled[j] && rescale[j * BLOCK + b] != 1.0f) {
                const __m512 f = _mm512_set1_ps(rescale[j * BLOCK + b]);
                for (int c = 0; c < 4; c++) a[j][c] = round_h16(_mm512_mul_ps(a[j][c], f));
            }
        }
        for (int j = 0; j < nh; j++) {
            const __m512 w = _mm512_set1_ps(weight[j * BLOCK + b]);
            for (int c = 0; c < 4; c++) a[j][c] = round_h16(_mm512_fmadd_ps(_mm512_loadu_ps(vb + 16 * c), w, a[j][c]));
        }
    }
    for (int j = 0; j < nh; j++)
        for (int c = 0; c < 4; c++) _mm512_storeu_ps(acc + j * acc_stride + 16 * c, a[j][c]);
}

// Columns [0, 64·k) of the value updates; returns 64·k.
static int64_t values_avx512(int nh, float *acc, int64_t acc_stride, const float *v, int64_t nb, int64_t hd,
                             const float *rescale, const float *weight, const int *rescaled) {
    int64_t d = 0;
    for (; d + 64 <= hd; d += 64) {
        switch (nh) {
        case 1: block_values16(1, acc + d, acc_stride, v + d, nb, hd, rescale, weight, rescaled); break;
        case 2: block_values16(2, acc + d, acc_stride, v + d, nb, hd, rescale, weight, rescaled); break;
        default: block_values16(3, acc + d, acc_stride, v + d, nb, hd, rescale, weight, rescaled); break;
        }
    }
    return d;
}

#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx512fp16,avx512bw,avx512vl,avx512f,avx2,fma,f16c"))), \
                             apply_to = function)

// block_values in F16 arithmetic (AVX512-FP16), for NH ≤ 3 heads × 32·NC columns of an F16
// accumulator (acc_j = acc + j·hd) and F16 values straight from the cache: the rescale is one
// multiply and the update one fused multiply-add, each rounding once to F16, with the factor
// rounded to F16 — the F16 accumulator of ggml without its round trips through F32.
SK_INLINE void block_values_ph(int nh, int nc, _Float16 *acc, int64_t hd, const uint16_t *v, int64_t nb,
                               const float *rescale, const float *weight, const int *rescaled) {
    __m512h a[3][4];
    for (int j = 0; j < nh; j++)
        for (int c = 0; c < nc; c++) a[j][c] = _mm512_loadu_ph(acc + j * hd + 32 * c);
    for (int64_t b = 0; b < nb; b++) {
        for (int j = 0; j < nh; j++) {
            if (rescaled[j] && rescale[j * BLOCK + b] != 1.0f) {
                const __m512h f = _mm512_set1_ph((_Float16)rescale[j * BLOCK + b]);
                for (int c = 0; c < nc; c++) a[j][c] = _mm512_mul_ph(a[j][c], f);
            }
        }
        __m512h vb[4];
        for (int c = 0; c < nc; c++) vb[c] = _mm512_loadu_ph(v + b * hd + 32 * c);
        for (int j = 0; j < nh; j++) {
            const __m512h w = _mm512_set1_ph((_Float16)weight[j * BLOCK + b]);
            for (int c = 0; c < nc; c++) a[j][c] = _mm512_fmadd_ph(vb[c], w, a[j][c]);
        }
    }
    for (int j = 0; j < nh; j++)
        for (int c = 0; c < nc; c++) _mm512_storeu_ph(acc + j * hd + 32 * c, a[j][c]);
}

// The value updates of one block for NH ≤ 3 heads over all hd (a multiple of 32) columns.
static void values_ph(int nh, _Float16 *acc, int64_t hd, const uint16_t *v, int64_t nb, const float *rescale,
                      const float *weight, const int *rescaled) {
    for (int64_t d = 0; d < hd;) {
        const int nc = hd - d >= 128 ? 4 : hd - d >= 64 ? 2 : 1;
        switch (nh * 8 + nc) {  // constant shapes keep the accumulators in registers
#define SK_VALUES_PH(H, C) \
        case H * 8 + C: block_values_ph(H, C, acc + d, hd, v + d, nb, rescale, weight, rescaled); break;
        SK_VALUES_PH(1, 1) SK_VALUES_PH(1, 2) SK_VALUES_PH(1, 4)
        SK_VALUES_PH(2, 1) SK_VALUES_PH(2, 2) SK_VALUES_PH(2, 4)
        SK_VALUES_PH(3, 1) SK_VALUES_PH(3, 2) SK_VALUES_PH(3, 4)
#undef SK_VALUES_PH
        }
        d += 32 * nc;
    }
}

static void clear_ph(_Float16 *acc, int64_t n) {
    for (int64_t i = 0; i < n; i += 32) _mm512_storeu_ph(acc + i, _mm512_setzero_ph());
}

// out[0..<n] = acc as floats.
static void widen_ph(const _Float16 *acc, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i += 16) _mm512_storeu_ps(out + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(acc + i))));
}

#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

static void partial_avx2(const float *q, int64_t g, int64_t hd, float scale, float cap, const sk_kv_segment *segs,
                         int64_t nsegs, int64_t lo, int64_t hi, float *partials, int64_t pstride, float *scratch) {
    const int wide = sk_active_uses_avx512();  // AVX-512 halves the F16 round trips of the value updates
    const int native = hd % 32 == 0 && sk_active_uses_fp16();  // no round trips at all
    float *qf = query_rows(scratch);
    float *scores = scores_of(scratch, hd);
    float *rescale = rescales_of(scratch, hd);
    float *weight = weights_of(scratch, hd);
    float *vf = values_of(scratch, hd);
    _Float16 *acc_ph = (_Float16 *)vf;  // the native path's accumulators, [MAXQ][hd], in place of vf
    float *accs = accumulators_of(scratch, hd);
    for (int64_t j0 = 0; j0 < g; j0 += MAXQ) {
        const int nq = (int)(g - j0 < MAXQ ? g - j0 : MAXQ);
        float m[MAXQ], sum[MAXQ];
        for (int j = 0; j < nq; j++) {
            for (int64_t d = 0; d < hd; d += 8) _mm256_storeu_ps(qf + j * hd + d, round_h8(_mm256_loadu_ps(q + (j0 + j) * hd + d)));
            for (int64_t d = 0; d < hd; d++) accs[j * hd + d] = 0.0f;
            if (native) clear_ph(acc_ph + j * hd, hd);
            m[j] = -INFINITY;
            sum[j] = 0.0f;
        }
        for (int64_t si = 0; si < nsegs; si++) {
            int64_t first;
            const int64_t n = clip(&segs[si], lo, hi, &first);
            for (int64_t t = first; t < first + n; t += BLOCK) {
                const int64_t nb = first + n - t < BLOCK ? first + n - t : BLOCK;
                const uint16_t *k = (const uint16_t *)segs[si].k + t * hd;
                const uint16_t *v = (const uint16_t *)segs[si].v + t * hd;
                // the cache streams from memory: ask for the rows four blocks ahead while this one computes,
                // a few lines at a time (a burst of prefetches would stall on the fill buffers)
                const int64_t ahead = t + 4 * BLOCK + nb <= first + n ? 4 * BLOCK * hd : 0;
                for (int j = 0; j < nq; j += 3) {
                    switch (nq - j) {  // constant head counts keep the accumulators in registers
                    case 1: block_scores(1, qf + j * hd, k, v, j == 0 ? ahead : 0, nb, hd, scale, scores + j * BLOCK); break;
                    case 2: block_scores(2, qf + j * hd, k, v, j == 0 ? ahead : 0, nb, hd, scale, scores + j * BLOCK); break;
                    default: block_scores(3, qf + j * hd, k, v, j == 0 ? ahead : 0, nb, hd, scale, scores + j * BLOCK); break;
                    }
                }
                for (int j = 0; j < nq; j++) sk_cap_scores(scores + j * BLOCK, nb, cap);
                for (int64_t b = nb; b < BLOCK; b++) {
                    for (int j = 0; j < nq; j++) scores[j * BLOCK + b] = -INFINITY;
                }
                int rescaled[MAXQ];
                for (int j = 0; j < nq; j++) {
                    rescaled[j] = block_softmax(scores + j * BLOCK, rescale + j * BLOCK, weight + j * BLOCK, nb, &m[j], &sum[j]);
                }
                if (native) {
                    for (int j = 0; j < nq; j += 3) {
                        values_ph(nq - j < 3 ? nq - j : 3, acc_ph + j * hd, hd, v, nb, rescale + j * BLOCK,
                                  weight + j * BLOCK, rescaled + j);
                    }
                    continue;
                }
                for (int64_t i = 0; i < nb * hd; i += 8) _mm256_storeu_ps(vf + i, load_h8(v + i));
                for (int j = 0; j < nq; j += 3) {
                    float *acc = accs + j * hd;
                    const float *rs = rescale + j * BLOCK, *ws = weight + j * BLOCK;
                    int64_t d = wide ? values_avx512(nq - j < 3 ? nq - j : 3, acc, hd, vf, nb, hd, rs, ws, rescaled + j) : 0;
                    for (; d + 32 <= hd; d += 32) {
                        switch (nq - j) {  // constant head counts keep the accumulators in registers
                        case 1: block_values(1, acc + d, hd, vf + d, nb, hd, rs, ws, rescaled + j); break;
                        case 2: block_values(2, acc + d, hd, vf + d, nb, hd, rs, ws, rescaled + j); break;
                        default: block_values(3, acc + d, hd, vf + d, nb, hd, rs, ws, rescaled + j); break;
                        }
                    }
                    for (; d < hd; d += 8) {
                        for (int i = 0; i < 3 && j + i < nq; i++) {
                            block_values8(acc + i * hd + d, vf + d, nb, hd, rs + i * BLOCK, ws + i * BLOCK, rescaled[j + i]);
                        }
                    }
                }
            }
        }
        for (int j = 0; j < nq; j++) {
            partials[(j0 + j) * pstride] = m[j];
            partials[(j0 + j) * pstride + 1] = sum[j];
            if (native) widen_ph(acc_ph + j * hd, partials + (j0 + j) * pstride + 2, hd);
            else memcpy(partials + (j0 + j) * pstride + 2, accs + j * hd, (size_t)hd * sizeof(float));
        }
    }
}

#pragma clang attribute pop
#endif

void sk_attention_partial_f16(const float *q, int64_t g, int64_t hd, float scale, float softcap,
                              const sk_kv_segment *segs, int64_t nsegs, int64_t lo, int64_t hi, float *partials,
                              int64_t partial_stride, float *scratch) {
    if (softcap != 0.0f) scale /= softcap;
#if defined(__x86_64__) || defined(__i386__)
    if (hd % 8 == 0 && sk_init_active_is_avx2()) {
        partial_avx2(q, g, hd, scale, softcap, segs, nsegs, lo, hi, partials, partial_stride, scratch);
        return;
    }
#endif
    partial_scalar(q, g, hd, scale, softcap, segs, nsegs, lo, hi, partials, partial_stride, scratch);
}

void sk_attention_merge(const float *partials, int64_t n, int64_t stride, int64_t hd, float *out) {
    float m = -INFINITY, sum = 0.0f;
    for (int64_t d = 0; d < hd; d++) out[d] = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        const float *p = partials + i * stride;
        if (p[1] == 0.0f) continue;
        if (sum == 0.0f) {  // the first part with weight: taken as is
            m = p[0];
            sum = p[1];
            for (int64_t d = 0; d < hd; d++) out[d] = p[2 + d];
            continue;
        }
        const float mn = fmaxf(m, p[0]);
        const float old = expf(m - mn), new = expf(p[0] - mn);
        for (int64_t d = 0; d < hd; d++) out[d] = out[d] * old + p[2 + d] * new;
        sum = sum * old + p[1] * new;
        m = mn;
    }
    const float inv = sum == 0.0f ? 0.0f : 1.0f / sum;
    for (int64_t d = 0; d < hd; d++) out[d] *= inv;
}
