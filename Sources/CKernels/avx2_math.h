// AVX2/FMA helpers shared by the float, quantized and attention kernels; include only from x86 files, after
// <immintrin.h>. Every function carries the target attribute itself.
//
// Vectorized exp (sk_exp8): Cody-Waite range reduction x = n ln2 + r (|r| <= ln2/2, ln2 split in a
// 9-bit-exact high part and a low part), a degree-6 polynomial for e^r (Cephes expf coefficients),
// and 2^n applied as two power-of-two factors so results down to the subnormal range round once.
// Inputs are clamped to [-104, 88.8]: below -104 the result is 0 (e^-104 is under half the
// smallest subnormal), above 88.8 it is +inf; NaN propagates. Checked against double-precision exp
// on every float input with a normal-range result (|x| >= 2^-30, x in [-87.33, 88.72]): relative
// error <= 8.5e-8 (about 1.4 x 2^-24, i.e. within ~1.5 ulp); subnormal results carry an absolute
// error below 2^-149. The scalar path uses libm's expf.
#ifndef SIROCCO_AVX2_MATH_H
#define SIROCCO_AVX2_MATH_H

#include "kernels_internal.h"

#include <immintrin.h>

#define SK_AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma,f16c")))

SK_AVX2_INLINE float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

SK_AVX2_INLINE __m256 sk_exp8(__m256 x) {
    // max/min with x second: a NaN x is returned as is
    x = _mm256_max_ps(_mm256_set1_ps(-104.0f), x);
    x = _mm256_min_ps(_mm256_set1_ps(88.8f), x);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    const __m256 r2 = _mm256_mul_ps(r, r);
    __m256 y = _mm256_fmadd_ps(p, r2, r);
    y = _mm256_add_ps(y, _mm256_set1_ps(1.0f));
    // 2^n = 2^a * 2^b with a = floor(n/2), b = n - a; n in [-150, 128] so a, b in [-75, 64]
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i a = _mm256_srai_epi32(ni, 1);
    const __m256i b = _mm256_sub_epi32(ni, a);
    const __m256i bias = _mm256_set1_epi32(127);
    const __m256 pa = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(a, bias), 23));
    const __m256 pb = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(b, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(y, pa), pb);
}

// --- integer and conversion helpers shared by the quantized and attention kernels ---

// sum of 8 int32 lanes
SK_AVX2_INLINE int hsum_i32_8(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

// the largest |x| of 32 floats at x (loaded into v[0..3] for the caller)
SK_AVX2_INLINE float amax32(const float *x, __m256 *v) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int k = 0; k < 4; k++) v[k] = _mm256_loadu_ps(x + 8 * k);
    __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v[0]), _mm256_andnot_ps(sign, v[1])),
                             _mm256_max_ps(_mm256_andnot_ps(sign, v[2]), _mm256_andnot_ps(sign, v[3])));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

// 4 x 8 int32 -> 32 int8 in order (saturating)
SK_AVX2_INLINE __m256i pack_i32x4_to_i8(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i ab = _mm256_packs_epi32(a, b);
    const __m256i cd = _mm256_packs_epi32(c, d);
    const __m256i v = _mm256_packs_epi16(ab, cd);
    return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

#endif
