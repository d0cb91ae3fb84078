#!/usr/bin/env python3
"""Record what llama.cpp prints when a SentencePiece model continues a raw prompt.

llama.cpp's completion prints each generated token with llama_token_to_piece(lstrip 0): a first
generated token "▁word" keeps its space (" word"); only llama_detokenize of a whole text drops the
space SentencePiece added in front of it. For synthetic llama models (their 300-piece SPM-style
vocabulary adds a space prefix), greedy from raw prompts chosen (by a search over short prompts) so
that the first generated token starts with "▁" and every step is clear (top-2 gap > MIN_MARGIN);
generation stops before the first byte token (random weights mostly pick bytes, which would not be
text) or after N_PREDICT. Written to Tests/SiroccoEngineTests/Fixtures/synthetic/continuation.json:

  cases[{model, prompt, prompt_ids, generated_ids, margins (top-2 logit gap of each greedy step),
  text (the pieces llama.cpp prints, concatenated), detokenized (llama_detokenize of prompt_ids +
  generated_ids, remove_special false, unparse_special false)}]

    python3 scripts/make_continuation_golden.py

Requires: pip install llama-cpp-python (tested with 0.3.36).
"""

from __future__ import annotations

import ctypes
import json
import os

import llama_cpp
import numpy as np
from llama_cpp import llama_cpp as C

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "SiroccoEngineTests", "Fixtures", "synthetic")
N_PREDICT = 8
CASES = [("llama-dense-f16.gguf", "dot end"), ("llama-dense-bf16.gguf", "a oh he"),
         ("llama-dense-q5_k.gguf", "end to"), ("llama-dense-q5_0.gguf", "or end")]
FIRST_TEXT_TOKEN = 259  # <unk> <s> </s> and 256 byte tokens come first
MIN_MARGIN = 0.1  # every greedy step must be clear enough for a different engine to agree


def piece(vocab, token: int) -> bytes:
    buf = ctypes.create_string_buffer(64)
    n = C.llama_token_to_piece(vocab, token, buf, 64, 0, False)
    return buf.raw[:n]


def detokenize(vocab, ids: list[int]) -> bytes:
    arr = (C.llama_token * len(ids))(*ids)
    buf = ctypes.create_string_buffer(64 + 32 * len(ids))
    n = C.llama_detokenize(vocab, arr, len(ids), buf, len(buf), False, False)
    return buf.raw[:n]


def main() -> None:
    cases = []
    for model, prompt in CASES:
        llm = llama_cpp.Llama(os.path.join(FIXTURES, model), n_ctx=64, n_threads=2, verbose=False)
        vocab = C.llama_model_get_vocab(llm.model)
        n_vocab = llm.n_vocab()
        ids = llm.tokenize(prompt.encode(), add_bos=True, special=True)
        llm.eval(ids)
        generated, margins = [], []
        for _ in range(N_PREDICT):
            logits = np.ctypeslib.as_array(C.llama_get_logits_ith(llm.ctx, -1), shape=(n_vocab,)).copy()
            t = int(np.argmax(logits))
            top2 = np.sort(logits)[-2:]
            if t < FIRST_TEXT_TOKEN:
                break
            generated.append(t)
            margins.append(round(float(top2[1] - top2[0]), 4))
            llm.eval([t])
        assert generated and piece(vocab, generated[0]).startswith(b" ") and min(margins) > MIN_MARGIN, (model, prompt)
        cases.append({
            "model": model, "prompt": prompt, "prompt_ids": ids, "generated_ids": generated, "margins": margins,
            "text": b"".join(piece(vocab, t) for t in generated).decode("utf-8"),
            "detokenized": detokenize(vocab, ids + generated).decode("utf-8"),
        })
    out = {"generator": "scripts/make_continuation_golden.py", "llama_cpp_python_version": llama_cpp.__version__,
           "cases": cases}
    with open(os.path.join(FIXTURES, "continuation.json"), "w") as f:
        json.dump(out, f, ensure_ascii=False)
        f.write("\n")
    print(f"{len(cases)} cases")


if __name__ == "__main__":
    main()
