// Portable scalar kernels: activation quantization (GGML's *_ref quantizers), dot products of every
// supported weight type with its activation type, and dequantization (dequant_template.h).
#include "kernels_internal.h"

#include <math.h>

#define SK_SFX _scalar
#define SK_H2F sk_half_to_float_scalar
#include "dequant_template.h"
#undef SK_SFX
#undef SK_H2F

#define H2F sk_half_to_float_scalar
#define F2H sk_float_to_half_scalar

// ---------------------------------------------------------------------------------------------
// Activation quantization (quantize_row_q8_0_ref / q8_1_ref / q8_K_ref)

// side table after the blocks (see kernels_internal.h)
static void fill_side_table(void *dst, int64_t nb, int is_q8_1) {
    const size_t bs = is_q8_1 ? sizeof(block_q8_1) : sizeof(block_q8_0);
    float *td = (float *)((uint8_t *)dst + sk_act_side_offset(bs, nb));
    const int64_t nbp = sk_act_nbp(nb);
    float *tt = td + nbp;
    for (int64_t i = 0; i < nb; i++) {
        if (is_q8_1) {
            const block_q8_1 *b = (const block_q8_1 *)dst + i;
            td[i] = H2F(b->d);
            tt[i] = H2F(b->s);
        } else {
            const block_q8_0 *b = (const block_q8_0 *)dst + i;
            int sum = 0;
            for (int j = 0; j < QK8_0; j++) sum += b->qs[j];
            td[i] = H2F(b->d);
            tt[i] = td[i] * (float)sum;
        }
    }
    for (int64_t i = nb; i < nbp; i++) td[i] = tt[i] = 0.0f;
}

