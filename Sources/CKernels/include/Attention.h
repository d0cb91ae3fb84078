// Attention kernels: one query row against cached keys and values (F16), computed the way ggml's
// CPU flash attention does (query rounded to F16, single-pass online softmax, value accumulator in
// F16) so results track llama.cpp's default path. Keys may come in several segments (a rolling
// buffer wraps around; a prompt chunk sits outside the cache): begin, add each segment, end.
// AVX2/F16C path chosen at run time.
#ifndef SIROCCO_ATTENTION_H
#define SIROCCO_ATTENTION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Running state of one query's online softmax.
typedef struct {
    float max;
    float sum;
} sk_attention_state;

/// Uint16 values of scratch that one query needs (head size `hd` ≤ 512).
#define SK_ATTENTION_SCRATCH(hd) (3 * (hd))

/// Starts a query: keeps q (rounded to F16) and a zeroed F16 accumulator in `scratch`.
void sk_attention_begin(const float *q, int64_t hd, uint16_t *scratch, sk_attention_state *state);
/// Adds `n` keys and values (rows of `hd` F16 values, `hd` apart) with scores scale · q·k.
void sk_attention_segment(const uint16_t *k, const uint16_t *v, int64_t n, int64_t hd, float scale,
                          uint16_t *scratch, sk_attention_state *state);
/// Writes softmax-weighted sum of the values to out[0..<hd] (zeros if no key was added).
void sk_attention_end(float *out, int64_t hd, const uint16_t *scratch, const sk_attention_state *state);

/// One segment in one call: out = softmax_t(scale · q·k_t) · v_t over t in [0, n).
void sk_attention_f16(const float *q, const uint16_t *k, const uint16_t *v, int64_t n, int64_t hd,
                      float scale, float *out, uint16_t *scratch);

#ifdef __cplusplus
}
#endif
#endif
