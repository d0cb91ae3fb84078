// Public entry points: CPU feature detection, the active kernel table, and matmul tiling.
#include "kernels_internal.h"

#include <pthread.h>

static sk_table g_scalar_table;
static sk_table g_avx2_table;   // the best table for this CPU: AVX2 plus its VNNI / AVX-512 additions
static sk_table g_plain_table;  // AVX2/FMA/F16C only (sk_init_thread(2), so tests cover it anywhere)
static pthread_once_t g_tables_once = PTHREAD_ONCE_INIT;
static int g_cpu_ok;
static const sk_table *g_active;  // accessed with __atomic builtins

static int cpu_has_avx2_fma_f16c(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
    return 0;
#endif
}

static void build_tables(void) {
    sk_fill_scalar_table(&g_scalar_table);
    g_cpu_ok = cpu_has_avx2_fma_f16c();
#if defined(__x86_64__) || defined(__i386__)
    if (g_cpu_ok) {
        __builtin_cpu_init();
        sk_fill_avx2_table(&g_plain_table);
        if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw")) {
            sk_fill_avx512_table(&g_avx2_table);
            g_avx2_table.repack = __builtin_cpu_supports("avx512dq");
        }
        else if (__builtin_cpu_supports("avxvnni")) sk_fill_vnni_table(&g_avx2_table);
        else sk_fill_avx2_table(&g_avx2_table);
        if (__builtin_cpu_supports("avx512f")) {
            sk_fill_float_mm_avx512(&g_avx2_table);
            g_avx2_table.wide = 1;
            g_avx2_table.fp16 = __builtin_cpu_supports("avx512fp16") && __builtin_cpu_supports("avx512bw")
                && __builtin_cpu_supports("avx512vl");
        }
    }
#endif
}

int sk_init(int force_scalar) {
    pthread_once(&g_tables_once, build_tables);
    const int use_avx2 = !force_scalar && g_cpu_ok;
    __atomic_store_n(&g_active, use_avx2 ? &g_avx2_table : &g_scalar_table, __ATOMIC_RELEASE);
    return use_avx2;
}

static _Thread_local const sk_table *t_override;  // set by sk_init_thread
int sk_init_active_is_avx2(void);

int sk_init_thread(int mode) {
    pthread_once(&g_tables_once, build_tables);
    if (mode < 0) {
        t_override = NULL;
        return sk_init_active_is_avx2();
    }
    t_override = !g_cpu_ok || mode == 1 ? &g_scalar_table : mode == 2 ? &g_plain_table : &g_avx2_table;
    return t_override->is_avx2;
}

static inline const sk_table *T(void) {
    const sk_table *o = t_override;
    if (o) return o;
    const sk_table *t = __atomic_load_n(&g_active, __ATOMIC_ACQUIRE);
    if (__builtin_expect(t == NULL, 0)) {
        sk_init(0);
        t = __atomic_load_n(&g_active, __ATOMIC_ACQUIRE);
    }
    return t;
}

int sk_init_active_is_avx2(void) { return T()->is_avx2; }

int sk_active_uses_avx512(void) { return T()->wide; }

int sk_active_uses_fp16(void) { return T()->fp16; }

int sk_active_uses_repack(void) { return T()->repack; }

int sk_block_size(int type) { return sk_blck(type); }

size_t sk_type_size(int type) { return sk_tsize(type); }

int sk_vec_dot_type(int weight_type) {
    switch (weight_type) {
    case SK_F32: case SK_F16: case SK_BF16: return SK_F32;
    case SK_Q4_0: case SK_Q5_0: case SK_Q8_0: case SK_IQ4_NL: return SK_Q8_0;
    case SK_Q4_1: case SK_Q5_1: return SK_Q8_1;
    case SK_Q2_K: case SK_Q3_K: case SK_Q4_K: case SK_Q5_K: case SK_Q6_K: case SK_IQ4_XS: return SK_Q8_K;
    default: return -1;
    }
}

size_t sk_activation_row_bytes(int weight_type, int64_t n) {
    const int vt = sk_vec_dot_type(weight_type);
    if (vt < 0 || n < 0) return 0;
    const int64_t nb = n / sk_blck(vt);
    if (vt == SK_Q8_0 || vt == SK_Q8_1) {
        return sk_act_side_offset(sk_tsize(vt), nb) + 2 * (size_t)sk_act_nbp(nb) * sizeof(float);
    }
    return (size_t)nb * sk_tsize(vt);
}

void sk_quantize_row(int weight_type, const float *x, void *dst, int64_t n) {
    const sk_table *t = T();
    switch (sk_vec_dot_type(weight_type)) {
    case SK_F32: memcpy(dst, x, (size_t)n * sizeof(float)); break;
    case SK_Q8_0: t->quant_q8_0(x, dst, n); break;
    case SK_Q8_1: t->quant_q8_1(x, dst, n); break;
    case SK_Q8_K: t->quant_q8_K(x, dst, n); break;
    default: break;
    }
}

