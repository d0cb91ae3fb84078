// Dequantization of one row, written once in portable C and compiled twice: by quants_scalar.c
// (SK_SFX = _scalar, SK_H2F = the bit-exact scalar half conversion) and by quants_avx2.c inside an
// AVX2/F16C target region (SK_SFX = _avx2, SK_H2F = vcvtph2ps), where clang vectorizes the loops.
// FP contraction is off (kernels_internal.h), and every expression keeps GGML's operation order
// (dequantize_row_* in ggml-quants.c, which gguf-py mirrors), so both builds are bit-identical with
// GGML: Q4_0/Q5_0/Q8_x: q * d; Q4_1/Q5_1: d * q + m; Q2_K/Q4_K/Q5_K: (d * sc) * q - (dmin * m);
// Q3_K/Q6_K: (d * sc) * q; IQ4_NL: d * level; IQ4_XS: (d * sc) * level.
#ifndef SK_SFX
#error "define SK_SFX and SK_H2F before including dequant_template.h"
#endif

#define SK_CAT2(a, b) a##b
#define SK_CAT(a, b) SK_CAT2(a, b)
#define SK_FN(name) SK_CAT(name, SK_SFX)

static void SK_FN(dequant_f32)(const void *SK_RESTRICT src, float *SK_RESTRICT dst, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}

static void SK_FN(dequant_f16)(const void *SK_RESTRICT src, float *SK_RESTRICT dst, int64_t n) {
    const sk_half *h = (const sk_half *)src;
    for (int64_t i = 0; i < n; i++) dst[i] = SK_H2F(h[i]);
}

static void SK_FN(dequant_bf16)(const void *SK_RESTRICT src, float *SK_RESTRICT dst, int64_t n) {
    const uint16_t *h = (const uint16_t *)src;
    for (int64_t i = 0; i < n; i++) dst[i] = sk_bf16_to_float(h[i]);
}

static void SK_FN(dequant_q4_0)(const void *SK_RESTRICT src, float *SK_RESTRICT dst, int64_t n) {
    const block_q4_0 *x = (const block_q4_0 *)src;
    const int64_t nb = n / QK4_0;
    for (int64_t i = 0; i < nb; i++) {
        const float d = SK_H2F(x[i].d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            const int v0 = (x[i].qs[j] & 0x0f) - 8;
            const int v1 = (x[i].qs[j] >> 4) - 8;
            dst[i * QK4_0 + j] = (float)v0 * d;
            dst[i * QK4_0 + j + QK4_0 / 2] = (float)v1 * d;
        }
    }
}

static void SK_FN(dequant_q4_1)(const void *SK_RESTRICT src, float *SK_RESTRICT dst, int64_t n) {
    const block_q4_1 *x = (const block_q4_1 *)src;
    const int64_t nb = n / QK4_1;
    for (int64_t i = 0; i < nb; i++) {
        const float d = SK_H2F(x[i].d);
        const float m = SK_H2F(x[i].m);
        for (int j = 0; j < QK4_1 / 2; j++) {
            const int v0 = x[i].qs[j] & 0x0f;
            const int v1 = x[i].qs[j] >> 4;
            dst[i * QK4_1 + j] = (float)v0 * d + m;
            dst[i * QK4_1 + j + QK4_1 / 2] = (float)v1 * d + m;
        }
    }
}

static void SK_FN(dequant_q5_0)(const void *SK_RESTRICT src, float *SK_RESTRICT dst, int64_t n) {
    const block_q5_0 *x = (const block_q5_0 *)src;
    const int64_t nb = n / QK5_0;
    for (int64_t i = 0; i < nb; i++) {
        const float d = SK_H2F(x[i].d);
        uint32_t qh;
        memcpy(&qh, x[i].qh, 4);
        for (int j = 0; j < QK5_0 / 2; j++) {
            const int h0 = (int)((qh >> j) & 1u) << 4;
            const int h1 = (int)((qh >> (j + 16)) & 1u) << 4;
            const int v0 = ((x[i].qs[j] & 0x0f) | h0) - 16;
            const int v1 = ((x[i].qs[j] >> 4) | h1) - 16;
            dst[i * QK5_0 + j] = (float)v0 * d;
            dst[i * QK5_0 + j + QK5_0 / 2] = (float)v1 * d;
        }
    }
}

