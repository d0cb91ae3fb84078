// Attention kernels: one query row against a head's cached keys and values (F16), computed the
// way ggml's CPU flash attention does (query rounded to F16, single-pass online softmax, value
// accumulator in F16) so results track llama.cpp's default path. AVX2/F16C path chosen at run time.
#ifndef SIROCCO_ATTENTION_H
#define SIROCCO_ATTENTION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// out[0..<hd] = softmax_t(scale · q·k_t) · v_t over t in [0, n). Keys and values are rows of `hd`
/// F16 values, `hd` apart. `scratch` holds 2·hd uint16 values. n must be ≥ 1.
void sk_attention_f16(const float *q, const uint16_t *k, const uint16_t *v, int64_t n, int64_t hd,
                      float scale, float *out, uint16_t *scratch);

#ifdef __cplusplus
}
#endif
#endif
