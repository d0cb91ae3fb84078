// AVX2/FMA/F16C quantized kernels: activation quantization, dot-product micro-kernels for every
// supported weight type, and the vectorized build of dequant_template.h. Everything in this file is
// compiled for that target through the attribute region below (no global -march), and is only
// reached through the dispatch table after sk_init checked the CPU.
//
// Micro-kernels compute NR weight rows x NC activation rows at once (NR, NC compile-time constants
// after inlining). Each (row, token) result is accumulated with the same operation sequence whatever
// NR and NC are, so tiled matmuls reproduce sk_vec_dot bit for bit.
#include "kernels_internal.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>
#include <math.h>

#include "avx2_math.h"

// quants_vnni.c compiles this file again for CPUs with AVX-VNNI (see there)
#ifndef SK_QUANT_TARGET
#define SK_QUANT_TARGET "avx2,fma,f16c"
#define SK_QUANT_FILL sk_fill_avx2_table
#endif
#ifndef SK_B32_ROWS
#define SK_B32_ROWS 1  // weight rows per tile of the 32-value block formats (2 needs 32 registers)
#endif

#pragma clang attribute push(__attribute__((target(SK_QUANT_TARGET))), apply_to = function)

#define SK_SFX _avx2
#define SK_H2F(h) _cvtsh_ss(h)
#include "dequant_template.h"
#undef SK_SFX
#undef SK_H2F

#define MAXR 3
#define MAXC 4
// Loops over rows, tokens, blocks of a step and sub-blocks have constant trip counts after inlining;
// they must be unrolled completely (otherwise shuffle masks get built at run time).
#define UNROLL _Pragma("clang loop unroll(full)")

// The results of a tile: out[c * os + r] = the sum of accumulator (r, c)'s lanes.
SK_INLINE void store_tile(const int NR, const int NC, __m256 (*acc)[MAXC], float *SK_RESTRICT out, int64_t os) {
    UNROLL for (int c = 0; c < NC; c++)
        UNROLL for (int r = 0; r < NR; r++) out[(int64_t)c * os + r] = hsum8(acc[r][c]);
}

// One half, converted and broadcast to 8 lanes (vpbroadcastw + vcvtph2ps). Scales are kept as
// vectors on purpose: a scalar conversion (_cvtsh_ss) is lowered to a vpinsrw into an arbitrary
// register, often an accumulator, which chains each block's scale to the previous block's result.
SK_INLINE __m256 h8(const void *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _mm256_cvtph_ps(_mm_set1_epi16((short)h));
}

SK_INLINE __m256i loadu256(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

// 16 bytes of packed nibbles -> 32 bytes: low nibbles first (values 0..15), then high nibbles.
SK_INLINE __m256i unpack_nibbles16(const uint8_t *p) {
    const __m128i q = _mm_loadu_si128((const __m128i *)p);
    const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(q), _mm_srli_epi16(q, 4), 1);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0f));
}

// 32 bits -> 32 bytes, byte j = 0xff if bit j is set, else 0.
SK_INLINE __m256i bits_to_bytes32(const uint8_t *p) {
    uint32_t x;
    memcpy(&x, p, 4);
    const __m256i shuf = _mm256_setr_epi64x(0x0000000000000000LL, 0x0101010101010101LL, 0x0202020202020202LL,
                                            0x0303030303030303LL);
    __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int)x), shuf);
    // in byte k of each 8-byte group every bit but bit k is forced to 1
    bytes = _mm256_or_si256(bytes, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfeLL));
    return _mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1));
}

// sum of 32 int8 x int8 products as 8 int32 lanes (sign moved onto y so maddubs sees |x| unsigned;
// no i16 saturation unless both operands hold -128, which our quantizers never produce)
SK_INLINE __m256i dot_i8(__m256i x, __m256i y) {
    const __m256i ax = _mm256_sign_epi8(x, x);
    const __m256i sy = _mm256_sign_epi8(y, x);
#if defined(SK_QUANT_VNNI512)
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), ax, sy);
#elif defined(SK_QUANT_VNNI)
    return _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), ax, sy);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
#endif
}

// acc + (pairs of int16 products of p and s summed into int32 lanes): one vpdpwssd where the CPU has
// VNNI, same integers
SK_INLINE __m256i madd_acc(__m256i acc, __m256i p, __m256i s) {
#if defined(SK_QUANT_VNNI512)
    return _mm256_dpwssd_epi32(acc, p, s);
#elif defined(SK_QUANT_VNNI)
    return _mm256_dpwssd_avx_epi32(acc, p, s);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p, s));
#endif
}

// unsigned (<= 63) x int8
SK_INLINE __m256i dot_u8(__m256i u, __m256i y) {
#if defined(SK_QUANT_VNNI512)
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, y);
#elif defined(SK_QUANT_VNNI)
    return _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), u, y);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, y), _mm256_set1_epi16(1));
#endif
}

