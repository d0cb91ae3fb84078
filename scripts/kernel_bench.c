// Single-thread benchmark of the CKernels matvec/matmul kernels (4096 x 4096 weights), optionally
// side by side with llama.cpp's ggml-cpu vec_dot on the same weights and activations.
//
//   clang -O2 -I Sources/CKernels/include -o /tmp/kernel_bench scripts/kernel_bench.c \
//       Sources/CKernels/*.c -lm -lpthread -ldl
//   [SK_BENCH_PLAIN=1] /tmp/kernel_bench [path/to/libggml-cpu.so]   # e.g. from `pip install llama-cpp-python`:
//   .../site-packages/llama_cpp/lib/libggml-cpu.so (it loads libggml-base.so from the same folder)
//
// Columns: "L3" = one 4096-row matrix multiplied repeatedly (it stays in the last-level cache);
// "DRAM" = cycling through enough matrices to exceed the cache; "prefill" = 64 tokens at once,
// per row and token. Times are the best of several runs, in ns per weight row.
#include "CKernels.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void (*vec_dot_t)(int n, float *s, size_t bs, const void *x, size_t bx, const void *y, size_t by, int nrc);
typedef void (*from_float_t)(const float *x, void *y, int64_t k);
struct ggml_traits { from_float_t from_float; vec_dot_t vec_dot; int vec_dot_type; int64_t nrows; };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}
static float frand(void) { return (float)rnd() / 4294967296.0f - 0.5f; }

// random quantized rows with finite scales: quantizing random floats through the reference path is
// what matters for speed only insofar as the bytes are valid, so random bytes + fixed f16 scales do
static void fill_weights(int t, uint8_t *w, size_t bytes) {
    for (size_t i = 0; i < bytes; i++) w[i] = (uint8_t)rnd();
    const size_t bs = sk_type_size(t);
    const uint16_t h = 0x2000;  // 2^-7
    for (size_t b = 0; b < bytes / bs; b++) {
        uint8_t *p = w + b * bs;
        switch (t) {
        case SK_F16: p[1] &= 0x3b; break;
        case SK_BF16: p[1] = 0x3c; break;
        case SK_F32: p[3] = 0x3c; break;
        case SK_Q6_K: memcpy(p + 208, &h, 2); break;
        case SK_Q3_K: memcpy(p + 108, &h, 2); break;
        case SK_Q2_K: memcpy(p + 80, &h, 2); memcpy(p + 82, &h, 2); break;
        case SK_Q4_1: case SK_Q5_1: case SK_Q4_K: case SK_Q5_K: memcpy(p, &h, 2); memcpy(p + 2, &h, 2); break;
        default: memcpy(p, &h, 2); break;
        }
    }
}

int main(int argc, char **argv) {
    const struct ggml_traits *(*gtraits)(int) = NULL;
    if (argc > 1) {
        void *h = dlopen(argv[1], RTLD_NOW);
        if (!h) { fprintf(stderr, "%s\n", dlerror()); return 1; }
        void (*cpu_init)(void) = (void (*)(void))dlsym(h, "ggml_cpu_init");
        gtraits = (const struct ggml_traits *(*)(int))dlsym(h, "ggml_get_type_traits_cpu");
        if (!cpu_init || !gtraits) { fprintf(stderr, "not a ggml-cpu library\n"); return 1; }
        cpu_init();
    }
    printf("CKernels AVX2 path: %d\n", sk_init(0));
    // SK_BENCH_PLAIN=1: the plain AVX2 table instead of the CPU's best (VNNI / AVX-512 builds)
    if (getenv("SK_BENCH_PLAIN")) printf("plain AVX2 table: %d\n", sk_init_thread(2));
    const int types[] = {SK_Q8_0, SK_Q4_0, SK_Q4_1, SK_Q5_0, SK_Q4_K, SK_Q5_K, SK_Q6_K, SK_F16,
                         SK_Q2_K, SK_Q3_K, SK_IQ4_NL, SK_IQ4_XS};
    const char *names[] = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q4_K", "Q5_K", "Q6_K", "F16", "Q2_K", "Q3_K", "IQ4_NL",
                           "IQ4_XS"};
    const int n = 4096, rows = 4096, ntok = 64;
    float *x = malloc(sizeof(float) * n * ntok);
    for (int i = 0; i < n * ntok; i++) x[i] = frand();
    float *out = malloc(sizeof(float) * rows * ntok);
    for (size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++) {
        const int t = types[ti];
        const size_t wrb = (size_t)n / sk_block_size(t) * sk_type_size(t), mb = wrb * rows;
        int nm = (int)((320u << 20) / mb);  // ~320 MB of weights for the DRAM column
        if (nm < 2) nm = 2;
        uint8_t *w = malloc(mb * nm);
        fill_weights(t, w, mb * nm);
        const size_t arb = sk_activation_row_bytes(t, n);
        uint8_t *a = malloc(arb * ntok);
        for (int k = 0; k < ntok; k++) sk_quantize_row(t, x + (size_t)k * n, a + (size_t)k * arb, n);

        // ggml's activation row for the same floats, if a library was given
        const struct ggml_traits *tr = gtraits ? gtraits(t) : NULL;
        uint8_t *ga = NULL;
        if (tr) {
            const int vt = tr->vec_dot_type;
            const size_t gab = vt == SK_F32 ? (size_t)n * 4 : (size_t)n / sk_block_size(vt) * sk_type_size(vt);
            ga = malloc(gab + 64);
            if (vt == SK_F32) memcpy(ga, x, (size_t)n * 4); else gtraits(vt)->from_float(x, ga, n);
        }
        double l3 = 1e9, dram = 1e9, pf = 1e9, g3 = 1e9;
        for (int it = 0; it < 20; it++) {  // interleaved, so load on the machine hits both alike
            double t0 = now();
            sk_matmul(t, n, w, wrb, 0, rows, a, arb, 1, out, rows);
            double dt = now() - t0;
            if (dt < l3) l3 = dt;
            if (tr) {
                t0 = now();
                for (int r = 0; r < rows; r++) tr->vec_dot(n, out + r, 0, w + (size_t)r * wrb, 0, ga, 0, 1);
                dt = now() - t0;
                if (dt < g3) g3 = dt;
            }
        }
        free(ga);
        for (int it = 0; it < 2; it++) {
            double t0 = now();
            for (int m = 0; m < nm; m++) sk_matmul(t, n, w + (size_t)m * mb, wrb, 0, rows, a, arb, 1, out, rows);
            double dt = (now() - t0) / nm;
            if (dt < dram) dram = dt;
        }
        for (int it = 0; it < 3; it++) {
            double t0 = now();
            sk_matmul(t, n, w, wrb, 0, rows, a, arb, ntok, out, rows);
            double dt = now() - t0;
            if (dt < pf) pf = dt;
        }
        printf("%-6s matvec L3 %6.1f ns/row", names[ti], l3 / rows * 1e9);
        if (gtraits) printf(" (ggml vec_dot %6.1f)", g3 / rows * 1e9);
        printf("  DRAM %6.1f ns/row (%4.1f GB/s)  prefill %3d tok %6.1f ns/row/tok\n", dram / rows * 1e9,
               (double)wrb / (dram / rows) * 1e-9, ntok, pf / rows / ntok * 1e9);
        free(w);
        free(a);
    }
    free(x);
    free(out);
    return 0;
}