float sk_vec_dot(int weight_type, int64_t n, const void *w, const void *act) {
    const int wi = sk_weight_index(weight_type);
    if (wi < 0) return 0.0f;
    return T()->w[wi].dot(n, w, act);
}

// Weight rows per tile for multi-token matmuls: about this many bytes of weights stay in L2 while all
// tokens stream past them.
#define SK_TILE_BYTES (192 * 1024)

void sk_matmul(int weight_type, int64_t n, const void *w, size_t w_row_bytes, int64_t r0, int64_t r1,
               const void *act, size_t act_row_bytes, int64_t n_tok, float *out, int64_t out_stride) {
    const int wi = sk_weight_index(weight_type);
    if (wi < 0 || r1 <= r0 || n_tok <= 0) return;
    const sk_wkernels *k = &T()->w[wi];
    const uint8_t *W = (const uint8_t *)w;
    const uint8_t *A = (const uint8_t *)act;

    if (n_tok == 1) {
        for (int64_t r = r0; r < r1; r++) out[r] = k->dot(n, W + (size_t)r * w_row_bytes, A);
        return;
    }

    const int mr = k->mr > 0 ? k->mr : 1;
    const int mc = k->mc > 0 ? k->mc : 1;
    int64_t rt = w_row_bytes ? (int64_t)(SK_TILE_BYTES / w_row_bytes) : 256;
    if (rt > 256) rt = 256;
    rt -= rt % mr;
    if (rt < mr) rt = mr;

    for (int64_t rs = r0; rs < r1; rs += rt) {
        const int64_t re = rs + rt < r1 ? rs + rt : r1;
        for (int64_t t0 = 0; t0 < n_tok; t0 += mc) {
            const int nc = (int)(n_tok - t0 < mc ? n_tok - t0 : mc);
            const uint8_t *a = A + (size_t)t0 * act_row_bytes;
            float *o = out + t0 * out_stride;
            for (int64_t r = rs; r < re; r += mr) {
                const int nr = (int)(re - r < mr ? re - r : mr);
                const sk_mm_fn fn = k->mm[nr - 1][nc - 1];
                if (fn) {
                    fn(n, W + (size_t)r * w_row_bytes, w_row_bytes, a, act_row_bytes, o + r, out_stride);
                } else {
                    for (int c = 0; c < nc; c++)
                        for (int q = 0; q < nr; q++)
                            o[c * out_stride + r + q] =
                                k->dot(n, W + (size_t)(r + q) * w_row_bytes, a + (size_t)c * act_row_bytes);
                }
            }
        }
    }
}

void sk_dequantize_row(int type, const void *src, float *dst, int64_t n) {
    const sk_table *t = T();
    switch (type) {
    case SK_Q8_0: t->dequant_q8_0(src, dst, n); return;
    case SK_Q8_1: t->dequant_q8_1(src, dst, n); return;
    case SK_Q8_K: t->dequant_q8_K(src, dst, n); return;
    default: break;
    }
    const int wi = sk_weight_index(type);
    if (wi >= 0) t->dequant[wi](src, dst, n);
}

void sk_f16_to_f32(const uint16_t *src, float *dst, int64_t n) { T()->f16_to_f32(src, dst, n); }
void sk_f32_to_f16(const float *src, uint16_t *dst, int64_t n) { T()->f32_to_f16(src, dst, n); }
float sk_dot_f32(const float *a, const float *b, int64_t n) { return T()->dot_f32(a, b, n); }
float sk_dot_f16_f32(const uint16_t *a, const float *b, int64_t n) { return T()->dot_f16_f32(a, b, n); }
void sk_axpy_f16(float *y, float a, const uint16_t *x, int64_t n) { T()->axpy_f16(y, a, x, n); }
void sk_rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps) { T()->rmsnorm(y, x, w, n, eps); }
void sk_silu_mul(float *g, const float *u, int64_t n) { T()->silu_mul(g, u, n); }
void sk_gelu_mul(float *g, const float *u, int64_t n) { T()->gelu_mul(g, u, n); }
void sk_softmax(float *x, int64_t n) { T()->softmax(x, n); }

void sk_exp_f32_avx2(const float *x, float *y, int64_t n);

void sk_exp_f32(const float *x, float *y, int64_t n) {
#if defined(__x86_64__) || defined(__i386__)
    if (T()->is_avx2) {
        sk_exp_f32_avx2(x, y, n);
        return;
    }
#endif
    for (int64_t i = 0; i < n; i++) y[i] = __builtin_expf(x[i]);
}
