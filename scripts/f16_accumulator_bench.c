// How fast can the value updates of one-row attention over an F16 cache go on an AVX2 CPU while
// the accumulator is rounded to F16 after every update, as ggml computes it? One thread, the inner
// loop of the F16 kernel alone: three heads × 32 columns (12 accumulators of 8 lanes, the most that
// fit in 16 registers), each position adds value × weight and rounds; a GQA group of 3 heads with
// head size 64 takes two such passes, so the times are per position and group.
//
//   clang -O2 -mavx2 -mfma -mf16c -o /tmp/f16_accumulator_bench scripts/f16_accumulator_bench.c
//   /tmp/f16_accumulator_bench
//
// Roundings compared:
//   conversions    F32 → F16 → F32 (vcvtps2ph / vcvtph2ps), what ggml does and the kernel does
//   magic number   (x + M) − M with M = 1.5 · 2^13 · max(2^exponent(x), 2^-14): exact, no conversions
//   magic, asm     the same, hand-scheduled with constants as memory operands (the compiler spills)
//   Veltkamp       t = 8193·x, t − (t − x): exact only at or above 2^-14 (F16's smallest normal)
//   none           an F32 accumulator (not ggml's numerics)
// It first checks the exactness claims against the F16 conversions on sampled floats.
#include <immintrin.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum { NB = 32, HD = 64, REPS = 100000 };

static float values[NB * HD] __attribute__((aligned(64)));
static float weights[3 * NB];
static float magic[24] __attribute__((aligned(32)));  // exponent mask, 2^-14, 1.5 · 2^13 (8 lanes each)

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static inline __m256 round_conversions(__m256 x) { return _mm256_cvtph_ps(_mm256_cvtps_ph(x, 0)); }

static inline __m256 round_magic(__m256 x) {
    __m256 e = _mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(0x7f800000)));
    const __m256 m = _mm256_mul_ps(_mm256_max_ps(e, _mm256_set1_ps(0x1p-14f)), _mm256_set1_ps(12288.0f));
    return _mm256_sub_ps(_mm256_add_ps(x, m), m);
}

static inline __m256 round_veltkamp(__m256 x) {
    const __m256 t = _mm256_mul_ps(x, _mm256_set1_ps(8193.0f));
    return _mm256_sub_ps(t, _mm256_sub_ps(t, x));
}

static inline __m256 round_none(__m256 x) { return x; }

// The same pointer, opaque to the compiler, so each head's loads stay memory operands.
static inline const float *opaque(const float *p) {
    __asm__ volatile("" : "+r"(p));
    return p;
}

#define PASS(NAME, ROUND)                                                                              \
    __attribute__((noinline)) static void NAME(float *acc) {                                           \
        __m256 a[3][4];                                                                                \
        for (int j = 0; j < 3; j++)                                                                    \
            for (int c = 0; c < 4; c++) a[j][c] = _mm256_loadu_ps(acc + j * HD + 8 * c);              \
        for (int b = 0; b < NB; b++) {                                                                 \
            for (int j = 0; j < 3; j++) {                                                              \
                const __m256 w = _mm256_broadcast_ss(weights + j * NB + b);                            \
                const float *v = opaque(values + b * HD);                                              \
                for (int c = 0; c < 4; c++) a[j][c] = ROUND(_mm256_fmadd_ps(_mm256_loadu_ps(v + 8 * c), w, a[j][c])); \
            }                                                                                          \
        }                                                                                              \
        for (int j = 0; j < 3; j++)                                                                    \
            for (int c = 0; c < 4; c++) _mm256_storeu_ps(acc + j * HD + 8 * c, a[j][c]);              \
    }

PASS(pass_conversions, round_conversions)
PASS(pass_magic, round_magic)
PASS(pass_veltkamp, round_veltkamp)
PASS(pass_none, round_none)

#define LOAD(r, off) "vmovups " #off "(%[a]), %%ymm" #r "\n\t"
#define STORE(r, off) "vmovups %%ymm" #r ", " #off "(%[a])\n\t"
#define FMA(r, off) "vfmadd231ps " #off "(%[v]), %%ymm12, %%ymm" #r "\n\t"
#define ROUND(r)                                                                                       \
    "vandps (%[k]), %%ymm" #r ", %%ymm13\n\t"                                                          \
    "vmaxps %%ymm15, %%ymm13, %%ymm13\n\t"                                                             \
    "vmulps 64(%[k]), %%ymm13, %%ymm13\n\t"                                                            \
    "vaddps %%ymm13, %%ymm" #r ", %%ymm14\n\t"                                                         \
    "vsubps %%ymm13, %%ymm14, %%ymm" #r "\n\t"

