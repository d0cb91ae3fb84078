// One query row against a Q8_0 cache, as ggml's one-chunk flash attention computes it for quantized
// keys and values (llama.cpp's --cache-type-k/-v q8_0): the query quantized to Q8_0 the way the CPU
// backend quantizes (scale amax/127 stored as F16, values × 127/amax rounded to nearest even), each
// score the sum over blocks of d_k·d_q·(integer dot product) times the attention scale; online
// softmax in F32; the value rows added to an F32 accumulator.
//
// The scalar path follows ggml step by step (position by position: rescale on a new maximum, then
// one fused multiply-add of the dequantized row). The AVX2 path takes the heads of a GQA group
// through the cache together (each row read once per group) in blocks of 32 positions: the integer
// dot products of eight positions reduced across lanes before any float arithmetic, the softmax of
// a block at once (one rescale per block, as ggml's tiled path), and each row's scale folded into
// its weight, which reaches the integer values as a 16-bit integer relative to the largest of its
// block (q·round(w·d) in 32-bit integer sums, two positions per vpmaddwd, instead of (d·q)·w in F32).
// The two agree to F32 rounding plus 2^-16 of the block's largest weight per position — 30 times
// finer than the F16 accumulator ggml itself uses for an F16 cache.
//
// Rows are stored as ggml's Q8_0 values and F16 scales, but apart (see sk_kv_segment): eight
// positions' scales of a block load as one vector. Half the bytes of an F16 cache per position (34
// per 32 values instead of 64), and integer scores.

#include "attention_internal.h"

#include <math.h>
#include <string.h>

// Scratch: [MAXQ][hd] quantized query values, [MAXQ][hd / 32] their scales (F16, then as floats);
// scores, [MAXQ][BLOCK]; the block's key and value scales as floats, [hd/32][BLOCK] each; the
// weights as 16-bit integers, [hd/32][MAXQ][BLOCK], and their units, [hd/32][MAXQ]; the heads' F32
// accumulators, [MAXQ][hd] (in the thread's own scratch until the end: partials of other threads
// and other heads lie around the caller's buffer).
typedef struct {
    int8_t *q;
    uint16_t *qh;
    float *qd;
    float *scores, *dk, *dv, *unit, *acc;
    int16_t *qw;
} q8_scratch;

SK_INLINE q8_scratch carve(float *scratch, int64_t hd) {
    q8_scratch s;
    s.q = (int8_t *)scratch;  // MAXQ · hd bytes: a quarter of MAXQ · hd floats
    s.qh = (uint16_t *)(scratch + MAXQ * hd / 4);
    s.qd = scratch + MAXQ * hd / 2;
    s.scores = scratch + MAXQ * hd;
    s.dk = s.scores + MAXQ * BLOCK;
    s.dv = s.dk + hd / QK8_0 * BLOCK;
    s.unit = s.dv + hd / QK8_0 * BLOCK;
    s.qw = (int16_t *)(s.unit + hd / QK8_0 * MAXQ);
    s.acc = s.unit + hd / QK8_0 * MAXQ + hd / QK8_0 * MAXQ * BLOCK / 2;
    return s;
}

/// F32 → Q8_0 as ggml's CPU backend quantizes activations and cache rows (not the reference
/// quantize_row_q8_0_ref, which rounds half away from zero and divides by the rounded scale).
/// Values to qs[0..<n], the scale of block i to d[i · dstride].
static void quantize_blocks(const float *x, int8_t *qs, uint16_t *d, int64_t dstride, int64_t n) {
    for (int64_t i = 0; i < n / QK8_0; i++) {
        float amax = 0.0f;
        for (int j = 0; j < QK8_0; j++) amax = fmaxf(amax, fabsf(x[i * QK8_0 + j]));
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        d[i * dstride] = sk_float_to_half_scalar(amax / 127.0f);
        for (int j = 0; j < QK8_0; j++) qs[i * QK8_0 + j] = (int8_t)nearbyintf(x[i * QK8_0 + j] * id);
    }
}

