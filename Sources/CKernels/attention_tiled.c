// A tile of query rows of one head against cached keys and values, as ggml's tiled flash attention
// computes prompt batches: F32 throughout; keys 64 at a time (converted and transposed), scores as
// a small matrix product, masked (causal, window) to −inf; per row the block maximum rescales the
// running sum and accumulator (libm expf), the weights e^(s − M) come from the vectorized exp and
// each block's sum is taken in double; the accumulator grows by weights · values (another small product).
#include "kernels_internal.h"

#include <math.h>

#define TQ SK_ATTENTION_TILE  // query rows per tile
#define TK 64                 // keys per block

// Scratch (floats): Q[TQ][hd], Kt[hd][TK], V[TK][hd], acc[TQ][hd], P[TQ][TK], max[TQ], sum[TQ].
typedef struct {
    float *q, *kt, *v, *acc, *p, *max, *sum;
} tile_scratch;

int64_t sk_attention_scratch_floats(int64_t hd) {
    const int64_t tiled = 4 * TQ * hd + TQ * TK + 2 * TQ;
    // attention_decode.c: MAXQ query rows, 3 blocks of scores, a block of values, MAXQ accumulators
    // (attention_q8.c needs less)
    const int64_t decode = 8 * hd + 3 * 8 * 32 + 32 * hd + 8 * hd;
    return tiled > decode ? tiled : decode;
}

static tile_scratch carve(float *s, int64_t hd) {
    tile_scratch t;
    t.q = s;
    t.kt = t.q + TQ * hd;
    t.v = t.kt + hd * TK;
    t.acc = t.v + TK * hd;
    t.p = t.acc + TQ * hd;
    t.max = t.p + TQ * TK;
    t.sum = t.max + TQ;
    return t;
}

// Fills Kt (transposed) and V for keys [t, t + nk) of segment s; zero beyond nk.
static void load_block(const sk_kv_segment *s, int64_t t, int64_t nk, int64_t hd, tile_scratch *ts) {
    for (int64_t k = 0; k < TK; k++) {
        if (k < nk) {
            const uint16_t *kr = (const uint16_t *)s->k + (t + k) * hd;
            const uint16_t *vr = (const uint16_t *)s->v + (t + k) * hd;
            for (int64_t d = 0; d < hd; d++) {
                ts->kt[d * TK + k] = sk_half_to_float_scalar(kr[d]);
                ts->v[k * hd + d] = sk_half_to_float_scalar(vr[d]);
            }
        } else {
            for (int64_t d = 0; d < hd; d++) {
                ts->kt[d * TK + k] = 0.0f;
                ts->v[k * hd + d] = 0.0f;
            }
        }
    }
}

// Masks P (raw scores · scale) to the keys each row sees and turns each row into weights; returns 0
// if no row sees any key. `expv` computes y = e^x over TK values and adds their sum; `rowmax` is
// the maximum of TK values.
static int softmax_rows(tile_scratch *ts, int64_t rows, int64_t hd, int64_t qpos0, int64_t kpos0, int64_t nk,
                        int64_t window, void (*expv)(float *, float *), float (*rowmax)(const float *)) {
    int any = 0;
    for (int64_t r = 0; r < TQ; r++) {
        float *p = ts->p + r * TK;
        const int64_t qp = qpos0 + r;
        // keys k in [lo, hi) are visible to this row
        int64_t hi = r < rows ? qp - kpos0 + 1 : 0;
        if (hi > nk) hi = nk;
        int64_t lo = window > 0 ? qp - window + 1 - kpos0 : 0;
        if (lo < 0) lo = 0;
        if (hi <= lo) {
            for (int64_t k = 0; k < TK; k++) p[k] = 0.0f;
            continue;
        }
        for (int64_t k = 0; k < lo; k++) p[k] = -INFINITY;
        for (int64_t k = hi; k < TK; k++) p[k] = -INFINITY;
        const float bmax = rowmax(p);
        any = 1;
        const float mold = ts->max[r];
        const float mnew = fmaxf(mold, bmax);
        if (mnew > mold) {
            const float ms = expf(mold - mnew);
            float *acc = ts->acc + r * hd;
            for (int64_t d = 0; d < hd; d++) acc[d] *= ms;
            ts->sum[r] *= ms;
        }
        ts->max[r] = mnew;
        for (int64_t k = 0; k < TK; k++) p[k] -= mnew;
        expv(p, &ts->sum[r]);
    }
    return any;
}

