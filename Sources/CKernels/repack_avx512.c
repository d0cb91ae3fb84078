// Q4_K and Q6_K weights repacked at load for CPUs with AVX-512 VNNI, and their matrix kernels.
//
// In GGML's layout a row's values sit next to each other, so an int8 dot product multiplies one row
// by one token and the 32- or 16-value sub-block scales must be applied inside the vector (a 16-bit
// multiply-add per 32 values, AVX2 width). Repacked, 16 rows share each 64-byte vector: lane r holds
// four consecutive values of row r, so one vpdpbusd against four activation bytes broadcast to every
// lane advances 16 rows by 4 values (64 multiply-adds), a sub-block's integer sums end up one per
// lane, and the per-row scales multiply all 16 rows at once. The same idea as llama.cpp's REPACK
// buffers (interleaved rows for its matrix-matrix path); the layout here is our own:
//
//   Q4_K, per super-block of 16 rows (2432 bytes, GGML: 16 × 144):
//     f32 d[16], dmin[16]; u8 scale[8 sub-blocks][16 rows]; u8 min[4][16 rows][2] (sub-blocks 2k, 2k+1);
//     u8 qs[8 sub-blocks][4][16 rows][4]: in qs[j][k][r] the low nibbles are values 32j + 4k + 0..3 of
//     row r, the high nibbles values 32j + 16 + 4k + 0..3.
//   Q6_K, per super-block of 16 rows (3392 bytes, GGML: 16 × 210):
//     f32 d[16]; i8 scale[16 sub-blocks][16 rows]; u8 ql[32][16 rows][4]: low 4 bits, the low nibbles
//     of ql[p] values 8p + 0..3, the high nibbles values 8p + 4..7; u8 qh[16][16 rows][4]: bits 2t, 2t+1
//     of qh[u] are the top 2 bits of values 16u + 4t + 0..3.
// Row groups follow one another, each with its super-blocks in order, so a thread's rows are one run
// of memory.
//
// Results: GGML's formula, per (row, token) and super-block d·yd·Σ scale·dot − dmin·yd·Σ min·bsum
// (Q4_K, the sums exact in int32) or d·yd·Σ scale·(dot − 32·bsum) (Q6_K, each sub-block's exact sum
// scaled in float: a 32-bit integer multiply per 16 values was the kernel's bottleneck), added to
// one float; results differ from sk_vec_dot's only in float rounding.
#include "kernels_internal.h"

#define RP_ROWS 16

typedef struct {
    float d[RP_ROWS], dmin[RP_ROWS];
    uint8_t scale[8][RP_ROWS];
    uint8_t min[4][RP_ROWS][2];
    uint8_t qs[8][4][RP_ROWS][4];
} rp_q4_K;

typedef struct {
    float d[RP_ROWS];
    int8_t scale[16][RP_ROWS];
    uint8_t ql[32][RP_ROWS][4];
    uint8_t qh[16][RP_ROWS][4];
} rp_q6_K;

_Static_assert(sizeof(rp_q4_K) == 2432, "repacked q4_K size");
_Static_assert(sizeof(rp_q6_K) == 3392, "repacked q6_K size");

static size_t repacked_block_bytes(int type) {
    return type == SK_Q4_K ? sizeof(rp_q4_K) : type == SK_Q6_K ? sizeof(rp_q6_K) : 0;
}

int sk_repack_supported(int type, int64_t rows, int64_t n) {
    return sk_active_uses_repack() && repacked_block_bytes(type) > 0 && rows > 0 && rows % RP_ROWS == 0 && n > 0
        && n % QK_K == 0;
}

size_t sk_repacked_bytes(int type, int64_t rows, int64_t n) {
    return (size_t)(rows / RP_ROWS) * (size_t)(n / QK_K) * repacked_block_bytes(type);
}

// --- repacking (plain C) ---

// GGML's get_scale_min_k4: the 6-bit scale and min of sub-block j.
static void q4_K_scale_min(int j, const uint8_t *s, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (uint8_t)((s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4));
        *m = (uint8_t)((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
    }
}

static void repack_q4_K(const block_q4_K *const *rows, int64_t i, rp_q4_K *o) {
    for (int r = 0; r < RP_ROWS; r++) {
        const block_q4_K *b = rows[r] + i;
        o->d[r] = sk_half_to_float_scalar(b->d);
        o->dmin[r] = sk_half_to_float_scalar(b->dmin);
        uint8_t q[QK_K];
        for (int k = 0; k < 4; k++) {
            for (int l = 0; l < 32; l++) {
                q[64 * k + l] = b->qs[32 * k + l] & 0x0f;
                q[64 * k + 32 + l] = b->qs[32 * k + l] >> 4;
            }
        }
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            q4_K_scale_min(j, b->scales, &sc, &m);
            o->scale[j][r] = sc;
            o->min[j / 2][r][j % 2] = m;
            for (int k = 0; k < 4; k++) {
                for (int v = 0; v < 4; v++) {
                    o->qs[j][k][r][v] = (uint8_t)(q[32 * j + 4 * k + v] | (q[32 * j + 16 + 4 * k + v] << 4));
                }
            }
        }
    }
}