static void SK_FN(dequant_q5_1)(const void *SK_RESTRICT src, float *SK_RESTRICT dst, int64_t n) {
    const block_q5_1 *x = (const block_q5_1 *)src;
    const int64_t nb = n / QK5_1;
    for (int64_t i = 0; i < nb; i++) {
        const float d = SK_H2F(x[i].d);
        const float m = SK_H2F(x[i].m);
        uint32_t qh;
        memcpy(&qh, x[i].qh, 4);
        for (int j = 0; j < QK5_1 / 2; j++) {
            const int h0 = (int)((qh >> j) & 1u) << 4;
            const int h1 = (int)((qh >> (j + 16)) & 1u) << 4;
            const int v0 = (x[i].qs[j] & 0x0f) | h0;
            const int v1 = (x[i].qs[j] >> 4) | h1;
            dst[i * QK5_1 + j] = (float)v0 * d + m;
            dst[i * QK5_1 + j + QK5_1 / 2] = (float)v1 * d + m;
        }
    }
}

static void SK_FN(dequant_q8_0)(const void *SK_RESTRICT src, float *SK_RESTRICT dst, int64_t n) {
    const block_q8_0 *x = (const block_q8_0 *)src;
    const int64_t nb = n / QK8_0;
    for (int64_t i = 0; i < nb; i++) {
        const float d = SK_H2F(x[i].d);
        for (int j = 0; j < QK8_0; j++) dst[i * QK8_0 + j] = (float)x[i].qs[j] * d;
    }
}

static void SK_FN(dequant_q8_1)(const void *SK_RESTRICT src, float *SK_RESTRICT dst, int64_t n) {
    const block_q8_1 *x = (const block_q8_1 *)src;
    const int64_t nb = n / QK8_1;
    for (int64_t i = 0; i < nb; i++) {
        const float d = SK_H2F(x[i].d);
        for (int j = 0; j < QK8_1; j++) dst[i * QK8_1 + j] = (float)x[i].qs[j] * d;
    }
}

static void SK_FN(dequant_q8_K)(const void *SK_RESTRICT src, float *SK_RESTRICT dst, int64_t n) {
    const block_q8_K *x = (const block_q8_K *)src;
    const int64_t nb = n / QK_K;
    for (int64_t i = 0; i < nb; i++) {
        const float d = x[i].d;
        for (int j = 0; j < QK_K; j++) dst[i * QK_K + j] = (float)x[i].qs[j] * d;
    }
}

// 6-bit scale j and min j (j in 0..7) of a Q4_K/Q5_K block (GGML's get_scale_min_k4):
// bytes 0-3 hold scales 0-3 in their low 6 bits, bytes 4-7 mins 0-3; scales/mins 4-7 take their low
// nibble from bytes 8-11 (scale: low nibble, min: high nibble) and their top 2 bits from the top bits
// of bytes 0-3 (scales) and 4-7 (mins).
#ifndef SK_SCALE_MIN_K4_DEFINED
#define SK_SCALE_MIN_K4_DEFINED
SK_INLINE void sk_scale_min_k4(int j, const uint8_t *SK_RESTRICT q, uint8_t *SK_RESTRICT sc, uint8_t *SK_RESTRICT m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}
#endif

// Element order of Q4_K: 4 chunks of 64 values; chunk c uses qs[32c .. 32c+31]: low nibbles are the
// values 64c .. 64c+31 (sub-block 2c), high nibbles 64c+32 .. 64c+63 (sub-block 2c+1).
static void SK_FN(dequant_q4_K)(const void *SK_RESTRICT src, float *SK_RESTRICT dst, int64_t n) {
    const block_q4_K *x = (const block_q4_K *)src;
    const int64_t nb = n / QK_K;
    for (int64_t i = 0; i < nb; i++) {
        const float d = SK_H2F(x[i].d);
        const float dmin = SK_H2F(x[i].dmin);
        const uint8_t *q = x[i].qs;
        float *y = dst + i * QK_K;
        for (int c = 0; c < 4; c++) {
            uint8_t sc, m;
            sk_scale_min_k4(2 * c, x[i].scales, &sc, &m);
            const float d1 = d * (float)sc, m1 = dmin * (float)m;
            sk_scale_min_k4(2 * c + 1, x[i].scales, &sc, &m);
            const float d2 = d * (float)sc, m2 = dmin * (float)m;
            for (int l = 0; l < 32; l++) y[l] = d1 * (float)(q[l] & 0x0f) - m1;
            for (int l = 0; l < 32; l++) y[l + 32] = d2 * (float)(q[l] >> 4) - m2;
            q += 32;
            y += 64;
        }
    }
}