static float rowmax_scalar(const float *p) {
    float m = -INFINITY;
    for (int64_t k = 0; k < TK; k++) m = p[k] > m ? p[k] : m;
    return m;
}

static void exp_row_scalar(float *p, float *sum) {
    double s = 0;
    for (int64_t k = 0; k < TK; k++) {
        p[k] = expf(p[k]);
        s += (double)p[k];
    }
    *sum += (float)s;
}

typedef void (*load_fn)(const sk_kv_segment *, int64_t t, int64_t nk, int64_t hd, tile_scratch *);
typedef void (*scores_fn)(const tile_scratch *, int64_t hd, float scale);
typedef void (*values_fn)(tile_scratch *, int64_t hd);

// P[r][k] = scale · Σ_d Q[r][d] Kt[d][k]
static void scores_scalar(const tile_scratch *ts, int64_t hd, float scale) {
    for (int64_t r = 0; r < TQ; r++) {
        for (int64_t k = 0; k < TK; k++) {
            float s = 0.0f;
            for (int64_t d = 0; d < hd; d++) s += ts->q[r * hd + d] * ts->kt[d * TK + k];
            ts->p[r * TK + k] = s * scale;
        }
    }
}

// acc[r][d] += Σ_k P[r][k] V[k][d]
static void values_scalar(tile_scratch *ts, int64_t hd) {
    for (int64_t r = 0; r < TQ; r++) {
        for (int64_t d = 0; d < hd; d++) {
            float s = 0.0f;
            for (int64_t k = 0; k < TK; k++) s += ts->p[r * TK + k] * ts->v[k * hd + d];
            ts->acc[r * hd + d] += s;
        }
    }
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "avx2_math.h"

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

SK_INLINE __m256 load_h8(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }

// Kt[d][k] for 8 keys × 8 dimensions: an 8×8 transpose in registers.
SK_INLINE void transpose_store(const uint16_t *k0, int64_t hd, float *dst) {
    __m256 r0 = load_h8(k0), r1 = load_h8(k0 + hd), r2 = load_h8(k0 + 2 * hd), r3 = load_h8(k0 + 3 * hd);
    __m256 r4 = load_h8(k0 + 4 * hd), r5 = load_h8(k0 + 5 * hd), r6 = load_h8(k0 + 6 * hd), r7 = load_h8(k0 + 7 * hd);
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(dst + 0 * TK, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(dst + 1 * TK, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(dst + 2 * TK, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(dst + 3 * TK, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(dst + 4 * TK, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(dst + 5 * TK, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(dst + 6 * TK, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(dst + 7 * TK, _mm256_permute2f128_ps(u3, u7, 0x31));
}

static void load_block_avx2(const sk_kv_segment *s, int64_t t, int64_t nk, int64_t hd, tile_scratch *ts) {
    const int64_t full = nk / 8 * 8;
    for (int64_t k = 0; k < full; k += 8) {
        for (int64_t d = 0; d < hd; d += 8) transpose_store((const uint16_t *)s->k + (t + k) * hd + d, hd, ts->kt + d * TK + k);
    }
    for (int64_t k = full; k < TK; k++) {
        for (int64_t d = 0; d < hd; d++) ts->kt[d * TK + k] = k < nk ? _cvtsh_ss(((const uint16_t *)s->k)[(t + k) * hd + d]) : 0.0f;
    }
    for (int64_t k = 0; k < TK; k++) {
        for (int64_t d = 0; d < hd; d += 8) {
            _mm256_storeu_ps(ts->v + k * hd + d, k < nk ? load_h8((const uint16_t *)s->v + (t + k) * hd + d) : _mm256_setzero_ps());
        }
    }
}

static float rowmax_avx2(const float *p) {
    __m256 m = _mm256_loadu_ps(p);
    for (int64_t k = 8; k < TK; k += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(p + k));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

static void exp_row_avx2(float *p, float *sum) {
    double s = 0;
    for (int64_t k = 0; k < TK; k += 8) {
        const __m256 e = sk_exp8(_mm256_loadu_ps(p + k));
        _mm256_storeu_ps(p + k, e);
        s += (double)hsum8(e);
    }
    *sum += (float)s;
}

// 4 query rows × 16 keys per step: 8 accumulators, Q broadcast, two Kt loads per d.
static void scores_avx2(const tile_scratch *ts, int64_t hd, float scale) {
    const __m256 vs = _mm256_set1_ps(scale);
    for (int64_t r = 0; r < TQ; r += 4) {
        for (int64_t k = 0; k < TK; k += 16) {
            __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            const float *q0 = ts->q + r * hd, *q1 = q0 + hd, *q2 = q1 + hd, *q3 = q2 + hd;
            for (int64_t d = 0; d < hd; d++) {
                const __m256 k0 = _mm256_loadu_ps(ts->kt + d * TK + k);
                const __m256 k1 = _mm256_loadu_ps(ts->kt + d * TK + k + 8);
                __m256 b = _mm256_broadcast_ss(q0 + d);
                a00 = _mm256_fmadd_ps(b, k0, a00);
                a01 = _mm256_fmadd_ps(b, k1, a01);
                b = _mm256_broadcast_ss(q1 + d);
                a10 = _mm256_fmadd_ps(b, k0, a10);
                a11 = _mm256_fmadd_ps(b, k1, a11);
                b = _mm256_broadcast_ss(q2 + d);
                a20 = _mm256_fmadd_ps(b, k0, a20);
                a21 = _mm256_fmadd_ps(b, k1, a21);
                b = _mm256_broadcast_ss(q3 + d);
                a30 = _mm256_fmadd_ps(b, k0, a30);
                a31 = _mm256_fmadd_ps(b, k1, a31);
            }
            float *p = ts->p + r * TK + k;
            _mm256_storeu_ps(p, _mm256_mul_ps(a00, vs));
            _mm256_storeu_ps(p + 8, _mm256_mul_ps(a01, vs));
            _mm256_storeu_ps(p + TK, _mm256_mul_ps(a10, vs));
            _mm256_storeu_ps(p + TK + 8, _mm256_mul_ps(a11, vs));
            _mm256_storeu_ps(p + 2 * TK, _mm256_mul_ps(a20, vs));
            _mm256_storeu_ps(p + 2 * TK + 8, _mm256_mul_ps(a21, vs));
            _mm256_storeu_ps(p + 3 * TK, _mm256_mul_ps(a30, vs));
            _mm256_storeu_ps(p + 3 * TK + 8, _mm256_mul_ps(a31, vs));
        }
    }
}

// 4 query rows × 16 value dimensions per step: P broadcast, two V loads per key.
static void values_avx2(tile_scratch *ts, int64_t hd) {
    for (int64_t r = 0; r < TQ; r += 4) {
        const float *p0 = ts->p + r * TK, *p1 = p0 + TK, *p2 = p1 + TK, *p3 = p2 + TK;
        for (int64_t d = 0; d < hd; d += 16) {
            __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            for (int64_t k = 0; k < TK; k++) {
                const __m256 v0 = _mm256_loadu_ps(ts->v + k * hd + d);
                const __m256 v1 = _mm256_loadu_ps(ts->v + k * hd + d + 8);
                __m256 b = _mm256_broadcast_ss(p0 + k);
                a00 = _mm256_fmadd_ps(b, v0, a00);
                a01 = _mm256_fmadd_ps(b, v1, a01);
                b = _mm256_broadcast_ss(p1 + k);
                a10 = _mm256_fmadd_ps(b, v0, a10);
                a11 = _mm256_fmadd_ps(b, v1, a11);
                b = _mm256_broadcast_ss(p2 + k);
                a20 = _mm256_fmadd_ps(b, v0, a20);
                a21 = _mm256_fmadd_ps(b, v1, a21);
                b = _mm256_broadcast_ss(p3 + k);
                a30 = _mm256_fmadd_ps(b, v0, a30);
                a31 = _mm256_fmadd_ps(b, v1, a31);
            }
            float *acc = ts->acc + r * hd + d;
            _mm256_storeu_ps(acc, _mm256_add_ps(_mm256_loadu_ps(acc), a00));
            _mm256_storeu_ps(acc + 8, _mm256_add_ps(_mm256_loadu_ps(acc + 8), a01));
            _mm256_storeu_ps(acc + hd, _mm256_add_ps(_mm256_loadu_ps(acc + hd), a10));
            _mm256_storeu_ps(acc + hd + 8, _mm256_add_ps(_mm256_loadu_ps(acc + hd + 8), a11));
            _mm256_storeu_ps(acc + 2 * hd, _mm256_add_ps(_mm256_loadu_ps(acc + 2 * hd), a20));
            _mm256_storeu_ps(acc + 2 * hd + 8, _mm256_add_ps(_mm256_loadu_ps(acc + 2 * hd + 8), a21));
            _mm256_storeu_ps(acc + 3 * hd, _mm256_add_ps(_mm256_loadu_ps(acc + 3 * hd), a30));
            _mm256_storeu_ps(acc + 3 * hd + 8, _mm256_add_ps(_mm256_loadu_ps(acc + 3 * hd + 8), a31));
        }
    }
}

#pragma clang attribute pop
#endif

void sk_attention_tiled(const float *q, int64_t q_stride, int64_t rows, int64_t qpos0, int64_t hd, float scale,
                        float softcap, int64_t window, const sk_kv_segment *segs, int64_t nsegs, float *out, int64_t out_stride,
                        float *scratch) {
    load_fn load = load_block;
    scores_fn scores = scores_scalar;
    values_fn values = values_scalar;
    void (*expv)(float *, float *) = exp_row_scalar;
    float (*rowmax)(const float *) = rowmax_scalar;
#if defined(__x86_64__) || defined(__i386__)
    if (hd % 16 == 0 && sk_init_active_is_avx2()) {
        load = load_block_avx2;
        scores = scores_avx2;
        values = values_avx2;
        expv = exp_row_avx2;
        rowmax = rowmax_avx2;
    }
#endif
    if (softcap != 0.0f) scale /= softcap;
    tile_scratch ts = carve(scratch, hd);
    for (int64_t r = 0; r < TQ; r++) {
        for (int64_t d = 0; d < hd; d++) {
            ts.q[r * hd + d] = r < rows ? q[r * q_stride + d] : 0.0f;
            ts.acc[r * hd + d] = 0.0f;
        }
        ts.max[r] = -INFINITY;
        ts.sum[r] = 0.0f;
    }
    const int64_t last = qpos0 + rows - 1;                        // the last query's position
    const int64_t earliest = window > 0 ? qpos0 - window + 1 : 0;  // the first query's oldest key
    for (int64_t si = 0; si < nsegs; si++) {
        const sk_kv_segment *s = &segs[si];
        int64_t from = earliest > s->pos ? earliest - s->pos : 0;
        const int64_t to = last + 1 < s->pos + s->n ? last + 1 - s->pos : s->n;
        for (int64_t t = from; t < to; t += TK) {
            const int64_t nk = to - t < TK ? to - t : TK;
            load(s, t, nk, hd, &ts);
            scores(&ts, hd, scale);
            sk_cap_scores(ts.p, TQ * TK, softcap);  // the mask that follows sets what no row sees to −inf
            if (!softmax_rows(&ts, rows, hd, qpos0, s->pos + t, nk, window, expv, rowmax)) continue;
            values(&ts, hd);
        }
    }
    for (int64_t r = 0; r < rows; r++) {
        const float inv = ts.sum[r] == 0.0f ? 0.0f : 1.0f / ts.sum[r];
        for (int64_t d = 0; d < hd; d++) out[r * out_stride + d] = ts.acc[r * hd + d] * inv;
    }
}