static void repack_q6_K(const block_q6_K *const *rows, int64_t i, rp_q6_K *o) {
    for (int r = 0; r < RP_ROWS; r++) {
        const block_q6_K *b = rows[r] + i;
        o->d[r] = sk_half_to_float_scalar(b->d);
        uint8_t q[QK_K];  // 0..63, as GGML's dequantization reads them
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
            for (int l = 0; l < 32; l++) {
                q[128 * h + l] = (uint8_t)((ql[l] & 0x0f) | ((qh[l] & 3) << 4));
                q[128 * h + l + 32] = (uint8_t)((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4));
                q[128 * h + l + 64] = (uint8_t)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
                q[128 * h + l + 96] = (uint8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
            }
        }
        for (int j = 0; j < 16; j++) o->scale[j][r] = b->scales[j];
        for (int p = 0; p < 32; p++) {
            for (int v = 0; v < 4; v++) o->ql[p][r][v] = (uint8_t)((q[8 * p + v] & 0x0f) | ((q[8 * p + 4 + v] & 0x0f) << 4));
        }
        for (int u = 0; u < 16; u++) {
            for (int v = 0; v < 4; v++) {
                uint8_t bits = 0;
                for (int t = 0; t < 4; t++) bits |= (uint8_t)((q[16 * u + 4 * t + v] >> 4) << (2 * t));
                o->qh[u][r][v] = bits;
            }
        }
    }
}

void sk_repack(int type, const void *w, size_t row_bytes, int64_t n, int64_t g0, int64_t g1, void *dst) {
    const int64_t nb = n / QK_K;
    const size_t bb = repacked_block_bytes(type);
    for (int64_t g = g0; g < g1; g++) {
        const void *rows[RP_ROWS];
        for (int r = 0; r < RP_ROWS; r++) rows[r] = (const uint8_t *)w + (size_t)(g * RP_ROWS + r) * row_bytes;
        uint8_t *o = (uint8_t *)dst + (size_t)g * (size_t)nb * bb;
        for (int64_t i = 0; i < nb; i++) {
            if (type == SK_Q4_K) repack_q4_K((const block_q4_K *const *)rows, i, (rp_q4_K *)(o + i * bb));
            else repack_q6_K((const block_q6_K *const *)rows, i, (rp_q6_K *)(o + i * bb));
        }
    }
}

// --- matrix kernels ---

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni"))), \
                             apply_to = function)

#define RP_MAXC 4  // tokens per tile
#define UNROLL _Pragma("clang loop unroll(full)")