static void partial_scalar(const float *q, int64_t g, int64_t hd, float scale, float cap, const sk_kv_segment *segs,
                           int64_t nsegs, int64_t lo, int64_t hi, float *partials, int64_t pstride, float *scratch) {
    const int64_t nb = hd / QK8_0;
    const q8_scratch s = carve(scratch, hd);
    for (int64_t j = 0; j < g; j++) {
        quantize_blocks(q + j * hd, s.q, s.qh, 1, hd);
        float *part = partials + j * pstride;
        float *acc = part + 2;
        for (int64_t d = 0; d < hd; d++) acc[d] = 0.0f;
        float m = -INFINITY, sum = 0.0f;
        for (int64_t si = 0; si < nsegs; si++) {
            int64_t first;
            const int64_t n = clip(&segs[si], lo, hi, &first);
            const int64_t ds = segs[si].dstride;
            for (int64_t t = first; t < first + n; t++) {
                const int8_t *kt = (const int8_t *)segs[si].k + t * hd;
                const int8_t *vt = (const int8_t *)segs[si].v + t * hd;
                float dot = 0.0f;
                for (int64_t b = 0; b < nb; b++) {
                    int32_t sumi = 0;
                    for (int i = 0; i < QK8_0; i++) sumi += kt[b * QK8_0 + i] * s.q[b * QK8_0 + i];
                    dot += sk_half_to_float_scalar(segs[si].kd[b * ds + t]) * sk_half_to_float_scalar(s.qh[b]) * (float)sumi;
                }
                const float sc = sk_cap_score(dot * scale, cap);
                float ms = 1.0f, vs = 1.0f;
                if (sc > m) {
                    ms = expf(m - sc);
                    m = sc;
                    for (int64_t d = 0; d < hd; d++) acc[d] *= ms;
                } else {
                    vs = expf(sc - m);
                }
                for (int64_t b = 0; b < nb; b++) {
                    const float dv = sk_half_to_float_scalar(segs[si].vd[b * ds + t]);
                    for (int i = 0; i < QK8_0; i++) acc[b * QK8_0 + i] = fmaf(dv * vt[b * QK8_0 + i], vs, acc[b * QK8_0 + i]);
                }
                sum = sum * ms + vs;
            }
        }
        part[0] = m;
        part[1] = sum;
    }
}

#if defined(__x86_64__) || defined(__i386__)

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

SK_INLINE void quantize_blocks_avx2(const float *x, int8_t *qs, uint16_t *d, int64_t dstride, int64_t n) {
    for (int64_t i = 0; i < n / QK8_0; i++) {
        __m256 v[4];
        const float am = amax32(x + i * QK8_0, v);
        d[i * dstride] = sk_float_to_half_scalar(am / 127.0f);
        const __m256 id = _mm256_set1_ps(am != 0.0f ? 127.0f / am : 0.0f);
        __m256i q[4];
        for (int c = 0; c < 4; c++) {
            q[c] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[c], id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        }
        _mm256_storeu_si256((__m256i *)(qs + i * QK8_0), pack_i32x4_to_i8(q[0], q[1], q[2], q[3]));
    }
}

// 8 int32 sums of 4 products each of a key row and a query row of 32 int8 (aq = |q|, q's signs moved
// onto k: |q|·(k·sign q) = q·k; a pair of products is at most 2·127·127, so nothing saturates).
SK_INLINE __m256i dot_i8(__m256i aq, __m256i q, const int8_t *k) {
    const __m256i ks = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)k), q);
    return _mm256_madd_epi16(_mm256_maddubs_epi16(aq, ks), _mm256_set1_epi16(1));
}

// The integer dot products of 4 positions' key blocks (rows hd apart) with a query block, one
// vector: lanes 0-3 hold the sums over each row's first 16 values, lanes 4-7 over the last 16.
SK_INLINE __m256i dots4(__m256i aq, __m256i q, const int8_t *k, int64_t hd) {
    const __m256i d01 = _mm256_hadd_epi32(dot_i8(aq, q, k), dot_i8(aq, q, k + hd));
    const __m256i d23 = _mm256_hadd_epi32(dot_i8(aq, q, k + 2 * hd), dot_i8(aq, q, k + 3 * hd));
    return _mm256_hadd_epi32(d01, d23);
}