// pass_magic with the registers chosen by hand: 12 accumulators, the weight, two temporaries and
// 2^-14; the other constants and the values are memory operands.
__attribute__((noinline)) static void pass_magic_asm(float *acc) {
    const float *v = values, *w = weights;
    long n = NB;
    __asm__ volatile(
        LOAD(0, 0) LOAD(1, 32) LOAD(2, 64) LOAD(3, 96) LOAD(4, 256) LOAD(5, 288) LOAD(6, 320) LOAD(7, 352)
        LOAD(8, 512) LOAD(9, 544) LOAD(10, 576) LOAD(11, 608)
        "vbroadcastss 32(%[k]), %%ymm15\n\t"
        "1:\n\t"
        "vbroadcastss (%[w]), %%ymm12\n\t" FMA(0, 0) FMA(1, 32) FMA(2, 64) FMA(3, 96)
        "vbroadcastss 128(%[w]), %%ymm12\n\t" FMA(4, 0) FMA(5, 32) FMA(6, 64) FMA(7, 96)
        "vbroadcastss 256(%[w]), %%ymm12\n\t" FMA(8, 0) FMA(9, 32) FMA(10, 64) FMA(11, 96)
        ROUND(0) ROUND(1) ROUND(2) ROUND(3) ROUND(4) ROUND(5) ROUND(6) ROUND(7) ROUND(8) ROUND(9) ROUND(10) ROUND(11)
        "add $256, %[v]\n\t"
        "add $4, %[w]\n\t"
        "dec %[n]\n\t"
        "jnz 1b\n\t"
        STORE(0, 0) STORE(1, 32) STORE(2, 64) STORE(3, 96) STORE(4, 256) STORE(5, 288) STORE(6, 320) STORE(7, 352)
        STORE(8, 512) STORE(9, 544) STORE(10, 576) STORE(11, 608)
        : [v] "+r"(v), [w] "+r"(w), [n] "+r"(n)
        : [a] "r"(acc), [k] "r"(magic)
        : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
          "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

static float half_round(float x) { return _cvtsh_ss(_cvtss_sh(x, 0)); }

static float first_lane(__m256 (*round)(__m256), float x) { return _mm256_cvtss_f32(round(_mm256_set1_ps(x))); }

// Mismatches against the F16 conversions over finite floats below F16's overflow (every 7th bit
// pattern, and every tie of every F16 binade); counts those below 2^-14 apart.
static void check(const char *name, __m256 (*round)(__m256)) {
    long n = 0, low = 0, high = 0;
    for (uint64_t i = 0; i < 0x100000000ull; i += 7) {
        const uint32_t bits = (uint32_t)i;
        float x;
        memcpy(&x, &bits, 4);
        const float ax = x < 0 ? -x : x;
        if (!(ax < 65504.0f)) continue;
        n++;
        const float want = half_round(x), got = first_lane(round, x);
        if (want != got) *(ax < 0x1p-14f ? &low : &high) += 1;
    }
    for (uint32_t e = 1; e <= 141; e++) {
        for (uint32_t m = 0; m < 1024; m++) {
            const uint32_t bits = (e << 23) | (m << 13) | 0x1000;
            float x;
            memcpy(&x, &bits, 4);
            if (!(x < 65504.0f)) continue;
            n++;
            if (half_round(x) != first_lane(round, x)) *(x < 0x1p-14f ? &low : &high) += 1;
        }
    }
    printf("%-13s %ld values: %ld differ at or above 2^-14, %ld below\n", name, n, high, low);
}

static __m256 magic_lanes(__m256 x) { return round_magic(x); }
static __m256 veltkamp_lanes(__m256 x) { return round_veltkamp(x); }

static double time_pass(void (*pass)(float *)) {
    float acc[3 * HD];
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        for (int i = 0; i < 3 * HD; i++) acc[i] = 0.0f;
        const double t0 = now();
        for (int i = 0; i < REPS; i++) {
            pass(acc);
            pass(acc + 32);
        }
        const double t = now() - t0;
        if (t < best) best = t;
    }
    return best * 1e9 / ((double)REPS * NB);
}

int main(void) {
    for (int i = 0; i < NB * HD; i++) values[i] = half_round((float)(i % 13 - 6) * 0.37f);
    for (int i = 0; i < 3 * NB; i++) weights[i] = 1e-4f * (float)(i % 7 + 1);
    for (int i = 0; i < 8; i++) {
        const uint32_t exponent = 0x7f800000u;
        memcpy(&magic[i], &exponent, 4);
        magic[8 + i] = 0x1p-14f;
        magic[16 + i] = 12288.0f;
    }
    check("magic number", magic_lanes);
    check("Veltkamp", veltkamp_lanes);
    printf("ns per position and group (2 passes of 3 heads × 32 columns), best of 5\n");
    for (int round = 0; round < 2; round++) {
        printf("conversions %6.1f   magic number %6.1f   magic, asm %6.1f   Veltkamp %6.1f   none %6.1f\n",
               time_pass(pass_conversions), time_pass(pass_magic), time_pass(pass_magic_asm),
               time_pass(pass_veltkamp), time_pass(pass_none));
    }
    return 0;
}