SK_INLINE __m512i bcast32(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

// 16 rows × NC tokens (activation rows a[c]) over the nb super-blocks at w; results to out[c·os + r],
// or added to what is there (add: the super-blocks that follow earlier ones). `stream`: the weights
// come from memory (a token or a few: a generated token, a draft, sequences decoded together), so
// they are prefetched ahead and the computation overlaps the reading.
SK_INLINE void tile_q4_K(const int NC, int64_t nb, const rp_q4_K *SK_RESTRICT w, const block_q8_K *const *a,
                         float *SK_RESTRICT out, int64_t os, int add, int stream) {
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    __m512 acc[RP_MAXC];
    UNROLL for (int c = 0; c < NC; c++) acc[c] = add ? _mm512_loadu_ps(out + c * os) : _mm512_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        const rp_q4_K *b = w + i;
        if (stream) sk_prefetch_stream(b, sizeof(*b));
        __m512i isum[RP_MAXC];
        UNROLL for (int c = 0; c < NC; c++) isum[c] = _mm512_setzero_si512();
        UNROLL for (int j = 0; j < 8; j++) {
            __m512i q[8];  // q[k]: values 32j + 4k + 0..3 of each row (k < 4), q[4 + k]: 32j + 16 + 4k + 0..3
            UNROLL for (int k = 0; k < 4; k++) {
                const __m512i raw = _mm512_loadu_si512(b->qs[j][k]);
                q[k] = _mm512_and_si512(raw, m4);
                q[4 + k] = _mm512_and_si512(_mm512_srli_epi16(raw, 4), m4);
            }
            const __m512i sc = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)b->scale[j]));
            UNROLL for (int c = 0; c < NC; c++) {
                const int8_t *y = a[c][i].qs + 32 * j;
                __m512i s0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q[0], bcast32(y));
                __m512i s1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q[4], bcast32(y + 16));
                UNROLL for (int k = 1; k < 4; k++) {
                    s0 = _mm512_dpbusd_epi32(s0, q[k], bcast32(y + 4 * k));
                    s1 = _mm512_dpbusd_epi32(s1, q[4 + k], bcast32(y + 16 + 4 * k));
                }
                isum[c] = _mm512_add_epi32(isum[c], _mm512_mullo_epi32(_mm512_add_epi32(s0, s1), sc));
            }
        }
        // Σ_j min_j · bsum_j, sub-blocks in pairs: (min 2k, min 2k+1) · (bsum 2k, bsum 2k+1) per lane
        __m512i mn[4];
        UNROLL for (int k = 0; k < 4; k++) mn[k] = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)b->min[k]));
        const __m512 d = _mm512_loadu_ps(b->d), dmin = _mm512_loadu_ps(b->dmin);
        UNROLL for (int c = 0; c < NC; c++) {
            const __m128i lo = _mm_loadu_si128((const __m128i *)a[c][i].bsums);
            const __m128i hi = _mm_loadu_si128((const __m128i *)(a[c][i].bsums + 8));
            int32_t pairs[4];  // int16 sums of the 32-value sub-blocks, two per word
            _mm_storeu_si128((__m128i *)pairs, _mm_hadd_epi16(lo, hi));
            __m512i msum = _mm512_setzero_si512();
            UNROLL for (int k = 0; k < 4; k++) msum = _mm512_dpwssd_epi32(msum, mn[k], _mm512_set1_epi32(pairs[k]));
            const __m512 yd = _mm512_set1_ps(a[c][i].d);
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[c]), _mm512_mul_ps(d, yd), acc[c]);
            acc[c] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(msum), _mm512_mul_ps(dmin, yd), acc[c]);
        }
    }
    UNROLL for (int c = 0; c < NC; c++) _mm512_storeu_ps(out + c * os, acc[c]);
}

SK_INLINE void tile_q6_K(const int NC, int64_t nb, const rp_q6_K *SK_RESTRICT w, const block_q8_K *const *a,
                         float *SK_RESTRICT out, int64_t os, int add, int stream) {
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    const __m512i m30 = _mm512_set1_epi8(0x30);
    __m512 acc[RP_MAXC];
    UNROLL for (int c = 0; c < NC; c++) acc[c] = add ? _mm512_loadu_ps(out + c * os) : _mm512_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        const rp_q6_K *b = w + i;
        if (stream) sk_prefetch_stream(b, sizeof(*b));
        // −32 · bsum of every 16-value sub-block: the start of its dot product, which makes it Σ (q − 32)·y
        int32_t bias[RP_MAXC][16] __attribute__((aligned(64)));
        __m512 fsum[RP_MAXC];
        UNROLL for (int c = 0; c < NC; c++) {
            const __m512i bs = _mm512_cvtepi16_epi32(_mm256_loadu_si256((const __m256i *)a[c][i].bsums));
            _mm512_store_si512(bias[c], _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(bs, 5)));
            fsum[c] = _mm512_setzero_ps();
        }
        UNROLL for (int j = 0; j < 16; j++) {
            const __m512i l0 = _mm512_loadu_si512(b->ql[2 * j]), l1 = _mm512_loadu_si512(b->ql[2 * j + 1]);
            const __m512i h = _mm512_loadu_si512(b->qh[j]);
            // value = low nibble | top two bits << 4 (vpternlogd 0xf8: a | (b & c))
            __m512i q[4];
            q[0] = _mm512_ternarylogic_epi32(_mm512_and_si512(l0, m4), _mm512_slli_epi16(h, 4), m30, 0xf8);
            q[1] = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(l0, 4), m4), _mm512_slli_epi16(h, 2), m30, 0xf8);
            q[2] = _mm512_ternarylogic_epi32(_mm512_and_si512(l1, m4), h, m30, 0xf8);
            q[3] = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(l1, 4), m4), _mm512_srli_epi16(h, 2), m30, 0xf8);
            const __m512 sc = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)b->scale[j])));
            UNROLL for (int c = 0; c < NC; c++) {
                const int8_t *y = a[c][i].qs + 16 * j;
                __m512i s = _mm512_set1_epi32(bias[c][j]);
                UNROLL for (int t = 0; t < 4; t++) s = _mm512_dpbusd_epi32(s, q[t], bcast32(y + 4 * t));
                fsum[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), sc, fsum[c]);
            }
        }
        const __m512 d = _mm512_loadu_ps(b->d);
        UNROLL for (int c = 0; c < NC; c++) {
            acc[c] = _mm512_fmadd_ps(fsum[c], _mm512_mul_ps(d, _mm512_set1_ps(a[c][i].d)), acc[c]);
        }
    }
    UNROLL for (int c = 0; c < NC; c++) _mm512_storeu_ps(out + c * os, acc[c]);
}