// scores[b] = scale · q·k_b for the block's positions b < n, one head: eight positions at a time as
// exact integer dot products reduced across lanes first, then Σ_c (d_k·d_q)·sum_c in F32 (one fused
// multiply-add per block c, in block order); the last n mod 8 positions one at a time the same way.
// qb: the query's hd values; k: the first key row (rows hd apart); dk: the key scales as floats,
// [c][BLOCK].
static void block_scores(const int8_t *qb, const float *qd, const int8_t *k, int64_t n, int64_t hd,
                         const float *dk, float scale, float *scores) {
    const int64_t nblk = hd / QK8_0;
    int64_t b = 0;
    for (; b + 8 <= n; b += 8) {
        __m256 s = _mm256_setzero_ps();
        for (int64_t c = 0; c < nblk; c++) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)(qb + c * QK8_0));
            const __m256i aq = _mm256_sign_epi8(q, q);
            const int8_t *kb = k + b * hd + c * QK8_0;
            const __m256i lo = dots4(aq, q, kb, hd), hi = dots4(aq, q, kb + 4 * hd, hd);
            const __m256i sums = _mm256_add_epi32(_mm256_permute2x128_si256(lo, hi, 0x20), _mm256_permute2x128_si256(lo, hi, 0x31));
            const __m256 d = _mm256_mul_ps(_mm256_loadu_ps(dk + c * BLOCK + b), _mm256_set1_ps(qd[c]));
            s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), d, s);
        }
        _mm256_storeu_ps(scores + b, _mm256_mul_ps(s, _mm256_set1_ps(scale)));
    }
    for (; b < n; b++) {
        float s = 0.0f;
        for (int64_t c = 0; c < nblk; c++) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)(qb + c * QK8_0));
            const int32_t sum = hsum_i32_8(dot_i8(_mm256_sign_epi8(q, q), q, k + b * hd + c * QK8_0));
            s = fmaf((float)sum, dk[c * BLOCK + b] * qd[c], s);
        }
        scores[b] = s * scale;
    }
}

// The online softmax over one block of a head's scores (padded with −inf to BLOCK), straight to the
// integer weights the value sums take: the new running maximum M, e_b = e^(s_b − M) added to the
// sum (rescaled by the returned factor e^(M_old − M), 1 when the maximum did not move, which the
// accumulator must be rescaled by too), and for each value block c, qw[c][b] = round(e_b · dv[c][b]
// · 32767 / max_b e_b · dv[c][b]) with the unit that maps them back, max / 32767. Relative to the
// block's largest weight each is off by at most 2^-16. Block-wise, as ggml's tiled path does,
// rather than position by position: the same result up to F32 rounding.
SK_INLINE float block_integer_weights(const float *sc, const float *dv, int64_t nblk, float *m, float *sum,
                                      int16_t *qw, int64_t qw_stride, float *unit, int64_t unit_stride) {
    const float mn = fmaxf(*m, block_max(sc));
    const float ms = mn == *m ? 1.0f : expf(*m - mn);
    const __m256 vm = _mm256_set1_ps(mn);
    __m256 e[4];
    for (int k = 0; k < 4; k++) e[k] = sk_exp8(_mm256_sub_ps(_mm256_loadu_ps(sc + 8 * k), vm));
    *sum = *sum * ms + hsum8(_mm256_add_ps(_mm256_add_ps(_mm256_add_ps(e[0], e[1]), e[2]), e[3]));
    *m = mn;
    for (int64_t c = 0; c < nblk; c++) {
        __m256 w[4];
        for (int k = 0; k < 4; k++) w[k] = _mm256_mul_ps(e[k], _mm256_loadu_ps(dv + c * BLOCK + 8 * k));
        __m256 mx = _mm256_max_ps(_mm256_max_ps(w[0], w[1]), _mm256_max_ps(w[2], w[3]));
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        const float top = _mm_cvtss_f32(_mm_max_ss(h, _mm_movehdup_ps(h)));
        unit[c * unit_stride] = top / 32767.0f;
        const __m256 f = _mm256_set1_ps(top > 0.0f ? 32767.0f / top : 0.0f);
        for (int k = 0; k < 4; k += 2) {
            const __m256i lo = _mm256_cvtps_epi32(_mm256_mul_ps(w[k], f));
            const __m256i hi = _mm256_cvtps_epi32(_mm256_mul_ps(w[k + 1], f));
            _mm256_storeu_si256((__m256i *)(qw + c * qw_stride + 8 * k), _mm256_permute4x64_epi64(_mm256_packs_epi32(lo, hi), 0xd8));
        }
    }
    return ms;
}

// Two rows' 16 values (x, y: int16) as pairs (x_i, y_i): lo holds i = 0-3 and 8-11, hi 4-7 and 12-15
// (unpacking within 128-bit lanes).
SK_INLINE void pairs16(__m256i x, __m256i y, __m256i *lo, __m256i *hi) {
    *lo = _mm256_unpacklo_epi16(x, y);
    *hi = _mm256_unpackhi_epi16(x, y);
}

