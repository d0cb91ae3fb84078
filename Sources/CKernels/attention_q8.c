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
// Half the bytes of an F16 cache per position (34 per 32 values instead of 64), and integer scores.

#include "attention_internal.h"

#include <math.h>
#include <string.h>

// Scratch: [MAXQ][hd / 32] query blocks and their scales as floats; scores, weights and weights
// times value scales, [MAXQ][BLOCK] each; the block's key and value scales as floats, [hd/32][BLOCK].
typedef struct {
    block_q8_0 *q;
    float *qd;
    float *scores, *weight, *wd, *dk, *dv, *unit;
    int16_t *qw;
} q8_scratch;

SK_INLINE q8_scratch carve(float *scratch, int64_t hd) {
    q8_scratch s;
    s.q = (block_q8_0 *)scratch;  // MAXQ · hd/32 · 34 bytes ≤ half of MAXQ · hd floats
    s.qd = scratch + MAXQ * hd / 2;
    s.scores = scratch + MAXQ * hd;
    s.weight = s.scores + MAXQ * BLOCK;
    s.wd = s.weight + MAXQ * BLOCK;
    s.dk = s.wd + MAXQ * BLOCK;
    s.dv = s.dk + hd / QK8_0 * BLOCK;
    s.unit = s.dv + hd / QK8_0 * BLOCK;
    s.qw = (int16_t *)(s.unit + MAXQ);  // [MAXQ][BLOCK]
    return s;
}

/// F32 → Q8_0 as ggml's CPU backend quantizes activations and cache rows (not the reference
/// quantize_row_q8_0_ref, which rounds half away from zero and divides by the rounded scale).
static void quantize_blocks(const float *x, block_q8_0 *y, int64_t n) {
    for (int64_t i = 0; i < n / QK8_0; i++) {
        float amax = 0.0f;
        for (int j = 0; j < QK8_0; j++) amax = fmaxf(amax, fabsf(x[i * QK8_0 + j]));
        const float d = amax / 127.0f;
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        y[i].d = sk_float_to_half_scalar(d);
        for (int j = 0; j < QK8_0; j++) y[i].qs[j] = (int8_t)nearbyintf(x[i * QK8_0 + j] * id);
    }
}

