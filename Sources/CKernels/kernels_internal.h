// Private declarations shared by the CKernels implementation files: GGML block layouts, scalar
// F16/BF16 conversion, the dispatch table, and the per-ISA kernel entry points.
#ifndef SIROCCO_KERNELS_INTERNAL_H
#define SIROCCO_KERNELS_INTERNAL_H

#include "CKernels.h"

#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

// Keep `a * b + c` in C source as two roundings: dequantization must match GGML/gguf-py bit for bit,
// and the scalar and AVX2 instantiations of the same C code must agree. Fused multiply-adds are only
// ever requested explicitly (intrinsics).
#pragma STDC FP_CONTRACT OFF

#define SK_RESTRICT __restrict__
#define SK_INLINE static inline __attribute__((always_inline))

// ---------------------------------------------------------------------------------------------
// Block layouts (ggml-common.h). Sizes are asserted below; all fields are naturally aligned inside
// a block but blocks themselves are only 2-byte aligned in a row, so vector loads are unaligned.

#define QK4_0 32
#define QK4_1 32
#define QK5_0 32
#define QK5_1 32
#define QK8_0 32
#define QK8_1 32
#define QK4_NL 32
#define QK_K 256
#define K_SCALE_SIZE 12

typedef uint16_t sk_half;

typedef struct { sk_half d; uint8_t qs[QK4_0 / 2]; } block_q4_0;
typedef struct { sk_half d, m; uint8_t qs[QK4_1 / 2]; } block_q4_1;
typedef struct { sk_half d; uint8_t qh[4]; uint8_t qs[QK5_0 / 2]; } block_q5_0;
typedef struct { sk_half d, m; uint8_t qh[4]; uint8_t qs[QK5_1 / 2]; } block_q5_1;
typedef struct { sk_half d; int8_t qs[QK8_0]; } block_q8_0;
typedef struct { sk_half d, s; int8_t qs[QK8_1]; } block_q8_1;
typedef struct { uint8_t scales[QK_K / 16]; uint8_t qs[QK_K / 4]; sk_half d, dmin; } block_q2_K;
typedef struct { uint8_t hmask[QK_K / 8]; uint8_t qs[QK_K / 4]; uint8_t scales[12]; sk_half d; } block_q3_K;
typedef struct { sk_half d, dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qs[QK_K / 2]; } block_q4_K;
typedef struct {
    sk_half d, dmin;
    uint8_t scales[K_SCALE_SIZE];
    uint8_t qh[QK_K / 8];
    uint8_t qs[QK_K / 2];
} block_q5_K;
typedef struct { uint8_t ql[QK_K / 2]; uint8_t qh[QK_K / 4]; int8_t scales[QK_K / 16]; sk_half d; } block_q6_K;
typedef struct { float d; int8_t qs[QK_K]; int16_t bsums[QK_K / 16]; } block_q8_K;
typedef struct { sk_half d; uint8_t qs[QK4_NL / 2]; } block_iq4_nl;
typedef struct { sk_half d; uint16_t scales_h; uint8_t scales_l[QK_K / 64]; uint8_t qs[QK_K / 2]; } block_iq4_xs;

_Static_assert(sizeof(block_q4_0) == 18, "q4_0 size");
_Static_assert(sizeof(block_q4_1) == 20, "q4_1 size");
_Static_assert(sizeof(block_q5_0) == 22, "q5_0 size");
_Static_assert(sizeof(block_q5_1) == 24, "q5_1 size");
_Static_assert(sizeof(block_q8_0) == 34, "q8_0 size");
_Static_assert(sizeof(block_q8_1) == 36, "q8_1 size");
_Static_assert(sizeof(block_q2_K) == 84, "q2_K size");
_Static_assert(sizeof(block_q3_K) == 110, "q3_K size");
_Static_assert(sizeof(block_q4_K) == 144, "q4_K size");
_Static_assert(sizeof(block_q5_K) == 176, "q5_K size");
_Static_assert(sizeof(block_q6_K) == 210, "q6_K size");
_Static_assert(sizeof(block_q8_K) == 292, "q8_K size");
_Static_assert(sizeof(block_iq4_nl) == 18, "iq4_nl size");
_Static_assert(sizeof(block_iq4_xs) == 136, "iq4_xs size");

