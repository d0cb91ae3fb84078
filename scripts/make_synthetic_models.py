#!/usr/bin/env python3
"""Writes tiny synthetic GGUF models (seeded random weights) and reference logits for them.

Output: Tests/SiroccoEngineTests/Fixtures/synthetic/<model>.gguf and <model>.logits.json, where the
JSON holds the logits at EVERY position of one fixed 40-token sequence (seeded, no special ids)
evaluated in one batch from an empty cache (n_ctx 64, 2 threads, llama.cpp's default f16 KV cache and
flash attention "auto", which resolves to enabled), rounded to 5 decimals, and the greedy continuation
of 8 tokens (argmax, one token per 1-token decode):
  model, reference ("llama.cpp 0.3.36 (llama-cpp-python)" or "scripts/reference_forward.py (NumPy)"),
  flash_attn, llama_cpp_context, tokens[40], n_vocab, logits[40][n_vocab], greedy[8],
  greedy_top2_margins[8] (top-2 logit gap of each greedy choice), greedy_step_logits[7][n_vocab]
  (logits of the decodes of greedy[0..6], at positions 40..46); MoE models also selected_experts
  [48][n_layer][2] for the inputs tokens + greedy; llama_cpp_warnings if llama.cpp logged any.

Models (vocab: a SentencePiece-style `llama` vocab of 300 pieces: <unk> <s> </s>, the 256 byte
tokens <0x00>..<0xFF> with token type 6, and 41 plain pieces with scores):
  llama-moe-{q8_0,q4_0,q4_k,q6_k}   llama, 8 experts / 2 used, 2 layers, dim 256, 4 heads / 2 KV heads,
                                     expert ffn 128 (q8_0, q4_0) or 256 (K-quants), router
                                     blk.N.ffn_gate_inp.weight in F32 (see routed_embedding)
  llama-dense-{f16,bf16,q5_k,q4_1,q5_0}  llama, 2 layers, dim 256, 4/2 heads, ffn 128..512
                                     (q5_k and q4_1 have a separate output.weight, the others are tied)
  llama-dense-{q2_k,q3_k,iq4_nl,iq4_xs}  the same, ffn 512/256/320/256 (q2_k and iq4_nl have a
                                     separate output.weight), quantized by llama.cpp's own quantizer
  qwen2-q8_0    qwen2 with Q/K/V biases (NeoX RoPE), tied output
  phi3-q8_0     phi3 with fused attn_qkv ([Q | K | V]) and fused ffn_up ([gate | up]), separate output
  gemma3-q8_0   gemma3, 6 layers, sliding window 8, head_dim 64 != dim/heads, 1 KV head, tied output
  gemma2-q8_0   gemma2, 4 layers (even ones windowed, window 8), no QK-norm, 2 KV heads, attention
                scores and logits soft-capped with caps small enough to bind (attention 0.6, logits 2)
  qwen3-q8_0    qwen3: QK-norm, no biases, 8 query heads × 64 != dim, 2 KV heads, tied output
  falcon-{7b,40b}-q8_0  falcon: LayerNorms with biases, fused attn_qkv, parallel attention + GELU
                feed-forward; 7b: one KV head (multi-query); 40b: two KV heads and attn_norm_2
  llama-swa-q8_0  llama + llama.attention.sliding_window = 8 (Mistral v0.1 style). llama.cpp ignores
                the window for arch llama, so its reference comes from scripts/reference_forward.py.

Every weight matrix (token_embd and output included) is stored in the type named in the file name;
norms, biases and the MoE router are F32. gguf-py quantizes F16/BF16/Q4_0/Q4_1/Q5_0/Q8_0; the
K-quants (Q4_K, Q5_K, Q6_K), which gguf-py can only dequantize, are encoded by the simple
quantizers below (per-sub-block min/max scales); Q2_K, Q3_K, IQ4_NL and IQ4_XS by llama.cpp's
ggml_quantize_chunk (libggml-base from llama-cpp-python, no importance matrix, as llama-quantize
does without one). Every encoder's output is checked against gguf-py's dequantizer.
Seeds (MODELS[...]["seed_offset"]) are chosen so that greedy decisions are not near-ties and emit no
special token; MoE routing is made tie-free by construction (routed_embedding).

Usage: python3 scripts/make_synthetic_models.py [--no-logits] [--only NAME ...] [--search-seeds]
Needs numpy, gguf (gguf-py) and llama-cpp-python (tested with 0.3.36). Deterministic output.
Check the NumPy reference with: python3 scripts/reference_forward.py --validate / --validate-f32
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import sys
import zlib

import numpy as np

# ggml's OpenMP threads spin at barriers by default; passive waiting changes scheduling only.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import gguf  # noqa: E402
from gguf import GGMLQuantizationType as T  # noqa: E402
from gguf import quants  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_forward  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "SiroccoEngineTests", "Fixtures", "synthetic")

N_TOKENS = 40
N_GREEDY = 8
N_CTX = 64
N_THREADS = 2
ROUND = 5
TOKEN_SEED = 20240601
GREEDY_MARGIN = 0.15  # seeds are chosen so that every greedy step's top-2 logit gap is at least this
QK_K = 256

# ------------------------------------------------------------------------------------------------
# vocabulary
# ------------------------------------------------------------------------------------------------

PIECES = [
    "▁", "e", "t", "a", "o", "n", "i", "s", "r", "h", "l", "d", "▁t", "▁a", "th", "he", "in",
    "er", "an", "▁th", "▁the", "on", "re", "at", "en", "nd", "ed", "es", "or", "▁w", "▁s", "▁o",
    "▁c", "▁b", "▁f", "▁m", "▁h", "▁i", "▁p", "▁d", "ou",
]
TT_NORMAL, TT_UNKNOWN, TT_CONTROL, TT_BYTE = 1, 2, 3, 6


def vocab():
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + PIECES
    scores = [0.0, 0.0, 0.0] + [0.0] * 256 + [-float(i) for i in range(len(PIECES))]
    types = [TT_UNKNOWN, TT_CONTROL, TT_CONTROL] + [TT_BYTE] * 256 + [TT_NORMAL] * len(PIECES)
    return tokens, scores, types


N_VOCAB = len(vocab()[0])  # 300
SPECIAL = {0, 1, 2}


def token_sequence():
    rng = np.random.default_rng(TOKEN_SEED)
    allowed = np.array([t for t in range(N_VOCAB) if t not in SPECIAL])
    return [int(t) for t in rng.choice(allowed, size=N_TOKENS, replace=True)]


# ------------------------------------------------------------------------------------------------
# K-quant encoders (gguf-py has only the decoders); layouts as in ggml's block_q4_K/q5_K/q6_K
# ------------------------------------------------------------------------------------------------

def _f16(x):
    return np.asarray(x, dtype=np.float32).astype(np.float16)


def _pack_scale_min_k4(sc, m):
    """sc, m: (n, 8) 6-bit values -> 12 bytes per block (the layout ggml's get_scale_min_k4 reads)."""
    out = np.zeros((sc.shape[0], 12), dtype=np.uint8)
    out[:, 0:4] = (sc[:, 0:4] & 0x3F) | ((sc[:, 4:8] >> 4) << 6)
    out[:, 4:8] = (m[:, 0:4] & 0x3F) | ((m[:, 4:8] >> 4) << 6)
    out[:, 8:12] = (sc[:, 4:8] & 0x0F) | ((m[:, 4:8] & 0x0F) << 4)
    return out


def _affine_k(x, nmax):
    """x: (n, 8, 32) -> d, dmin (f16), sc, m (6-bit), q in [0, nmax] with x ~ d*sc*q - dmin*m."""
    xmin = np.minimum(x.min(axis=-1), 0.0)
    scale = (x.max(axis=-1) - xmin) / nmax
    off = -xmin
    d = _f16(scale.max(axis=-1) / 63.0)
    dmin = _f16(off.max(axis=-1) / 63.0)
    df, dminf = d.astype(np.float32)[:, None], dmin.astype(np.float32)[:, None]
    sc = np.clip(np.rint(np.divide(scale, df, out=np.zeros_like(scale), where=df > 0)), 0, 63)
    mm = np.clip(np.rint(np.divide(off, dminf, out=np.zeros_like(off), where=dminf > 0)), 0, 63)
    step, base = (df * sc)[..., None], (dminf * mm)[..., None]
    q = np.clip(np.rint(np.divide(x + base, step, out=np.zeros_like(x), where=step > 0)), 0, nmax)
    return d, dmin, sc.astype(np.uint8), mm.astype(np.uint8), q.astype(np.uint8)


def quantize_q4_k(rows):
    x = rows.reshape(-1, 8, 32).astype(np.float32)
    n = x.shape[0]
    d, dmin, sc, mm, q = _affine_k(x, 15)
    qs = (q[:, 0::2, :] | (q[:, 1::2, :] << 4)).reshape(n, 128)
    blk = np.concatenate([d.view(np.uint8).reshape(n, 2), dmin.view(np.uint8).reshape(n, 2),
                          _pack_scale_min_k4(sc, mm), qs], axis=1)
    return blk.reshape(*rows.shape[:-1], rows.shape[-1] // QK_K * 144)


def quantize_q5_k(rows):
    x = rows.reshape(-1, 8, 32).astype(np.float32)
    n = x.shape[0]
    d, dmin, sc, mm, q = _affine_k(x, 31)
    lo = q & 0x0F
    qs = (lo[:, 0::2, :] | (lo[:, 1::2, :] << 4)).reshape(n, 128)
    qh = np.zeros((n, 32), dtype=np.uint8)
    for j in range(8):
        qh |= (((q[:, j, :] >> 4) & 1) << j).astype(np.uint8)
    blk = np.concatenate([d.view(np.uint8).reshape(n, 2), dmin.view(np.uint8).reshape(n, 2),
                          _pack_scale_min_k4(sc, mm), qh, qs], axis=1)
    return blk.reshape(*rows.shape[:-1], rows.shape[-1] // QK_K * 176)


def quantize_q6_k(rows):
    x = rows.reshape(-1, 16, 16).astype(np.float32)
    n = x.shape[0]
    scale = np.abs(x).max(axis=-1) / 31.0
    d = _f16(scale.max(axis=-1) / 127.0)
    df = d.astype(np.float32)[:, None]
    isc = np.clip(np.rint(np.divide(scale, df, out=np.zeros_like(scale), where=df > 0)), 0, 127)
    step = (df * isc)[..., None]
    q = (np.clip(np.rint(np.divide(x, step, out=np.zeros_like(x), where=step > 0)), -32, 31) + 32)
    q = q.astype(np.uint8).reshape(n, 256)
    # element i = 128*h + 64*s + e: low nibbles in ql[64*h + e] (nibble s);
    # element i = 128*h + 32*k + l: high 2 bits in qh[32*h + l] (bits 2k, 2k+1)
    q4 = q.reshape(n, 2, 2, 64)
    ql = ((q4[:, :, 0, :] & 0x0F) | ((q4[:, :, 1, :] & 0x0F) << 4)).reshape(n, 128).astype(np.uint8)
    q5 = ((q.reshape(n, 2, 4, 32) >> 4) & 3).astype(np.uint8)
    qh = (q5[:, :, 0, :] | (q5[:, :, 1, :] << 2) | (q5[:, :, 2, :] << 4) | (q5[:, :, 3, :] << 6)).reshape(n, 64)
    blk = np.concatenate([ql, qh, isc.astype(np.int8).view(np.uint8), d.view(np.uint8).reshape(n, 2)], axis=1)
    return blk.reshape(*rows.shape[:-1], rows.shape[-1] // QK_K * 210)


def ggml_quantizer(qname):
    """An encoder that calls llama.cpp's ggml_quantize_chunk (the quantizer llama-quantize uses)."""
    def quantize(rows):
        import llama_cpp
        lib = ctypes.CDLL(os.path.join(os.path.dirname(llama_cpp.__file__), "lib", "libggml-base.so"))
        lib.ggml_quantize_chunk.restype = ctypes.c_size_t
        lib.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                            ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
        lib.ggml_row_size.restype = ctypes.c_size_t
        lib.ggml_row_size.argtypes = [ctypes.c_int, ctypes.c_int64]
        qtype = int(getattr(T, qname))
        x = np.ascontiguousarray(rows, dtype=np.float32)
        n_per_row = x.shape[-1]
        n_rows = x.size // n_per_row
        row_size = lib.ggml_row_size(qtype, n_per_row)
        out = np.zeros(n_rows * row_size, dtype=np.uint8)
        written = lib.ggml_quantize_chunk(qtype, x.ctypes.data, out.ctypes.data, 0, n_rows, n_per_row, None)
        if written != out.size:
            raise RuntimeError(f"{qname}: ggml_quantize_chunk wrote {written} bytes, expected {out.size}")
        return out.reshape(*x.shape[:-1], row_size)
    return quantize


K_ENCODERS = {"Q4_K": quantize_q4_k, "Q5_K": quantize_q5_k, "Q6_K": quantize_q6_k,
              **{q: ggml_quantizer(q) for q in ("Q2_K", "Q3_K", "IQ4_NL", "IQ4_XS")}}
# relative RMS quantization error of normal data above which an encoding is called implausible (a wrong
# block layout gives about 1 or more); 2- and 3-bit types lose more than the 4- to 8-bit ones
MAX_REL_ERROR = {"Q2_K": 0.45, "Q3_K": 0.25}


def encode(w, qname):
    """float32 array (numpy order, rows last) -> (array for GGUFWriter.add_tensor, raw_dtype)."""
    w = np.ascontiguousarray(w, dtype=np.float32)
    if qname == "F32":
        return w, None
    if qname == "F16":
        return w.astype(np.float16), None
    qtype = getattr(T, qname)
    data = K_ENCODERS[qname](w) if qname in K_ENCODERS else quants.quantize(w, qtype)
    back = quants.dequantize(data, qtype)
    rel = np.sqrt(np.mean((back - w) ** 2)) / max(float(np.std(w)), 1e-12)
    if not rel < MAX_REL_ERROR.get(qname, 0.15):  # a wrong block layout would show up as a huge error here
        raise RuntimeError(f"{qname}: relative RMS quantization error {rel:.3f} is implausible")
    return data.view(np.uint8), qtype


# ------------------------------------------------------------------------------------------------
# model specifications
# ------------------------------------------------------------------------------------------------

def spec(name, arch, qtype, **kw):
    s = dict(name=name, arch=arch, qtype=qtype, n_layer=2, n_embd=256, n_head=4, n_head_kv=2,
             head_dim=None, n_ff=256, n_expert=0, n_expert_used=0, tied=True, eps=1e-5,
             rope_base=10000.0, ctx_train=4096, swa=0, norm_2=False, attn_cap=0.0, final_cap=0.0,
             seed=zlib.crc32(name.encode()), seed_offset=0)
    s.update(kw)
    return s


# seed_offset: found by --search-seeds (the first offset whose greedy top-2 margins are all >= GREEDY_MARGIN
# and whose greedy continuation contains no special token)
MODELS = [
    # expert ffn 128 (!= dim: catches transposed expert matrices) where the block size allows it;
    # the K-quants need rows that are multiples of 256, so their expert ffn is 256
    spec("llama-moe-q8_0", "llama", "Q8_0", n_ff=128, n_expert=8, n_expert_used=2, tied=False, seed_offset=13),
    spec("llama-moe-q4_0", "llama", "Q4_0", n_ff=128, n_expert=8, n_expert_used=2, tied=True, seed_offset=1),
    spec("llama-moe-q4_k", "llama", "Q4_K", n_expert=8, n_expert_used=2, tied=False, seed_offset=5),
    spec("llama-moe-q6_k", "llama", "Q6_K", n_expert=8, n_expert_used=2, tied=True, seed_offset=4),
    spec("llama-dense-f16", "llama", "F16", n_ff=128, tied=True, seed_offset=4),
    spec("llama-dense-bf16", "llama", "BF16", n_ff=128, tied=True, seed_offset=9),
    spec("llama-dense-q5_k", "llama", "Q5_K", n_ff=512, tied=False, seed_offset=15),
    spec("llama-dense-q4_1", "llama", "Q4_1", n_ff=384, tied=False, seed_offset=13),
    spec("llama-dense-q5_0", "llama", "Q5_0", n_ff=320, tied=True, seed_offset=9),
    spec("llama-dense-q2_k", "llama", "Q2_K", n_ff=512, tied=False, seed_offset=18),
    spec("llama-dense-q3_k", "llama", "Q3_K", n_ff=256, tied=True, seed_offset=0),
    spec("llama-dense-iq4_nl", "llama", "IQ4_NL", n_ff=320, tied=False, seed_offset=20),
    spec("llama-dense-iq4_xs", "llama", "IQ4_XS", n_ff=256, tied=True, seed_offset=0),
    spec("qwen2-q8_0", "qwen2", "Q8_0", n_ff=384, tied=True, eps=1e-6, rope_base=1000000.0, ctx_train=32768, seed_offset=5),
    spec("phi3-q8_0", "phi3", "Q8_0", n_ff=320, tied=False, rope_base=10000.0, ctx_train=4096, seed_offset=11),
    spec("gemma3-q8_0", "gemma3", "Q8_0", n_layer=6, n_embd=128, n_head=4, n_head_kv=1, head_dim=64,
         n_ff=256, tied=True, eps=1e-6, rope_base=1000000.0, ctx_train=32768, swa=8, seed_offset=60),
    spec("gemma2-q8_0", "gemma2", "Q8_0", n_layer=4, n_embd=128, n_head=4, n_head_kv=2, head_dim=64,
         n_ff=256, tied=True, eps=1e-6, ctx_train=8192, swa=8, attn_cap=0.6, final_cap=2.0, seed_offset=21),
    spec("llama-swa-q8_0", "llama", "Q8_0", n_ff=384, tied=False, swa=8, ctx_train=8192, seed_offset=105),
    # query heads × head size (8 × 64) != dim: Wo is [dim, 512]
    spec("qwen3-q8_0", "qwen3", "Q8_0", n_head=8, n_head_kv=2, head_dim=64, n_ff=384, tied=True, eps=1e-6,
         rope_base=1000000.0, ctx_train=32768, seed_offset=1),
    # Falcon-7B's layout (one KV head) and Falcon-40B's (several, and attn_norm_2)
    spec("falcon-7b-q8_0", "falcon", "Q8_0", n_head_kv=1, n_ff=512, tied=False, seed_offset=4),
    spec("falcon-40b-q8_0", "falcon", "Q8_0", n_head_kv=2, n_ff=512, tied=False, norm_2=True, seed_offset=37),
]

# weight scales (std of the normal distributions); norms are uniform(0.8, 1.2) except output_norm,
# uniform(2.5, 3.5), which brings the logits to a std of about 1 while the (tied) embedding stays small
# enough that a token's own embedding does not dominate its logits (greedy would repeat the last token)
STD_EMBD, STD_OUT, STD_QK, STD_V, STD_O, STD_UP, STD_DOWN, STD_ROUTER, STD_BIAS = (
    0.02, 0.02, 0.06, 0.06, 0.04, 0.05, 0.04, 3.0, 0.1)
ROUTE_DIMS = 8  # MoE routers read only these residual dims (see routed_embedding)
STD_ROUTE_EMBD = 0.05
ROUTE_MARGIN = 0.2  # min gap between the last chosen and first rejected router logit, in router-logit stds


def routed_embedding(rng, s, routers, ffn_norms):
    """Token embeddings whose first ROUTE_DIMS dims decide the MoE routing with a clear margin.

    In the MoE models the routers read only dims [0, ROUTE_DIMS) of the residual stream, and
    attn_output / ffn_down_exps write zeros there, so those dims are exactly the (dequantized) token
    embedding in every layer. rms_norm scales all of them by the same positive factor, so which experts
    are chosen depends only on the token, and rows are resampled until, for every token and layer, the
    2nd and 3rd router logits are >= ROUTE_MARGIN standard deviations apart: any implementation gets
    the same experts, while the expert weights (softmax of the scaled logits) still depend on context.
    """
    k = s["n_expert_used"]
    E = rng.normal(0.0, STD_EMBD, size=(N_VOCAB, s["n_embd"])).astype(np.float32)
    E[:, :ROUTE_DIMS] = rng.normal(0.0, STD_ROUTE_EMBD, size=(N_VOCAB, ROUTE_DIMS))
    for _ in range(1000):
        data, raw = encode(E, s["qtype"])
        dq = quants.dequantize(data, raw) if raw is not None else data.astype(np.float32)
        bad = np.zeros(N_VOCAB, dtype=bool)
        for R, g in zip(routers, ffn_norms):
            z = dq[:, :ROUTE_DIMS].astype(np.float64) @ (R[:, :ROUTE_DIMS] * g[:ROUTE_DIMS]).T.astype(np.float64)
            zs = -np.sort(-z, axis=-1)
            bad |= (zs[:, k - 1] - zs[:, k]) < ROUTE_MARGIN * z.std(axis=-1)
        if not bad.any():
            return E
        E[bad] = rng.normal(0.0, STD_EMBD, size=(int(bad.sum()), s["n_embd"]))
        E[bad, :ROUTE_DIMS] = rng.normal(0.0, STD_ROUTE_EMBD, size=(int(bad.sum()), ROUTE_DIMS))
    raise RuntimeError("could not find well-separated routings")


def build(s, path, f32_twin=False):
    """Write the model of spec s to path. f32_twin: store every weight as F32 holding exactly the
    dequantized values of the real file (used to validate reference_forward.py against llama.cpp
    without llama.cpp's activation quantization)."""
    rng = np.random.default_rng(s["seed"] + s["seed_offset"])
    arch, q = s["arch"], s["qtype"]
    D, H, Hkv, F, E = s["n_embd"], s["n_head"], s["n_head_kv"], s["n_ff"], s["n_expert"]
    hd = s["head_dim"] or D // H
    w = gguf.GGUFWriter(path, arch)
    # general.name must not contain "phi3"/"phi-3": llama.cpp's vocab loader then looks up "<|endoftext|>"
    # (token_to_id.at) and fails with "unordered_map::at" on this vocab (src/llama-vocab.cpp)
    w.add_name("sirocco synthetic model")
    w.add_context_length(s["ctx_train"])
    w.add_embedding_length(D)
    w.add_block_count(s["n_layer"])
    w.add_feed_forward_length(F)
    w.add_head_count(H)
    w.add_head_count_kv(Hkv)
    if arch == "falcon":
        w.add_layer_norm_eps(s["eps"])
    else:
        w.add_layer_norm_rms_eps(s["eps"])
    w.add_rope_freq_base(s["rope_base"])
    if s["head_dim"]:
        w.add_key_length(hd)
        w.add_value_length(hd)
    if arch in ("llama", "phi3"):
        w.add_rope_dimension_count(hd)
    if E:
        w.add_expert_count(E)
        w.add_expert_used_count(s["n_expert_used"])
    if s["swa"]:
        w.add_sliding_window(s["swa"])
    if s["attn_cap"]:
        w.add_attn_logit_softcapping(s["attn_cap"])
    if s["final_cap"]:
        w.add_final_logit_softcapping(s["final_cap"])
    w.add_vocab_size(N_VOCAB)
    tokens, scores, types = vocab()
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(False)

    def normal(std, *shape):
        return rng.normal(0.0, std, size=shape).astype(np.float32)

    def norm(n, lo=0.8, hi=1.2):
        return rng.uniform(lo, hi, size=(n,)).astype(np.float32)

    def add(name, arr, qname=None):
        data, raw = encode(arr, qname or q)
        if f32_twin:
            data = quants.dequantize(data, raw) if raw is not None else data.astype(np.float32)
            data, raw = np.ascontiguousarray(data, dtype=np.float32), None
        w.add_tensor(name, data, raw_dtype=raw)

    if E:  # MoE: routers and ffn norms first, then embeddings that route with clear margins
        ffn_norms = [norm(D) for _ in range(s["n_layer"])]
        routers = []
        for _ in range(s["n_layer"]):
            R = np.zeros((E, D), dtype=np.float32)
            R[:, :ROUTE_DIMS] = normal(STD_ROUTER, E, ROUTE_DIMS)
            routers.append(R)
        add("token_embd.weight", routed_embedding(rng, s, routers, ffn_norms))
    else:
        add("token_embd.weight", normal(STD_EMBD, N_VOCAB, D))
    for il in range(s["n_layer"]):
        b = f"blk.{il}."
        add(b + "attn_norm.weight", norm(D), "F32")
        if arch == "falcon":  # LayerNorms have biases
            add(b + "attn_norm.bias", normal(STD_BIAS, D), "F32")
            if s["norm_2"]:
                add(b + "attn_norm_2.weight", norm(D), "F32")
                add(b + "attn_norm_2.bias", normal(STD_BIAS, D), "F32")
        wq, wk, wv = normal(STD_QK, H * hd, D), normal(STD_QK, Hkv * hd, D), normal(STD_V, Hkv * hd, D)
        if arch in ("phi3", "falcon"):
            add(b + "attn_qkv.weight", np.concatenate([wq, wk, wv], axis=0))
        else:
            add(b + "attn_q.weight", wq)
            add(b + "attn_k.weight", wk)
            add(b + "attn_v.weight", wv)
        if arch == "qwen2":
            add(b + "attn_q.bias", normal(STD_BIAS, H * hd), "F32")
            add(b + "attn_k.bias", normal(STD_BIAS * 5, Hkv * hd), "F32")  # Qwen2's K biases are large
            add(b + "attn_v.bias", normal(STD_BIAS, Hkv * hd), "F32")
        if arch in ("gemma3", "qwen3"):
            add(b + "attn_q_norm.weight", norm(hd), "F32")
            add(b + "attn_k_norm.weight", norm(hd), "F32")
        wo = normal(STD_O, D, H * hd)
        if E:
            wo[:ROUTE_DIMS] = 0.0
        add(b + "attn_output.weight", wo)
        if arch in ("gemma2", "gemma3"):
            add(b + "post_attention_norm.weight", norm(D), "F32")
        if E:
            add(b + "ffn_norm.weight", ffn_norms[il], "F32")
            add(b + "ffn_gate_inp.weight", routers[il], "F32")
            # GGUF ne: gate/up {n_embd, n_ff, n_expert}, down {n_ff, n_embd, n_expert} (numpy order reversed)
            add(b + "ffn_gate_exps.weight", normal(STD_UP, E, F, D))
            add(b + "ffn_up_exps.weight", normal(STD_UP, E, F, D))
            down = normal(STD_DOWN, E, D, F)
            down[:, :ROUTE_DIMS] = 0.0
            add(b + "ffn_down_exps.weight", down)
        elif arch == "falcon":  # no norm of its own (the block's input norm), up → GELU → down
            add(b + "ffn_up.weight", normal(STD_UP, F, D))
            add(b + "ffn_down.weight", normal(STD_DOWN, D, F))
        elif arch == "phi3":
            add(b + "ffn_norm.weight", norm(D), "F32")
            add(b + "ffn_up.weight", np.concatenate([normal(STD_UP, F, D), normal(STD_UP, F, D)], axis=0))
            add(b + "ffn_down.weight", normal(STD_DOWN, D, F))
        else:
            add(b + "ffn_norm.weight", norm(D), "F32")
            add(b + "ffn_gate.weight", normal(STD_UP, F, D))
            add(b + "ffn_up.weight", normal(STD_UP, F, D))
            add(b + "ffn_down.weight", normal(STD_DOWN, D, F))
        if arch in ("gemma2", "gemma3"):
            add(b + "post_ffw_norm.weight", norm(D), "F32")
    add("output_norm.weight", norm(D, 2.5, 3.5), "F32")
    if arch == "falcon":
        add("output_norm.bias", normal(STD_BIAS, D), "F32")
    if not s["tied"]:
        add("output.weight", normal(STD_OUT, N_VOCAB, D))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# ------------------------------------------------------------------------------------------------
# llama.cpp reference
# ------------------------------------------------------------------------------------------------

_LOG = []  # (level, text)
_LLAMA = {}
GGML_LOG_LEVEL_WARN, GGML_LOG_LEVEL_ERROR = 3, 4


def llama_api():
    if not _LLAMA:
        import llama_cpp  # noqa: F401
        from llama_cpp import llama_cpp as C

        @C.llama_log_callback
        def log_cb(level, text, user_data):  # noqa: ARG001
            if text:
                _LOG.append((int(level), text.decode("utf-8", errors="replace")))

        C.llama_log_set(log_cb, ctypes.c_void_p(0))
        C.llama_backend_init()
        _LLAMA["C"], _LLAMA["cb"] = C, log_cb
        _LLAMA["version"] = llama_cpp.__version__
    return _LLAMA["C"]


def decode_positions(C, ctx, batch, tokens, first, count, n_vocab):
    """Decodes tokens[first:first + count] at their positions as one batch; their logits."""
    for i in range(count):
        batch.token[i] = tokens[first + i]
        batch.pos[i] = first + i
        batch.n_seq_id[i] = 1
        batch.seq_id[i][0] = 0
        batch.logits[i] = 1
    batch.n_tokens = count
    if C.llama_decode(ctx, batch) != 0:
        raise RuntimeError("llama_decode failed")
    return [np.ctypeslib.as_array(C.llama_get_logits_ith(ctx, i), shape=(n_vocab,)).copy() for i in range(count)]


def run_llama_cpp(path, tokens, exact=False):
    """Logits at every position of one batch, then N_GREEDY greedy steps. exact: F32 KV cache and
    flash attention off (only for validating the NumPy pass; the fixtures use llama.cpp's defaults)."""
    C = llama_api()
    del _LOG[:]
    mp = C.llama_model_default_params()
    mp.n_gpu_layers = 0
    model = C.llama_model_load_from_file(path.encode(), mp)
    if not model:
        raise RuntimeError(f"llama.cpp could not load {path}:\n" + "".join(t for _, t in _LOG[-30:]))
    vocab_ = C.llama_model_get_vocab(model)
    n_vocab = C.llama_vocab_n_tokens(vocab_)
    cp = C.llama_context_default_params()
    cp.n_ctx = N_CTX
    cp.n_batch = N_CTX
    cp.n_ubatch = N_CTX
    cp.n_threads = N_THREADS
    cp.n_threads_batch = N_THREADS
    if cp.type_k != 1 or cp.type_v != 1:  # GGML_TYPE_F16, recorded in the JSON
        raise RuntimeError(f"unexpected default KV cache types {cp.type_k}/{cp.type_v}")
    if exact:
        cp.type_k = cp.type_v = 0  # GGML_TYPE_F32
        cp.flash_attn_type = 0  # LLAMA_FLASH_ATTN_TYPE_DISABLED
    n_before = len(_LOG)
    ctx = C.llama_init_from_model(model, cp)
    if not ctx:
        raise RuntimeError("llama_init_from_model failed:\n" + "".join(t for _, t in _LOG[-30:]))
    ctx_log = "".join(t for _, t in _LOG[n_before:])
    if re.search(r"Flash Attention enabled", ctx_log):
        fa = True
    elif re.search(r"Flash Attention not supported|flash_attn\s*=\s*disabled", ctx_log):
        fa = False
    else:
        fa = None

    batch = C.llama_batch_init(len(tokens), 0, 1)
    logits = np.stack(decode_positions(C, ctx, batch, tokens, 0, len(tokens), n_vocab))
    C.llama_batch_free(batch)

    greedy, margins, steps = [], [], []
    last = logits[-1]
    for step in range(N_GREEDY):
        if step > 0:
            steps.append(last)
        t = int(np.argmax(last))
        srt = np.sort(last)
        margins.append(round(float(srt[-1] - srt[-2]), ROUND))
        greedy.append(t)
        one = (C.llama_token * 1)(t)
        if C.llama_decode(ctx, C.llama_batch_get_one(one, 1)) != 0:
            raise RuntimeError("llama_decode (greedy) failed")
        last = np.ctypeslib.as_array(C.llama_get_logits_ith(ctx, -1), shape=(n_vocab,)).copy()
    warnings = [t.strip() for lvl, t in _LOG if lvl in (GGML_LOG_LEVEL_WARN, GGML_LOG_LEVEL_ERROR)]
    C.llama_free(ctx)
    C.llama_model_free(model)
    return logits, greedy, margins, fa, n_vocab, warnings, np.array(steps)


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


def logits_list(a):
    return [[round(float(v), ROUND) for v in row] for row in a]


def numpy_greedy(m, tokens):
    """Greedy continuation, top-2 margins of each step and the step logits from the NumPy pass."""
    seq, greedy, margins, steps = list(tokens), [], [], []
    for i in range(N_GREEDY):
        last = reference_forward.forward(m, seq)[-1]
        if i > 0:
            steps.append(last)
        srt = np.sort(last)
        margins.append(round(float(srt[-1] - srt[-2]), ROUND))
        greedy.append(int(np.argmax(last)))
        seq.append(greedy[-1])
    return greedy, margins, np.array(steps)


def make_reference(s, gguf_path, tokens):
    name = s["name"] + ".gguf"
    obj = {"model": name}
    if s["arch"] == "llama" and s["swa"]:
        m = reference_forward.Model(gguf_path)
        logits = reference_forward.forward(m, tokens)
        greedy, margins, steps = numpy_greedy(m, tokens)
        obj.update({
            "reference": "scripts/reference_forward.py (NumPy)",
            "flash_attn": None,
            "sliding_window": s["swa"],
            "swa_rule": "in every layer, the query at position p1 attends to the key at p0 iff 0 <= p1 - p0 < 8",
            "tokens": tokens, "n_vocab": N_VOCAB, "logits": logits_list(logits),
            "greedy": greedy, "greedy_top2_margins": margins, "greedy_step_logits": logits_list(steps),
            "notes": "llama.cpp ignores llama.attention.sliding_window for arch llama, so these logits come "
                     "from the float64 NumPy pass (dequantized weights, no activation quantization, no f16 "
                     "KV cache); greedy is from the NumPy pass too (full recompute per step).",
        })
        return obj
    logits, greedy, margins, fa, n_vocab, warnings, steps = run_llama_cpp(gguf_path, tokens)
    obj.update({
        "reference": f"llama.cpp {_LLAMA['version']} (llama-cpp-python)",
        "flash_attn": fa,
        "llama_cpp_context": {"n_ctx": N_CTX, "n_batch": N_CTX, "n_threads": N_THREADS, "type_k": "f16",
                              "type_v": "f16", "flash_attn_type": "auto"},
        "tokens": tokens, "n_vocab": int(n_vocab), "logits": logits_list(logits),
        "greedy": greedy, "greedy_top2_margins": margins,
        # logits of the 1-token decodes of greedy[0..6] (at positions 40..46), which chose greedy[1..7]
        "greedy_step_logits": logits_list(steps),
    })
    if s["n_expert"]:
        st = {}
        reference_forward.forward(reference_forward.Model(gguf_path), tokens + greedy, None, st)
        sel = np.stack(st["selected"], axis=1)  # [position, layer, k]
        obj["selected_experts"] = sel.tolist()
        obj["routing_note"] = (
            "selected_experts[i][layer] = the experts chosen (highest router probability first) for the "
            "input token (tokens + greedy)[i], from scripts/reference_forward.py. The routers read only "
            f"residual dims 0..{ROUTE_DIMS - 1}, which hold the token embedding unchanged in every layer, "
            "so the choice depends on the token alone and has a margin of >= "
            f"{ROUTE_MARGIN} router-logit standard deviations; the expert weights depend on context.")
    if warnings:
        obj["llama_cpp_warnings"] = warnings
    return obj


def greedy_margin(s, path, tokens):
    """Smallest top-2 margin of the greedy steps; -1 if greedy emits a special token (<unk>, <s>,
    </s>: an engine's generation loop would stop at </s>)."""
    if s["arch"] == "llama" and s["swa"]:
        greedy, margins, _ = numpy_greedy(reference_forward.Model(path), tokens)
    else:
        _, greedy, margins = run_llama_cpp(path, tokens)[:3]
    return -1.0 if SPECIAL & set(greedy) else min(margins)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-logits", action="store_true", help="only write the GGUF files")
    ap.add_argument("--only", nargs="*", help="model names to (re)make")
    ap.add_argument("--search-seeds", action="store_true",
                    help=f"find, per model, the first seed_offset whose greedy top-2 margins are all >= "
                         f"{GREEDY_MARGIN} and whose greedy tokens are not special (to paste into MODELS)")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    tokens = token_sequence()
    for s in MODELS:
        if args.only and s["name"] not in args.only:
            continue
        if args.search_seeds:
            tmp = os.path.join(OUT, ".search.gguf")
            for off in range(500):
                build(dict(s, seed_offset=off), tmp)
                gm = greedy_margin(s, tmp, tokens)
                if gm >= GREEDY_MARGIN:
                    print(f"{s['name']}: seed_offset={off} (min greedy margin {gm:.3f})", flush=True)
                    break
            os.remove(tmp)
            continue
        path = os.path.join(OUT, s["name"] + ".gguf")
        build(s, path)
        line = f"{s['name'] + '.gguf':24s} {os.path.getsize(path):9d} bytes"
        if not args.no_logits:
            obj = make_reference(s, path, tokens)
            write_json(os.path.join(OUT, s["name"] + ".logits.json"), obj)
            line += f"  {obj['reference']}  greedy {obj['greedy']}  min margin {min(obj['greedy_top2_margins'])}"
            if obj.get("llama_cpp_warnings"):
                line += f"\n    warnings: {obj['llama_cpp_warnings']}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
