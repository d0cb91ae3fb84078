#!/usr/bin/env python3
"""Real-model parity for the quantization types people download (Q2_K, Q3_K_S/M/L, IQ4_NL, IQ4_XS).

Makes the files with llama.cpp's own quantizer and compares Sirocco's logits with llama.cpp's on them:
  1. an F16 copy of --source (scripts/requantize_f16.py: the source's quantized weights as F16);
  2. one file per --types entry, written by llama_cpp.llama_model_quantize from that F16 copy with
     llama.cpp's default mixture for the type (no importance matrix: none of these types needs one);
  3. llama.cpp's reference for each (scripts/make_reference.py: six prompts' top-5 logits and
     32-token greedy continuations, with the flash attention on/off spread at every step);
  4. `swift test --filter QuantizedModelParityTests` with SIROCCO_QUANT_PARITY_DIR pointing here,
     which holds Sirocco to the same rules as ModelParityTests and prints, per file, the
     |Δlogit| to llama.cpp next to llama.cpp's own flash attention on/off spread.
Files already made are kept (delete the folder to start again). The source must have rows that are
multiples of 256 for the K types to be used throughout (Qwen2.5-Coder-1.5B: 1536 / 8960; the 0.5B's
896-wide rows make llama.cpp fall back to other types for most tensors).

    python3 scripts/quant_parity.py [--source GGUF] [--dir DIR] [--types Q2_K IQ4_XS ...] [--no-swift]

Needs llama-cpp-python (0.3.36), gguf, numpy; a release test build in .build-test for step 4.
"""
import argparse
import collections
import ctypes
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.expanduser(os.environ.get("SIROCCO_MODELS") or "~/.cache/sirocco/models")
DEFAULT_SOURCE = os.path.join(MODELS, "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
DEFAULT_DIR = os.path.expanduser("~/.cache/sirocco/quant-parity")
# llama_ftype values (llama.h)
FTYPES = {"Q2_K": 10, "Q3_K_S": 11, "Q3_K_M": 12, "Q3_K_L": 13, "IQ4_NL": 25, "IQ4_XS": 30}


def quantize(src, dst, ftype, threads):
    from llama_cpp import llama_cpp as C
    params = C.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = threads
    rc = C.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(params))
    if rc != 0:
        raise RuntimeError(f"llama_model_quantize failed ({rc}) for {dst}")


def tensor_types(path):
    import gguf
    counts = collections.Counter(t.tensor_type.name for t in gguf.GGUFReader(path).tensors)
    return ", ".join(f"{n} {c}" for n, c in counts.most_common())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default=DEFAULT_SOURCE)
    ap.add_argument("--dir", default=DEFAULT_DIR)
    ap.add_argument("--types", nargs="*", default=list(FTYPES), choices=list(FTYPES))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-swift", action="store_true", help="only make the files and references")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    stem = os.path.splitext(os.path.basename(args.source))[0]
    f16 = os.path.join(args.dir, stem + ".f16.gguf")
    if not os.path.exists(f16):
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "requantize_f16.py"), args.source, f16 + ".tmp"],
                       check=True)
        os.rename(f16 + ".tmp", f16)
    manifest = []
    for name in args.types:
        path = os.path.join(args.dir, f"{stem}.{name}.gguf")
        if not os.path.exists(path):
            quantize(f16, path + ".tmp", FTYPES[name], args.threads)
            os.rename(path + ".tmp", path)
        ref = os.path.join(args.dir, f"{stem}.{name}.reference.json")
        if not os.path.exists(ref):
            subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "make_reference.py"), "--model", path,
                            "--out", ref + ".tmp", "--threads", str(args.threads)], check=True,
                           stdout=subprocess.DEVNULL)
            os.rename(ref + ".tmp", ref)
        print(f"{name:7s} {os.path.getsize(path) / 2**20:7.1f} MiB  {tensor_types(path)}", flush=True)
        manifest.append({"name": name, "model": path, "reference": ref})
    with open(os.path.join(args.dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    if args.no_swift:
        return
    env = dict(os.environ, SIROCCO_QUANT_PARITY_DIR=args.dir, SIROCCO_PARITY_REPORT="1")
    out = subprocess.run(["swift", "test", "-c", "release", "-Xswiftc", "-enable-testing", "--scratch-path", ".build-test",
                          "--skip-build", "--filter", "QuantizedModelParityTests"], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    for line in (out.stdout + out.stderr).splitlines():
        if line.startswith("parity ") or "✘" in line or "passed after" in line and "Suite" in line:
            print(line)
    sys.exit(out.returncode)


if __name__ == "__main__":
    main()