/// The 16 non-uniform levels of IQ4_NL and IQ4_XS (GGML's kvalues_iq4nl): a 4-bit index selects one.
static const int8_t sk_iq4nl_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

// ---------------------------------------------------------------------------------------------
// Scalar half/bfloat conversions (bit-exact with F16C: round to nearest even, subnormals, inf;
// a NaN keeps its sign and top payload bits and comes out quiet, as vcvtph2ps/vcvtps2ph do).

SK_INLINE float sk_bits_to_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
SK_INLINE uint32_t sk_f32_to_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

SK_INLINE float sk_half_to_float_scalar(sk_half h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1f) {
        // inf, or NaN made quiet (bit 22) with the 10-bit payload in the top mantissa bits
        bits = sign | 0x7f800000u | (mant << 13) | (mant ? 0x00400000u : 0u);
    } else if (exp != 0) {
        bits = sign | ((exp + 112u) << 23) | (mant << 13);
    } else if (mant == 0) {
        bits = sign;
    } else {
        // subnormal half: value = mant * 2^-24; normalize
        uint32_t e = 113;  // exponent (biased, float) of 2^-14
        while ((mant & 0x400u) == 0) { mant <<= 1; e--; }
        bits = sign | (e << 23) | ((mant & 0x3ffu) << 13);
    }
    return sk_bits_to_f32(bits);
}

SK_INLINE sk_half sk_float_to_half_scalar(float f) {
    const uint32_t x = sk_f32_to_bits(f);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) {
        if (ax == 0x7f800000u) return (sk_half)(sign | 0x7c00u);
        return (sk_half)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));  // quiet NaN, truncated payload
    }
    if (ax >= 0x477ff000u) return (sk_half)(sign | 0x7c00u);  // rounds to >= 65520 -> inf
    if (ax >= 0x38800000u) {
        // normal half range: rebias exponent, round mantissa 23 -> 10 bits to nearest even
        uint32_t m = ax + 0xc8000000u;  // exponent - 112
        m += 0x0fffu + ((m >> 13) & 1u);
        return (sk_half)(sign | (m >> 13));
    }
    if (ax < 0x33000000u) return (sk_half)sign;  // below half of the smallest subnormal (2^-25): 0
    // subnormal half: value / 2^-24 rounded to nearest even
    const uint32_t e = ax >> 23;                  // biased exponent, 102..112
    const uint32_t mant = (ax & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126u - e;              // 14..24
    uint32_t q = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (q & 1u))) q++;
    return (sk_half)(sign | q);
}

SK_INLINE float sk_bf16_to_float(uint16_t h) { return sk_bits_to_f32((uint32_t)h << 16); }

// ---------------------------------------------------------------------------------------------
// Activation rows for 32-value blocks (weights Q4_0/Q4_1/Q5_0/Q5_1/Q8_0): nb GGML blocks of Q8_0 or
// Q8_1, then, at the next multiple of 32 bytes, a side table the AVX2 kernels read instead of
// converting the same activation scales again for every weight row:
//   float d[nbp]    the block scales as floats (exact f16 -> f32)
//   float t[nbp]    Q8_0: d * sum(q) (exact: 11 x 13 significant bits); Q8_1: the f16 s as float
// with nbp = nb rounded up to a multiple of 8 and zeros in the padding. sk_quantize_row writes it.

SK_INLINE int64_t sk_round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

/// How far ahead a kernel reading weights once (one token) asks for them: a page, because the
/// hardware prefetchers stop at page boundaries (rows streamed from DRAM: ~1.5x faster).
#define SK_STREAM_AHEAD 4096

/// Tokens up to which a multi-token kernel prefetches the weights it reads. sk_matmul hands a
/// kernel at most 4 tokens a call, so a batch of 2–4 rows (sequences decoded together, a draft's
/// catch-up) reads each weight once, from memory, as one token does: without the prefetch two
/// rows of Qwen2.5-0.5B (Q5_0/Q8_0) cost more than two single tokens. The later token groups of a
/// bigger batch find the tile in L2, where a prefetch costs an instruction per line.
#define SK_STREAM_TOKENS 4

/// Prefetches the 64-byte lines of [p, p + bytes) SK_STREAM_AHEAD bytes further on.
SK_INLINE void sk_prefetch_stream(const void *p, size_t bytes) {
    for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch((const char *)p + SK_STREAM_AHEAD + o, 0, 3);
}
SK_INLINE size_t sk_act_side_offset(size_t block_bytes, int64_t nb) { return (size_t)sk_round_up(nb * (int64_t)block_bytes, 32); }
SK_INLINE int64_t sk_act_nbp(int64_t nb) { return sk_round_up(nb, 8); }