// C's roundf (nearest, ties away from zero) on 8 floats, exactly: t = trunc(x), then add
// trunc(2 (x - t)), which is +-1 when the dropped fraction is at least one half (x - t and the
// doubling are exact).
SK_INLINE __m256 roundf8(__m256 x) {
    const __m256 t = _mm256_round_ps(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 f = _mm256_sub_ps(x, t);
    return _mm256_add_ps(t, _mm256_round_ps(_mm256_add_ps(f, f), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC));
}


// ---------------------------------------------------------------------------------------------
// Activation quantization (same results as the scalar *_ref versions, bit for bit)

SK_INLINE __m256i quant32(const __m256 *v, float id, __m256i *sum) {
    const __m256 mul = _mm256_set1_ps(id);
    __m256i q[4];
    for (int k = 0; k < 4; k++) q[k] = _mm256_cvttps_epi32(roundf8(_mm256_mul_ps(v[k], mul)));
    if (sum) *sum = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
    return pack_i32x4_to_i8(q[0], q[1], q[2], q[3]);
}

static void quant_q8_0_avx2(const float *SK_RESTRICT x, void *SK_RESTRICT dst, int64_t n) {
    block_q8_0 *y = (block_q8_0 *)dst;
    const int64_t nb = n / QK8_0, nbp = sk_act_nbp(nb);
    float *td = (float *)((uint8_t *)dst + sk_act_side_offset(sizeof(block_q8_0), nb));
    float *tt = td + nbp;
    for (int64_t i = 0; i < nb; i++) {
        __m256 v[4];
        const float amax = amax32(x + i * QK8_0, v);
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        __m256i s;
        y[i].d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        _mm256_storeu_si256((__m256i *)y[i].qs, quant32(v, id, &s));
        td[i] = sk_half_to_float_scalar(y[i].d);
        tt[i] = td[i] * (float)hsum_i32_8(s);
    }
    for (int64_t i = nb; i < nbp; i++) td[i] = tt[i] = 0.0f;
}

static void quant_q8_1_avx2(const float *SK_RESTRICT x, void *SK_RESTRICT dst, int64_t n) {
    block_q8_1 *y = (block_q8_1 *)dst;
    const int64_t nb = n / QK8_1, nbp = sk_act_nbp(nb);
    float *td = (float *)((uint8_t *)dst + sk_act_side_offset(sizeof(block_q8_1), nb));
    float *tt = td + nbp;
    for (int64_t i = 0; i < nb; i++) {
        __m256 v[4];
        const float amax = amax32(x + i * QK8_1, v);
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        __m256i s;
        _mm256_storeu_si256((__m256i *)y[i].qs, quant32(v, id, &s));
        y[i].d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        y[i].s = _cvtss_sh((float)hsum_i32_8(s) * d, _MM_FROUND_TO_NEAREST_INT);
        td[i] = sk_half_to_float_scalar(y[i].d);
        tt[i] = sk_half_to_float_scalar(y[i].s);
    }
    for (int64_t i = nb; i < nbp; i++) td[i] = tt[i] = 0.0f;
}

static void quant_q8_K_avx2(const float *SK_RESTRICT x, void *SK_RESTRICT dst, int64_t n) {
    block_q8_K *y = (block_q8_K *)dst;
    const int64_t nb = n / QK_K;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t i = 0; i < nb; i++) {
        const float *xb = x + i * QK_K;
        __m256 m = _mm256_setzero_ps();
        for (int k = 0; k < QK_K; k += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(xb + k)));
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_movehdup_ps(h));
        const float amax = _mm_cvtss_f32(h);
        if (amax == 0.0f) {
            memset(&y[i], 0, sizeof(y[i]));
            continue;
        }
        // the reference keeps the first value with the largest magnitude (strict >)
        float max = amax;
        const __m256 va = _mm256_set1_ps(amax);
        for (int k = 0; k < QK_K; k += 8) {
            const __m256 v = _mm256_loadu_ps(xb + k);
            const int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign, v), va, _CMP_EQ_OQ));
            if (mask) {
                max = xb[k + __builtin_ctz((unsigned)mask)];
                break;
            }
        }
        const float iscale = -127.0f / max;
        const __m256 vis = _mm256_set1_ps(iscale);
        const __m256i lim = _mm256_set1_epi32(127);
        __m256i gs[16];
        for (int k = 0; k < QK_K; k += 32) {
            __m256i q[4];
            for (int t = 0; t < 4; t++) {
                // vcvtps2dq rounds to nearest even (default MXCSR), as GGML's nearest_int
                q[t] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(vis, _mm256_loadu_ps(xb + k + 8 * t))), lim);
            }
            _mm256_storeu_si256((__m256i *)(y[i].qs + k), pack_i32x4_to_i8(q[0], q[1], q[2], q[3]));
            gs[k / 16] = _mm256_add_epi32(q[0], q[1]);
            gs[k / 16 + 1] = _mm256_add_epi32(q[2], q[3]);
        }
        for (int g = 0; g < 16; g += 4) {
            const __m256i h01 = _mm256_hadd_epi32(gs[g], gs[g + 1]);
            const __m256i h23 = _mm256_hadd_epi32(gs[g + 2], gs[g + 3]);
            const __m256i hh = _mm256_hadd_epi32(h01, h23);
            const __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(hh), _mm256_extracti128_si256(hh, 1));
            _mm_storel_epi64((__m128i *)(y[i].bsums + g), _mm_packs_epi32(s4, s4));
        }
        y[i].d = 1.0f / iscale;
    }
}

// ---------------------------------------------------------------------------------------------
// 32-element block types against Q8_0 / Q8_1 (with the activation side table, kernels_internal.h).
//
// Weights enter the integer dot products unsigned where possible (Q4_0: q, Q5_0: q, value = q - 8
// or q - 16; Q4_1/Q5_1: q, value = d q + m) and the constant part is applied once per block in
// float from the side table: Q4_0/Q5_0 add dx * (-8 or -16) * (dy sum qy); Q4_1/Q5_1 add m * s.
// Q8_0 weights and IQ4_NL's levels (looked up with vpshufb) are signed and use the sign trick. Per (row, token), blocks go in steps of 8:
//   scale[k] = dx[k] * dy[k] and corr[k] for the 8 blocks (dx, m gathered and converted at once),
//   t0 = fmadd(scale[0], p0, corr), t1 = mul(scale[1], p1), then even blocks fmadd into t0 and odd
//   ones into t1; acc += t0 + t1
// and leftover blocks one at a time: acc += fmadd(scale, p, corr). Final: horizontal sum of acc.
// The sequence per (row, token) is the same for every micro-kernel shape.

enum { KQ4_0, KQ4_1, KQ5_0, KQ5_1, KQ8_0, KIQ4_NL };

SK_INLINE size_t wblock_bytes(const int kind) {
    switch (kind) {
    case KQ4_0: return sizeof(block_q4_0);
    case KQ4_1: return sizeof(block_q4_1);
    case KQ5_0: return sizeof(block_q5_0);
    case KQ5_1: return sizeof(block_q5_1);
    case KIQ4_NL: return sizeof(block_iq4_nl);
    default: return sizeof(block_q8_0);
    }
}

SK_INLINE int kind_has_min(const int kind) { return kind == KQ4_1 || kind == KQ5_1; }

// weights that enter the integer dot product signed (so with no constant term to correct)
SK_INLINE int kind_is_signed(const int kind) { return kind == KQ8_0 || kind == KIQ4_NL; }

// weight value offset folded into the correction term for the unsigned symmetric kinds
SK_INLINE float kind_offset(const int kind) { return kind == KQ4_0 ? -8.0f : kind == KQ5_0 ? -16.0f : 0.0f; }

SK_INLINE uint64_t ld_u16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return h;
}

// 8 halves at p, p + stride, ..., converted to floats
SK_INLINE __m256 gather8_h(const uint8_t *p, size_t stride) {
    const uint64_t lo = ld_u16(p) | ld_u16(p + stride) << 16 | ld_u16(p + 2 * stride) << 32 | ld_u16(p + 3 * stride) << 48;
    p += 4 * stride;
    const uint64_t hi = ld_u16(p) | ld_u16(p + stride) << 16 | ld_u16(p + 2 * stride) << 32 | ld_u16(p + 3 * stride) << 48;
    return _mm256_cvtph_ps(_mm_set_epi64x((long long)hi, (long long)lo));
}

// M (2, 4 or 8) halves at p, p + stride, ..., converted to floats (the other lanes zero)
SK_INLINE __m256 gather_h(const int M, const uint8_t *p, size_t stride) {
    if (M == 8) return gather8_h(p, stride);
    uint64_t lo = ld_u16(p) | ld_u16(p + stride) << 16;
    if (M == 4) lo |= ld_u16(p + 2 * stride) << 32 | ld_u16(p + 3 * stride) << 48;
    return _mm256_cvtph_ps(_mm_set_epi64x(0, (long long)lo));
}

// IQ4_NL's 16 levels in both 128-bit lanes, the table of a vpshufb from 4-bit indices
SK_INLINE __m256i iq4nl_table(void) { return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)sk_iq4nl_values)); }

// The 32 quantized weights of one block, as the integer dot product wants them.
SK_INLINE __m256i load_wq(const int kind, const uint8_t *b) {
    switch (kind) {
    case KIQ4_NL: return _mm256_shuffle_epi8(iq4nl_table(), unpack_nibbles16(b + 2));
    case KQ4_0: return unpack_nibbles16(b + 2);
    case KQ4_1: return unpack_nibbles16(b + 4);
    case KQ5_0: return _mm256_or_si256(unpack_nibbles16(b + 6), _mm256_and_si256(bits_to_bytes32(b + 2), _mm256_set1_epi8(0x10)));
    case KQ5_1: return _mm256_or_si256(unpack_nibbles16(b + 8), _mm256_and_si256(bits_to_bytes32(b + 4), _mm256_set1_epi8(0x10)));
    default: return loadu256(b + 2);
    }
}

SK_INLINE __m256 block_dot(const int kind, __m256i wq, __m256i aq) {
    return _mm256_cvtepi32_ps(kind_is_signed(kind) ? dot_i8(wq, aq) : dot_u8(wq, aq));
}

