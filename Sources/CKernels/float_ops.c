// Portable scalar float helpers (attention, norms, activations), following GGML's CPU ops:
// rms_norm sums squares in double; softmax sums exponentials in double and scales by (float)(1/sum);
// silu(x) = x / (1 + expf(-x)); gelu (tanh form) = 0.5x(1 + tanhf(sqrt(2/pi) x (1 + 0.044715 x^2))).
#include "kernels_internal.h"

#include <math.h>

static void f16_to_f32_scalar(const uint16_t *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = sk_half_to_float_scalar(src[i]);
}

static void f32_to_f16_scalar(const float *src, uint16_t *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = sk_float_to_half_scalar(src[i]);
}

static float dot_f32_scalar(const float *a, const float *b, int64_t n) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static float dot_f16_f32_scalar(const uint16_t *a, const float *b, int64_t n) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += sk_half_to_float_scalar(a[i]) * b[i];
    return s;
}

static void axpy_f16_scalar(float *y, float a, const uint16_t *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = y[i] + a * sk_half_to_float_scalar(x[i]);
}

static void rmsnorm_scalar(float *y, const float *x, const float *w, int64_t n, float eps) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)(x[i] * x[i]);
    const float mean = (float)(sum / (double)n);
    const float scale = 1.0f / sqrtf(mean + eps);
    if (w) {
        for (int64_t i = 0; i < n; i++) y[i] = (x[i] * scale) * w[i];
    } else {
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * scale;
    }
}

void sk_layernorm(float *y, const float *x, const float *w, const float *b, int64_t n, float eps) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)x[i];
    const float mean = (float)sum / (float)n;
    double squares = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const float v = x[i] - mean;
        y[i] = v;
        squares += (double)(v * v);
    }
    const float scale = 1.0f / sqrtf((float)(squares / (double)n) + eps);
    for (int64_t i = 0; i < n; i++) {
        float v = y[i] * scale;
        if (w) v = v * w[i];
        if (b) v = v + b[i];
        y[i] = v;
    }
}

static void silu_mul_scalar(float *g, const float *u, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const float x = g[i];
        g[i] = (x / (1.0f + expf(-x))) * u[i];
    }
}

#define SK_SQRT_2_OVER_PI 0.79788456080286535587989211986876f
#define SK_GELU_COEF_A 0.044715f

static void gelu_mul_scalar(float *g, const float *u, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const float x = g[i];
        g[i] = (0.5f * x * (1.0f + tanhf(SK_SQRT_2_OVER_PI * x * (1.0f + SK_GELU_COEF_A * x * x)))) * u[i];
    }
}

static void softmax_scalar(float *x, int64_t n) {
    if (n <= 0) return;
    float max = -INFINITY;
    for (int64_t i = 0; i < n; i++) max = fmaxf(max, x[i]);
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const float e = expf(x[i] - max);
        x[i] = e;
        sum += (double)e;
    }
    const float scale = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++) x[i] *= scale;
}

void sk_fill_float_ops_scalar(sk_table *t) {
    t->f16_to_f32 = f16_to_f32_scalar;
    t->f32_to_f16 = f32_to_f16_scalar;
    t->dot_f32 = dot_f32_scalar;
    t->dot_f16_f32 = dot_f16_f32_scalar;
    t->axpy_f16 = axpy_f16_scalar;
    t->rmsnorm = rmsnorm_scalar;
    t->silu_mul = silu_mul_scalar;
    t->gelu_mul = gelu_mul_scalar;
    t->softmax = softmax_scalar;
}
