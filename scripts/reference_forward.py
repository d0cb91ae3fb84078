#!/usr/bin/env python3
"""An independent NumPy forward pass over a GGUF file, used as a second reference next to llama.cpp.

It reads the file with gguf-py's `GGUFReader`, dequantizes every weight with `gguf.quants.dequantize`
and runs the whole prompt in float64 (no activation quantization, no f16 KV cache), returning the
logits at every position. Architectures:

  * `llama`  dense and MoE (softmax over all experts -> top-k -> renormalised weights, as llama.cpp),
             plus an optional sliding window (`llama.attention.sliding_window`, which llama.cpp ignores
             for arch llama; here it IS applied to every layer, Mistral-v0.1 style);
  * `qwen2`, `phi3`, `gemma3`: written to cross-check the facts the engine needs (RoPE type, fused
             tensor split order, Gemma 3's local/global layers and norms) against llama.cpp.

Sliding window convention (llama.cpp's LLAMA_SWA_TYPE_STANDARD, src/llama-hparams.h is_masked_swa):
the query at position p1 may attend to the key at p0 iff 0 <= p1 - p0 < n_swa, i.e. to itself and the
n_swa - 1 previous positions.

Usage:
  python3 scripts/reference_forward.py MODEL.gguf [--tokens 1,2,3] [--compare MODEL.logits.json]
  python3 scripts/reference_forward.py --validate [DIR]   # every fixture whose JSON came from llama.cpp
  python3 scripts/reference_forward.py --validate-f32      # float32 llama.cpp on F32 twins (tight check)
Needs numpy and gguf (gguf-py).
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import sys

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import GGUFReader, quants

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "SiroccoEngineTests", "Fixtures", "synthetic")


# ------------------------------------------------------------------------------------------------
# GGUF loading
# ------------------------------------------------------------------------------------------------

def _field_value(field):
    """Scalar, string or array value of a GGUFReader field."""
    from gguf import GGUFValueType as V
    if not field.types:
        return None
    if field.types[0] == V.ARRAY:
        if len(field.types) > 1 and field.types[1] == V.STRING:
            return [bytes(field.parts[i]).decode("utf-8", errors="replace") for i in field.data]
        return [field.parts[i][0].item() for i in field.data]
    if field.types[0] == V.STRING:
        return bytes(field.parts[field.data[0]]).decode("utf-8", errors="replace")
    return field.parts[field.data[0]][0].item()


class Model:
    def __init__(self, path: str):
        r = GGUFReader(path)
        self.path = path
        self.meta = {k: _field_value(f) for k, f in r.fields.items() if not k.startswith("tokenizer.ggml.")}
        self.n_vocab = len(r.fields["tokenizer.ggml.tokens"].data)
        self.arch = self.meta["general.architecture"]
        self.types = {}
        self.w = {}
        for t in r.tensors:
            if t.tensor_type == T.F32:
                a = np.asarray(t.data, dtype=np.float32)
            else:
                a = quants.dequantize(np.asarray(t.data), t.tensor_type)
            # numpy order = GGUF ne reversed: a 2-D weight is [n_out, n_in], experts [n_expert, n_out, n_in]
            shape = tuple(int(x) for x in reversed(t.shape.tolist()))
            self.w[t.name] = a.reshape(shape).astype(np.float64)
            self.types[t.name] = t.tensor_type.name

    def kv(self, key, default=None):
        return self.meta.get(f"{self.arch}.{key}", default)

    def has(self, name):
        return name in self.w


# ------------------------------------------------------------------------------------------------
# building blocks
# ------------------------------------------------------------------------------------------------

def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope(x, pos, base, neox):
    """x: [n_tokens, n_heads, head_dim]; rotates all head_dim dims (n_rot == head_dim here)."""
    d = x.shape[-1]
    inv = base ** (-np.arange(0, d, 2, dtype=np.float64) / d)  # [d/2]
    ang = pos[:, None].astype(np.float64) * inv[None, :]  # [n, d/2]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    if neox:  # pairs (i, i + d/2)
        a, b = x[..., : d // 2], x[..., d // 2:]
        return np.concatenate([a * c - b * s, a * s + b * c], axis=-1)
    a, b = x[..., 0::2], x[..., 1::2]  # pairs (2i, 2i+1)
    out = np.empty_like(x)
    out[..., 0::2] = a * c - b * s
    out[..., 1::2] = a * s + b * c
    return out


def attention(q, k, v, scale, window):
    """q: [n, H, d], k/v: [n, Hkv, d]. Causal, optionally windowed (n_swa keys incl. itself)."""
    n, H, _ = q.shape
    Hkv = k.shape[1]
    g = H // Hkv
    p = np.arange(n)
    diff = p[:, None] - p[None, :]  # p1 - p0
    allowed = diff >= 0
    if window:
        allowed &= diff < window
    out = np.empty((n, H, v.shape[-1]))
    for h in range(H):
        kh, vh = k[:, h // g, :], v[:, h // g, :]
        s = (q[:, h, :] @ kh.T) * scale
        s = np.where(allowed, s, -np.inf)
        s = s - s.max(axis=-1, keepdims=True)
        e = np.exp(s)
        out[:, h, :] = (e / e.sum(axis=-1, keepdims=True)) @ vh
    return out.reshape(n, -1)


def silu(x):
    return x / (1.0 + np.exp(-x))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))


def moe(m, il, x, n_expert, n_used, stats):
    """llama.cpp build_moe_ffn for arch llama: softmax over all experts, top-k, renormalise."""
    logits = x @ m.w[f"blk.{il}.ffn_gate_inp.weight"].T  # [n, E]
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    order = np.argsort(-p, axis=-1, kind="stable")
    sel = order[:, :n_used]
    srt = np.take_along_axis(logits, order, axis=-1)
    # routing margin: gap between the last chosen and the first rejected router logit, relative to the
    # spread of the router logits at that position
    margin = (srt[:, n_used - 1] - srt[:, n_used]) / np.maximum(logits.std(axis=-1), 1e-30)
    stats.setdefault("router_margin", []).append(margin)
    stats.setdefault("selected", []).append(sel)
    wsel = np.take_along_axis(p, sel, axis=-1)
    wsel = wsel / np.maximum(wsel.sum(axis=-1, keepdims=True), 6.103515625e-5)
    gate = m.w[f"blk.{il}.ffn_gate_exps.weight"]  # [E, n_ff, n_embd]
    up = m.w[f"blk.{il}.ffn_up_exps.weight"]
    down = m.w[f"blk.{il}.ffn_down_exps.weight"]  # [E, n_embd, n_ff]
    out = np.zeros_like(x)
    for t in range(x.shape[0]):
        for j in range(n_used):
            e = sel[t, j]
            h = silu(gate[e] @ x[t]) * (up[e] @ x[t])
            out[t] += wsel[t, j] * (down[e] @ h)
    return out


# ------------------------------------------------------------------------------------------------
# forward passes
# ------------------------------------------------------------------------------------------------

def forward(m: Model, tokens, window="auto", stats=None):
    """Logits [len(tokens), n_vocab] (float64). window: "auto" (from metadata), None or an int.
    stats (a dict), if given, receives per-layer MoE "selected" experts and relative "router_margin"."""
    stats = {} if stats is None else stats
    tokens = np.asarray(tokens, dtype=np.int64)
    n = len(tokens)
    pos = np.arange(n)
    arch = m.arch
    n_layer = m.kv("block_count")
    n_embd = m.kv("embedding_length")
    H = m.kv("attention.head_count")
    Hkv = m.kv("attention.head_count_kv", H)
    hd = m.kv("attention.key_length", n_embd // H)
    eps = m.kv("attention.layer_norm_rms_epsilon")
    base = m.kv("rope.freq_base", 10000.0)
    n_swa = m.kv("attention.sliding_window", 0) if window == "auto" else (window or 0)

    x = m.w["token_embd.weight"][tokens]
    if arch == "gemma3":
        x = x * np.float64(np.float32(np.sqrt(np.float32(n_embd))))
    for il in range(n_layer):
        b = f"blk.{il}."
        h = rms_norm(x, m.w[b + "attn_norm.weight"], eps)
        if m.has(b + "attn_qkv.weight"):  # fused: rows [Q | K | V]
            qkv = h @ m.w[b + "attn_qkv.weight"].T
            q, k, v = np.split(qkv, [H * hd, H * hd + Hkv * hd], axis=-1)
        else:
            q = h @ m.w[b + "attn_q.weight"].T
            k = h @ m.w[b + "attn_k.weight"].T
            v = h @ m.w[b + "attn_v.weight"].T
        if m.has(b + "attn_q.bias"):
            q, k, v = q + m.w[b + "attn_q.bias"], k + m.w[b + "attn_k.bias"], v + m.w[b + "attn_v.bias"]
        q, k, v = q.reshape(n, H, hd), k.reshape(n, Hkv, hd), v.reshape(n, Hkv, hd)
        layer_window, layer_base = 0, base
        if arch == "gemma3":
            q = rms_norm(q, m.w[b + "attn_q_norm.weight"], eps)
            k = rms_norm(k, m.w[b + "attn_k_norm.weight"], eps)
            if n_swa and il % 6 < 5:  # llama.cpp: load_swa_pattern(ml, 6) -> il % 6 < 5 is local
                layer_window, layer_base = n_swa, m.kv("rope.freq_base_swa", 10000.0)
        elif arch == "llama":
            layer_window = n_swa
        neox = arch in ("qwen2", "phi3", "gemma3")
        q, k = rope(q, pos, layer_base, neox), rope(k, pos, layer_base, neox)
        a = attention(q, k, v, 1.0 / np.sqrt(hd), layer_window)
        a = a @ m.w[b + "attn_output.weight"].T
        if m.has(b + "attn_output.bias"):
            a = a + m.w[b + "attn_output.bias"]
        if arch == "gemma3":
            a = rms_norm(a, m.w[b + "post_attention_norm.weight"], eps)
        x = x + a
        h = rms_norm(x, m.w[b + "ffn_norm.weight"], eps)
        if m.has(b + "ffn_gate_inp.weight"):
            f = moe(m, il, h, m.kv("expert_count"), m.kv("expert_used_count"), stats)
        elif arch == "phi3":  # fused ffn_up rows [gate | up]; silu on the first half
            gu = h @ m.w[b + "ffn_up.weight"].T
            g, u = np.split(gu, 2, axis=-1)
            f = (silu(g) * u) @ m.w[b + "ffn_down.weight"].T
        else:
            g = h @ m.w[b + "ffn_gate.weight"].T
            u = h @ m.w[b + "ffn_up.weight"].T
            act = gelu_tanh(g) if arch == "gemma3" else silu(g)
            f = (act * u) @ m.w[b + "ffn_down.weight"].T
        if arch == "gemma3":
            f = rms_norm(f, m.w[b + "post_ffw_norm.weight"], eps)
        x = x + f
    x = rms_norm(x, m.w["output_norm.weight"], eps)
    out_w = m.w["output.weight"] if m.has("output.weight") else m.w["token_embd.weight"]
    logits = x @ out_w.T
    cap = m.kv("final_logit_softcapping", 0.0)
    if cap:
        logits = cap * np.tanh(logits / cap)
    return logits


def greedy(m: Model, tokens, n_new, window="auto"):
    """Argmax continuation, recomputing the full causal pass per step (same result as a KV cache)."""
    seq = list(tokens)
    out = []
    for _ in range(n_new):
        t = int(np.argmax(forward(m, seq, window)[-1]))
        out.append(t)
        seq.append(t)
    return out


# ------------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------------

def compare(model_path, json_path, window="auto"):
    ref = json.load(open(json_path))
    m = Model(model_path)
    stats = {}
    ours = forward(m, ref["tokens"], window, stats)
    theirs = np.asarray(ref["logits"], dtype=np.float64)
    diff = np.abs(ours - theirs)
    res = {
        "max_abs_diff": float(diff.max()),
        "mean_abs_diff": float(diff.mean()),
        "logit_std": float(theirs.std()),
        "argmax_agree": int((ours.argmax(-1) == theirs.argmax(-1)).sum()),
        "n": len(ref["tokens"]),
    }
    if stats:
        res["min_router_margin"] = float(np.min(stats["router_margin"]))
    return res


def validate_f32_twins(names=None):
    """The tight check: for each fixture, an F32 twin (every weight stored as F32 holding exactly the
    dequantized values) is run by llama.cpp with an F32 KV cache and flash attention off, so llama.cpp
    computes in plain float32 (no activation quantization, no f16 K/V), and compared with this float64
    pass over the real, quantized file. The window of llama-swa is ignored on both sides (llama.cpp
    ignores it for arch llama)."""
    import tempfile
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import make_synthetic_models as ms

    tokens = ms.token_sequence()
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for s in ms.MODELS:
            if names and s["name"] not in names:
                continue
            real = os.path.join(FIXTURES, s["name"] + ".gguf")
            twin = os.path.join(tmp, "twin.gguf")
            ms.build(s, twin, f32_twin=True)
            theirs = ms.run_llama_cpp(twin, tokens, exact=True)[0]
            stats = {}
            ours = forward(Model(real), tokens, None if s["arch"] == "llama" else "auto", stats)
            d = np.abs(ours - theirs)
            worst = max(worst, float(d.max()))
            extra = f"  min router margin {np.min(stats['router_margin']):.3f}" if stats else ""
            print(f"{s['name'] + '.gguf':28s} F32 twin  max|diff| {d.max():.6f}  mean {d.mean():.7f}  "
                  f"argmax agree {(ours.argmax(-1) == theirs.argmax(-1)).sum()}/{len(tokens)}{extra}", flush=True)
    print(f"worst max|diff| (F32 twins) {worst:.6f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", nargs="?")
    ap.add_argument("--tokens", help="comma-separated token ids (default: those of --compare)")
    ap.add_argument("--compare", help="a <model>.logits.json to compare against")
    ap.add_argument("--no-window", action="store_true", help="ignore any sliding window (as llama.cpp does for llama)")
    ap.add_argument("--validate", nargs="?", const=FIXTURES, metavar="DIR",
                    help="compare with every llama.cpp-made <model>.logits.json in DIR")
    ap.add_argument("--validate-f32", nargs="*", metavar="NAME",
                    help="compare with llama.cpp run in float32 on F32 twins of the fixtures (all, or NAMEs)")
    args = ap.parse_args()
    window = None if args.no_window else "auto"

    if args.validate_f32 is not None:
        validate_f32_twins(args.validate_f32)
        return
    if args.validate:
        worst = 0.0
        for jp in sorted(glob.glob(os.path.join(args.validate, "*.logits.json"))):
            ref = json.load(open(jp))
            if not ref["reference"].startswith("llama.cpp"):
                continue
            r = compare(os.path.join(args.validate, ref["model"]), jp, window)
            worst = max(worst, r["max_abs_diff"])
            extra = f"  min router margin {r['min_router_margin']:.3f}" if "min_router_margin" in r else ""
            print(f"{ref['model']:28s} max|diff| {r['max_abs_diff']:.5f}  mean {r['mean_abs_diff']:.6f}  "
                  f"logit std {r['logit_std']:.3f}  argmax agree {r['argmax_agree']}/{r['n']}{extra}")
        print(f"worst max|diff| {worst:.5f}")
        return
    if not args.model:
        ap.error("a model path (or --validate) is needed")
    if args.compare:
        print(json.dumps(compare(args.model, args.compare, window), indent=1))
        return
    if not args.tokens:
        ap.error("--tokens or --compare is needed")
    toks = [int(t) for t in args.tokens.split(",")]
    logits = forward(Model(args.model), toks, window)
    print(json.dumps({"argmax": logits.argmax(-1).tolist(), "last": np.round(logits[-1], 5).tolist()}))


if __name__ == "__main__":
    sys.exit(main())
