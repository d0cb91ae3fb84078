#!/usr/bin/env python3
"""Writes the quantization fixtures used by Tests/SiroccoEngineTests/KernelTests.swift.

For each GGML weight type the kernels support, two rows of blocks are made and dequantized with
gguf-py (the `gguf` package, an implementation independent of ours) as the reference:
  * types gguf-py can quantize (F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0): seeded normal data,
    quantized by gguf-py;
  * types gguf-py only dequantizes (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS): seeded random
    block bytes with the f16 block scales (d, and dmin where the type has one) set to finite values
    in [1e-3, 1e-1].
Each file also holds an activation vector and the float64 dot product of every dequantized row with
it; for types whose activations are Q8_0, the activation quantized by gguf-py's Q8_0 (bit-exact with
GGML's quantize_row_q8_0_ref) is included too.

Usage: python3 scripts/make_quant_fixtures.py   (needs numpy and gguf; deterministic output)
"""
import json
import os
import sys

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants
from gguf.constants import GGML_QUANT_SIZES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "SiroccoEngineTests", "Fixtures", "quant")

QUANTIZABLE = ["F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"]
K_QUANTS = ["Q4_K", "Q5_K", "Q6_K", "Q2_K", "Q3_K", "IQ4_XS"]
RANDOM_BLOCKS = K_QUANTS + ["IQ4_NL"]
Q8_0_ACTIVATION = {"Q4_0", "Q5_0", "Q8_0", "IQ4_NL"}
# byte offsets of the f16 scales in each block of the random-block types
SCALE_OFFSETS = {"Q4_K": (0, 2), "Q5_K": (0, 2), "Q6_K": (208,), "Q2_K": (80, 82), "Q3_K": (108,),
                 "IQ4_NL": (0,), "IQ4_XS": (0,)}


def f16_bytes(values):
    return np.asarray(values, dtype=np.float16).view(np.uint8)


def random_blocks(name, rng, rows, n):
    qtype = getattr(T, name)
    block, size = GGML_QUANT_SIZES[qtype]
    nb = n // block
    raw = rng.integers(0, 256, size=(rows, nb, size), dtype=np.uint8)
    for o in SCALE_OFFSETS[name]:
        scale = rng.uniform(1e-3, 1e-1, size=(rows, nb))
        raw[..., o:o + 2] = f16_bytes(scale).reshape(rows, nb, 2)
    return raw.reshape(rows, nb * size)


def make(name, seed):
    qtype = getattr(T, name)
    rng = np.random.default_rng(seed)
    rows = 2
    n = 512 if name in K_QUANTS else 256
    if name in RANDOM_BLOCKS:
        blocks = random_blocks(name, rng, rows, n)
    else:
        data = rng.standard_normal((rows, n)).astype(np.float32)
        blocks = np.ascontiguousarray(quants.quantize(data, qtype)).view(np.uint8).reshape(rows, -1)
    deq = np.asarray(quants.dequantize(blocks, qtype), dtype=np.float32).reshape(rows, n)
    assert np.all(np.isfinite(deq)), name
    act = rng.standard_normal(n).astype(np.float32)
    dots = [float(np.dot(deq[r].astype(np.float64), act.astype(np.float64))) for r in range(rows)]
    fx = {
        "type": name,
        "ggml_type": int(qtype),
        "n_per_row": n,
        "rows": rows,
        "blocks_hex": blocks.tobytes().hex(),
        "dequant_f32_bits": [int(v) for v in deq.reshape(-1).view(np.uint32)],
        "activation": [float(v) for v in act],
        "activation_f32_bits": [int(v) for v in act.view(np.uint32)],
        "dot_f64": dots,
    }
    if name in Q8_0_ACTIVATION:
        aq = np.ascontiguousarray(quants.quantize(act.reshape(1, n), T.Q8_0)).view(np.uint8)
        fx["activation_q8_0_hex"] = aq.tobytes().hex()
    return fx


def main():
    os.makedirs(OUT, exist_ok=True)
    total = 0
    for i, name in enumerate(QUANTIZABLE + RANDOM_BLOCKS):
        fx = make(name, 1000 + i)
        path = os.path.join(OUT, name + ".json")
        with open(path, "w") as f:
            json.dump(fx, f, separators=(",", ":"))
            f.write("\n")
        total += os.path.getsize(path)
        print(f"{path}: {os.path.getsize(path)} bytes")
    print(f"total {total} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
