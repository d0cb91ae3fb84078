// Attention kernels over an F16 KV cache, computed the two ways ggml's CPU flash attention does so
// results track llama.cpp's default path:
// - one query row (generation, and batches shorter than SK_ATTENTION_TILE): query rounded to F16,
//   single-pass online softmax, value accumulator in F16 (F16 arithmetic on CPUs with AVX512-FP16,
//   else F32 arithmetic rounded to F16 after every step, as ggml). The heads of a GQA group go
//   through the cached keys and values together (each row is read once per group), and a long
//   context can be split into chunks whose partial results are merged afterwards (ggml's split-KV
//   decode).
// - a tile of up to SK_ATTENTION_TILE query rows of one head (prompt batches): F32 throughout,
//   scores for 64 keys at a time as a small matrix product, block-wise softmax.
// A Q8_0 cache (llama.cpp's --cache-type-k/-v q8_0) has one path for every batch size, as in ggml:
// one query row at a time, the query quantized to Q8_0, integer dot products, an F32 accumulator
// (sk_attention_partial_q8_0, attention_q8.c).
// Keys may come in several segments (a rolling buffer wraps around; a prompt chunk sits outside the
// cache). AVX2/F16C paths are chosen at run time; the scalar paths compute the same way.
#ifndef SIROCCO_ATTENTION_H
#define SIROCCO_ATTENTION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// `n` consecutive cached positions starting at `pos`: key and value rows of `hd` values each, one
/// row after the other — F16; or, for sk_attention_partial_q8_0, the int8 values of ggml's Q8_0
/// blocks, with the F16 scale of block c of row t (t counted from this segment's first row) at
/// kd[c · dstride + t] and vd[c · dstride + t] (null and 0 for F16).
typedef struct {
    const void *k;
    const void *v;
    const uint16_t *kd;
    const uint16_t *vd;
    int64_t dstride;
    int64_t pos;
    int64_t n;
} sk_kv_segment;

/// Query rows per tile of the tiled (prompt) path, and the batch size from which ggml uses it.
#define SK_ATTENTION_TILE 64

/// Floats of per-thread scratch either kernel needs for head size `hd`.
int64_t sk_attention_scratch_floats(int64_t hd);

/// In every kernel a score is scale · q·k, or, with softcap > 0 (Gemma 2), softcap · tanh(scale · q·k
/// / softcap); softcap 0 leaves scores uncapped.
///
/// One query row of `g` heads that share a KV head (`q`: g rows of hd floats, hd apart) against
/// the positions in [lo, hi) of the segments (given in position order; the caller applies causality
/// and the window through lo and hi). Writes head j's partial result to
/// partials + j * partial_stride: [max score, sum of weights, accumulator[hd]] (2 + hd floats).
void sk_attention_partial_f16(const float *q, int64_t g, int64_t hd, float scale, float softcap,
                              const sk_kv_segment *segs, int64_t nsegs, int64_t lo, int64_t hi,
                              float *partials, int64_t partial_stride, float *scratch);

/// sk_attention_partial_f16 for a Q8_0 cache (key and value rows of hd / 32 GGML Q8_0 blocks, values
/// and scales apart as sk_kv_segment describes; hd a multiple of 32), computed as ggml computes
/// attention over a quantized cache: the query quantized to Q8_0, integer dot products, an F32
/// accumulator.
void sk_attention_partial_q8_0(const float *q, int64_t g, int64_t hd, float scale, float softcap,
                               const sk_kv_segment *segs, int64_t nsegs, int64_t lo, int64_t hi,
                               float *partials, int64_t partial_stride, float *scratch);

/// Writes `n` floats (a multiple of 32) as Q8_0 blocks the way ggml's CPU backend stores rows into a
/// Q8_0 cache: scale amax / 127 as F16, values × 127 / amax rounded to nearest (ties to even). The
/// values go to qs[0..<n], the scale of block i to d[i · dstride].
void sk_f32_to_q8_0(const float *src, int8_t *qs, uint16_t *d, int64_t dstride, int64_t n);

/// Merges `n` partial results of one head (stride floats apart) into out[0..<hd]: the softmax-
/// weighted sum of the values over all of their positions (zeros if none had any).
void sk_attention_merge(const float *partials, int64_t n, int64_t stride, int64_t hd, float *out);

/// `rows` (≤ SK_ATTENTION_TILE) query rows of one head at positions qpos0, qpos0 + 1, … (rows
/// `q_stride` floats apart) against the segments: a key at position kp is seen by the query at qp
/// when kp ≤ qp and, if window > 0, kp > qp − window. Writes the rows `out_stride` apart.
void sk_attention_tiled(const float *q, int64_t q_stride, int64_t rows, int64_t qpos0, int64_t hd,
                        float scale, float softcap, int64_t window, const sk_kv_segment *segs, int64_t nsegs,
                        float *out, int64_t out_stride, float *scratch);

#ifdef __cplusplus
}
#endif
#endif