// ---------------------------------------------------------------------------------------------
// Type facts

SK_INLINE int sk_blck(int type) {
    switch (type) {
    case SK_F32: case SK_F16: case SK_BF16: return 1;
    case SK_Q4_0: case SK_Q4_1: case SK_Q5_0: case SK_Q5_1: case SK_Q8_0: case SK_Q8_1: case SK_IQ4_NL: return 32;
    case SK_Q2_K: case SK_Q3_K: case SK_Q4_K: case SK_Q5_K: case SK_Q6_K: case SK_Q8_K: case SK_IQ4_XS: return QK_K;
    default: return 0;
    }
}

SK_INLINE size_t sk_tsize(int type) {
    switch (type) {
    case SK_F32: return 4;
    case SK_F16: case SK_BF16: return 2;
    case SK_Q4_0: return sizeof(block_q4_0);
    case SK_Q4_1: return sizeof(block_q4_1);
    case SK_Q5_0: return sizeof(block_q5_0);
    case SK_Q5_1: return sizeof(block_q5_1);
    case SK_Q8_0: return sizeof(block_q8_0);
    case SK_Q8_1: return sizeof(block_q8_1);
    case SK_Q2_K: return sizeof(block_q2_K);
    case SK_Q3_K: return sizeof(block_q3_K);
    case SK_Q4_K: return sizeof(block_q4_K);
    case SK_Q5_K: return sizeof(block_q5_K);
    case SK_Q6_K: return sizeof(block_q6_K);
    case SK_Q8_K: return sizeof(block_q8_K);
    case SK_IQ4_NL: return sizeof(block_iq4_nl);
    case SK_IQ4_XS: return sizeof(block_iq4_xs);
    default: return 0;
    }
}

// Index of a weight type in the dispatch tables, -1 if unsupported.
enum {
    SKW_F32, SKW_F16, SKW_BF16, SKW_Q4_0, SKW_Q4_1, SKW_Q5_0, SKW_Q5_1, SKW_Q8_0, SKW_Q2_K, SKW_Q3_K, SKW_Q4_K,
    SKW_Q5_K, SKW_Q6_K, SKW_IQ4_NL, SKW_IQ4_XS, SKW_COUNT
};

SK_INLINE int sk_weight_index(int type) {
    switch (type) {
    case SK_F32: return SKW_F32;
    case SK_F16: return SKW_F16;
    case SK_BF16: return SKW_BF16;
    case SK_Q4_0: return SKW_Q4_0;
    case SK_Q4_1: return SKW_Q4_1;
    case SK_Q5_0: return SKW_Q5_0;
    case SK_Q5_1: return SKW_Q5_1;
    case SK_Q8_0: return SKW_Q8_0;
    case SK_Q2_K: return SKW_Q2_K;
    case SK_Q3_K: return SKW_Q3_K;
    case SK_Q4_K: return SKW_Q4_K;
    case SK_Q5_K: return SKW_Q5_K;
    case SK_Q6_K: return SKW_Q6_K;
    case SK_IQ4_NL: return SKW_IQ4_NL;
    case SK_IQ4_XS: return SKW_IQ4_XS;
    default: return -1;
    }
}

// ---------------------------------------------------------------------------------------------
// Float weight rows (F32, F16, BF16) as the float matmul kernels read them

enum { KF32, KF16, KBF16 };

/// Bytes per element of a float weight row.
SK_INLINE size_t sk_float_weight_size(const int kind) { return kind == KF32 ? 4 : 2; }

/// Address of element i of a float weight row.
SK_INLINE const void *sk_float_weight_at(const int kind, const void *p, int64_t i) {
    return (const uint8_t *)p + (size_t)i * sk_float_weight_size(kind);
}

/// Element i of a float weight row, as a float (the scalar tail of the vector kernels).
SK_INLINE float sk_float_weight(const int kind, const void *p, int64_t i) {
    switch (kind) {
    case KF16: return sk_half_to_float_scalar(((const uint16_t *)p)[i]);
    case KBF16: return sk_bf16_to_float(((const uint16_t *)p)[i]);
    default: return ((const float *)p)[i];
    }
}

