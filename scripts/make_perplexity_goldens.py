#!/usr/bin/env python3
"""Goldens for `sirocco perplexity` (PerplexityTests.swift), computed independently with NumPy.

  Fixtures/perplexity/statistics.base, statistics.json
      The statistics alone: 130 positions over a 64-token vocabulary. The logits being scored and the
      next tokens come from SplitMix64 streams the Swift test regenerates bit for bit; the base
      log-probabilities (the logits plus noise, quantized by perplexity_base_from_llamacpp.quantize)
      are in the base file. statistics.json holds every number llama-perplexity reports, from NumPy in
      float64 with llama.cpp's formulas (tools/perplexity/perplexity.cpp).
  Fixtures/perplexity/synthetic.base, synthetic.json
      A whole run: the synthetic llama-dense-f16 model on coriolanus.txt with a context of 16 tokens,
      16 chunks. The text is tokenized by llama.cpp (add_special, no special parsing); the logits come
      from scripts/reference_forward.py (NumPy, float64) and are written as a base file; the JSON holds
      NumPy's perplexity from the exact logits and from the quantized base.
  Fixtures/perplexity/synthetic-gemma3.base, synthetic-gemma3.json
      The same for the synthetic gemma3-q8_0 model (window 8) with a context of 8, 40 chunks: a
      context no longer than the window, where local layers must still use their own RoPE base.

    python3 scripts/make_perplexity_goldens.py

Requires numpy, gguf (gguf-py) and llama-cpp-python (for the tokenizer only).
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import perplexity_base_from_llamacpp as base_file  # noqa: E402
import reference_forward  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "SiroccoEngineTests", "Fixtures")
OUT = os.path.join(FIXTURES, "perplexity")
MASK = (1 << 64) - 1


def splitmix64(seed: int):
    state = seed
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def unit(x: int) -> float:
    """[0, 1) from the top 53 bits, as the Swift test computes it."""
    return (x >> 11) * 2.0 ** -53


def statistic_logits(rows: int, vocab: int) -> np.ndarray:
    """Row r: float32((2u - 1) * (2 + 2 * (r % 5))) for u from SplitMix64(seed 1500)."""
    g = splitmix64(1500)
    out = np.empty((rows, vocab), dtype=np.float32)
    for r in range(rows):
        spread = 2.0 + 2.0 * (r % 5)
        for i in range(vocab):
            out[r, i] = np.float32((2.0 * unit(next(g)) - 1.0) * spread)
    return out


def statistic_targets(rows: int, vocab: int) -> np.ndarray:
    g = splitmix64(1501)
    return np.array([next(g) % vocab for _ in range(rows)], dtype=np.int64)


def mean_unc(values: np.ndarray) -> tuple[float, float]:
    n = len(values)
    f = values.sum() / n
    var = (values * values).sum() / n - f * f
    return float(f), float(np.sqrt(var / (n - 1)) if var > 0 and n > 10 else 0.0)


def percentile(sorted_values: np.ndarray, fraction: float) -> float:
    if fraction <= 0:
        return float(sorted_values[0])
    if fraction >= 1:
        return float(sorted_values[-1])
    p = fraction * (len(sorted_values) - 1)
    i = int(p)
    t = p - i
    return float((1 - t) * sorted_values[i] + t * sorted_values[min(i + 1, len(sorted_values) - 1)])


def median(sorted_values: np.ndarray) -> float:
    n = len(sorted_values)
    return float(0.5 * (sorted_values[n // 2] + sorted_values[n // 2 - 1]) if n % 2 == 0 else sorted_values[n // 2])


FRACTIONS = [0.999, 0.99, 0.95, 0.9, 0.75, 0.25, 0.1, 0.05, 0.01, 0.001]


def statistics(logits: np.ndarray, base_log_probs: np.ndarray, targets: np.ndarray) -> dict:
    """Everything llama-perplexity prints, from float32 logits and the dequantized base (float32)."""
    lg = logits.astype(np.float64)
    log_norm = lg.max(axis=1) + np.log(np.exp(lg - lg.max(axis=1)[:, None]).sum(axis=1))
    q_log = lg - log_norm[:, None]
    b = base_log_probs.astype(np.float64)
    idx = np.arange(len(targets))
    nll, nll_base = -q_log[idx, targets], -b[idx, targets]
    kld = np.where(b > -16, np.exp(b) * (b - q_log), 0.0).sum(axis=1)
    p_diff = np.exp(-nll) - np.exp(-nll_base)
    n = len(targets)
    log_ppl, log_base = mean_unc(nll), mean_unc(nll_base)
    cov = ((nll * nll_base).sum() / n - nll.mean() * nll_base.mean()) / (n - 1)
    ppl, ppl_base = np.exp(log_ppl[0]), np.exp(log_base[0])
    ppl_unc, base_unc = ppl * log_ppl[1], ppl_base * log_base[1]
    ln_ratio = log_ppl[0] - log_base[0]
    ln_ratio_unc = np.sqrt(log_ppl[1] ** 2 + log_base[1] ** 2 - 2 * cov)
    mse = mean_unc(p_diff * p_diff)
    rms = np.sqrt(mse[0])
    same = float((lg.argmax(axis=1) == b.argmax(axis=1)).mean())
    k, p = np.sort(kld.astype(np.float32)).astype(np.float64), np.sort(p_diff.astype(np.float32)).astype(np.float64)
    return {
        "count": n,
        "ppl": [float(ppl), float(ppl_unc)], "ppl_base": [float(ppl_base), float(base_unc)],
        "correlation": float(cov / (log_ppl[1] * log_base[1])),
        "ln_ratio": [float(ln_ratio), float(ln_ratio_unc)],
        "ratio": [float(np.exp(ln_ratio)), float(np.exp(ln_ratio) * ln_ratio_unc)],
        "difference": [float(ppl - ppl_base), float(np.sqrt(ppl_unc ** 2 + base_unc ** 2 - 2 * ppl * ppl_base * cov))],
        "kld": list(mean_unc(kld)), "kld_median": median(k), "kld_min": float(k[0]), "kld_max": float(k[-1]),
        "kld_percentiles": {str(f): percentile(k, f) for f in FRACTIONS},
        "p_diff": list(mean_unc(p_diff)), "p_diff_median": median(p), "p_diff_min": float(p[0]), "p_diff_max": float(p[-1]),
        "p_diff_percentiles": {str(f): percentile(p, f) for f in FRACTIONS},
        "p_diff_rms": [float(rms), float(0.5 / rms * mse[1])],
        "same_top": [same, float(np.sqrt(same * (1 - same) / (n - 1)))],
    }


def write_base(path: str, ctx: int, vocab: int, chunks: int, tokens: list[int], rows: np.ndarray) -> np.ndarray:
    """Writes a base file; returns its dequantized rows as the reader sees them."""
    with open(path, "wb") as f:
        base_file.write_header(f, ctx, vocab, chunks, tokens)
        base_file.write_rows(f, rows)
    _, _, n_chunk, _, read = base_file.read_base(path)
    return read(0, len(rows))


def make_statistics() -> None:
    # 130 positions: ctx 28 (13 scored a chunk), 10 chunks; the tokens in the header are the targets' context
    ctx, chunks, vocab = 28, 10, 64
    rows = chunks * (ctx - 1 - ctx // 2)
    logits = statistic_logits(rows, vocab)
    targets = statistic_targets(rows, vocab)
    rng = np.random.default_rng(1502)
    base_logits = logits + rng.normal(0, 0.6, logits.shape).astype(np.float32)
    tokens = [0] * (ctx * chunks)  # not read by the statistics test
    base = write_base(os.path.join(OUT, "statistics.base"), ctx, vocab, chunks, tokens, base_logits)
    golden = statistics(logits, base, targets)
    golden["perplexity_only"] = [golden["ppl"][0], golden["ppl"][1]]
    with open(os.path.join(OUT, "statistics.json"), "w") as f:
        json.dump({"generator": "scripts/make_perplexity_goldens.py", "vocab": vocab, "rows": rows,
                   "logits_seed": 1500, "targets_seed": 1501, "statistics": golden}, f, indent=1)
        f.write("\n")


def make_synthetic(model_name: str, out_name: str, ctx: int, chunks: int) -> None:
    import llama_cpp

    model_path = os.path.join(FIXTURES, "synthetic", f"{model_name}.gguf")
    with open(os.path.join(OUT, "coriolanus.txt"), "rb") as f:
        text = f.read()
    vocab_model = llama_cpp.Llama(model_path, vocab_only=True, verbose=False)
    tokens = vocab_model.tokenize(text, add_bos=True, special=False)
    add_bos = bool(llama_cpp.llama_vocab_get_add_bos(llama_cpp.llama_model_get_vocab(vocab_model.model)))
    assert not add_bos  # the synthetic vocabulary adds no BOS; nothing to put in place of a chunk's first token
    first = ctx // 2
    model = reference_forward.Model(model_path)
    rows, targets = [], []
    for c in range(chunks):
        chunk = tokens[c * ctx:(c + 1) * ctx]
        logits = np.asarray(reference_forward.forward(model, chunk))
        rows.append(logits[first:ctx - 1])
        targets.extend(chunk[first + 1:])
    exact = np.concatenate(rows)
    targets = np.array(targets)
    n_vocab = exact.shape[1]
    base = write_base(os.path.join(OUT, f"{out_name}.base"), ctx, n_vocab, chunks, tokens, exact.astype(np.float32))
    log_norm = exact.max(axis=1) + np.log(np.exp(exact - exact.max(axis=1)[:, None]).sum(axis=1))
    nll = log_norm - exact[np.arange(len(targets)), targets]
    nll_base = -base.astype(np.float64)[np.arange(len(targets)), targets]
    with open(os.path.join(OUT, f"{out_name}.json"), "w") as f:
        json.dump({"generator": "scripts/make_perplexity_goldens.py", "model": model_name, "ctx": ctx,
                   "chunks": chunks, "text_tokens": len(tokens), "positions": len(targets),
                   "ppl_numpy": float(np.exp(nll.mean())), "ppl_base_file": float(np.exp(nll_base.mean()))}, f, indent=1)
        f.write("\n")


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    make_statistics()
    make_synthetic("llama-dense-f16", "synthetic", ctx=16, chunks=16)
    # Gemma 3 with a context as long as its window (8): local layers must keep their own RoPE base
    make_synthetic("gemma3-q8_0", "synthetic-gemma3", ctx=8, chunks=40)


if __name__ == "__main__":
    main()
