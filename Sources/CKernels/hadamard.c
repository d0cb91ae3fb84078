// Walsh–Hadamard rotation of cache rows, as llama.cpp applies it around a quantized KV cache: an
// orthonormal rotation (H·H = I) spreads a row's outliers across its block before the block is
// quantized, and leaves attention unchanged in exact arithmetic (q·k = Hq·Hk; the output of rotated
// values is rotated back with the same H). The butterfly below computes y = H·x for the Sylvester
// matrix H_2s = [[H_s, H_s], [H_s, −H_s]] / √2 that llama.cpp builds, in n·log2(n) additions.
#include "kernels_internal.h"

#include <math.h>

void sk_hadamard_rotate(float *x, int64_t n, int64_t block) {
    const float norm = (float)(1.0 / sqrt((double)block));
    for (int64_t b = 0; b < n; b += block) {
        float *y = x + b;
        for (int64_t h = 1; h < block; h *= 2) {
            for (int64_t i = 0; i < block; i += 2 * h) {
                for (int64_t j = i; j < i + h; j++) {
                    const float u = y[j], v = y[j + h];
                    y[j] = u + v;
                    y[j + h] = u - v;
                }
            }
        }
        for (int64_t j = 0; j < block; j++) y[j] *= norm;
    }
}