#if defined(SK_QUANT_VNNI512)
SK_INLINE __m512i join256(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }
SK_INLINE __m512 join256_ps(__m256 lo, __m256 hi) {
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(lo)), _mm256_castps_pd(hi), 1));
}
SK_INLINE __m256 low256_ps(__m512 x) { return _mm512_castps512_ps256(x); }
SK_INLINE __m256 high256_ps(__m512 x) { return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)); }

// The 32 nibbles at p0 and at p1 as 64 bytes: p0's low nibbles, p0's high nibbles, then p1's.
SK_INLINE __m512i unpack_nibbles16x2(const uint8_t *p0, const uint8_t *p1) {
    const __m512i v = _mm512_inserti32x4(_mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)p0)),
                                         _mm_loadu_si128((const __m128i *)p1), 2);
    const __m512i d = _mm512_shuffle_i64x2(v, v, _MM_SHUFFLE(2, 2, 0, 0));  // 128-bit lanes p0 p0 p1 p1
    const __m512i s = _mm512_mask_srli_epi16(d, 0xff00ff00u, d, 4);          // lanes 1 and 3 shifted
    return _mm512_and_si512(s, _mm512_set1_epi8(0x0f));
}

// load_wq for blocks b and b + wbs at once; the fifth bits become a mask (one bit per byte)
SK_INLINE __m512i load_wq2(const int kind, const uint8_t *b, size_t wbs) {
    const uint8_t *c = b + wbs;
    switch (kind) {
    case KQ4_0: return unpack_nibbles16x2(b + 2, c + 2);
    case KQ4_1: return unpack_nibbles16x2(b + 4, c + 4);
    case KIQ4_NL:
        return _mm512_shuffle_epi8(_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)sk_iq4nl_values)),
                                   unpack_nibbles16x2(b + 2, c + 2));
    case KQ5_0:
    case KQ5_1: {
        const size_t qh = kind == KQ5_0 ? 2 : 4;
        uint32_t h0, h1;
        memcpy(&h0, b + qh, 4);
        memcpy(&h1, c + qh, 4);
        const __m512i lo = unpack_nibbles16x2(b + qh + 4, c + qh + 4);
        return _mm512_mask_add_epi8(lo, _cvtu64_mask64((uint64_t)h0 | (uint64_t)h1 << 32), lo, _mm512_set1_epi8(0x10));
    }
    default: return join256(loadu256(b + 2), loadu256(c + 2));
    }
}

// block_dot for two blocks at once (one per 256-bit half)
SK_INLINE __m512 block_dot2(const int kind, __m512i wq, __m512i aq) {
    if (!kind_is_signed(kind)) return _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), wq, aq));
    // the sign trick of dot_i8: |w| unsigned, the activation negated where w < 0
    const __m512i sy = _mm512_mask_sub_epi8(aq, _mm512_movepi8_mask(wq), _mm512_setzero_si512(), aq);
    return _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(wq), sy));
}
#endif

// M (2, 4 or 8) floats at p, the other lanes zero
SK_INLINE __m256 load_lanes(const int M, const float *p) {
    if (M == 8) return _mm256_loadu_ps(p);
    if (M == 4) return _mm256_zextps128_ps256(_mm_loadu_ps(p));
    return _mm256_zextps128_ps256(_mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)p)));
}

// One step of M (8, 4 or 2) blocks from block i for every (row, token) of the tile: the sequence the
// comment above describes, with M lanes of scales and corrections (the rest zero).
SK_INLINE void b32_step(const int kind, const int NR, const int NC, const int M, int64_t i, const uint8_t *const *wp,
                        const uint8_t *const *ap, const float *const *ad, const float *const *at,
                        __m256 (*acc)[MAXC]) {
    const size_t wbs = wblock_bytes(kind);
    const int hm = kind_has_min(kind);
    const int hc = !kind_is_signed(kind);
    const size_t abs_ = hm ? sizeof(block_q8_1) : sizeof(block_q8_0);
    const size_t aqo = hm ? 4 : 2;
    const __m256 koff = _mm256_set1_ps(kind_offset(kind));
    if (NC <= SK_STREAM_TOKENS) UNROLL for (int r = 0; r < NR; r++) sk_prefetch_stream(wp[r] + (size_t)i * wbs, (size_t)M * wbs);
    __m256 wd[MAXR], wm[MAXR];
    UNROLL for (int r = 0; r < NR; r++) {
        wd[r] = gather_h(M, wp[r] + (size_t)i * wbs, wbs);
        wm[r] = hm ? gather_h(M, wp[r] + (size_t)i * wbs + 2, wbs) : wd[r];
    }
    float sc[MAXR][MAXC][8] __attribute__((aligned(32)));
    __m256 corr[MAXR][MAXC];
#if defined(SK_QUANT_VNNI512)
    __m512 t2[MAXR][MAXC];
#else
    __m256 t0[MAXR][MAXC], t1[MAXR][MAXC];
#endif
    UNROLL for (int c = 0; c < NC; c++) {
        const __m256 ad8 = load_lanes(M, ad[c] + i);
        __m256 at8 = _mm256_setzero_ps();
        if (hc) at8 = load_lanes(M, at[c] + i);
        if (hc && !hm) at8 = _mm256_mul_ps(at8, koff);
        UNROLL for (int r = 0; r < NR; r++) {
            _mm256_store_ps(sc[r][c], _mm256_mul_ps(wd[r], ad8));
            // corr lane k: block k's constant term; summed over lanes by the final reduction
            corr[r][c] = hc ? _mm256_mul_ps(hm ? wm[r] : wd[r], at8) : _mm256_setzero_ps();
        }
    }
#if defined(SK_QUANT_VNNI512)
    // two blocks per 512-bit vector: even blocks in the low half (t0's lanes), odd ones in the high
    // half (t1's; −0 as the first addend makes that fmadd the plain product): the same sequence
    UNROLL for (int k = 0; k < M; k += 2) {
        __m512i wq[MAXR];
        UNROLL for (int r = 0; r < NR; r++) {
            wq[r] = load_wq2(kind, wp[r] + (size_t)(i + k) * wbs, wbs);
        }
        const __m512i pick = _mm512_setr_epi32(k, k, k, k, k, k, k, k, k + 1, k + 1, k + 1, k + 1, k + 1, k + 1,
                                               k + 1, k + 1);
        UNROLL for (int c = 0; c < NC; c++) {
            const uint8_t *y = ap[c] + (size_t)(i + k) * abs_ + aqo;
            const __m512i y2 = join256(loadu256(y), loadu256(y + abs_));
            UNROLL for (int r = 0; r < NR; r++) {
                const __m512 p = block_dot2(kind, wq[r], y2);
                const __m512 s = _mm512_permutexvar_ps(pick, _mm512_castps256_ps512(_mm256_load_ps(sc[r][c])));
                t2[r][c] = _mm512_fmadd_ps(s, p, k == 0 ? join256_ps(corr[r][c], _mm256_set1_ps(-0.0f)) : t2[r][c]);
            }
        }
    }
    UNROLL for (int r = 0; r < NR; r++)
        UNROLL for (int c = 0; c < NC; c++) acc[r][c] = _mm256_add_ps(acc[r][c], _mm256_add_ps(low256_ps(t2[r][c]), high256_ps(t2[r][c])));
#else
    UNROLL for (int k = 0; k < M; k++) {
        __m256i wq[MAXR];
        UNROLL for (int r = 0; r < NR; r++) wq[r] = load_wq(kind, wp[r] + (size_t)(i + k) * wbs);
        UNROLL for (int c = 0; c < NC; c++) {
            const __m256i y = loadu256(ap[c] + (size_t)(i + k) * abs_ + aqo);
            UNROLL for (int r = 0; r < NR; r++) {
                const __m256 p = block_dot(kind, wq[r], y);
                const __m256 s = _mm256_broadcast_ss(&sc[r][c][k]);
                if (k == 0) t0[r][c] = _mm256_fmadd_ps(s, p, corr[r][c]);
                else if (k == 1) t1[r][c] = _mm256_mul_ps(s, p);
                else if (k & 1) t1[r][c] = _mm256_fmadd_ps(s, p, t1[r][c]);
                else t0[r][c] = _mm256_fmadd_ps(s, p, t0[r][c]);
            }
        }
    }
    UNROLL for (int r = 0; r < NR; r++)
        UNROLL for (int c = 0; c < NC; c++) acc[r][c] = _mm256_add_ps(acc[r][c], _mm256_add_ps(t0[r][c], t1[r][c]));
#endif
}