// ---------------------------------------------------------------------------------------------
// Kernel signatures

/// Dot products of `nr` consecutive weight rows with `nc` consecutive activation rows (both counts
/// fixed per function: a "micro-kernel"), n elements each:
/// out[c * out_stride + r] = dot(w + r * w_stride, a + c * a_stride).
/// Every shape computes each (row, token) result with the same operation order, so any tiling of a
/// matmul gives the same bits as `sk_vec_dot`.
typedef void (*sk_mm_fn)(int64_t n, const void *SK_RESTRICT w, size_t w_stride, const void *SK_RESTRICT a,
                         size_t a_stride, float *SK_RESTRICT out, int64_t out_stride);
typedef float (*sk_dot_fn)(int64_t n, const void *SK_RESTRICT w, const void *SK_RESTRICT a);
typedef void (*sk_quant_fn)(const float *SK_RESTRICT x, void *SK_RESTRICT dst, int64_t n);
typedef void (*sk_dequant_fn)(const void *SK_RESTRICT src, float *SK_RESTRICT dst, int64_t n);

typedef struct {
    sk_dot_fn dot;          // 1 row x 1 token
    sk_mm_fn mm[3][4];      // [rows-1][tokens-1] micro-kernels (NULL where a shape is not provided)
    int mr, mc;             // preferred micro-kernel shape for multi-token matmul (1x1 if unset)
} sk_wkernels;

typedef struct {
    int is_avx2;
    int wide;  // AVX-512F kernels outside this table may be used too (attention_decode.c)
    int fp16;  // and AVX512-FP16 arithmetic (attention_decode.c: the F16 accumulator computed in F16)
    int repack;  // AVX-512 VNNI: Q4_K/Q6_K weights may be repacked for prompt batches (repack_avx512.c)
    sk_wkernels w[SKW_COUNT];
    sk_quant_fn quant_q8_0, quant_q8_1, quant_q8_K;
    sk_dequant_fn dequant[SKW_COUNT];
    sk_dequant_fn dequant_q8_0, dequant_q8_1, dequant_q8_K;

    void (*f16_to_f32)(const uint16_t *, float *, int64_t);
    void (*f32_to_f16)(const float *, uint16_t *, int64_t);
    float (*dot_f32)(const float *, const float *, int64_t);
    float (*dot_f16_f32)(const uint16_t *, const float *, int64_t);
    void (*axpy_f16)(float *, float, const uint16_t *, int64_t);
    void (*rmsnorm)(float *, const float *, const float *, int64_t, float);
    void (*silu_mul)(float *, const float *, int64_t);
    void (*gelu_mul)(float *, const float *, int64_t);
    void (*softmax)(float *, int64_t);
} sk_table;

void sk_fill_scalar_table(sk_table *t);
/// 1 when the calling thread's table allows AVX-512F code (the CPU has it and no override says no).
int sk_active_uses_avx512(void);
/// 1 when it allows the repacked Q4_K/Q6_K kernels (AVX-512 VNNI).
int sk_active_uses_repack(void);
/// 1 when it allows AVX512-FP16 code as well.
int sk_active_uses_fp16(void);
void sk_fill_avx2_table(sk_table *t);
/// The AVX2 table compiled with AVX-VNNI (one vpdpbusd per 32 int8 products; same results).
void sk_fill_vnni_table(sk_table *t);
/// The AVX2 table compiled with AVX-512VL/VNNI (quants_avx512.c).
void sk_fill_avx512_table(sk_table *t);
/// Replaces the float-weight kernels of an AVX2 table with AVX-512F ones (float_mm_avx512.c).
void sk_fill_float_mm_avx512(sk_table *t);
void sk_fill_float_ops_scalar(sk_table *t);
void sk_fill_float_ops_avx2(sk_table *t);

/// Gemma 2's soft cap on attention scores, as ggml applies it: the kernels divide their scale by
/// `cap`, then each score s of a real position becomes cap · tanh(s). cap 0: scores as they are.
static inline void sk_cap_scores(float *s, int64_t n, float cap) {
    if (cap == 0.0f) return;
    for (int64_t i = 0; i < n; i++) s[i] = cap * tanhf(s[i]);
}
static inline float sk_cap_score(float s, float cap) { return cap == 0.0f ? s : cap * tanhf(s); }

#endif