static void quant_q8_0_scalar(const float *SK_RESTRICT x, void *SK_RESTRICT dst, int64_t n) {
    block_q8_0 *y = (block_q8_0 *)dst;
    const int64_t nb = n / QK8_0;
    for (int64_t i = 0; i < nb; i++) {
        const float *xb = x + i * QK8_0;
        float amax = 0.0f;
        for (int j = 0; j < QK8_0; j++) amax = fmaxf(amax, fabsf(xb[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = F2H(d);
        for (int j = 0; j < QK8_0; j++) y[i].qs[j] = (int8_t)roundf(xb[j] * id);
    }
    fill_side_table(dst, nb, 0);
}

static void quant_q8_1_scalar(const float *SK_RESTRICT x, void *SK_RESTRICT dst, int64_t n) {
    block_q8_1 *y = (block_q8_1 *)dst;
    const int64_t nb = n / QK8_1;
    for (int64_t i = 0; i < nb; i++) {
        const float *xb = x + i * QK8_1;
        float amax = 0.0f;
        for (int j = 0; j < QK8_1; j++) amax = fmaxf(amax, fabsf(xb[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = F2H(d);
        int sum = 0;
        for (int j = 0; j < QK8_1; j++) {
            const int8_t q = (int8_t)roundf(xb[j] * id);
            y[i].qs[j] = q;
            sum += q;
        }
        y[i].s = F2H((float)sum * d);
    }
    fill_side_table(dst, nb, 1);
}

// GGML's nearest_int: round to nearest, ties to even (valid for |v| < 2^22)
static inline int sk_nearest_int(float v) {
    const float t = v + 12582912.0f;
    int32_t i;
    memcpy(&i, &t, 4);
    return (i & 0x007fffff) - 0x00400000;
}

static void quant_q8_K_scalar(const float *SK_RESTRICT x, void *SK_RESTRICT dst, int64_t n) {
    block_q8_K *y = (block_q8_K *)dst;
    const int64_t nb = n / QK_K;
    for (int64_t i = 0; i < nb; i++) {
        const float *xb = x + i * QK_K;
        float max = 0.0f, amax = 0.0f;
        for (int j = 0; j < QK_K; j++) {
            const float ax = fabsf(xb[j]);
            if (ax > amax) { amax = ax; max = xb[j]; }
        }
        if (amax == 0.0f) {
            y[i].d = 0.0f;
            memset(y[i].qs, 0, sizeof(y[i].qs));
            memset(y[i].bsums, 0, sizeof(y[i].bsums));
            continue;
        }
        const float iscale = -127.0f / max;
        for (int j = 0; j < QK_K; j++) {
            const int v = sk_nearest_int(iscale * xb[j]);
            y[i].qs[j] = (int8_t)(v < 127 ? v : 127);
        }
        for (int g = 0; g < QK_K / 16; g++) {
            int sum = 0;
            for (int l = 0; l < 16; l++) sum += y[i].qs[16 * g + l];
            y[i].bsums[g] = (int16_t)sum;
        }
        y[i].d = 1.0f / iscale;
    }
}

// ---------------------------------------------------------------------------------------------
// Dot products. Integer sums per block are exact; blocks are combined in float in block order.

static float dot_q4_0_scalar(int64_t n, const void *SK_RESTRICT vw, const void *SK_RESTRICT va) {
    const block_q4_0 *x = (const block_q4_0 *)vw;
    const block_q8_0 *y = (const block_q8_0 *)va;
    const int64_t nb = n / QK4_0;
    float sumf = 0.0f;
    for (int64_t i = 0; i < nb; i++) {
        int sumi = 0;
        for (int j = 0; j < QK4_0 / 2; j++) {
            sumi += ((x[i].qs[j] & 0x0f) - 8) * y[i].qs[j];
            sumi += ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + QK4_0 / 2];
        }
        sumf += (H2F(x[i].d) * H2F(y[i].d)) * (float)sumi;
    }
    return sumf;
}

static float dot_q4_1_scalar(int64_t n, const void *SK_RESTRICT vw, const void *SK_RESTRICT va) {
    const block_q4_1 *x = (const block_q4_1 *)vw;
    const block_q8_1 *y = (const block_q8_1 *)va;
    const int64_t nb = n / QK4_1;
    float sumf = 0.0f;
    for (int64_t i = 0; i < nb; i++) {
        int sumi = 0;
        for (int j = 0; j < QK4_1 / 2; j++) {
            sumi += (x[i].qs[j] & 0x0f) * y[i].qs[j];
            sumi += (x[i].qs[j] >> 4) * y[i].qs[j + QK4_1 / 2];
        }
        sumf += (H2F(x[i].d) * H2F(y[i].d)) * (float)sumi + H2F(x[i].m) * H2F(y[i].s);
    }
    return sumf;
}

static float dot_q5_0_scalar(int64_t n, const void *SK_RESTRICT vw, const void *SK_RESTRICT va) {
    const block_q5_0 *x = (const block_q5_0 *)vw;
    const block_q8_0 *y = (const block_q8_0 *)va;
    const int64_t nb = n / QK5_0;
    float sumf = 0.0f;
    for (int64_t i = 0; i < nb; i++) {
        uint32_t qh;
        memcpy(&qh, x[i].qh, 4);
        int sumi = 0;
        for (int j = 0; j < QK5_0 / 2; j++) {
            const int v0 = ((x[i].qs[j] & 0x0f) | (int)(((qh >> j) & 1u) << 4)) - 16;
            const int v1 = ((x[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4)) - 16;
            sumi += v0 * y[i].qs[j] + v1 * y[i].qs[j + QK5_0 / 2];
        }
        sumf += (H2F(x[i].d) * H2F(y[i].d)) * (float)sumi;
    }
    return sumf;
}

static float dot_q5_1_scalar(int64_t n, const void *SK_RESTRICT vw, const void *SK_RESTRICT va) {
    const block_q5_1 *x = (const block_q5_1 *)vw;
    const block_q8_1 *y = (const block_q8_1 *)va;
    const int64_t nb = n / QK5_1;
    float sumf = 0.0f;
    for (int64_t i = 0; i < nb; i++) {
        uint32_t qh;
        memcpy(&qh, x[i].qh, 4);
        int sumi = 0;
        for (int j = 0; j < QK5_1 / 2; j++) {
            const int v0 = (x[i].qs[j] & 0x0f) | (int)(((qh >> j) & 1u) << 4);
            const int v1 = (x[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
            sumi += v0 * y[i].qs[j] + v1 * y[i].qs[j + QK5_1 / 2];
        }
        sumf += (H2F(x[i].d) * H2F(y[i].d)) * (float)sumi + H2F(x[i].m) * H2F(y[i].s);
    }
    return sumf;
}

static float dot_q8_0_scalar(int64_t n, const void *SK_RESTRICT vw, const void *SK_RESTRICT va) {
    const block_q8_0 *x = (const block_q8_0 *)vw;
    const block_q8_0 *y = (const block_q8_0 *)va;
    const int64_t nb = n / QK8_0;
    float sumf = 0.0f;
    for (int64_t i = 0; i < nb; i++) {
        int sumi = 0;
        for (int j = 0; j < QK8_0; j++) sumi += x[i].qs[j] * y[i].qs[j];
        sumf += (H2F(x[i].d) * H2F(y[i].d)) * (float)sumi;
    }
    return sumf;
}

// K-quants: sum_j sc_j * dot_j is exact in int32 for a super-block; the mins term uses the Q8_K
// group sums: sum_j m_j * (bsums[2j] + bsums[2j+1]).
static float dot_q4_K_scalar(int64_t n, const void *SK_RESTRICT vw, const void *SK_RESTRICT va) {
    const block_q4_K *x = (const block_q4_K *)vw;
    const block_q8_K *y = (const block_q8_K *)va;
    const int64_t nb = n / QK_K;
    float sumf = 0.0f;
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *q = x[i].qs;
        const int8_t *a = y[i].qs;
        int32_t sumi = 0, summ = 0;
        for (int c = 0; c < 4; c++) {
            uint8_t sc1, m1, sc2, m2;
            sk_scale_min_k4(2 * c, x[i].scales, &sc1, &m1);
            sk_scale_min_k4(2 * c + 1, x[i].scales, &sc2, &m2);
            int32_t s1 = 0, s2 = 0;
            for (int l = 0; l < 32; l++) {
                s1 += (q[l] & 0x0f) * a[l];
                s2 += (q[l] >> 4) * a[l + 32];
            }
            sumi += sc1 * s1 + sc2 * s2;
            summ += m1 * (y[i].bsums[4 * c] + y[i].bsums[4 * c + 1]) + m2 * (y[i].bsums[4 * c + 2] + y[i].bsums[4 * c + 3]);
            q += 32;
            a += 64;
        }
        sumf += (H2F(x[i].d) * y[i].d) * (float)sumi - (H2F(x[i].dmin) * y[i].d) * (float)summ;
    }
    return sumf;
}

static float dot_q5_K_scalar(int64_t n, const void *SK_RESTRICT vw, const void *SK_RESTRICT va) {
    const block_q5_K *x = (const block_q5_K *)vw;
    const block_q8_K *y = (const block_q8_K *)va;
    const int64_t nb = n / QK_K;
    float sumf = 0.0f;
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *q = x[i].qs;
        const uint8_t *qh = x[i].qh;
        const int8_t *a = y[i].qs;
        int32_t sumi = 0, summ = 0;
        for (int c = 0; c < 4; c++) {
            uint8_t sc1, m1, sc2, m2;
            sk_scale_min_k4(2 * c, x[i].scales, &sc1, &m1);
            sk_scale_min_k4(2 * c + 1, x[i].scales, &sc2, &m2);
            int32_t s1 = 0, s2 = 0;
            for (int l = 0; l < 32; l++) {
                s1 += ((q[l] & 0x0f) | (((qh[l] >> (2 * c)) & 1) << 4)) * a[l];
                s2 += ((q[l] >> 4) | (((qh[l] >> (2 * c + 1)) & 1) << 4)) * a[l + 32];
            }
            sumi += sc1 * s1 + sc2 * s2;
            summ += m1 * (y[i].bsums[4 * c] + y[i].bsums[4 * c + 1]) + m2 * (y[i].bsums[4 * c + 2] + y[i].bsums[4 * c + 3]);
            q += 32;
            a += 64;
        }
        sumf += (H2F(x[i].d) * y[i].d) * (float)sumi - (H2F(x[i].dmin) * y[i].d) * (float)summ;
    }
    return sumf;
}

static float dot_q6_K_scalar(int64_t n, const void *SK_RESTRICT vw, const void *SK_RESTRICT va) {
    const block_q6_K *x = (const block_q6_K *)vw;
    const block_q8_K *y = (const block_q8_K *)va;
    const int64_t nb = n / QK_K;
    float sumf = 0.0f;
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *ql = x[i].ql;
        const uint8_t *qh = x[i].qh;
        const int8_t *a = y[i].qs;
        int32_t g[16] = {0};  // per 16-value group
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                const int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                const int gi = 8 * h + l / 16;
                g[gi + 0] += q1 * a[l];
                g[gi + 2] += q2 * a[l + 32];
                g[gi + 4] += q3 * a[l + 64];
                g[gi + 6] += q4 * a[l + 96];
            }
            ql += 64;
            qh += 32;
            a += 128;
        }
        int32_t sumi = 0;
        for (int k = 0; k < 16; k++) sumi += x[i].scales[k] * g[k];
        sumf += (H2F(x[i].d) * y[i].d) * (float)sumi;
    }
    return sumf;
}

// Q2_K: sum_g sc_g * dot_g with 2-bit unsigned values, minus the mins term sum_g m_g * bsums[g]
// (groups of 16 are Q8_K's bsums groups).
static float dot_q2_K_scalar(int64_t n, const void *SK_RESTRICT vw, const void *SK_RESTRICT va) {
    const block_q2_K *x = (const block_q2_K *)vw;
    const block_q8_K *y = (const block_q8_K *)va;
    const int64_t nb = n / QK_K;
    float sumf = 0.0f;
    for (int64_t i = 0; i < nb; i++) {
        int32_t sumi = 0, summ = 0;
        for (int g = 0; g < 16; g++) {
            const uint8_t *q = x[i].qs + 32 * (g / 8) + 16 * (g & 1);
            const int8_t *a = y[i].qs + 16 * g;
            const int shift = 2 * ((g / 2) & 3);
            int32_t s = 0;
            for (int l = 0; l < 16; l++) s += ((q[l] >> shift) & 3) * a[l];
            sumi += (x[i].scales[g] & 0x0f) * s;
            summ += (x[i].scales[g] >> 4) * y[i].bsums[g];
        }
        sumf += (H2F(x[i].d) * y[i].d) * (float)sumi - (H2F(x[i].dmin) * y[i].d) * (float)summ;
    }
    return sumf;
}

// Q3_K: signed 3-bit values (low | third << 2) - 4 with signed 6-bit group scales, exact in int32.
static float dot_q3_K_scalar(int64_t n, const void *SK_RESTRICT vw, const void *SK_RESTRICT va) {
    const block_q3_K *x = (const block_q3_K *)vw;
    const block_q8_K *y = (const block_q8_K *)va;
    const int64_t nb = n / QK_K;
    float sumf = 0.0f;
    for (int64_t i = 0; i < nb; i++) {
        int32_t sumi = 0;
        for (int g = 0; g < 16; g++) {
            const uint8_t *q = x[i].qs + 32 * (g / 8) + 16 * (g & 1);
            const uint8_t *hm = x[i].hmask + 16 * (g & 1);
            const int8_t *a = y[i].qs + 16 * g;
            const int shift = 2 * ((g / 2) & 3), bit = g / 2;
            int32_t s = 0;
            for (int l = 0; l < 16; l++) s += (((q[l] >> shift) & 3) - ((hm[l] >> bit) & 1 ? 0 : 4)) * a[l];
            sumi += sk_q3k_scale(x[i].scales, g) * s;
        }
        sumf += (H2F(x[i].d) * y[i].d) * (float)sumi;
    }
    return sumf;
}

static float dot_iq4_nl_scalar(int64_t n, const void *SK_RESTRICT vw, const void *SK_RESTRICT va) {
    const block_iq4_nl *x = (const block_iq4_nl *)vw;
    const block_q8_0 *y = (const block_q8_0 *)va;
    const int64_t nb = n / QK4_NL;
    float sumf = 0.0f;
    for (int64_t i = 0; i < nb; i++) {
        int sumi = 0;
        for (int j = 0; j < QK4_NL / 2; j++) {
            sumi += sk_iq4nl_values[x[i].qs[j] & 0x0f] * y[i].qs[j];
            sumi += sk_iq4nl_values[x[i].qs[j] >> 4] * y[i].qs[j + QK4_NL / 2];
        }
        sumf += (H2F(x[i].d) * H2F(y[i].d)) * (float)sumi;
    }
    return sumf;
}

static float dot_iq4_xs_scalar(int64_t n, const void *SK_RESTRICT vw, const void *SK_RESTRICT va) {
    const block_iq4_xs *x = (const block_iq4_xs *)vw;
    const block_q8_K *y = (const block_q8_K *)va;
    const int64_t nb = n / QK_K;
    float sumf = 0.0f;
    for (int64_t i = 0; i < nb; i++) {
        int32_t sumi = 0;
        for (int b = 0; b < QK_K / 32; b++) {
            const uint8_t *q = x[i].qs + 16 * b;
            const int8_t *a = y[i].qs + 32 * b;
            int32_t s = 0;
            for (int j = 0; j < 16; j++) {
                s += sk_iq4nl_values[q[j] & 0x0f] * a[j];
                s += sk_iq4nl_values[q[j] >> 4] * a[j + 16];
            }
            sumi += sk_iq4xs_scale(&x[i], b) * s;
        }
        sumf += (H2F(x[i].d) * y[i].d) * (float)sumi;
    }
    return sumf;
}

static float dot_f32_w_scalar(int64_t n, const void *SK_RESTRICT vw, const void *SK_RESTRICT va) {
    const float *w = (const float *)vw, *a = (const float *)va;
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += w[i] * a[i];
    return s;
}

static float dot_f16_w_scalar(int64_t n, const void *SK_RESTRICT vw, const void *SK_RESTRICT va) {
    const sk_half *w = (const sk_half *)vw;
    const float *a = (const float *)va;
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += H2F(w[i]) * a[i];
    return s;
}

static float dot_bf16_w_scalar(int64_t n, const void *SK_RESTRICT vw, const void *SK_RESTRICT va) {
    const uint16_t *w = (const uint16_t *)vw;
    const float *a = (const float *)va;
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += sk_bf16_to_float(w[i]) * a[i];
    return s;
}

void sk_fill_scalar_table(sk_table *t) {
    memset(t, 0, sizeof(*t));
    t->is_avx2 = 0;
    fill_dequant_scalar(t);
    t->quant_q8_0 = quant_q8_0_scalar;
    t->quant_q8_1 = quant_q8_1_scalar;
    t->quant_q8_K = quant_q8_K_scalar;
    t->w[SKW_F32].dot = dot_f32_w_scalar;
    t->w[SKW_F16].dot = dot_f16_w_scalar;
    t->w[SKW_BF16].dot = dot_bf16_w_scalar;
    t->w[SKW_Q4_0].dot = dot_q4_0_scalar;
    t->w[SKW_Q4_1].dot = dot_q4_1_scalar;
    t->w[SKW_Q5_0].dot = dot_q5_0_scalar;
    t->w[SKW_Q5_1].dot = dot_q5_1_scalar;
    t->w[SKW_Q8_0].dot = dot_q8_0_scalar;
    t->w[SKW_Q2_K].dot = dot_q2_K_scalar;
    t->w[SKW_Q3_K].dot = dot_q3_K_scalar;
    t->w[SKW_Q4_K].dot = dot_q4_K_scalar;
    t->w[SKW_Q5_K].dot = dot_q5_K_scalar;
    t->w[SKW_Q6_K].dot = dot_q6_K_scalar;
    t->w[SKW_IQ4_NL].dot = dot_iq4_nl_scalar;
    t->w[SKW_IQ4_XS].dot = dot_iq4_xs_scalar;
    sk_fill_float_ops_scalar(t);
}
