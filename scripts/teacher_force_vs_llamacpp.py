#!/usr/bin/env python3
"""Teacher-forces a continuation (ours, e.g. `sirocco run --raw --temp 0`) through llama.cpp and lists
every step where llama.cpp's top token differs from the continuation's, with llama.cpp's logit gap
between the two. A gap within llama.cpp's own flash-attention on/off spread is a near-tie; a gap of
whole logits is a deviation. Run it with --flash-attn 1 and 0 to see that spread at each step.

Usage: scripts/teacher_force_vs_llamacpp.py MODEL.gguf PROMPT CONTINUATION [--flash-attn 0|1] [--ctx N]
Needs llama-cpp-python. Tokens: llama.cpp's tokenization of PROMPT + CONTINUATION (with BOS).
"""
import argparse

import llama_cpp
import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("prompt")
    ap.add_argument("continuation")
    ap.add_argument("--flash-attn", type=int, default=1)
    ap.add_argument("--ctx", type=int, default=512)
    a = ap.parse_args()
    m = llama_cpp.Llama(model_path=a.model, n_ctx=a.ctx, n_threads=2, verbose=False, logits_all=True,
                        flash_attn=bool(a.flash_attn))
    prompt = m.tokenize(a.prompt.encode(), add_bos=True)
    full = m.tokenize((a.prompt + a.continuation).encode(), add_bos=True)
    m.reset()
    m.eval(full)
    logits = np.array(m.scores[:len(full)])
    worst = 0.0
    for i in range(len(prompt) - 1, len(full) - 1):
        row, chosen = logits[i], full[i + 1]
        best = int(np.argmax(row))
        if best != chosen:
            gap = float(row[best] - row[chosen])
            worst = max(worst, gap)
            print(f"step {i - len(prompt) + 1}: continuation {m.detokenize([chosen])!r}, "
                  f"llama.cpp {m.detokenize([best])!r}, gap {gap:.3f}")
    print(f"{len(full) - len(prompt)} steps, largest gap {worst:.3f}")


if __name__ == "__main__":
    main()