SK_INLINE __m256i widen16(const int8_t *p) { return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)p)); }

// a[j] += the products of the pairs with head j's weights for rows b, b + 1 (one 32-bit broadcast).
SK_INLINE void add_pairs(int nh, __m256i a[3][2], __m256i lo, __m256i hi, const int16_t *qw, int64_t b) {
    for (int j = 0; j < nh; j++) {
        int32_t pair;
        memcpy(&pair, qw + j * BLOCK + b, 4);
        const __m256i w = _mm256_set1_epi32(pair);
        a[j][0] = _mm256_add_epi32(a[j][0], _mm256_madd_epi16(lo, w));
        a[j][1] = _mm256_add_epi32(a[j][1], _mm256_madd_epi16(hi, w));
    }
}

// For NH ≤ 3 heads, acc_j[0..<32] (acc_j = acc + j·acc_stride) += unit_j · Σ_b qw_j[b] · q_b for block
// c of the value rows of the block's n positions (v: that block of the first row; rows hd apart):
// integer products of two positions at a time (vpmaddwd) summed exactly in 32 bits
// (32 · 2 · 32767 · 127 < 2^31), then one multiply-add per block into the F32 accumulator.
// Half a value block (16) at a time, to keep three heads' sums in registers.
SK_INLINE void block_values(int nh, float *acc, int64_t acc_stride, const int8_t *v, int64_t hd, int64_t n,
                            const int16_t *qw, const float *unit) {
    for (int half = 0; half < 2; half++) {
        __m256i a[3][2];
        for (int j = 0; j < nh; j++) a[j][0] = a[j][1] = _mm256_setzero_si256();
        int64_t b = 0;
        __m256i lo, hi;
        for (; b + 2 <= n; b += 2) {
            pairs16(widen16(v + b * hd + 16 * half), widen16(v + (b + 1) * hd + 16 * half), &lo, &hi);
            add_pairs(nh, a, lo, hi, qw, b);
        }
        if (b < n) {  // an odd last row, paired with zeros (its partner's weight is 0 too)
            pairs16(widen16(v + b * hd + 16 * half), _mm256_setzero_si256(), &lo, &hi);
            add_pairs(nh, a, lo, hi, qw, b);
        }
        for (int j = 0; j < nh; j++) {
            float *out = acc + j * acc_stride + 16 * half;
            const __m256 u = _mm256_set1_ps(unit[j]);
            const __m256i d0 = _mm256_permute2x128_si256(a[j][0], a[j][1], 0x20);  // values 0-7
            const __m256i d1 = _mm256_permute2x128_si256(a[j][0], a[j][1], 0x31);  // values 8-15
            _mm256_storeu_ps(out, _mm256_fmadd_ps(_mm256_cvtepi32_ps(d0), u, _mm256_loadu_ps(out)));
            _mm256_storeu_ps(out + 8, _mm256_fmadd_ps(_mm256_cvtepi32_ps(d1), u, _mm256_loadu_ps(out + 8)));
        }
    }
}

// The F16 scales of up to 8 consecutive rows (count of them valid, the rest 0) as floats.
SK_INLINE __m256 scales8(const uint16_t *d, int64_t count) {
    if (count >= 8) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)d));
    uint16_t h[8] = {0};
    memcpy(h, d, (size_t)(count > 0 ? count : 0) * sizeof(uint16_t));
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)h));
}

