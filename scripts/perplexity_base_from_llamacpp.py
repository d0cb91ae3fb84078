#!/usr/bin/env python3
"""Write a `sirocco perplexity --kl-divergence-base` file from llama.cpp, or compare two such files.

    python3 scripts/perplexity_base_from_llamacpp.py MODEL.gguf TEXT OUT.base [--ctx-size 512] [--chunks N]
                                                     [--flash-attn on|off] [--threads N]
    python3 scripts/perplexity_base_from_llamacpp.py --compare Q.base BASE.base

The first form runs llama.cpp (llama-cpp-python, logits_all=True so every position's logits are kept)
the way llama-perplexity does: the text tokenized with add_special (BOS as the model adds it) and no
special-token parsing, chunks of --ctx-size tokens from an empty cache, BOS in place of each chunk's
first token when the vocabulary adds BOS, the whole chunk in one batch; it writes the log-probabilities
of the second half of every chunk in Sirocco's base format and prints llama.cpp's perplexity. Then

    sirocco perplexity --model MODEL.gguf --file TEXT --ctx-size 512 --kl-divergence-base OUT.base --kl-divergence

compares Sirocco with llama.cpp on that text. The second form compares two base files (for instance
llama.cpp with flash attention on and off) with the same statistics: mean KL divergence, same top token.

Base format (Sources/SiroccoEngine/Evaluation/LogProbabilityFile.swift), little-endian:
  "SRCLOGP1", u32 ctx, u32 n_vocab, u32 n_chunk, u32 scored (= ctx - 1 - ctx/2),
  i32 tokens[n_chunk * ctx], then n_chunk * scored rows of: f32 scale, f32 min_log_prob, u16 q[n_vocab]
  with log p = scale * q + min_log_prob over the top 16 nats (q = 0 below), as llama.cpp's logits file.

Requires: pip install llama-cpp-python numpy (tested with 0.3.36).
"""

from __future__ import annotations

import argparse
import struct
import sys
import time

import numpy as np

MAGIC = b"SRCLOGP1"


