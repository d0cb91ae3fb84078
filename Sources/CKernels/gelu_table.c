// GeGLU as ggml's CPU backend computes it (GGML_GELU_FP16): for -10 < x < 10, gelu(x) is read from a
// 65536-entry table indexed by x rounded to F16, holding F16 results; below -10 it is 0, above 10 x.
// Matching this keeps Gemma's feed-forward on llama.cpp's numbers, and a lookup is cheaper than tanh.

#include "CKernels.h"
#include <math.h>
#include <pthread.h>

static uint16_t gelu_table[65536];
static pthread_once_t gelu_table_once = PTHREAD_ONCE_INIT;

static void build_gelu_table(void) {
    for (uint32_t i = 0; i < 65536; i++) {
        uint16_t h = (uint16_t)i;
        float x;
        sk_f16_to_f32(&h, &x, 1);
        const float c = 0.79788456080286535587989211986876f;  // sqrt(2/pi)
        float y = 0.5f * x * (1.0f + tanhf(c * x * (1.0f + 0.044715f * x * x)));
        sk_f32_to_f16(&y, &gelu_table[i], 1);
    }
}

void sk_gelu_mul_table(float *g, const float *u, int64_t n) {
    pthread_once(&gelu_table_once, build_gelu_table);
    for (int64_t i = 0; i < n; i++) {
        const float x = g[i];
        if (x <= -10.0f) {
            g[i] = 0.0f;
        } else if (x >= 10.0f) {
            g[i] = u ? x * u[i] : x;
        } else {
            uint16_t h;
            float y;
            sk_f32_to_f16(&x, &h, 1);
            sk_f16_to_f32(&gelu_table[h], &y, 1);
            g[i] = u ? y * u[i] : y;
        }
    }
}