static void partial_avx2(const float *q, int64_t g, int64_t hd, float scale, float cap, const sk_kv_segment *segs,
                         int64_t nsegs, int64_t lo, int64_t hi, float *partials, int64_t pstride, float *scratch) {
    const int64_t nblk = hd / QK8_0;
    const q8_scratch s = carve(scratch, hd);
    for (int64_t j0 = 0; j0 < g; j0 += MAXQ) {
        const int nq = (int)(g - j0 < MAXQ ? g - j0 : MAXQ);
        float m[MAXQ], sum[MAXQ];
        for (int j = 0; j < nq; j++) {
            quantize_blocks_avx2(q + (j0 + j) * hd, s.q + j * hd, s.qh + j * nblk, 1, hd);
            for (int64_t c = 0; c < nblk; c++) s.qd[j * nblk + c] = _cvtsh_ss(s.qh[j * nblk + c]);
            for (int64_t d = 0; d < hd; d++) s.acc[j * hd + d] = 0.0f;
            m[j] = -INFINITY;
            sum[j] = 0.0f;
        }
        for (int64_t si = 0; si < nsegs; si++) {
            int64_t first;
            const int64_t n = clip(&segs[si], lo, hi, &first);
            for (int64_t t = first; t < first + n; t += BLOCK) {
                const int64_t nb = first + n - t < BLOCK ? first + n - t : BLOCK;
                const int8_t *k = (const int8_t *)segs[si].k + t * hd;
                const int8_t *v = (const int8_t *)segs[si].v + t * hd;
                for (int64_t c = 0; c < nblk; c++) {  // the block's scales as floats
                    const uint16_t *kd = segs[si].kd + c * segs[si].dstride + t, *vd = segs[si].vd + c * segs[si].dstride + t;
                    for (int64_t b = 0; b < BLOCK; b += 8) {
                        _mm256_storeu_ps(s.dk + c * BLOCK + b, scales8(kd + b, nb - b));
                        _mm256_storeu_ps(s.dv + c * BLOCK + b, scales8(vd + b, nb - b));
                    }
                }
                for (int j = 0; j < nq; j++) {
                    float *sc = s.scores + j * BLOCK;
                    block_scores(s.q + j * hd, s.qd + j * nblk, k, nb, hd, s.dk, scale, sc);
                    sk_cap_scores(sc, nb, cap);
                    for (int64_t b = nb; b < BLOCK; b++) sc[b] = -INFINITY;
                    const float ms = block_integer_weights(sc, s.dv, nblk, &m[j], &sum[j], s.qw + j * BLOCK, MAXQ * BLOCK,
                                                           s.unit + j, MAXQ);
                    if (ms != 1.0f) {
                        float *acc = s.acc + j * hd;
                        for (int64_t d = 0; d < hd; d += 8) _mm256_storeu_ps(acc + d, _mm256_mul_ps(_mm256_loadu_ps(acc + d), _mm256_set1_ps(ms)));
                    }
                }
                for (int64_t c = 0; c < nblk; c++) {
                    for (int j = 0; j < nq; j += 3) {  // constant head counts keep the sums in registers
                        float *acc = s.acc + j * hd + 32 * c;
                        const int16_t *qw = s.qw + (c * MAXQ + j) * BLOCK;
                        const float *unit = s.unit + c * MAXQ + j;
                        switch (nq - j) {
                        case 1: block_values(1, acc, hd, v + c * QK8_0, hd, nb, qw, unit); break;
                        case 2: block_values(2, acc, hd, v + c * QK8_0, hd, nb, qw, unit); break;
                        default: block_values(3, acc, hd, v + c * QK8_0, hd, nb, qw, unit); break;
                        }
                    }
                }
            }
        }
        for (int j = 0; j < nq; j++) {
            partials[(j0 + j) * pstride] = m[j];
            partials[(j0 + j) * pstride + 1] = sum[j];
            memcpy(partials + (j0 + j) * pstride + 2, s.acc + j * hd, (size_t)hd * sizeof(float));
        }
    }
}

static void quantize_rows_avx2(const float *src, int8_t *qs, uint16_t *d, int64_t dstride, int64_t n) {
    quantize_blocks_avx2(src, qs, d, dstride, n);
}

#pragma clang attribute pop
#endif

void sk_f32_to_q8_0(const float *src, int8_t *qs, uint16_t *d, int64_t dstride, int64_t n) {
#if defined(__x86_64__) || defined(__i386__)
    if (sk_init_active_is_avx2()) {
        quantize_rows_avx2(src, qs, d, dstride, n);
        return;
    }
#endif
    quantize_blocks(src, qs, d, dstride, n);
}

void sk_attention_partial_q8_0(const float *q, int64_t g, int64_t hd, float scale, float softcap,
                               const sk_kv_segment *segs, int64_t nsegs, int64_t lo, int64_t hi, float *partials,
                               int64_t partial_stride, float *scratch) {
    if (softcap != 0.0f) scale /= softcap;
#if defined(__x86_64__) || defined(__i386__)
    if (sk_init_active_is_avx2()) {
        partial_avx2(q, g, hd, scale, softcap, segs, nsegs, lo, hi, partials, partial_stride, scratch);
        return;
    }
#endif
    partial_scalar(q, g, hd, scale, softcap, segs, nsegs, lo, hi, partials, partial_stride, scratch);
}
