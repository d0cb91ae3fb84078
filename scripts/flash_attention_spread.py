#!/usr/bin/env python3
"""llama.cpp's own spread between flash attention on and off on the synthetic test models.

With flash attention on (llama.cpp's default on a CPU) one-row attention over an F16 cache
accumulates in F16, rounding after every update; with it off, the probabilities are rounded to
F16 and the values summed in F32. This prints how far the two sets of logits lie apart on each
synthetic model (F16 cache both ways; 8 tokens as one batch, then one token at a time as
generation does): the scale against which a different attention accumulator in Sirocco can be
judged (docs/PERFORMANCE.md, "The F16 kernel's floor on this CPU").

    python3 scripts/flash_attention_spread.py llama-dense-q5_k llama-moe-q6_k ...

Requires llama-cpp-python and numpy; reads Tests/SiroccoEngineTests/Fixtures/synthetic/.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_synthetic_models as synthetic  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "SiroccoEngineTests",
                        "Fixtures", "synthetic")
PREFILL = 8  # tokens decoded as one batch; the rest go one at a time


def logits(path, tokens, flash_attention):
    """Logits at every position: PREFILL tokens as one batch, then one token per decode."""
    C = synthetic.llama_api()
    mp = C.llama_model_default_params()
    mp.n_gpu_layers = 0
    model = C.llama_model_load_from_file(path.encode(), mp)
    n_vocab = C.llama_vocab_n_tokens(C.llama_model_get_vocab(model))
    cp = C.llama_context_default_params()
    cp.n_ctx = cp.n_batch = cp.n_ubatch = synthetic.N_CTX
    cp.n_threads = cp.n_threads_batch = synthetic.N_THREADS
    cp.flash_attn_type = 1 if flash_attention else 0  # LLAMA_FLASH_ATTN_TYPE_ENABLED / _DISABLED
    ctx = C.llama_init_from_model(model, cp)
    batch = C.llama_batch_init(len(tokens), 0, 1)
    out = synthetic.decode_positions(C, ctx, batch, tokens, 0, PREFILL, n_vocab)
    for first in range(PREFILL, len(tokens)):
        out += synthetic.decode_positions(C, ctx, batch, tokens, first, 1, n_vocab)
    C.llama_batch_free(batch)
    C.llama_free(ctx)
    C.llama_model_free(model)
    return np.stack(out)


def main():
    for name in sys.argv[1:]:
        path = os.path.join(FIXTURES, f"{name}.gguf")
        tokens = synthetic.token_sequence()
        d = np.abs(logits(path, tokens, True) - logits(path, tokens, False))
        print(f"{name:18s} flash attention on vs off: max |Δlogit| {d.max():.4f}, mean {d.mean():.5f}", flush=True)


if __name__ == "__main__":
    main()