// Q5_K: as Q4_K, plus a fifth bit: value 32s + l (sub-block s) takes bit s of qh[l] as bit 4.
static void SK_FN(dequant_q5_K)(const void *SK_RESTRICT src, float *SK_RESTRICT dst, int64_t n) {
    const block_q5_K *x = (const block_q5_K *)src;
    const int64_t nb = n / QK_K;
    for (int64_t i = 0; i < nb; i++) {
        const float d = SK_H2F(x[i].d);
        const float dmin = SK_H2F(x[i].dmin);
        const uint8_t *ql = x[i].qs;
        const uint8_t *qh = x[i].qh;
        float *y = dst + i * QK_K;
        for (int c = 0; c < 4; c++) {
            uint8_t sc, m;
            sk_scale_min_k4(2 * c, x[i].scales, &sc, &m);
            const float d1 = d * (float)sc, m1 = dmin * (float)m;
            sk_scale_min_k4(2 * c + 1, x[i].scales, &sc, &m);
            const float d2 = d * (float)sc, m2 = dmin * (float)m;
            const int b1 = 2 * c, b2 = 2 * c + 1;
            for (int l = 0; l < 32; l++) y[l] = d1 * (float)((ql[l] & 0x0f) | (((qh[l] >> b1) & 1) << 4)) - m1;
            for (int l = 0; l < 32; l++) y[l + 32] = d2 * (float)((ql[l] >> 4) | (((qh[l] >> b2) & 1) << 4)) - m2;
            ql += 32;
            y += 64;
        }
    }
}

// Q6_K: two halves of 128 values; half h uses ql[64h .. 64h+63] and qh[32h .. 32h+31]. Value
// 128h + 32k + l (k 0..3, l 0..31) is: low 4 bits from ql[64h + l] (k=0: low nibble, k=2: high) or
// ql[64h + 32 + l] (k=1: low, k=3: high); high 2 bits are bits 2k, 2k+1 of qh[32h + l]; minus 32.
// Scale index is value / 16.
static void SK_FN(dequant_q6_K)(const void *SK_RESTRICT src, float *SK_RESTRICT dst, int64_t n) {
    const block_q6_K *x = (const block_q6_K *)src;
    const int64_t nb = n / QK_K;
    for (int64_t i = 0; i < nb; i++) {
        const float d = SK_H2F(x[i].d);
        const uint8_t *ql = x[i].ql;
        const uint8_t *qh = x[i].qh;
        const int8_t *sc = x[i].scales;
        float *y = dst + i * QK_K;
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l + 0] = d * (float)sc[is + 0] * (float)q1;
                y[l + 32] = d * (float)sc[is + 2] * (float)q2;
                y[l + 64] = d * (float)sc[is + 4] * (float)q3;
                y[l + 96] = d * (float)sc[is + 6] * (float)q4;
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }
}

// Q2_K: 16 groups of 16 values, group g = value / 16 with scale byte scales[g] (low nibble: scale,
// high nibble: min). Value 128h + 32j + l (h 0..1, j 0..3, l 0..31) is bits 2j, 2j+1 of qs[32h + l].
static void SK_FN(dequant_q2_K)(const void *SK_RESTRICT src, float *SK_RESTRICT dst, int64_t n) {
    const block_q2_K *x = (const block_q2_K *)src;
    const int64_t nb = n / QK_K;
    for (int64_t i = 0; i < nb; i++) {
        const float d = SK_H2F(x[i].d);
        const float dmin = SK_H2F(x[i].dmin);
        float *y = dst + i * QK_K;
        for (int g = 0; g < 16; g++) {
            const float dl = d * (float)(x[i].scales[g] & 0x0f), ml = dmin * (float)(x[i].scales[g] >> 4);
            const uint8_t *q = x[i].qs + 32 * (g / 8) + 16 * (g & 1);
            const int shift = 2 * ((g / 2) & 3);
            for (int l = 0; l < 16; l++) y[16 * g + l] = dl * (float)((q[l] >> shift) & 3) - ml;
        }
    }
}

// 6-bit signed scale g (0..15) of a Q3_K block, minus 32: low 4 bits from byte g (g < 8, low
// nibble) or g - 8 (high nibble), top 2 bits from bits 2(g / 4), +1 of byte 8 + g % 4.
#ifndef SK_Q3K_SCALE_DEFINED
#define SK_Q3K_SCALE_DEFINED
SK_INLINE int sk_q3k_scale(const uint8_t *s, int g) {
    const int lo = g < 8 ? s[g] & 0x0f : s[g - 8] >> 4;
    const int hi = (s[8 + (g & 3)] >> (2 * (g / 4))) & 3;
    return (lo | hi << 4) - 32;
}
#endif