static void partial_scalar(const float *q, int64_t g, int64_t hd, float scale, const sk_kv_segment *segs,
                           int64_t nsegs, int64_t lo, int64_t hi, float *partials, int64_t pstride, float *scratch) {
    const int64_t nb = hd / QK8_0;
    const q8_scratch s = carve(scratch, hd);
    for (int64_t j = 0; j < g; j++) {
        quantize_blocks(q + j * hd, s.q, hd);
        float *part = partials + j * pstride;
        float *acc = part + 2;
        for (int64_t d = 0; d < hd; d++) acc[d] = 0.0f;
        float m = -INFINITY, sum = 0.0f;
        for (int64_t si = 0; si < nsegs; si++) {
            int64_t first;
            const int64_t n = clip(&segs[si], lo, hi, &first);
            for (int64_t t = first; t < first + n; t++) {
                const block_q8_0 *kt = (const block_q8_0 *)segs[si].k + t * nb;
                const block_q8_0 *vt = (const block_q8_0 *)segs[si].v + t * nb;
                float dot = 0.0f;
                for (int64_t b = 0; b < nb; b++) {
                    int32_t sumi = 0;
                    for (int i = 0; i < QK8_0; i++) sumi += kt[b].qs[i] * s.q[b].qs[i];
                    dot += sk_half_to_float_scalar(kt[b].d) * sk_half_to_float_scalar(s.q[b].d) * (float)sumi;
                }
                const float sc = dot * scale;
                float ms = 1.0f, vs = 1.0f;
                if (sc > m) {
                    ms = expf(m - sc);
                    m = sc;
                    for (int64_t d = 0; d < hd; d++) acc[d] *= ms;
                } else {
                    vs = expf(sc - m);
                }
                for (int64_t b = 0; b < nb; b++) {
                    const float dv = sk_half_to_float_scalar(vt[b].d);
                    for (int i = 0; i < QK8_0; i++) acc[b * QK8_0 + i] = fmaf(dv * vt[b].qs[i], vs, acc[b * QK8_0 + i]);
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

SK_INLINE void quantize_blocks_avx2(const float *x, block_q8_0 *y, int64_t n) {
    for (int64_t i = 0; i < n / QK8_0; i++) {
        __m256 v[4];
        const float am = amax32(x + i * QK8_0, v);
        y[i].d = sk_float_to_half_scalar(am / 127.0f);
        const __m256 id = _mm256_set1_ps(am != 0.0f ? 127.0f / am : 0.0f);
        __m256i q[4];
        for (int c = 0; c < 4; c++) {
            q[c] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[c], id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        }
        _mm256_storeu_si256((__m256i *)y[i].qs, pack_i32x4_to_i8(q[0], q[1], q[2], q[3]));
    }
}

// 8 int32 sums of 4 products each of a key row and a query row of 32 int8 (aq = |q|, q's signs moved
// onto k: |q|·(k·sign q) = q·k; a pair of products is at most 2·127·127, so nothing saturates).
SK_INLINE __m256i dot_i8(__m256i aq, __m256i q, const int8_t *k) {
    const __m256i ks = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)k), q);
    return _mm256_madd_epi16(_mm256_maddubs_epi16(aq, ks), _mm256_set1_epi16(1));
}

// The integer dot products of 4 positions' key blocks (nblk blocks apart) with a query block, one
// vector: lanes 0-3 hold the sums over each row's first 16 values, lanes 4-7 over the last 16.
SK_INLINE __m256i dots4(__m256i aq, __m256i q, const block_q8_0 *k, int64_t nblk) {
    const __m256i d01 = _mm256_hadd_epi32(dot_i8(aq, q, k[0].qs), dot_i8(aq, q, k[nblk].qs));
    const __m256i d23 = _mm256_hadd_epi32(dot_i8(aq, q, k[2 * nblk].qs), dot_i8(aq, q, k[3 * nblk].qs));
    return _mm256_hadd_epi32(d01, d23);
}

// scores[b] = scale · q·k_b for the block's positions b < n, one head: eight positions at a time as
// exact integer dot products reduced across lanes first, then Σ_c (d_k·d_q)·sum_c in F32 (one fused
// multiply-add per block c, in block order); the last n mod 8 positions one at a time the same way.
// dk: the key scales as floats, [c][BLOCK].
static void block_scores(const block_q8_0 *qb, const float *qd, const block_q8_0 *k, int64_t n, int64_t nblk,
                         const float *dk, float scale, float *scores) {
    int64_t b = 0;
    for (; b + 8 <= n; b += 8) {
        __m256 s = _mm256_setzero_ps();
        for (int64_t c = 0; c < nblk; c++) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)qb[c].qs);
            const __m256i aq = _mm256_sign_epi8(q, q);
            const block_q8_0 *kb = k + b * nblk + c;
            const __m256i lo = dots4(aq, q, kb, nblk), hi = dots4(aq, q, kb + 4 * nblk, nblk);
            const __m256i sums = _mm256_add_epi32(_mm256_permute2x128_si256(lo, hi, 0x20), _mm256_permute2x128_si256(lo, hi, 0x31));
            const __m256 d = _mm256_mul_ps(_mm256_loadu_ps(dk + c * BLOCK + b), _mm256_set1_ps(qd[c]));
            s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), d, s);
        }
        _mm256_storeu_ps(scores + b, _mm256_mul_ps(s, _mm256_set1_ps(scale)));
    }
    for (; b < n; b++) {
        float s = 0.0f;
        for (int64_t c = 0; c < nblk; c++) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)qb[c].qs);
            const int32_t sum = hsum_i32_8(dot_i8(_mm256_sign_epi8(q, q), q, k[b * nblk + c].qs));
            s = fmaf((float)sum, dk[c * BLOCK + b] * qd[c], s);
        }
        scores[b] = s * scale;
    }
}

// The online softmax over one block (scores padded with −inf to BLOCK): the new running maximum M,
// weights[b] = e^(s_b − M), the sum rescaled and extended; returns the factor e^(M_old − M) (1 when
// the maximum did not move) the accumulator must be rescaled by. Block-wise, as ggml's tiled path
// does, rather than position by position: the same result up to F32 rounding.
SK_INLINE float block_weights(const float *sc, float *w, float *m, float *sum) {
    const float mn = fmaxf(*m, block_max(sc));
    const float ms = mn == *m ? 1.0f : expf(*m - mn);
    *sum = *sum * ms + block_exp(sc, mn, w);
    *m = mn;
    return ms;
}