SK_INLINE void mm_b32(const int kind, const int NR, const int NC, int64_t n, const void *SK_RESTRICT w, size_t ws,
                      const void *SK_RESTRICT a, size_t as, float *SK_RESTRICT out, int64_t os) {
    const size_t wbs = wblock_bytes(kind);
    const int hm = kind_has_min(kind);
    const int hc = !kind_is_signed(kind);  // has a correction term
    const size_t abs_ = hm ? sizeof(block_q8_1) : sizeof(block_q8_0);
    const size_t aqo = hm ? 4 : 2;  // offset of qs in the activation block
    const int64_t nb = n / 32, nbp = sk_act_nbp(nb);
    const size_t side = sk_act_side_offset(abs_, nb);
    const __m256 koff = _mm256_set1_ps(kind_offset(kind));
    const uint8_t *wp[MAXR], *ap[MAXC];
    const float *ad[MAXC], *at[MAXC];
    __m256 acc[MAXR][MAXC];
    UNROLL for (int r = 0; r < NR; r++) wp[r] = (const uint8_t *)w + (size_t)r * ws;
    UNROLL for (int c = 0; c < NC; c++) {
        ap[c] = (const uint8_t *)a + (size_t)c * as;
        ad[c] = (const float *)(ap[c] + side);
        at[c] = ad[c] + nbp;
    }
    UNROLL for (int r = 0; r < NR; r++)
        UNROLL for (int c = 0; c < NC; c++) acc[r][c] = _mm256_setzero_ps();

    int64_t i = 0;
    for (; i + 8 <= nb; i += 8) b32_step(kind, NR, NC, 8, i, wp, ap, ad, at, acc);
    if (i + 4 <= nb) {
        b32_step(kind, NR, NC, 4, i, wp, ap, ad, at, acc);
        i += 4;
    }
    if (i + 2 <= nb) {
        b32_step(kind, NR, NC, 2, i, wp, ap, ad, at, acc);
        i += 2;
    }
    for (; i < nb; i++) {
        __m256i wq[MAXR];
        __m256 wd[MAXR], wm[MAXR];
        UNROLL for (int r = 0; r < NR; r++) {
            const uint8_t *b = wp[r] + (size_t)i * wbs;
            wq[r] = load_wq(kind, b);
            wd[r] = h8(b);
            wm[r] = hm ? h8(b + 2) : wd[r];
        }
        UNROLL for (int c = 0; c < NC; c++) {
            const __m256i y = loadu256(ap[c] + (size_t)i * abs_ + aqo);
            const __m256 ad1 = _mm256_broadcast_ss(ad[c] + i);
            __m256 at1 = _mm256_setzero_ps();
            if (hc) at1 = _mm256_broadcast_ss(at[c] + i);
            if (hc && !hm) at1 = _mm256_mul_ps(at1, koff);
            UNROLL for (int r = 0; r < NR; r++) {
                const __m256 p = block_dot(kind, wq[r], y);
                // the constant term once (lane 0), as the 8-block steps have it once per block
                __m256 corr = _mm256_setzero_ps();
                if (hc) corr = _mm256_blend_ps(corr, _mm256_mul_ps(hm ? wm[r] : wd[r], at1), 1);
                acc[r][c] = _mm256_add_ps(acc[r][c], _mm256_fmadd_ps(_mm256_mul_ps(wd[r], ad1), p, corr));
            }
        }
    }
    store_tile(NR, NC, acc, out, os);
}

// ---------------------------------------------------------------------------------------------
// K-quants against Q8_K. Per (row, token) and super-block: the integer dot products weighted by the
// 6/8-bit sub-block scales are summed exactly in 8 int32 lanes; then
//   Q4_K/Q5_K: acc = fmadd(-dmin*yd, mins.bsums (4 lanes), acc); acc = fmadd(d*yd, sumi, acc)
//   Q6_K:      acc = fmadd(d*yd, sumi - 32 * scales.bsums, acc)

// unpacked Q4_K/Q5_K scales and mins of a super-block (8 each, as int16)
SK_INLINE void k4_scales(const uint8_t *s, __m128i *sc16, __m128i *mn16) {
    uint32_t u[3];
    memcpy(u, s, 12);
    const uint32_t k1 = 0x3f3f3f3fu, k2 = 0x0f0f0f0fu, k3 = 0x03030303u;
    const uint32_t sc_lo = u[0] & k1;
    const uint32_t mn_lo = u[1] & k1;
    const uint32_t sc_hi = (u[2] & k2) | (((u[0] >> 6) & k3) << 4);
    const uint32_t mn_hi = ((u[2] >> 4) & k2) | (((u[1] >> 6) & k3) << 4);
    *sc16 = _mm_cvtepu8_epi16(_mm_setr_epi32((int)sc_lo, (int)sc_hi, 0, 0));
    *mn16 = _mm_cvtepu8_epi16(_mm_setr_epi32((int)mn_lo, (int)mn_hi, 0, 0));
}

// bsums of a Q8_K block summed in pairs (one per 32-value sub-block), int16 x 8
SK_INLINE __m128i q8k_bsums_pairs(const block_q8_K *b) {
    const __m128i lo = _mm_loadu_si128((const __m128i *)b->bsums);
    const __m128i hi = _mm_loadu_si128((const __m128i *)(b->bsums + 8));
    return _mm_hadd_epi16(lo, hi);
}

// The start of a tile against Q8_K activations: weight row r at wp[r], activation row c at ap[c],
// accumulators zero.
SK_INLINE void q8k_tile_begin(const int NR, const int NC, const void *w, size_t ws, const void *a, size_t as,
                              const uint8_t **wp, const block_q8_K **ap, __m256 (*acc)[MAXC]) {
    UNROLL for (int r = 0; r < NR; r++) wp[r] = (const uint8_t *)w + (size_t)r * ws;
    UNROLL for (int c = 0; c < NC; c++) ap[c] = (const block_q8_K *)((const uint8_t *)a + (size_t)c * as);
    UNROLL for (int r = 0; r < NR; r++)
        UNROLL for (int c = 0; c < NC; c++) acc[r][c] = _mm256_setzero_ps();
}

