#!/usr/bin/env python3
"""llama.cpp's aggregate generation throughput with N sequences decoded together.

    scripts/llamacpp_batched.py --model M.gguf [--sequences 1 2 4] [-n 128] [--prompt-tokens 32]
        [--threads 2] [--repeats 3] [--kv-unified] [--max-others 0.03 --attempts 10] [--verbose]

llama.cpp is driven through llama-cpp-python's low-level API (0.3.36), flash attention on, F16 KV
cache. For each N a context with n_seq_max = N and room for N × (prompt + n) tokens (by default one
KV stream per sequence, kv_unified off, llama.cpp's default; --kv-unified shares one) reads N
prompts of --prompt-tokens deterministic pseudo-random tokens, sequence s's token i being
(i·7919 + 13 + s·101) mod vocab, in one batch (not timed); then -n steps each decode ONE llama_batch
holding one token per sequence (seq_id s at position prompt + i, logits for every row), as
tools/batched-bench's generation does. The tokens fed continue the same formula: sampling is left
out, as scripts/bench-vs-llamacpp leaves it out.

Aggregate tokens/s = N × n / generation time. Every repeat measures every N (the order reversed on
odd repeats, so no N always runs first); the medians are reported with each N's ratio to N = 1
(to the smallest N measured if 1 is not). Prints one JSON object. Each run starts once other
processes have taken at most --max-others (default 3%) of the CPU for 3 s, and its `others_cpu` is
their share during it: a run above --max-others is tried again, up to --attempts times (a shared
machine: llama.cpp's spinning threads slow down far more than that share).
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llamacpp_lowlevel import Context, Model, add_quiet_options, cpu_name, load_average, measure  # noqa: E402


def token(i, s, vocab):
    return (i * 7919 + 13 + s * 101) % vocab


def run(ctx, n_seq, p, n, vocab):
    """One measurement: (prompt tokens/s, aggregate generation tokens/s)."""
    ctx.clear()
    rows = [(token(i, s, vocab), i, s, i == p - 1) for s in range(n_seq) for i in range(p)]
    t0 = time.perf_counter()
    ctx.decode(rows)
    ctx.synchronize()
    t1 = time.perf_counter()
    for i in range(p, p + n):
        ctx.decode([(token(i, s, vocab), i, s, True) for s in range(n_seq)])
    ctx.synchronize()
    t2 = time.perf_counter()
    return n_seq * p / (t1 - t0), n_seq * n / (t2 - t1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--sequences", type=int, nargs="+", default=[1, 2, 4], metavar="N")
    ap.add_argument("-n", type=int, default=128, help="tokens generated per sequence")
    ap.add_argument("--prompt-tokens", type=int, default=32, help="prompt tokens per sequence")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--kv-unified", action="store_true", help="one KV buffer shared by the sequences")
    add_quiet_options(ap)
    ap.add_argument("--verbose", action="store_true", help="also lines for people (on stderr)")
    args = ap.parse_args()
    if args.prompt_tokens < 1 or args.n < 1 or min(args.sequences) < 1:
        sys.exit("-n, --prompt-tokens and --sequences must be positive")

    load_before = load_average()
    model = Model(args.model)
    p, n = args.prompt_tokens, args.n
    per_seq = -(-(p + n + 8) // 256) * 256  # llama.cpp pads each sequence's cells to 256
    contexts = {}
    for n_seq in args.sequences:
        ctx = Context(model, n_seq * per_seq, max(n_seq * p, 32), args.threads, n_seq_max=n_seq,
                      kv_unified=args.kv_unified)
        run(ctx, n_seq, p, 4, model.n_vocab)  # warm-up: touch the weights and the buffers
        contexts[n_seq] = ctx
    runs = {n_seq: [] for n_seq in args.sequences}
    tries = {n_seq: [] for n_seq in args.sequences}
    for r in range(args.repeats):
        for n_seq in (args.sequences if r % 2 == 0 else reversed(args.sequences)):
            (prompt_tps, gen_tps), share, n_tries = measure(
                lambda: run(contexts[n_seq], n_seq, p, n, model.n_vocab),
                args.max_others if args.max_others >= 0 else None, args.attempts)
            runs[n_seq].append((prompt_tps, gen_tps, share))
            tries[n_seq].append(n_tries)

    base_n = 1 if 1 in runs else min(runs)
    agg = {k: statistics.median(g for _, g, _ in v) for k, v in runs.items()}
    result = {
        "model": os.path.basename(args.model),
        "threads": args.threads,
        "prompt_tokens": p,
        "generated_per_sequence": n,
        "repeats": args.repeats,
        "kv_unified": args.kv_unified,
        "cpu": cpu_name(),
        "load_average_before": load_before, "load_average_after": load_average(),
        "sequences": [{
            "n_seq": k,
            "aggregate_tps": agg[k],
            "per_sequence_tps": agg[k] / k,
            "ratio_to_n%d" % base_n: agg[k] / agg[base_n],
            "prompt_tps": statistics.median(q for q, _, _ in runs[k]),
            "aggregate_tps_runs": [g for _, g, _ in runs[k]],
            "others_cpu_runs": [o for _, _, o in runs[k]],
            "tries_runs": tries[k],
        } for k in args.sequences],
    }
    if args.verbose:
        for k in args.sequences:
            print(f"N={k}: {agg[k]:.1f} tok/s aggregate, {agg[k] / k:.1f} per sequence, "
                  f"{agg[k] / agg[base_n]:.2f}x N={base_n}; other processes' CPU share up to "
                  f"{max(o for _, _, o in runs[k]):.0%}", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