def quantize(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of float32 logits -> (scale, min_log_prob, q) as llama.cpp's log_softmax for its logits file."""
    logits = logits.astype(np.float32)
    max_logit = logits.max(axis=1)
    min_logit = np.maximum(logits.min(axis=1), max_logit - np.float32(16))
    sum_exp = np.exp(logits - max_logit[:, None]).astype(np.float64).sum(axis=1)
    log_sum_exp = np.log(sum_exp).astype(np.float32)
    min_log_prob = (min_logit - max_logit - log_sum_exp).astype(np.float32)
    scale = ((max_logit - min_logit) / np.float32(65535)).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(scale > 0, np.float32(1) / scale, np.float32(0)).astype(np.float32)
    q = np.rint(inv[:, None] * (logits - min_logit[:, None]))
    q = np.where(logits > min_logit[:, None], q, 0)
    return scale, min_log_prob, np.clip(q, 0, 65535).astype("<u2")


def write_header(f, ctx: int, n_vocab: int, n_chunk: int, tokens: list[int]) -> None:
    f.write(MAGIC)
    f.write(struct.pack("<4I", ctx, n_vocab, n_chunk, ctx - 1 - ctx // 2))
    f.write(np.asarray(tokens[: n_chunk * ctx], dtype="<i4").tobytes())


def write_rows(f, logits: np.ndarray) -> None:
    scale, min_log_prob, q = quantize(logits)
    for s, m, row in zip(scale, min_log_prob, q):
        f.write(struct.pack("<ff", float(s), float(m)))
        f.write(row.tobytes())


def read_base(path: str):
    """(ctx, n_vocab, n_chunk, tokens, rows) where rows(i, j) gives log-probs of rows i..<j as float32
    (read on demand: a 262k vocabulary takes 0.5 MB a row)."""
    f = open(path, "rb")
    if f.read(8) != MAGIC:
        sys.exit(f"{path} is not a Sirocco perplexity base file")
    ctx, n_vocab, n_chunk, scored = struct.unpack("<4I", f.read(16))
    tokens = np.frombuffer(f.read(4 * n_chunk * ctx), dtype="<i4")
    start, row_bytes = f.tell(), 8 + 2 * n_vocab

    def rows(i: int, j: int) -> np.ndarray:
        f.seek(start + i * row_bytes)
        raw = np.frombuffer(f.read((j - i) * row_bytes), dtype=np.uint8).reshape(j - i, row_bytes)
        scale = raw[:, 0:4].copy().view("<f4")[:, 0]
        min_log_prob = raw[:, 4:8].copy().view("<f4")[:, 0]
        return scale[:, None] * raw[:, 8:].copy().view("<u2").astype(np.float32) + min_log_prob[:, None]

    return ctx, n_vocab, n_chunk, tokens, rows


def next_tokens(tokens: np.ndarray, ctx: int, n_chunk: int) -> np.ndarray:
    """The token each scored row predicts."""
    first = ctx // 2
    return np.concatenate([tokens[c * ctx + first + 1: (c + 1) * ctx] for c in range(n_chunk)])


def compare(q_rows, base_rows, targets: np.ndarray, block: int = 32) -> dict:
    """llama-perplexity's KL-divergence statistics of log-probs q against base log-probs. The rows of q
    are used as they are stored, not renormalized: every token below the 16-nat floor reads as the
    floor, and renormalizing would count that mass (a few 1e-3 for a large vocabulary) as real."""
    n = len(targets)
    kld, nll, nll_base, same = (np.empty(n) for _ in range(4))
    for i in range(0, n, block):
        j = min(n, i + block)
        q_log, b = q_rows(i, j).astype(np.float64), base_rows(i, j).astype(np.float64)
        idx = np.arange(j - i)
        kld[i:j] = np.where(b > -16, np.exp(b) * (b - q_log), 0).sum(axis=1)
        nll[i:j], nll_base[i:j] = -q_log[idx, targets[i:j]], -b[idx, targets[i:j]]
        same[i:j] = q_log.argmax(axis=1) == b.argmax(axis=1)
    same_top = float(same.mean())
    sem = lambda x: x.std() / np.sqrt(n - 1)  # noqa: E731
    return {"count": n, "ppl_q": float(np.exp(nll.mean())), "ppl_base": float(np.exp(nll_base.mean())),
            "kld_mean": float(kld.mean()), "kld_uncertainty": float(sem(kld)), "kld_median": float(np.median(kld)),
            "kld_99": float(np.percentile(kld, 99)), "kld_max": float(kld.max()), "same_top": same_top,
            "same_top_uncertainty": float(np.sqrt(same_top * (1 - same_top) / (n - 1)))}


def run_llama_cpp(args) -> None:
    import llama_cpp

    llm = llama_cpp.Llama(args.model, n_ctx=args.ctx_size, n_batch=args.ctx_size, n_ubatch=args.ctx_size,
                          n_threads=args.threads, n_threads_batch=args.threads, logits_all=True,
                          flash_attn=args.flash_attn == "on", verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    add_bos = bool(llama_cpp.llama_vocab_get_add_bos(vocab))
    bos = llama_cpp.llama_vocab_bos(vocab)
    with open(args.text, "rb") as f:
        tokens = llm.tokenize(f.read(), add_bos=True, special=False)
    ctx = args.ctx_size
    if len(tokens) < 2 * ctx:
        sys.exit(f"the text tokenizes to only {len(tokens)} tokens; a context of {ctx} needs at least {2 * ctx}")
    n_chunk = len(tokens) // ctx if args.chunks is None else min(args.chunks, len(tokens) // ctx)
    n_vocab = llm.n_vocab()
    first = ctx // 2
    nll = []
    t0 = time.time()
    with open(args.out, "wb") as out:
        write_header(out, ctx, n_vocab, n_chunk, tokens)
        for c in range(n_chunk):
            chunk = list(tokens[c * ctx:(c + 1) * ctx])
            if add_bos:
                chunk[0] = bos
            llm.reset()
            llm.eval(chunk)
            logits = np.array(llm.scores[first:ctx - 1], dtype=np.float32)
            write_rows(out, logits)
            lg = logits.astype(np.float64)
            norm = lg.max(axis=1) + np.log(np.exp(lg - lg.max(axis=1)[:, None]).sum(axis=1))
            nll.extend(norm - lg[np.arange(len(lg)), chunk[first + 1:]])
            print(f"[{c + 1}]{np.exp(np.mean(nll)):.4f},", end="", flush=True)
    nll = np.array(nll)
    ppl = float(np.exp(nll.mean()))
    print(f"\nFinal estimate: PPL = {ppl:.4f} +/- {nll.std() / np.sqrt(len(nll) - 1) * ppl:.5f}"
          f"  (llama.cpp {llama_cpp.__version__}, flash attention {args.flash_attn}, {n_chunk} chunks of {ctx},"
          f" {time.time() - t0:.0f} s)")


def main() -> None:
    if "--compare" in sys.argv[1:]:
        p = argparse.ArgumentParser()
        p.add_argument("--compare", nargs=2, metavar=("Q", "BASE"), required=True)
        a = p.parse_args()
        ctx, n_vocab, n_chunk, tokens, q_rows = read_base(a.compare[0])
        ctx_b, n_vocab_b, n_chunk_b, tokens_b, b_rows = read_base(a.compare[1])
        if (ctx, n_vocab) != (ctx_b, n_vocab_b) or not np.array_equal(tokens, tokens_b):
            sys.exit("the two base files are not of the same tokens, context and vocabulary")
        targets = next_tokens(tokens, ctx, min(n_chunk, n_chunk_b))
        stats = compare(q_rows, b_rows, targets)
        for k, v in stats.items():
            print(f"{k:22s} {v:.6g}")
        return
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("text")
    p.add_argument("out")
    p.add_argument("--ctx-size", type=int, default=512)
    p.add_argument("--chunks", type=int)
    p.add_argument("--flash-attn", choices=["on", "off"], default="on")
    p.add_argument("--threads", type=int, default=2)
    run_llama_cpp(p.parse_args())


if __name__ == "__main__":
    main()