SK_INLINE void mm_q45_K(const int is5, const int NR, const int NC, int64_t n, const void *SK_RESTRICT w, size_t ws,
                        const void *SK_RESTRICT a, size_t as, float *SK_RESTRICT out, int64_t os) {
    const int64_t nb = n / QK_K;
    const size_t wbs = is5 ? sizeof(block_q5_K) : sizeof(block_q4_K);
    const uint8_t *wp[MAXR];
    const block_q8_K *ap[MAXC];
    __m256 acc[MAXR][MAXC];
    q8k_tile_begin(NR, NC, w, ws, a, as, wp, ap, acc);
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    const __m256i m16 = _mm256_set1_epi8(0x10);

    for (int64_t i = 0; i < nb; i++) {
        // scale j of row r replicated in both halves of a 32-bit word: broadcast straight from
        // memory (a load-port-only vpbroadcastd) as the multiplier of vpmaddwd
        int32_t scd[MAXR][8] __attribute__((aligned(32)));
        __m128i mn[MAXR];
        __m256 wd[MAXR], wdm[MAXR];
        const uint8_t *qs[MAXR];
        __m256i hb[MAXR];
        UNROLL for (int r = 0; r < NR; r++) {
            const uint8_t *b = wp[r] + (size_t)i * wbs;
            if (NC <= SK_STREAM_TOKENS) sk_prefetch_stream(b, wbs);
            // both layouts start with d, dmin, scales[12]
            wd[r] = h8(b);
            wdm[r] = h8(b + 2);
            __m128i sc16;
            k4_scales(b + 4, &sc16, &mn[r]);
            _mm_store_si128((__m128i *)scd[r], _mm_unpacklo_epi16(sc16, sc16));
            _mm_store_si128((__m128i *)scd[r] + 1, _mm_unpackhi_epi16(sc16, sc16));
            __asm__("" : "+m"(scd[r]));  // keep clang from forwarding the stores into shuffles
            if (is5) {
                hb[r] = loadu256(b + 16);
                qs[r] = b + 48;
            } else {
                hb[r] = _mm256_setzero_si256();
                qs[r] = b + 16;
            }
        }
        __m256i sumi[MAXR][MAXC];
        UNROLL for (int r = 0; r < NR; r++)
            UNROLL for (int c = 0; c < NC; c++) sumi[r][c] = _mm256_setzero_si256();
        UNROLL for (int j = 0; j < 4; j++) {
            __m256i ql[MAXR], qh[MAXR], sl[MAXR], sh[MAXR];
            UNROLL for (int r = 0; r < NR; r++) {
                const __m256i raw = loadu256(qs[r] + 32 * j);
                ql[r] = _mm256_and_si256(raw, m4);
                qh[r] = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
                if (is5) {
                    // bit 2j of qh[l] -> bit 4 of value l, bit 2j+1 -> bit 4 of value 32 + l
                    const int s0 = 2 * j, s1 = 2 * j + 1;
                    const __m256i h0 = s0 <= 4 ? _mm256_slli_epi16(hb[r], 4 - s0) : _mm256_srli_epi16(hb[r], s0 - 4);
                    const __m256i h1 = s1 <= 4 ? _mm256_slli_epi16(hb[r], 4 - s1) : _mm256_srli_epi16(hb[r], s1 - 4);
                    ql[r] = _mm256_or_si256(ql[r], _mm256_and_si256(h0, m16));
                    qh[r] = _mm256_or_si256(qh[r], _mm256_and_si256(h1, m16));
                }
                sl[r] = _mm256_set1_epi32(scd[r][2 * j]);
                sh[r] = _mm256_set1_epi32(scd[r][2 * j + 1]);
            }
            UNROLL for (int c = 0; c < NC; c++) {
                const __m256i y0 = loadu256(ap[c][i].qs + 64 * j);
                const __m256i y1 = loadu256(ap[c][i].qs + 64 * j + 32);
                UNROLL for (int r = 0; r < NR; r++) {
                    sumi[r][c] = madd_acc(sumi[r][c], _mm256_maddubs_epi16(ql[r], y0), sl[r]);
                    sumi[r][c] = madd_acc(sumi[r][c], _mm256_maddubs_epi16(qh[r], y1), sh[r]);
                }
            }
        }
        UNROLL for (int c = 0; c < NC; c++) {
            const __m256 yd = _mm256_broadcast_ss(&ap[c][i].d);
            const __m128i bs = q8k_bsums_pairs(&ap[c][i]);
            UNROLL for (int r = 0; r < NR; r++) {
                const __m256 mprod = _mm256_zextps128_ps256(_mm_cvtepi32_ps(_mm_madd_epi16(mn[r], bs)));
                acc[r][c] = _mm256_fnmadd_ps(_mm256_mul_ps(wdm[r], yd), mprod, acc[r][c]);
                acc[r][c] = _mm256_fmadd_ps(_mm256_mul_ps(wd[r], yd), _mm256_cvtepi32_ps(sumi[r][c]), acc[r][c]);
            }
        }
    }
    store_tile(NR, NC, acc, out, os);
}

// s8x2: 8 int16 scales in both 128-bit lanes; returns scale 2k in every int16 of the low lane and
// scale 2k + 1 in the high lane (the multipliers of vpmaddwd for 32 values that span two 16-value groups)
SK_INLINE __m256i pick_scale_pair(__m256i s8x2, const int k) {
    const char a0 = (char)(4 * k), a1 = (char)(4 * k + 1), b0 = (char)(4 * k + 2), b1 = (char)(4 * k + 3);
    const __m256i sel = _mm256_setr_epi8(a0, a1, a0, a1, a0, a1, a0, a1, a0, a1, a0, a1, a0, a1, a0, a1,
                                         b0, b1, b0, b1, b0, b1, b0, b1, b0, b1, b0, b1, b0, b1, b0, b1);
    return _mm256_shuffle_epi8(s8x2, sel);
}

