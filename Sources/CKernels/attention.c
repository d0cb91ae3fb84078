// Flash-attention style single-query attention over an F16 KV cache (see Attention.h).

#include "Attention.h"
#include <math.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SK_X86 1
#endif

static inline float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F;
    uint32_t mant = h & 0x3FF;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {  // subnormal: normalise
            int e = -1;
            do { e++; mant <<= 1; } while ((mant & 0x400) == 0);
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3FF) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000 | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline uint16_t float_to_half(float f) {  // round to nearest even
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t absx = x & 0x7FFFFFFF;
    if (absx >= 0x7F800000) return (uint16_t)(sign | 0x7C00 | (absx > 0x7F800000 ? 0x200 : 0));
    if (absx >= 0x477FF000) return (uint16_t)(sign | 0x7C00);  // overflow → inf
    if (absx < 0x38800000) {  // subnormal or zero in half
        if (absx < 0x33000000) return (uint16_t)sign;
        uint32_t e = absx >> 23;
        uint32_t m = (absx & 0x7FFFFF) | 0x800000;
        uint32_t shift = 126 - e;  // 14 + (113 - e)
        uint32_t half = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t h = ((absx - 0x38000000) >> 13);
    uint32_t rem = absx & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
    return (uint16_t)(sign | h);
}

static void attention_scalar(const float *q, const uint16_t *k, const uint16_t *v, int64_t n, int64_t hd,
                             float scale, float *out, uint16_t *scratch) {
    uint16_t *qh = scratch;
    uint16_t *acc = scratch + hd;
    for (int64_t d = 0; d < hd; d++) { qh[d] = float_to_half(q[d]); acc[d] = 0; }
    float m = -INFINITY, s = 0.0f;
    for (int64_t t = 0; t < n; t++) {
        const uint16_t *kt = k + t * hd;
        float dot = 0.0f;
        for (int64_t d = 0; d < hd; d++) dot += half_to_float(kt[d]) * half_to_float(qh[d]);
        float score = dot * scale;
        float ms = 1.0f, vs = 1.0f;
        if (score > m) {
            float old = m;
            m = score;
            ms = expf(old - m);
            for (int64_t d = 0; d < hd; d++) acc[d] = float_to_half(half_to_float(acc[d]) * ms);
        } else {
            vs = expf(score - m);
        }
        const uint16_t *vt = v + t * hd;
        for (int64_t d = 0; d < hd; d++) acc[d] = float_to_half(half_to_float(acc[d]) + half_to_float(vt[d]) * vs);
        s = s * ms + vs;
    }
    float inv = 1.0f / s;
    for (int64_t d = 0; d < hd; d++) out[d] = half_to_float(acc[d]) * inv;
}

#ifdef SK_X86
__attribute__((target("avx2,fma,f16c")))
static void attention_avx2(const float *q, const uint16_t *k, const uint16_t *v, int64_t n, int64_t hd,
                           float scale, float *out, uint16_t *scratch) {
    // hd is a multiple of 8 here; the query is rounded through F16 once
    float *qf = (float *)(void *)scratch;  // hd floats = 2·hd uint16
    for (int64_t d = 0; d < hd; d += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(q + d), _MM_FROUND_TO_NEAREST_INT);
        _mm256_storeu_ps(qf + d, _mm256_cvtph_ps(h));
    }
    // the F16 accumulator lives in registers' worth of memory on the stack (hd ≤ 512)
    uint16_t acc[512];
    memset(acc, 0, (size_t)hd * 2);
    float m = -INFINITY, s = 0.0f;
    for (int64_t t = 0; t < n; t++) {
        const uint16_t *kt = k + t * hd;
        __m256 sum = _mm256_setzero_ps();
        for (int64_t d = 0; d < hd; d += 8) {
            __m256 kv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(kt + d)));
            sum = _mm256_fmadd_ps(kv, _mm256_loadu_ps(qf + d), sum);
        }
        __m128 r = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
        r = _mm_add_ps(r, _mm_movehl_ps(r, r));
        r = _mm_add_ss(r, _mm_movehdup_ps(r));
        float score = _mm_cvtss_f32(r) * scale;
        float ms = 1.0f, vs = 1.0f;
        if (score > m) {
            float old = m;
            m = score;
            ms = expf(old - m);
            __m256 msv = _mm256_set1_ps(ms);
            for (int64_t d = 0; d < hd; d += 8) {
                __m256 a = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(acc + d)));
                _mm_storeu_si128((__m128i *)(acc + d), _mm256_cvtps_ph(_mm256_mul_ps(a, msv), _MM_FROUND_TO_NEAREST_INT));
            }
        } else {
            vs = expf(score - m);
        }
        const uint16_t *vt = v + t * hd;
        __m256 vsv = _mm256_set1_ps(vs);
        for (int64_t d = 0; d < hd; d += 8) {
            __m256 a = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(acc + d)));
            __m256 x = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(vt + d)));
            a = _mm256_fmadd_ps(x, vsv, a);
            _mm_storeu_si128((__m128i *)(acc + d), _mm256_cvtps_ph(a, _MM_FROUND_TO_NEAREST_INT));
        }
        s = s * ms + vs;
    }
    __m256 inv = _mm256_set1_ps(1.0f / s);
    for (int64_t d = 0; d < hd; d += 8) {
        __m256 a = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(acc + d)));
        _mm256_storeu_ps(out + d, _mm256_mul_ps(a, inv));
    }
}
#endif

void sk_attention_f16(const float *q, const uint16_t *k, const uint16_t *v, int64_t n, int64_t hd,
                      float scale, float *out, uint16_t *scratch) {
#ifdef SK_X86
    static int has_avx2 = -1;
    if (has_avx2 < 0) {
        __builtin_cpu_init();
        has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    }
    if (has_avx2 && hd % 8 == 0 && hd <= 512) {
        attention_avx2(q, k, v, n, hd, scale, out, scratch);
        return;
    }
#endif
    attention_scalar(q, k, v, n, hd, scale, out, scratch);
}
