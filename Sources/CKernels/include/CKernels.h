// CKernels: Sirocco's hot numeric loops. Every function has an AVX2/FMA/F16C path chosen once at
// run time (sk_init) and a portable scalar path with the same results up to float rounding.
// Block layouts follow GGML (ggml-common.h); type numbers are GGML's `ggml_type` values.
// Nothing here allocates, locks or calls back into Swift.
#ifndef SIROCCO_CKERNELS_H
#define SIROCCO_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "Attention.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    SK_F32 = 0, SK_F16 = 1, SK_Q4_0 = 2, SK_Q4_1 = 3, SK_Q5_0 = 6, SK_Q5_1 = 7, SK_Q8_0 = 8,
    SK_Q8_1 = 9, SK_Q2_K = 10, SK_Q3_K = 11, SK_Q4_K = 12, SK_Q5_K = 13, SK_Q6_K = 14, SK_Q8_K = 15,
    SK_IQ4_NL = 20, SK_IQ4_XS = 23, SK_BF16 = 30,
};

/// Picks the SIMD or scalar implementations; idempotent. `force_scalar` != 0 selects the scalar path
/// (tests compare both). Returns 1 when the AVX2 path is active.
int sk_init(int force_scalar);

/// GGML type of the activation row format that `sk_vec_dot`/`sk_matmul` expect for weights of
/// `weight_type` (GGML's vec_dot_type): Q8_0 for Q4_0/Q5_0/Q8_0/IQ4_NL, Q8_1 for Q4_1/Q5_1, Q8_K for
/// K-quants and IQ4_XS, F32 for F32/F16/BF16.
/// Returns -1 for an unsupported weight type.
int sk_vec_dot_type(int weight_type);

/// Bytes of one activation row of `n` floats after `sk_quantize_row` for `weight_type`.
/// Note: a Q8_0/Q8_1 activation row is the GGML blocks followed by a small float side table
/// (block scales and sums, read by the AVX2 kernels), so it is longer than GGML's Q8_0/Q8_1 row:
/// always size rows with this function and fill them with `sk_quantize_row`.
size_t sk_activation_row_bytes(int weight_type, int64_t n);

/// Converts `n` floats (n a multiple of the weight type's block size) into the activation format
/// for `weight_type` (a plain copy for F32/F16/BF16 weights).
void sk_quantize_row(int weight_type, const float *x, void *dst, int64_t n);

/// Dot product of one weight row (`n` elements of `weight_type`) with one prepared activation row.
float sk_vec_dot(int weight_type, int64_t n, const void *w, const void *act);

/// out[t * out_stride + r] = dot(weight row r, activation row t) for r in [r0, r1), t in [0, n_tok).
/// Weight rows are `w_row_bytes` apart from `w`, activation rows `act_row_bytes` apart.
/// Tiles the loops so a block of weight rows stays in cache across tokens.
void sk_matmul(int weight_type, int64_t n, const void *w, size_t w_row_bytes, int64_t r0, int64_t r1,
               const void *act, size_t act_row_bytes, int64_t n_tok, float *out, int64_t out_stride);

// --- repacked weights (repack_avx512.c): Q4_K and Q6_K rows interleaved 16 at a time for prompt
// batches on CPUs with AVX-512 VNNI ---

/// 1 when `rows` × `n` weights of `type` can be repacked here: Q4_K or Q6_K, rows a multiple of 16,
/// and the calling thread's kernels are AVX-512 VNNI ones.
int sk_repack_supported(int type, int64_t rows, int64_t n);
/// Bytes of the repacked form of `rows` × `n` weights of `type`.
size_t sk_repacked_bytes(int type, int64_t rows, int64_t n);
/// Repacks row groups [g0, g1) (16 rows each; rows `row_bytes` apart from `w`) into `dst`, which
/// holds the whole matrix's repacked form (sk_repacked_bytes): groups may be repacked in parallel.
void sk_repack(int type, const void *w, size_t row_bytes, int64_t n, int64_t g0, int64_t g1, void *dst);
/// sk_matmul for repacked weights: rows [r0, r1) (multiples of 16) against Q8_K activation rows.
void sk_matmul_repacked(int type, int64_t n, const void *packed, int64_t r0, int64_t r1, const void *act,
                        size_t act_row_bytes, int64_t n_tok, float *out, int64_t out_stride);

/// Dequantizes `n` elements (a multiple of the block size) of `type` into floats.
void sk_dequantize_row(int type, const void *src, float *dst, int64_t n);

// --- float helpers for attention and activations ---
void sk_f16_to_f32(const uint16_t *src, float *dst, int64_t n);
void sk_f32_to_f16(const float *src, uint16_t *dst, int64_t n);
float sk_dot_f32(const float *a, const float *b, int64_t n);
/// dot of an F16 row with an F32 row.
float sk_dot_f16_f32(const uint16_t *a, const float *b, int64_t n);
/// y[i] += a * x[i] for an F16 x.
void sk_axpy_f16(float *y, float a, const uint16_t *x, int64_t n);
/// y[i] = x[i] * w[i] / sqrt(mean(x^2) + eps)  (w may be NULL for no weight).
void sk_rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps);
/// y[i] = (x[i] - mean(x)) / sqrt(var(x) + eps) * w[i] + b[i]  (LayerNorm as ggml_norm then a weight
/// multiply and a bias add; w and b may be NULL; y may be x).
void sk_layernorm(float *y, const float *x, const float *w, const float *b, int64_t n, float eps);
/// g[i] = silu(g[i]) * u[i]
void sk_silu_mul(float *g, const float *u, int64_t n);
/// g[i] = gelu_tanh(g[i]) * u[i]
void sk_gelu_mul(float *g, const float *u, int64_t n);
/// g[i] = gelu(g[i]) * u[i] through ggml's F16 lookup table (as llama.cpp's CPU backend computes GeGLU
/// and, with u NULL, plain GELU: g[i] = gelu(g[i])).
void sk_gelu_mul_table(float *g, const float *u, int64_t n);
/// Rotates each `block` floats of x[0..<n] (block a power of two dividing n) by the orthonormal
/// Walsh–Hadamard matrix llama.cpp uses around a quantized KV cache; applying it twice gives x back.
void sk_hadamard_rotate(float *x, int64_t n, int64_t block);
/// In-place softmax over n values; returns nothing. Uses max-subtraction.
void sk_softmax(float *x, int64_t n);

// --- additions ---
/// Elements per block of a GGML type (1 for F32/F16/BF16), 0 if the type is not known here.
int sk_block_size(int type);
/// Bytes per block of a GGML type, 0 if the type is not known here.
size_t sk_type_size(int type);
/// Like sk_init, but only for the calling thread, overriding the process-wide choice there (for
/// tests that compare paths while other code may call sk_init): 0 = AVX2 with the VNNI / AVX-512
/// additions the CPU has (the default), 2 = plain AVX2/FMA/F16C, 1 = scalar, -1 = drop the override.
/// Returns 1 when the calling thread now uses an AVX2 path.
int sk_init_thread(int mode);
/// 1 when the calling thread currently uses the AVX2 path (initializing lazily if needed).
int sk_init_active_is_avx2(void);
/// y[i] = e^x[i] with the exp the active path uses inside silu/gelu/softmax (libm expf on the scalar
/// path; on the AVX2 path a polynomial with relative error <= 8.5e-8 for normal results). For tests.
void sk_exp_f32(const float *x, float *y, int64_t n);

#ifdef __cplusplus
}
#endif
#endif