SK_INLINE void mm_q6_K(const int NR, const int NC, int64_t n, const void *SK_RESTRICT w, size_t ws,
                       const void *SK_RESTRICT a, size_t as, float *SK_RESTRICT out, int64_t os) {
    const int64_t nb = n / QK_K;
    const uint8_t *rows[MAXR];
    const block_q8_K *ap[MAXC];
    __m256 acc[MAXR][MAXC];
    q8k_tile_begin(NR, NC, w, ws, a, as, rows, ap, acc);
    const block_q6_K *wp[MAXR];
    UNROLL for (int r = 0; r < NR; r++) wp[r] = (const block_q6_K *)rows[r];
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    const __m256i m3 = _mm256_set1_epi8(0x30);

    for (int64_t i = 0; i < nb; i++) {
        __m128i sc8[MAXR];
        __m256i sch[MAXR][2];  // int16 scales 0-7 (half 0) or 8-15 (half 1) in both 128-bit lanes
        __m256i sumi[MAXR][MAXC];
        UNROLL for (int r = 0; r < NR; r++) {
            if (NC <= SK_STREAM_TOKENS) sk_prefetch_stream(&wp[r][i], sizeof(block_q6_K));
            sc8[r] = _mm_loadu_si128((const __m128i *)wp[r][i].scales);
            const __m256i s16 = _mm256_cvtepi8_epi16(sc8[r]);
            sch[r][0] = _mm256_permute2x128_si256(s16, s16, 0x00);
            sch[r][1] = _mm256_permute2x128_si256(s16, s16, 0x11);
            UNROLL for (int c = 0; c < NC; c++) sumi[r][c] = _mm256_setzero_si256();
        }
        UNROLL for (int h = 0; h < 2; h++) {
            UNROLL for (int k = 0; k < 4; k++) {
                // values 128h + 32k + l, scale groups 8h + 2k (l < 16) and 8h + 2k + 1
                __m256i q[MAXR], sv[MAXR];
                UNROLL for (int r = 0; r < NR; r++) {
                    const uint8_t *ql = wp[r][i].ql + 64 * h + 32 * (k & 1);
                    const __m256i lo = (k < 2) ? _mm256_and_si256(loadu256(ql), m4)
                                               : _mm256_and_si256(_mm256_srli_epi16(loadu256(ql), 4), m4);
                    const __m256i hv = loadu256(wp[r][i].qh + 32 * h);
                    __m256i hi;
                    switch (k) {
                    case 0: hi = _mm256_slli_epi16(hv, 4); break;
                    case 1: hi = _mm256_slli_epi16(hv, 2); break;
                    case 2: hi = hv; break;
                    default: hi = _mm256_srli_epi16(hv, 2); break;
                    }
                    q[r] = _mm256_or_si256(lo, _mm256_and_si256(hi, m3));
                    // low lane: scale 2k of this half, high lane: scale 2k + 1
                    sv[r] = pick_scale_pair(sch[r][h], k);
                }
                UNROLL for (int c = 0; c < NC; c++) {
                    const __m256i y = loadu256(ap[c][i].qs + 128 * h + 32 * k);
                    UNROLL for (int r = 0; r < NR; r++) {
                        sumi[r][c] = madd_acc(sumi[r][c], _mm256_maddubs_epi16(q[r], y), sv[r]);
                    }
                }
            }
        }
        UNROLL for (int c = 0; c < NC; c++) {
            const __m256i bs = loadu256(ap[c][i].bsums);
            const __m256 yd = _mm256_broadcast_ss(&ap[c][i].d);
            UNROLL for (int r = 0; r < NR; r++) {
                const __m256i corr = _mm256_madd_epi16(_mm256_cvtepi8_epi16(sc8[r]), bs);
                const __m256i tot = _mm256_sub_epi32(sumi[r][c], _mm256_slli_epi32(corr, 5));
                acc[r][c] = _mm256_fmadd_ps(_mm256_mul_ps(h8(&wp[r][i].d), yd), _mm256_cvtepi32_ps(tot), acc[r][c]);
            }
        }
    }
    store_tile(NR, NC, acc, out, os);
}

// Q2_K and Q3_K against Q8_K. 32 values at a time (value 128h + 32j + l: bits 2j, 2j+1 of
// qs[32h + l]; Q3_K's third bit is bit 4h + j of hmask[l]) enter vpmaddubsw unsigned (Q2_K: 0..3,
// Q3_K: low | third << 2 in 0..7) and are weighted by their 16-value group scales in int32:
//   Q2_K: acc = fmadd(-dmin*yd, mins.bsums, acc); acc = fmadd(d*yd, sumi, acc)
//   Q3_K: acc = fmadd(d*yd, sumi - 4 * scales.bsums, acc)   (the value is that unsigned one - 4)

// the 16 signed scales (minus 32) of a Q3_K block as int16
SK_INLINE __m256i q3k_scales(const uint8_t *s) {
    uint32_t u[3];
    memcpy(u, s, 12);
    const uint32_t k4 = 0x0f0f0f0fu, k2 = 0x03030303u;
    // scales 4k .. 4k+3: low nibbles (k = 0, 1) or high nibbles (k = 2, 3) of bytes 0-7, top bits
    // 2k, 2k+1 of bytes 8-11
    const __m128i v = _mm_setr_epi32((int)((u[0] & k4) | ((u[2] & k2) << 4)),
                                     (int)((u[1] & k4) | (((u[2] >> 2) & k2) << 4)),
                                     (int)(((u[0] >> 4) & k4) | (((u[2] >> 4) & k2) << 4)),
                                     (int)(((u[1] >> 4) & k4) | (((u[2] >> 6) & k2) << 4)));
    return _mm256_cvtepi8_epi16(_mm_sub_epi8(v, _mm_set1_epi8(32)));
}

SK_INLINE void mm_q23_K(const int is3, const int NR, const int NC, int64_t n, const void *SK_RESTRICT w, size_t ws,
                        const void *SK_RESTRICT a, size_t as, float *SK_RESTRICT out, int64_t os) {
    const int64_t nb = n / QK_K;
    const size_t wbs = is3 ? sizeof(block_q3_K) : sizeof(block_q2_K);
    const uint8_t *wp[MAXR];
    const block_q8_K *ap[MAXC];
    __m256 acc[MAXR][MAXC];
    q8k_tile_begin(NR, NC, w, ws, a, as, wp, ap, acc);
    const __m256i m3 = _mm256_set1_epi8(3);
    const __m256i m4 = _mm256_set1_epi8(4);

    for (int64_t i = 0; i < nb; i++) {
        __m256i sc16[MAXR], mn16[MAXR], sch[MAXR][2], hb[MAXR];
        const uint8_t *qs[MAXR];
        __m256 wd[MAXR], wdm[MAXR];
        __m256i sumi[MAXR][MAXC];
        UNROLL for (int r = 0; r < NR; r++) {
            const uint8_t *b = wp[r] + (size_t)i * wbs;
            if (NC <= SK_STREAM_TOKENS) sk_prefetch_stream(b, wbs);
            if (is3) {
                const block_q3_K *x = (const block_q3_K *)b;
                sc16[r] = q3k_scales(x->scales);
                mn16[r] = _mm256_setzero_si256();
                hb[r] = loadu256(x->hmask);
                qs[r] = x->qs;
                wd[r] = h8(&x->d);
                wdm[r] = wd[r];
            } else {
                const block_q2_K *x = (const block_q2_K *)b;
                const __m128i raw = _mm_loadu_si128((const __m128i *)x->scales);
                sc16[r] = _mm256_cvtepu8_epi16(_mm_and_si128(raw, _mm_set1_epi8(0x0f)));
                mn16[r] = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(0x0f)));
                hb[r] = _mm256_setzero_si256();
                qs[r] = x->qs;
                wd[r] = h8(&x->d);
                wdm[r] = h8(&x->dmin);
            }
            sch[r][0] = _mm256_permute2x128_si256(sc16[r], sc16[r], 0x00);
            sch[r][1] = _mm256_permute2x128_si256(sc16[r], sc16[r], 0x11);
            UNROLL for (int c = 0; c < NC; c++) sumi[r][c] = _mm256_setzero_si256();
        }
        UNROLL for (int h = 0; h < 2; h++) {
            UNROLL for (int j = 0; j < 4; j++) {
                __m256i q[MAXR], sv[MAXR];
                UNROLL for (int r = 0; r < NR; r++) {
                    q[r] = _mm256_and_si256(_mm256_srli_epi16(loadu256(qs[r] + 32 * h), 2 * j), m3);
                    if (is3) {
                        // bit 4h + j of each hmask byte -> bit 2
                        const int bit = 4 * h + j;
                        const __m256i t = bit <= 2 ? _mm256_slli_epi16(hb[r], 2 - bit) : _mm256_srli_epi16(hb[r], bit - 2);
                        q[r] = _mm256_or_si256(q[r], _mm256_and_si256(t, m4));
                    }
                    sv[r] = pick_scale_pair(sch[r][h], j);
                }
                UNROLL for (int c = 0; c < NC; c++) {
                    const __m256i y = loadu256(ap[c][i].qs + 128 * h + 32 * j);
                    UNROLL for (int r = 0; r < NR; r++) sumi[r][c] = madd_acc(sumi[r][c], _mm256_maddubs_epi16(q[r], y), sv[r]);
                }
            }
        }
        UNROLL for (int c = 0; c < NC; c++) {
            const __m256i bs = loadu256(ap[c][i].bsums);
            const __m256 yd = _mm256_broadcast_ss(&ap[c][i].d);
            UNROLL for (int r = 0; r < NR; r++) {
                if (is3) {
                    const __m256i corr = _mm256_madd_epi16(sc16[r], bs);
                    const __m256i tot = _mm256_sub_epi32(sumi[r][c], _mm256_slli_epi32(corr, 2));
                    acc[r][c] = _mm256_fmadd_ps(_mm256_mul_ps(wd[r], yd), _mm256_cvtepi32_ps(tot), acc[r][c]);
                } else {
                    const __m256 mprod = _mm256_cvtepi32_ps(_mm256_madd_epi16(mn16[r], bs));
                    acc[r][c] = _mm256_fnmadd_ps(_mm256_mul_ps(wdm[r], yd), mprod, acc[r][c]);
                    acc[r][c] = _mm256_fmadd_ps(_mm256_mul_ps(wd[r], yd), _mm256_cvtepi32_ps(sumi[r][c]), acc[r][c]);
                }
            }
        }
    }
    store_tile(NR, NC, acc, out, os);
}