// Weights times value scales as 16-bit integers for one block c of the values: qw[j][b] =
// round(wd_j[b] · 32767 / max_b wd_j[b]) (0 past n), and the factor back, max / 32767, in unit[j].
// Relative to the block's largest weight each is off by at most 2^-16.
SK_INLINE void quantize_weights(int nq, const float *wd, int16_t *qw, float *unit) {
    for (int j = 0; j < nq; j++) {
        const float *w = wd + j * BLOCK;
        __m256 mx = _mm256_max_ps(_mm256_max_ps(_mm256_loadu_ps(w), _mm256_loadu_ps(w + 8)),
                                  _mm256_max_ps(_mm256_loadu_ps(w + 16), _mm256_loadu_ps(w + 24)));
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        const float m = _mm_cvtss_f32(_mm_max_ss(h, _mm_movehdup_ps(h)));
        unit[j] = m / 32767.0f;
        const __m256 f = _mm256_set1_ps(m > 0.0f ? 32767.0f / m : 0.0f);
        for (int b = 0; b < BLOCK; b += 16) {
            const __m256i lo = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(w + b), f));
            const __m256i hi = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(w + b + 8), f));
            _mm256_storeu_si256((__m256i *)(qw + j * BLOCK + b), _mm256_permute4x64_epi64(_mm256_packs_epi32(lo, hi), 0xd8));
        }
    }
}

// Two rows' 16 values (int8 at a and b) as int16 pairs (a_i, b_i): lo holds i = 0-3 and 8-11, hi 4-7
// and 12-15 (unpacking within 128-bit lanes).
SK_INLINE void pairs16(const int8_t *a, const int8_t *b, __m256i *lo, __m256i *hi) {
    const __m256i x = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)a));
    const __m256i y = b ? _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b)) : _mm256_setzero_si256();
    *lo = _mm256_unpacklo_epi16(x, y);
    *hi = _mm256_unpackhi_epi16(x, y);
}