// Q3_K: as Q2_K's layout for the low 2 bits; the third bit of value v is bit v / 32 of hmask[v % 32],
// and the value is (low | third << 2) - 4.
static void SK_FN(dequant_q3_K)(const void *SK_RESTRICT src, float *SK_RESTRICT dst, int64_t n) {
    const block_q3_K *x = (const block_q3_K *)src;
    const int64_t nb = n / QK_K;
    for (int64_t i = 0; i < nb; i++) {
        const float d = SK_H2F(x[i].d);
        float *y = dst + i * QK_K;
        for (int g = 0; g < 16; g++) {
            const float dl = d * (float)sk_q3k_scale(x[i].scales, g);
            const uint8_t *q = x[i].qs + 32 * (g / 8) + 16 * (g & 1);
            const uint8_t *hm = x[i].hmask + 16 * (g & 1);
            const int shift = 2 * ((g / 2) & 3), bit = g / 2;
            for (int l = 0; l < 16; l++) {
                const int v = ((q[l] >> shift) & 3) - ((hm[l] >> bit) & 1 ? 0 : 4);
                y[16 * g + l] = dl * (float)v;
            }
        }
    }
}

// IQ4_NL: blocks of 32; value j (< 16) is the level of qs[j]'s low nibble, value 16 + j its high one.
static void SK_FN(dequant_iq4_nl)(const void *SK_RESTRICT src, float *SK_RESTRICT dst, int64_t n) {
    const block_iq4_nl *x = (const block_iq4_nl *)src;
    const int64_t nb = n / QK4_NL;
    for (int64_t i = 0; i < nb; i++) {
        const float d = SK_H2F(x[i].d);
        for (int j = 0; j < QK4_NL / 2; j++) {
            dst[i * QK4_NL + j] = d * (float)sk_iq4nl_values[x[i].qs[j] & 0x0f];
            dst[i * QK4_NL + j + QK4_NL / 2] = d * (float)sk_iq4nl_values[x[i].qs[j] >> 4];
        }
    }
}

// 6-bit scale of sub-block b (0..7) of an IQ4_XS block, minus 32: low 4 bits from scales_l[b / 2]
// (low nibble for even b), top 2 bits from bits 2b, 2b+1 of scales_h.
#ifndef SK_IQ4XS_SCALE_DEFINED
#define SK_IQ4XS_SCALE_DEFINED
SK_INLINE int sk_iq4xs_scale(const block_iq4_xs *x, int b) {
    return (((x->scales_l[b / 2] >> 4 * (b & 1)) & 0x0f) | (((x->scales_h >> 2 * b) & 3) << 4)) - 32;
}
#endif

// IQ4_XS: 8 sub-blocks of 32 laid out as IQ4_NL blocks (qs[16b .. 16b+15]) with 6-bit scales.
static void SK_FN(dequant_iq4_xs)(const void *SK_RESTRICT src, float *SK_RESTRICT dst, int64_t n) {
    const block_iq4_xs *x = (const block_iq4_xs *)src;
    const int64_t nb = n / QK_K;
    for (int64_t i = 0; i < nb; i++) {
        const float d = SK_H2F(x[i].d);
        for (int b = 0; b < QK_K / 32; b++) {
            const float dl = d * (float)sk_iq4xs_scale(&x[i], b);
            const uint8_t *q = x[i].qs + 16 * b;
            float *y = dst + i * QK_K + 32 * b;
            for (int j = 0; j < 16; j++) {
                y[j] = dl * (float)sk_iq4nl_values[q[j] & 0x0f];
                y[j + 16] = dl * (float)sk_iq4nl_values[q[j] >> 4];
            }
        }
    }
}

static void SK_FN(fill_dequant)(sk_table *t) {
    t->dequant[SKW_F32] = SK_FN(dequant_f32);
    t->dequant[SKW_F16] = SK_FN(dequant_f16);
    t->dequant[SKW_BF16] = SK_FN(dequant_bf16);
    t->dequant[SKW_Q4_0] = SK_FN(dequant_q4_0);
    t->dequant[SKW_Q4_1] = SK_FN(dequant_q4_1);
    t->dequant[SKW_Q5_0] = SK_FN(dequant_q5_0);
    t->dequant[SKW_Q5_1] = SK_FN(dequant_q5_1);
    t->dequant[SKW_Q8_0] = SK_FN(dequant_q8_0);
    t->dequant[SKW_Q2_K] = SK_FN(dequant_q2_K);
    t->dequant[SKW_Q3_K] = SK_FN(dequant_q3_K);
    t->dequant[SKW_Q4_K] = SK_FN(dequant_q4_K);
    t->dequant[SKW_Q5_K] = SK_FN(dequant_q5_K);
    t->dequant[SKW_Q6_K] = SK_FN(dequant_q6_K);
    t->dequant[SKW_IQ4_NL] = SK_FN(dequant_iq4_nl);
    t->dequant[SKW_IQ4_XS] = SK_FN(dequant_iq4_xs);
    t->dequant_q8_0 = SK_FN(dequant_q8_0);
    t->dequant_q8_1 = SK_FN(dequant_q8_1);
    t->dequant_q8_K = SK_FN(dequant_q8_K);
}

#undef SK_FN
#undef SK_CAT
#undef SK_CAT2