// IQ4_XS against Q8_K: per 32-value sub-block, the levels (vpshufb of the nibbles) enter the int8 dot
// product signed (sign trick) and are weighted by the sub-block's 6-bit scale in int32;
// acc = fmadd(d*yd, sumi, acc) per super-block.
SK_INLINE void mm_iq4_xs(const int NR, const int NC, int64_t n, const void *SK_RESTRICT w, size_t ws,
                         const void *SK_RESTRICT a, size_t as, float *SK_RESTRICT out, int64_t os) {
    const int64_t nb = n / QK_K;
    const uint8_t *rows[MAXR];
    const block_q8_K *ap[MAXC];
    __m256 acc[MAXR][MAXC];
    q8k_tile_begin(NR, NC, w, ws, a, as, rows, ap, acc);
    const block_iq4_xs *wp[MAXR];
    UNROLL for (int r = 0; r < NR; r++) wp[r] = (const block_iq4_xs *)rows[r];
    const __m256i table = iq4nl_table();

    for (int64_t i = 0; i < nb; i++) {
        // scale b of row r in both halves of a 32-bit word (the vpmaddwd multiplier, as in mm_q45_K)
        int32_t scd[MAXR][8];
        __m256i sumi[MAXR][MAXC];
        UNROLL for (int r = 0; r < NR; r++) {
            if (NC <= SK_STREAM_TOKENS) sk_prefetch_stream(&wp[r][i], sizeof(block_iq4_xs));
            UNROLL for (int b = 0; b < 8; b++) scd[r][b] = (int32_t)((uint32_t)(uint16_t)sk_iq4xs_scale(&wp[r][i], b) * 0x10001u);
            UNROLL for (int c = 0; c < NC; c++) sumi[r][c] = _mm256_setzero_si256();
        }
        UNROLL for (int b = 0; b < 8; b++) {
            __m256i wq[MAXR], aw[MAXR], sv[MAXR];
            UNROLL for (int r = 0; r < NR; r++) {
                wq[r] = _mm256_shuffle_epi8(table, unpack_nibbles16(wp[r][i].qs + 16 * b));
                aw[r] = _mm256_sign_epi8(wq[r], wq[r]);
                sv[r] = _mm256_set1_epi32(scd[r][b]);
            }
            UNROLL for (int c = 0; c < NC; c++) {
                const __m256i y = loadu256(ap[c][i].qs + 32 * b);
                UNROLL for (int r = 0; r < NR; r++) {
                    const __m256i p = _mm256_maddubs_epi16(aw[r], _mm256_sign_epi8(y, wq[r]));
                    sumi[r][c] = madd_acc(sumi[r][c], p, sv[r]);
                }
            }
        }
        UNROLL for (int c = 0; c < NC; c++) {
            const __m256 yd = _mm256_broadcast_ss(&ap[c][i].d);
            UNROLL for (int r = 0; r < NR; r++)
                acc[r][c] = _mm256_fmadd_ps(_mm256_mul_ps(h8(&wp[r][i].d), yd), _mm256_cvtepi32_ps(sumi[r][c]), acc[r][c]);
        }
    }
    store_tile(NR, NC, acc, out, os);
}

// ---------------------------------------------------------------------------------------------
// Float weights against F32 activations: 2 accumulators of 8 lanes per (row, token), 16 values per
// step, then 8 at a time, then a scalar tail. Two (not four) accumulators leave registers for 2×3
// tiles in prompt batches (12 accumulators, each weight chunk converted once for three tokens);
// a single row still has two independent chains, enough to keep up with memory.

SK_INLINE __m256 load_w8(const int kind, const void *p, int64_t i) {
    switch (kind) {
    case KF16: return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)p + i)));
    case KBF16:
        return _mm256_castsi256_ps(
            _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const uint16_t *)p + i))), 16));
    default: return _mm256_loadu_ps((const float *)p + i);
    }
}

SK_INLINE void mm_float(const int kind, const int NR, const int NC, int64_t n, const void *SK_RESTRICT w, size_t ws,
                        const void *SK_RESTRICT a, size_t as, float *SK_RESTRICT out, int64_t os) {
    const void *wp[MAXR];
    const float *ap[MAXC];
    __m256 acc[MAXR][MAXC][2];
    UNROLL for (int r = 0; r < NR; r++) wp[r] = (const uint8_t *)w + (size_t)r * ws;
    UNROLL for (int c = 0; c < NC; c++) ap[c] = (const float *)((const uint8_t *)a + (size_t)c * as);
    UNROLL for (int r = 0; r < NR; r++)
        UNROLL for (int c = 0; c < NC; c++)
            UNROLL for (int u = 0; u < 2; u++) acc[r][c][u] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        if (NC <= SK_STREAM_TOKENS) UNROLL for (int r = 0; r < NR; r++) sk_prefetch_stream(sk_float_weight_at(kind, wp[r], i), 16 * sk_float_weight_size(kind));
        UNROLL for (int u = 0; u < 2; u++) {
            __m256 wv[MAXR];
            UNROLL for (int r = 0; r < NR; r++) wv[r] = load_w8(kind, wp[r], i + 8 * u);
            UNROLL for (int c = 0; c < NC; c++) {
                const __m256 av = _mm256_loadu_ps(ap[c] + i + 8 * u);
                UNROLL for (int r = 0; r < NR; r++) acc[r][c][u] = _mm256_fmadd_ps(wv[r], av, acc[r][c][u]);
            }
        }
    }
    for (; i + 8 <= n; i += 8) {
        __m256 wv[MAXR];
        UNROLL for (int r = 0; r < NR; r++) wv[r] = load_w8(kind, wp[r], i);
        UNROLL for (int c = 0; c < NC; c++) {
            const __m256 av = _mm256_loadu_ps(ap[c] + i);
            UNROLL for (int r = 0; r < NR; r++) acc[r][c][0] = _mm256_fmadd_ps(wv[r], av, acc[r][c][0]);
        }
    }
    UNROLL for (int c = 0; c < NC; c++) {
        UNROLL for (int r = 0; r < NR; r++) {
            float s = hsum8(_mm256_add_ps(acc[r][c][0], acc[r][c][1]));
            for (int64_t k = i; k < n; k++) s = fmaf(sk_float_weight(kind, wp[r], k), ap[c][k], s);
            out[(int64_t)c * os + r] = s;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Instantiation

#define SK_MM_FN(name, NR, NC, body)                                                                           \
    static void name##_##NR##x##NC(int64_t n, const void *SK_RESTRICT w, size_t ws, const void *SK_RESTRICT a,  \
                                   size_t as, float *SK_RESTRICT out, int64_t os) {                             \
        body;                                                                                                   \
    }

#define SK_MM_SHAPES(name, call)                                                                               \
    SK_MM_FN(name, 1, 1, call(1, 1))                                                                           \
    SK_MM_FN(name, 1, 2, call(1, 2))                                                                           \
    SK_MM_FN(name, 2, 1, call(2, 1))                                                                           \
    SK_MM_FN(name, 2, 2, call(2, 2))                                                                           \
    SK_MM_FN(name, 1, 3, call(1, 3))                                                                           \
    SK_MM_FN(name, 3, 1, call(3, 1))                                                                           \
    SK_MM_FN(name, 1, 4, call(1, 4))                                                                           \
    SK_MM_FN(name, 2, 3, call(2, 3))                                                                           \
    SK_MM_FN(name, 2, 4, call(2, 4))                                                                           \
    static float name##_dot(int64_t n, const void *SK_RESTRICT w, const void *SK_RESTRICT a) {                  \
        float r;                                                                                                \
        name##_1x1(n, w, 0, a, 0, &r, 0);                                                                       \
        return r;                                                                                               \
    }

