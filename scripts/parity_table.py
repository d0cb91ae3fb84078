#!/usr/bin/env python3
"""Distribution-level parity with llama.cpp for a set of models, as one Markdown table.

    python3 scripts/parity_table.py [--ctx-size 512] [--chunks 8] [--text FILE] [--sirocco BIN]
                                    [--work DIR] NAME=MODEL.gguf [NAME=MODEL.gguf ...]

For every model, on the same text and chunks (llama-perplexity's procedure):
  1. llama.cpp with flash attention on (its default on CPU) writes the base log-probabilities,
  2. llama.cpp with flash attention off writes another (llama.cpp's own spread),
  3. `sirocco perplexity --kl-divergence-base` writes Sirocco's,
and scripts/perplexity_base_from_llamacpp.py --compare measures 3 and 2 against 1 with the same code:
mean KL divergence, the share of positions with the same top token, and both perplexities. A row:

  | name | PPL Sirocco | PPL llama.cpp | KLD Sirocco | KLD llama.cpp FA off | ratio | same top Sirocco | same top FA off |

The base files (hundreds of MB for a 150k vocabulary) are deleted once compared; the statistics of each
model are kept in WORK/NAME.json. Needs llama-cpp-python and numpy, and a built sirocco binary.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BASE_SCRIPT = os.path.join(HERE, "perplexity_base_from_llamacpp.py")


def run(cmd: list[str]) -> str:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return r.stdout


def compare(q: str, base: str) -> dict:
    out = run([sys.executable, BASE_SCRIPT, "--compare", q, base])
    return {k: float(v) for k, v in (line.split() for line in out.splitlines() if line.strip())}


def measure(name: str, model: str, args) -> dict:
    paths = {kind: os.path.join(args.work, f"{name}.{kind}.base") for kind in ("faon", "faoff", "sirocco")}
    common = ["--ctx-size", str(args.ctx_size), "--chunks", str(args.chunks)]
    try:
        for kind, fa in (("faon", "on"), ("faoff", "off")):
            run([sys.executable, BASE_SCRIPT, model, args.text, paths[kind], "--flash-attn", fa,
                 "--threads", str(args.threads), *common])
        run([args.sirocco, "perplexity", "--model", model, "--file", args.text, "--threads", str(args.threads),
             "--kl-divergence-base", paths["sirocco"], *common])
        ours, theirs = compare(paths["sirocco"], paths["faon"]), compare(paths["faoff"], paths["faon"])
    finally:
        for p in paths.values():
            if os.path.exists(p):
                os.remove(p)
    stats = {"model": os.path.basename(model), "ctx_size": args.ctx_size, "chunks": args.chunks,
             "sirocco_vs_llamacpp": ours, "llamacpp_fa_off_vs_on": theirs}
    with open(os.path.join(args.work, f"{name}.json"), "w") as f:
        json.dump(stats, f, indent=1)
    return stats


def row(name: str, s: dict) -> str:
    o, t = s["sirocco_vs_llamacpp"], s["llamacpp_fa_off_vs_on"]
    ratio = o["kld_mean"] / t["kld_mean"] if t["kld_mean"] > 0 else float("inf")
    return (f"| {name} | {o['ppl_q']:.4f} | {o['ppl_base']:.4f} | {o['kld_mean']:.3g} | {t['kld_mean']:.3g} "
            f"| {ratio:.2f} | {100 * o['same_top']:.2f}% | {100 * t['same_top']:.2f}% |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="+", metavar="NAME=MODEL.gguf")
    p.add_argument("--ctx-size", type=int, default=512)
    p.add_argument("--chunks", type=int, default=8)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--text", default=os.path.join(HERE, "..", "Tests/SiroccoEngineTests/Fixtures/perplexity/coriolanus.txt"))
    p.add_argument("--sirocco", default=os.path.join(HERE, "..", ".build/release/sirocco"))
    p.add_argument("--work", default="/tmp/sirocco-parity")
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    print("| model | PPL Sirocco | PPL llama.cpp | KLD Sirocco | KLD llama.cpp FA off | ratio | same top Sirocco "
          "| same top FA off |")
    print("|---|---|---|---|---|---|---|---|")
    for spec in args.models:
        name, _, model = spec.partition("=")
        if not model:
            sys.exit(f"expected NAME=MODEL.gguf, got {spec}")
        print(row(name, measure(name, model, args)), flush=True)


if __name__ == "__main__":
    main()