// For NH ≤ 3 heads, acc_j[0..<32] (acc_j = acc + j·acc_stride) += unit_j · Σ_b qw_j[b] · q_b for block
// c of the value rows of the block's n positions (v: that block of the first row; rows nblk blocks
// apart): integer products of two positions at a time (vpmaddwd) summed exactly in 32 bits
// (32 · 2 · 32767 · 127 < 2^31), then one multiply-add per block into the F32 accumulator.
// Half a value block (16) at a time, to keep three heads' sums in registers.
SK_INLINE void block_values(int nh, float *acc, int64_t acc_stride, const block_q8_0 *v, int64_t nblk, int64_t n,
                            const int16_t *qw, const float *unit) {
    for (int half = 0; half < 2; half++) {
        __m256i a[3][2];
        for (int j = 0; j < nh; j++) a[j][0] = a[j][1] = _mm256_setzero_si256();
        int64_t b = 0;
        for (; b < n; b += 2) {
            __m256i lo, hi;
            pairs16(v[b * nblk].qs + 16 * half, b + 1 < n ? v[(b + 1) * nblk].qs + 16 * half : NULL, &lo, &hi);
            for (int j = 0; j < nh; j++) {
                int32_t pair;
                memcpy(&pair, qw + j * BLOCK + b, 4);
                const __m256i w = _mm256_set1_epi32(pair);
                a[j][0] = _mm256_add_epi32(a[j][0], _mm256_madd_epi16(lo, w));
                a[j][1] = _mm256_add_epi32(a[j][1], _mm256_madd_epi16(hi, w));
            }
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

// The F16 scales of up to 8 blocks `stride` blocks apart (count of them valid, the rest 0) as floats,
// gathered in a register: _cvtsh_ss per scale would chain each conversion to the last (it merges into
// its register), and 16-bit stores read back as one vector stall store forwarding.
SK_INLINE __m256 scales8(const block_q8_0 *x, int64_t stride, int64_t count) {
    if (count >= 8) return gather8_h((const uint8_t *)&x->d, (size_t)stride * sizeof(block_q8_0));
    uint64_t h[2] = {0, 0};
    for (int64_t i = 0; i < count; i++) h[i / 4] |= (uint64_t)x[i * stride].d << (16 * (i % 4));
    return _mm256_cvtph_ps(_mm_set_epi64x((long long)h[1], (long long)h[0]));
}

static void partial_avx2(const float *q, int64_t g, int64_t hd, float scale, const sk_kv_segment *segs,
                         int64_t nsegs, int64_t lo, int64_t hi, float *partials, int64_t pstride, float *scratch) {
    const int64_t nblk = hd / QK8_0;
    const q8_scratch s = carve(scratch, hd);
    for (int64_t j0 = 0; j0 < g; j0 += MAXQ) {
        const int nq = (int)(g - j0 < MAXQ ? g - j0 : MAXQ);
        float m[MAXQ], sum[MAXQ];
        for (int j = 0; j < nq; j++) {
            quantize_blocks_avx2(q + (j0 + j) * hd, s.q + j * nblk, hd);
            for (int64_t c = 0; c < nblk; c++) s.qd[j * nblk + c] = _cvtsh_ss(s.q[j * nblk + c].d);
            float *acc = partials + (j0 + j) * pstride + 2;
            for (int64_t d = 0; d < hd; d++) acc[d] = 0.0f;
            m[j] = -INFINITY;
            sum[j] = 0.0f;
        }
        for (int64_t si = 0; si < nsegs; si++) {
            int64_t first;
            const int64_t n = clip(&segs[si], lo, hi, &first);
            for (int64_t t = first; t < first + n; t += BLOCK) {
                const int64_t nb = first + n - t < BLOCK ? first + n - t : BLOCK;
                const block_q8_0 *k = (const block_q8_0 *)segs[si].k + t * nblk;
                const block_q8_0 *v = (const block_q8_0 *)segs[si].v + t * nblk;
                for (int64_t c = 0; c < nblk; c++) {  // the block's scales as floats
                    for (int64_t b = 0; b < BLOCK; b += 8) {
                        _mm256_storeu_ps(s.dk + c * BLOCK + b, scales8(k + b * nblk + c, nblk, nb - b));
                        _mm256_storeu_ps(s.dv + c * BLOCK + b, scales8(v + b * nblk + c, nblk, nb - b));
                    }
                }
                for (int j = 0; j < nq; j++) {
                    float *sc = s.scores + j * BLOCK;
                    block_scores(s.q + j * nblk, s.qd + j * nblk, k, nb, nblk, s.dk, scale, sc);
                    for (int64_t b = nb; b < BLOCK; b++) sc[b] = -INFINITY;
                    const float ms = block_weights(sc, s.weight + j * BLOCK, &m[j], &sum[j]);
                    if (ms != 1.0f) {
                        float *acc = partials + (j0 + j) * pstride + 2;
                        for (int64_t d = 0; d < hd; d += 8) _mm256_storeu_ps(acc + d, _mm256_mul_ps(_mm256_loadu_ps(acc + d), _mm256_set1_ps(ms)));
                    }
                }
                for (int64_t c = 0; c < nblk; c++) {
                    for (int j = 0; j < nq; j++) {
                        for (int64_t b = 0; b < BLOCK; b += 8) {
                            _mm256_storeu_ps(s.wd + j * BLOCK + b, _mm256_mul_ps(_mm256_loadu_ps(s.weight + j * BLOCK + b),
                                                                                 _mm256_loadu_ps(s.dv + c * BLOCK + b)));
                        }
                    }
                    quantize_weights(nq, s.wd, s.qw, s.unit);
                    for (int j = 0; j < nq; j += 3) {  // constant head counts keep the sums in registers
                        float *acc = partials + (j0 + j) * pstride + 2 + 32 * c;
                        const int16_t *qw = s.qw + j * BLOCK;
                        switch (nq - j) {
                        case 1: block_values(1, acc, pstride, v + c, nblk, nb, qw, s.unit + j); break;
                        case 2: block_values(2, acc, pstride, v + c, nblk, nb, qw, s.unit + j); break;
                        default: block_values(3, acc, pstride, v + c, nblk, nb, qw, s.unit + j); break;
                        }
                    }
                }
            }
        }
        for (int j = 0; j < nq; j++) {
            partials[(j0 + j) * pstride] = m[j];
            partials[(j0 + j) * pstride + 1] = sum[j];
        }
    }
}

static void quantize_rows_avx2(const float *src, void *dst, int64_t n) { quantize_blocks_avx2(src, (block_q8_0 *)dst, n); }

#pragma clang attribute pop
#endif

void sk_f32_to_q8_0(const float *src, void *dst, int64_t n) {
#if defined(__x86_64__) || defined(__i386__)
    if (sk_init_active_is_avx2()) {
        quantize_rows_avx2(src, dst, n);
        return;
    }
#endif
    quantize_blocks(src, (block_q8_0 *)dst, n);
}

void sk_attention_partial_q8_0(const float *q, int64_t g, int64_t hd, float scale, const sk_kv_segment *segs,
                               int64_t nsegs, int64_t lo, int64_t hi, float *partials, int64_t partial_stride,
                               float *scratch) {
#if defined(__x86_64__) || defined(__i386__)
    if (sk_init_active_is_avx2()) {
        partial_avx2(q, g, hd, scale, segs, nsegs, lo, hi, partials, partial_stride, scratch);
        return;
    }
#endif
    partial_scalar(q, g, hd, scale, segs, nsegs, lo, hi, partials, partial_stride, scratch);
}
