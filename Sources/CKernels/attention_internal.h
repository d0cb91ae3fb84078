// Pieces the one-row attention kernels share (attention_decode.c for an F16 cache,
// attention_q8.c for a Q8_0 cache): the blocks of positions they walk and the online softmax of a
// block.
#ifndef SIROCCO_ATTENTION_INTERNAL_H
#define SIROCCO_ATTENTION_INTERNAL_H

#include "kernels_internal.h"
#include "Attention.h"

#include <math.h>

#define BLOCK 32     // positions per block
#define MAXQ 8       // heads per pass (larger groups take several passes)

// Clips segment `s` to positions [lo, hi): first row and row count (count ≤ 0: nothing).
static inline int64_t clip(const sk_kv_segment *s, int64_t lo, int64_t hi, int64_t *first) {
    const int64_t a = s->pos > lo ? s->pos : lo;
    const int64_t b = s->pos + s->n < hi ? s->pos + s->n : hi;
    *first = a - s->pos;
    return b - a;
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "avx2_math.h"

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

// The largest of a block's BLOCK scores.
SK_INLINE float block_max(const float *sc) {
    __m256 bm = _mm256_set1_ps(-INFINITY);
    for (int64_t b = 0; b < BLOCK; b += 8) bm = _mm256_max_ps(bm, _mm256_loadu_ps(sc + b));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(bm), _mm256_extractf128_ps(bm, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

// w[b] = e^(sc[b] − m) for a block's BLOCK scores (−inf padding gives 0); returns their sum.
SK_INLINE float block_exp(const float *sc, float m, float *w) {
    const __m256 vm = _mm256_set1_ps(m);
    __m256 total = _mm256_setzero_ps();
    for (int64_t b = 0; b < BLOCK; b += 8) {
        const __m256 e = sk_exp8(_mm256_sub_ps(_mm256_loadu_ps(sc + b), vm));
        _mm256_storeu_ps(w + b, e);
        total = _mm256_add_ps(total, e);
    }
    return hsum8(total);
}

// Turns head j's scores into factors: rescale[b] = e^(M_old − s) where s is a new running maximum
// (weight 1), else weight[b] = e^(s − M). Returns whether any rescale happened; updates *m, *sum.
SK_INLINE int block_softmax(const float *sc, float *rs, float *ws, int64_t nb, float *m, float *sum) {
    float mj = *m;
    if (block_max(sc) <= mj) {  // the usual case: no new maximum in this block
        *sum += block_exp(sc, mj, ws);
        return 0;
    }
    for (int64_t b = 0; b < nb; b++) {
        const float s = sc[b];
        if (s > mj) {
            rs[b] = mj - s;
            ws[b] = 0.0f;
            mj = s;
        } else {
            rs[b] = 0.0f;
            ws[b] = s - mj;
        }
    }
    for (int64_t b = nb; b < BLOCK; b++) rs[b] = ws[b] = 0.0f;
    for (int64_t b = 0; b < nb; b += 8) {
        _mm256_storeu_ps(rs + b, sk_exp8(_mm256_loadu_ps(rs + b)));
        _mm256_storeu_ps(ws + b, sk_exp8(_mm256_loadu_ps(ws + b)));
    }
    float sj = *sum;
    for (int64_t b = 0; b < nb; b++) sj = sj * rs[b] + ws[b];
    *m = mj;
    *sum = sj;
    return 1;
}

#pragma clang attribute pop
#endif
#endif
