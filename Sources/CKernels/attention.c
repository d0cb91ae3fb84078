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

// Scratch layout: [query as hd floats (2·hd uint16)][F16 accumulator, hd uint16].
static inline float *query_of(uint16_t *scratch) { return (float *)(void *)scratch; }
static inline uint16_t *acc_of(uint16_t *scratch, int64_t hd) { return scratch + 2 * hd; }

static int use_avx2(int64_t hd) {
#ifdef SK_X86
    static int has_avx2 = -1;
    if (has_avx2 < 0) {
        __builtin_cpu_init();
        has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    }
    return has_avx2 && hd % 8 == 0;
#else
    (void)hd;
    return 0;
#endif
}

void sk_attention_begin(const float *q, int64_t hd, uint16_t *scratch, sk_attention_state *state) {
    float *qf = query_of(scratch);
    uint16_t *acc = acc_of(scratch, hd);
    for (int64_t d = 0; d < hd; d++) {
        qf[d] = half_to_float(float_to_half(q[d]));
        acc[d] = 0;
    }
    state->max = -INFINITY;
    state->sum = 0.0f;
}

static void segment_scalar(const uint16_t *k, const uint16_t *v, int64_t n, int64_t hd, float scale,
                           uint16_t *scratch, sk_attention_state *st) {
    const float *qf = query_of(scratch);
    uint16_t *acc = acc_of(scratch, hd);
    for (int64_t t = 0; t < n; t++) {
        const uint16_t *kt = k + t * hd;
        float dot = 0.0f;
        for (int64_t d = 0; d < hd; d++) dot += half_to_float(kt[d]) * qf[d];
        float score = dot * scale;
        float ms = 1.0f, vs = 1.0f;
        if (score > st->max) {
            float old = st->max;
            st->max = score;
            ms = expf(old - score);
            for (int64_t d = 0; d < hd; d++) acc[d] = float_to_half(half_to_float(acc[d]) * ms);
        } else {
            vs = expf(score - st->max);
        }
        const uint16_t *vt = v + t * hd;
        for (int64_t d = 0; d < hd; d++) acc[d] = float_to_half(half_to_float(acc[d]) + half_to_float(vt[d]) * vs);
        st->sum = st->sum * ms + vs;
    }
}

#ifdef SK_X86
__attribute__((target("avx2,fma,f16c")))
static void segment_avx2(const uint16_t *k, const uint16_t *v, int64_t n, int64_t hd, float scale,
                         uint16_t *scratch, sk_attention_state *st) {
    const float *qf = query_of(scratch);
    uint16_t *acc = acc_of(scratch, hd);
    float m = st->max, s = st->sum;
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
    st->max = m;
    st->sum = s;
}
#endif

void sk_attention_segment(const uint16_t *k, const uint16_t *v, int64_t n, int64_t hd, float scale,
                          uint16_t *scratch, sk_attention_state *state) {
    if (n <= 0) return;
#ifdef SK_X86
    if (use_avx2(hd)) { segment_avx2(k, v, n, hd, scale, scratch, state); return; }
#endif
    segment_scalar(k, v, n, hd, scale, scratch, state);
}

void sk_attention_end(float *out, int64_t hd, const uint16_t *scratch, const sk_attention_state *state) {
    const uint16_t *acc = acc_of((uint16_t *)scratch, hd);
    float inv = state->sum > 0.0f ? 1.0f / state->sum : 0.0f;
    for (int64_t d = 0; d < hd; d++) out[d] = half_to_float(acc[d]) * inv;
}

void sk_attention_f16(const float *q, const uint16_t *k, const uint16_t *v, int64_t n, int64_t hd,
                      float scale, float *out, uint16_t *scratch) {
    sk_attention_state st;
    sk_attention_begin(q, hd, scratch, &st);
    sk_attention_segment(k, v, n, hd, scale, scratch, &st);
    sk_attention_end(out, hd, scratch, &st);
}