#define C_Q4_0(NR_, NC_) mm_b32(KQ4_0, NR_, NC_, n, w, ws, a, as, out, os)
#define C_Q4_1(NR_, NC_) mm_b32(KQ4_1, NR_, NC_, n, w, ws, a, as, out, os)
#define C_Q5_0(NR_, NC_) mm_b32(KQ5_0, NR_, NC_, n, w, ws, a, as, out, os)
#define C_Q5_1(NR_, NC_) mm_b32(KQ5_1, NR_, NC_, n, w, ws, a, as, out, os)
#define C_Q8_0(NR_, NC_) mm_b32(KQ8_0, NR_, NC_, n, w, ws, a, as, out, os)
#define C_IQ4_NL(NR_, NC_) mm_b32(KIQ4_NL, NR_, NC_, n, w, ws, a, as, out, os)
#define C_Q2_K(NR_, NC_) mm_q23_K(0, NR_, NC_, n, w, ws, a, as, out, os)
#define C_Q3_K(NR_, NC_) mm_q23_K(1, NR_, NC_, n, w, ws, a, as, out, os)
#define C_Q4_K(NR_, NC_) mm_q45_K(0, NR_, NC_, n, w, ws, a, as, out, os)
#define C_Q5_K(NR_, NC_) mm_q45_K(1, NR_, NC_, n, w, ws, a, as, out, os)
#define C_Q6_K(NR_, NC_) mm_q6_K(NR_, NC_, n, w, ws, a, as, out, os)
#define C_IQ4_XS(NR_, NC_) mm_iq4_xs(NR_, NC_, n, w, ws, a, as, out, os)
#define C_F32(NR_, NC_) mm_float(KF32, NR_, NC_, n, w, ws, a, as, out, os)
#define C_F16(NR_, NC_) mm_float(KF16, NR_, NC_, n, w, ws, a, as, out, os)
#define C_BF16(NR_, NC_) mm_float(KBF16, NR_, NC_, n, w, ws, a, as, out, os)

SK_MM_SHAPES(mm_q4_0, C_Q4_0)
SK_MM_SHAPES(mm_q4_1, C_Q4_1)
SK_MM_SHAPES(mm_q5_0, C_Q5_0)
SK_MM_SHAPES(mm_q5_1, C_Q5_1)
SK_MM_SHAPES(mm_q8_0, C_Q8_0)
SK_MM_SHAPES(mm_iq4_nl, C_IQ4_NL)
SK_MM_SHAPES(mm_q2_K, C_Q2_K)
SK_MM_SHAPES(mm_q3_K, C_Q3_K)
SK_MM_SHAPES(mm_q4_K, C_Q4_K)
SK_MM_SHAPES(mm_q5_K, C_Q5_K)
SK_MM_SHAPES(mm_q6_K, C_Q6_K)
SK_MM_SHAPES(mm_iq4_xs, C_IQ4_XS)
SK_MM_SHAPES(mm_f32, C_F32)
SK_MM_SHAPES(mm_f16, C_F16)
SK_MM_SHAPES(mm_bf16, C_BF16)

#pragma clang attribute pop

#define SK_SET_SHAPES(slot, name, MR, MC)                                                                      \
    do {                                                                                                       \
        t->w[slot].dot = name##_dot;                                                                           \
        t->w[slot].mm[0][0] = name##_1x1;                                                                      \
        t->w[slot].mm[0][1] = name##_1x2;                                                                      \
        t->w[slot].mm[1][0] = name##_2x1;                                                                      \
        t->w[slot].mm[1][1] = name##_2x2;                                                                      \
        t->w[slot].mm[0][2] = name##_1x3;                                                                      \
        t->w[slot].mm[2][0] = name##_3x1;                                                                      \
        t->w[slot].mm[0][3] = name##_1x4;                                                                      \
        t->w[slot].mm[1][2] = name##_2x3;                                                                      \
        t->w[slot].mm[1][3] = name##_2x4;                                                                      \
        t->w[slot].mr = MR;                                                                                    \
        t->w[slot].mc = MC;                                                                                    \
    } while (0)

void SK_QUANT_FILL(sk_table *t) {
    memset(t, 0, sizeof(*t));
    t->is_avx2 = 1;
    fill_dequant_avx2(t);
    t->quant_q8_0 = quant_q8_0_avx2;
    t->quant_q8_1 = quant_q8_1_avx2;
    t->quant_q8_K = quant_q8_K_avx2;
    // preferred shapes for multi-token matmuls, measured with 4096-wide rows (1 row x 4 tokens
    // amortizes unpacking each weight block over 4 activation rows)
    SK_SET_SHAPES(SKW_Q4_0, mm_q4_0, SK_B32_ROWS, 4);
    SK_SET_SHAPES(SKW_Q4_1, mm_q4_1, SK_B32_ROWS, 4);
    SK_SET_SHAPES(SKW_Q5_0, mm_q5_0, SK_B32_ROWS, 4);
    SK_SET_SHAPES(SKW_Q5_1, mm_q5_1, SK_B32_ROWS, 4);
    SK_SET_SHAPES(SKW_Q8_0, mm_q8_0, SK_B32_ROWS, 4);
    SK_SET_SHAPES(SKW_IQ4_NL, mm_iq4_nl, SK_B32_ROWS, 4);
    SK_SET_SHAPES(SKW_Q2_K, mm_q2_K, 1, 4);
    SK_SET_SHAPES(SKW_Q3_K, mm_q3_K, 1, 4);
    SK_SET_SHAPES(SKW_Q4_K, mm_q4_K, 1, 4);
    SK_SET_SHAPES(SKW_Q5_K, mm_q5_K, 1, 4);
    SK_SET_SHAPES(SKW_Q6_K, mm_q6_K, 1, 4);
    SK_SET_SHAPES(SKW_IQ4_XS, mm_iq4_xs, 1, 4);
    SK_SET_SHAPES(SKW_F32, mm_f32, 2, 3);
    SK_SET_SHAPES(SKW_F16, mm_f16, 2, 3);
    SK_SET_SHAPES(SKW_BF16, mm_bf16, 2, 3);
    sk_fill_float_ops_avx2(t);
}

#endif  // x86