#define RP_TILE_FNS(name, tile, rp)                                                                               \
    static void name(int nc, int64_t nb, const void *w, const block_q8_K *const *a, float *out, int64_t os,      \
                     int add, int stream) {                                                                       \
        switch (nc) {                                                                                             \
        case 1: tile(1, nb, (const rp *)w, a, out, os, add, stream); break;                                       \
        case 2: tile(2, nb, (const rp *)w, a, out, os, add, stream); break;                                       \
        case 3: tile(3, nb, (const rp *)w, a, out, os, add, stream); break;                                       \
        default: tile(4, nb, (const rp *)w, a, out, os, add, stream); break;                                      \
        }                                                                                                         \
    }
RP_TILE_FNS(q4_K_tiles, tile_q4_K, rp_q4_K)
RP_TILE_FNS(q6_K_tiles, tile_q6_K, rp_q6_K)

#pragma clang attribute pop

// Tokens per pass over a thread's rows, and super-blocks per pass over those tokens: a row group's
// weights for RP_K_BLOCK super-blocks (19 KiB of Q4_K, 27 KiB of Q6_K) stay in the L1 cache while
// the block's tokens go through them, and those tokens' activations (64 × 8 × 292 bytes) in L2.
#define RP_TOKEN_BLOCK 64
#define RP_K_BLOCK 8
// Batches up to this many tokens stream the weights from memory (see tile_q4_K).
#define RP_STREAM_TOKENS 16

void sk_matmul_repacked(int type, int64_t n, const void *packed, int64_t r0, int64_t r1, const void *act,
                        size_t act_row_bytes, int64_t n_tok, float *out, int64_t out_stride) {
    const int64_t nb = n / QK_K;
    const size_t bb = repacked_block_bytes(type);
    void (*tiles)(int, int64_t, const void *, const block_q8_K *const *, float *, int64_t, int, int) =
        type == SK_Q4_K ? q4_K_tiles : q6_K_tiles;
    for (int64_t t0 = 0; t0 < n_tok; t0 += RP_TOKEN_BLOCK) {
        const int64_t t1 = t0 + RP_TOKEN_BLOCK < n_tok ? t0 + RP_TOKEN_BLOCK : n_tok;
        for (int64_t g = r0 / RP_ROWS; g < r1 / RP_ROWS; g++) {
            for (int64_t k0 = 0; k0 < nb; k0 += RP_K_BLOCK) {
                const int64_t kn = nb - k0 < RP_K_BLOCK ? nb - k0 : RP_K_BLOCK;
                const uint8_t *w = (const uint8_t *)packed + ((size_t)g * (size_t)nb + (size_t)k0) * bb;
                for (int64_t c0 = t0; c0 < t1; c0 += RP_MAXC) {
                    const int nc = (int)(t1 - c0 < RP_MAXC ? t1 - c0 : RP_MAXC);
                    const block_q8_K *a[RP_MAXC];
                    for (int c = 0; c < nc; c++) {
                        a[c] = (const block_q8_K *)((const uint8_t *)act + (size_t)(c0 + c) * act_row_bytes) + k0;
                    }
                    // a short batch reads the weights from memory in its first pass
                    tiles(nc, kn, w, a, out + c0 * out_stride + g * RP_ROWS, out_stride, k0 > 0,
                          c0 == t0 && n_tok <= RP_STREAM_TOKENS);
                }
            }
        }
    }
}

#else
void sk_matmul_repacked(int type, int64_t n, const void *packed, int64_t r0, int64_t r1, const void *act,
                        size_t act_row_bytes, int64_t n_tok, float *out, int64_t out_stride) {
    (void)type, (void)n, (void)packed, (void)r0, (void)r1, (void)act, (void)act_row_bytes, (void)n_tok, (void)out,
        (void)out_stride;
}
#endif
