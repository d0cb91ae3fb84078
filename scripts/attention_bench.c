// Single-thread benchmark of the one-row attention kernels (sk_attention_partial_f16 and _q8_0) as
// generation uses them: one query row of a GQA group of 3 heads (head size 64, SmolLM2's shape)
// against 2,000 cached positions.
//
//   clang -O2 -I Sources/CKernels/include -o /tmp/attention_bench scripts/attention_bench.c \
//       Sources/CKernels/*.c -lm -lpthread
//   /tmp/attention_bench [repeats]
//
// Columns: "L2" = the same two caches again and again; "L3" = 90 caches (30 layers × 3 KV heads,
// 24 MB as Q8_0: in the last-level cache); "DRAM" = 400 caches, more than the cache holds. Times
// are the best of the repeats, in ns per position and GQA group: the machines are shared and
// noisy, so compare runs made side by side.
#include "CKernels.h"
#include "Attention.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { HD = 64, G = 3, N = 2000 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static float uniform(void) { return (float)rand() / (float)RAND_MAX - 0.5f; }

// `count` caches of N positions each, keys and values, laid out as KVRows lays out a region.
typedef struct { unsigned char *k, *v; size_t bytes; int q8; } caches;

static caches make(int count, int q8) {
    caches c = {0, 0, (size_t)N * (q8 ? HD + 2 * HD / 32 : 2 * HD), q8};
    c.k = malloc(c.bytes * count);
    c.v = malloc(c.bytes * count);
    float x[HD];
    for (int l = 0; l < count; l++) {
        for (int t = 0; t < N; t++) {
            for (int kv = 0; kv < 2; kv++) {
                unsigned char *base = (kv ? c.v : c.k) + l * c.bytes;
                for (int d = 0; d < HD; d++) x[d] = 4 * uniform();
                if (q8) sk_f32_to_q8_0(x, (int8_t *)base + (size_t)t * HD, (uint16_t *)(base + (size_t)N * HD) + t, N, HD);
                else sk_f32_to_f16(x, (uint16_t *)base + (size_t)t * HD, HD);
            }
        }
    }
    return c;
}

static double run(const caches *c, int count, int repeats) {
    float q[G * HD], partials[G * 80];
    for (int i = 0; i < G * HD; i++) q[i] = uniform();
    float *scratch = malloc(sizeof(float) * (size_t)sk_attention_scratch_floats(HD));
    double best = 1e30;
    for (int r = 0; r < repeats; r++) {
        const double t0 = now();
        for (int l = 0; l < count; l++) {
            unsigned char *k = c->k + l * c->bytes, *v = c->v + l * c->bytes;
            sk_kv_segment s = {k, v, 0, 0, 0, 0, N};
            if (c->q8) {
                s.kd = (const uint16_t *)(k + (size_t)N * HD);
                s.vd = (const uint16_t *)(v + (size_t)N * HD);
                s.dstride = N;
                sk_attention_partial_q8_0(q, G, HD, 0.125f, 0.0f, &s, 1, 0, N, partials, 80, scratch);
            } else {
                sk_attention_partial_f16(q, G, HD, 0.125f, 0.0f, &s, 1, 0, N, partials, 80, scratch);
            }
        }
        const double t = now() - t0;
        if (t < best) best = t;
    }
    free(scratch);
    return best * 1e9 / ((double)count * N);
}

int main(int argc, char **argv) {
    const int repeats = argc > 1 ? atoi(argv[1]) : 20;
    sk_init(0);
    printf("ns per position and GQA group (3 heads × 64), 2,000 positions, best of %d\n", repeats);
    printf("%-6s %8s %8s %8s\n", "cache", "L2", "L3", "DRAM");
    for (int q8 = 1; q8 >= 0; q8--) {
        const int counts[3] = {2, 90, 400};
        double ns[3];
        for (int i = 0; i < 3; i++) {
            caches c = make(counts[i], q8);
            ns[i] = run(&c, counts[i], i == 0 ? 10 * repeats : repeats);
            free(c.k);
            free(c.v);
        }
        printf("%-6s %8.1f %8.1f %8.1f\n", q8 ? "q8_0" : "f16", ns[0], ns[1], ns[2]);
    }
    return 0;
}
