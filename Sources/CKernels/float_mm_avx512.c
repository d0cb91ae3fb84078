// Float-weight (F32, F16, BF16) dot products and matmul micro-kernels with 16-lane AVX-512 vectors,
// installed over the AVX2 ones when the CPU has AVX-512F. Prompt batches are compute-bound on float
// weights; twice the lanes and 32 registers allow 3 rows × 4 tokens per tile. Every shape uses the
// same two accumulators per (row, token) in the same order, so any tiling gives the bits of the
// 1 × 1 kernel (the property sk_matmul relies on), as in the AVX2 table.
#include "kernels_internal.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>
#include <math.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma,f16c"))), apply_to = function)

#define UNROLL _Pragma("clang loop unroll(full)")

SK_INLINE __m512 load_w16(const int kind, const void *p, int64_t i) {
    switch (kind) {
    case KF16: return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)p + i)));
    case KBF16:
        return _mm512_castsi512_ps(
            _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)((const uint16_t *)p + i))), 16));
    default: return _mm512_loadu_ps((const float *)p + i);
    }
}

// out[c * os + r] = dot(row r, token c): 32 values per step into two accumulators, then 16, then a
// scalar tail.
SK_INLINE void mm_float16(const int kind, const int NR, const int NC, int64_t n, const void *SK_RESTRICT w, size_t ws,
                          const void *SK_RESTRICT a, size_t as, float *SK_RESTRICT out, int64_t os) {
    const void *wp[3];
    const float *ap[4];
    __m512 acc[3][4][2];
    UNROLL for (int r = 0; r < NR; r++) wp[r] = (const uint8_t *)w + (size_t)r * ws;
    UNROLL for (int c = 0; c < NC; c++) ap[c] = (const float *)((const uint8_t *)a + (size_t)c * as);
    UNROLL for (int r = 0; r < NR; r++)
        UNROLL for (int c = 0; c < NC; c++)
            UNROLL for (int u = 0; u < 2; u++) acc[r][c][u] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        if (NC <= SK_STREAM_TOKENS) UNROLL for (int r = 0; r < NR; r++) sk_prefetch_stream(sk_float_weight_at(kind, wp[r], i), 32 * sk_float_weight_size(kind));
        UNROLL for (int u = 0; u < 2; u++) {
            __m512 wv[3];
            UNROLL for (int r = 0; r < NR; r++) wv[r] = load_w16(kind, wp[r], i + 16 * u);
            UNROLL for (int c = 0; c < NC; c++) {
                const __m512 av = _mm512_loadu_ps(ap[c] + i + 16 * u);
                UNROLL for (int r = 0; r < NR; r++) acc[r][c][u] = _mm512_fmadd_ps(wv[r], av, acc[r][c][u]);
            }
        }
    }
    for (; i + 16 <= n; i += 16) {
        __m512 wv[3];
        UNROLL for (int r = 0; r < NR; r++) wv[r] = load_w16(kind, wp[r], i);
        UNROLL for (int c = 0; c < NC; c++) {
            const __m512 av = _mm512_loadu_ps(ap[c] + i);
            UNROLL for (int r = 0; r < NR; r++) acc[r][c][0] = _mm512_fmadd_ps(wv[r], av, acc[r][c][0]);
        }
    }
    UNROLL for (int c = 0; c < NC; c++) {
        UNROLL for (int r = 0; r < NR; r++) {
            float s = _mm512_reduce_add_ps(_mm512_add_ps(acc[r][c][0], acc[r][c][1]));
            for (int64_t k = i; k < n; k++) s = fmaf(sk_float_weight(kind, wp[r], k), ap[c][k], s);
            out[(int64_t)c * os + r] = s;
        }
    }
}

#define FN(name, kind, NR, NC)                                                                                 \
    static void name##_##NR##x##NC(int64_t n, const void *SK_RESTRICT w, size_t ws, const void *SK_RESTRICT a,  \
                                   size_t as, float *SK_RESTRICT out, int64_t os) {                             \
        mm_float16(kind, NR, NC, n, w, ws, a, as, out, os);                                                     \
    }

#define SHAPES(name, kind)                                                                                     \
    FN(name, kind, 1, 1) FN(name, kind, 1, 2) FN(name, kind, 1, 3) FN(name, kind, 1, 4)                         \
    FN(name, kind, 2, 1) FN(name, kind, 2, 2) FN(name, kind, 2, 3) FN(name, kind, 2, 4)                         \
    FN(name, kind, 3, 1) FN(name, kind, 3, 2) FN(name, kind, 3, 3) FN(name, kind, 3, 4)                         \
    static float name##_dot(int64_t n, const void *SK_RESTRICT w, const void *SK_RESTRICT a) {                  \
        float r;                                                                                                \
        name##_1x1(n, w, 0, a, 0, &r, 0);                                                                       \
        return r;                                                                                               \
    }

SHAPES(mm512_f32, KF32)
SHAPES(mm512_f16, KF16)
SHAPES(mm512_bf16, KBF16)

#pragma clang attribute pop

#define INSTALL(slot, name)                                                                                    \
    do {                                                                                                       \
        sk_wkernels *k = &t->w[slot];                                                                          \
        k->dot = name##_dot;                                                                                   \
        k->mm[0][0] = name##_1x1; k->mm[0][1] = name##_1x2; k->mm[0][2] = name##_1x3; k->mm[0][3] = name##_1x4; \
        k->mm[1][0] = name##_2x1; k->mm[1][1] = name##_2x2; k->mm[1][2] = name##_2x3; k->mm[1][3] = name##_2x4; \
        k->mm[2][0] = name##_3x1; k->mm[2][1] = name##_3x2; k->mm[2][2] = name##_3x3; k->mm[2][3] = name##_3x4; \
        k->mr = 3;                                                                                             \
        k->mc = 4;                                                                                             \
    } while (0)

void sk_fill_float_mm_avx512(sk_table *t) {
    INSTALL(SKW_F32, mm512_f32);
    INSTALL(SKW_F16, mm512_f16);
    INSTALL(SKW_BF16, mm512_bf16);
}

#endif  // x86
