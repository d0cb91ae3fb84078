#!/usr/bin/env python3
"""llama.cpp's greedy speculative decoding with a draft model, against its target alone, in one process.

    scripts/llamacpp_speculative.py --target T.gguf --draft D.gguf [--prompt-kind code|prose |
        --prompt TEXT | --prompt-file F] [-n 256] [--draft-max 16 --draft-min 0 --p-min 0.75]
        [--threads 2] [--repeats 1] [--max-others 0.03 --attempts 10] [--verbose] [--print-text]

llama.cpp is driven through llama-cpp-python's low-level API (0.3.36), flash attention on, F16 KV
cache, the same thread count for both models. The prompt is a user message in Qwen's ChatML form
(the text below, tokenized with special tokens; Qwen's own template renders the same text), so both
models need that vocabulary — Qwen2.5-Coder 0.5B drafting for 1.5B, say.

A round, as llama.cpp's common_speculative / speculative-simple do it (greedy, temperature 0):
the draft model reads what it has not read yet of the target's tokens and drafts greedily, one
token per decode, up to --draft-max tokens (fewer near the -n limit), stopping at the first token
whose probability is below --p-min (llama.cpp's draft sampler is top-k 10, so the probability is
the softmax over the ten largest logits); a draft shorter than --draft-min is dropped. The target
then decodes [its last token, draft...] in ONE llama_decode with logits for every row, and keeps
the longest prefix of the draft that its own argmax agrees with, plus its own next token. Both KV
caches are rolled back past what was kept with llama_memory_seq_rm. (The draft keeps the keys and
values of the drafts that were accepted, as llama.cpp's common_speculative did until 2026; its
newest draft-simple feeds the target's whole batch through the draft model again instead.)

The target alone generates greedily on the same prompt, one token per decode. Both are timed from
the same state — prompt minus its last token decoded in the model(s), not timed — to the -n-th
generated token (or the end-of-generation token, counted). The argmax and the draft's probability
(NumPy) are inside the timing, as llama.cpp's samplers are. With --repeats > 1 the two alternate
which goes first, and the medians are reported.

Prints one JSON object: tokens/s of both, speed-up, acceptance rate (accepted draft tokens /
drafted tokens), mean accepted drafts per round, and whether the speculative token sequence equals
the target-alone greedy sequence (if not, the first index where they differ) — which says how
exactly llama.cpp's logits for a row of a batch match those of a single-token decode. Each run
starts once other processes have taken at most --max-others (default 3%) of the CPU for 3 s, and its
`others_cpu` is their share during it: a run above --max-others is tried again, up to --attempts
times (llama.cpp's spinning threads lose far more than that share).
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llamacpp_lowlevel import Context, Model, add_quiet_options, cpu_name, load_average, measure  # noqa: E402

PROMPTS = {
    "code": "Write a Python function that parses a CSV file and returns a list of dictionaries, "
            "with error handling and type hints.",
    "prose": "Write a short story about a lighthouse keeper who finds a message in a bottle.",
}
CHATML = ("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
          "<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n")


def draft_choice(logits, top_k=10):
    """The draft's greedy token and its probability under llama.cpp's draft sampler (top-k 10, then
    softmax): 1 / Σ exp(l − max) over the k largest logits. Logits more than 30 below the largest
    (each < 1e-13 of it) are left out of the sum, which spares a partition of the whole vocabulary."""
    best = int(np.argmax(logits))
    top = logits[best]
    near = logits[logits > top - 30]
    if len(near) > top_k:
        near = np.partition(near, -top_k)[-top_k:]
    return best, float(1.0 / np.exp(near - top).sum())


def prefill(ctx, tokens):
    """Decodes all of `tokens` but the last into an empty cache (no logits); the last is left to the
    timed part, as speculative-simple keeps it for the first round's batch."""
    ctx.clear()
    for start in range(0, len(tokens) - 1, ctx.capacity):
        end = min(start + ctx.capacity, len(tokens) - 1)
        ctx.decode([(tokens[i], i, 0, False) for i in range(start, end)])
    ctx.synchronize()


def target_alone(tgt, prompt, n):
    """Greedy generation, one token per decode: (tokens, seconds)."""
    prefill(tgt, prompt)
    out, token, pos = [], prompt[-1], len(prompt) - 1
    t0 = time.perf_counter()
    while len(out) < n:
        tgt.decode([(token, pos, 0, True)])
        pos += 1
        token = int(np.argmax(tgt.logits(-1)))
        out.append(token)
        if tgt.model.is_eog(token):
            break
    return out, time.perf_counter() - t0


def speculative(tgt, dft, prompt, n, draft_max, draft_min, p_min):
    """Greedy speculative generation: (tokens, seconds, statistics)."""
    prefill(tgt, prompt)
    prefill(dft, prompt)
    context = list(prompt[:-1])  # the tokens in the target's cache
    in_draft = list(prompt[:-1])  # the tokens in the draft's cache
    last = prompt[-1]  # the target's newest token, not yet in its cache
    out = []
    rounds = drafted = accepted = 0
    t_draft = t_verify = 0.0
    t0 = time.perf_counter()
    done = False
    while not done and len(out) < n:
        n_past = len(context)
        room = min(draft_max, n - len(out) - 1)  # a round yields at most room + 1 tokens
        draft = []
        t1 = time.perf_counter()
        if room > 0:
            want = context + [last]
            keep = 0
            while keep < min(len(in_draft), len(want) - 1) and in_draft[keep] == want[keep]:
                keep += 1
            dft.seq_rm(0, keep)
            dft.decode([(want[i], i, 0, i == len(want) - 1) for i in range(keep, len(want))])
            in_draft = want
            while True:
                token, p = draft_choice(dft.logits(-1))
                if p < p_min:
                    break
                draft.append(token)
                if len(draft) >= room:
                    break
                dft.decode([(token, n_past + len(draft), 0, True)])
                in_draft.append(token)
            if len(draft) < draft_min:
                draft = []
        t2 = time.perf_counter()
        # the target reads its last token and the whole draft in one batch, logits for every row
        tgt.decode([(last, n_past, 0, True)] + [(d, n_past + 1 + i, 0, True) for i, d in enumerate(draft)])
        ids = []
        for i in range(len(draft) + 1):
            token = int(np.argmax(tgt.logits(i)))
            ids.append(token)
            if i == len(draft) or token != draft[i]:
                break
        t_draft += t2 - t1
        t_verify += time.perf_counter() - t2
        rounds += 1
        drafted += len(draft)
        accepted += len(ids) - 1
        context += [last] + ids[:-1]
        last = ids[-1]
        tgt.seq_rm(0, len(context))  # the rejected drafts' keys and values
        for token in ids:
            out.append(token)
            if tgt.model.is_eog(token):
                done = True
                break
    seconds = time.perf_counter() - t0
    return out, seconds, dict(rounds=rounds, drafted=drafted, accepted=accepted,
                              draft_seconds=t_draft, verify_seconds=t_verify)


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", required=True)
    ap.add_argument("--draft", required=True)
    source = ap.add_mutually_exclusive_group()
    source.add_argument("--prompt-kind", choices=sorted(PROMPTS), default="code", help="a built-in prompt (default code)")
    source.add_argument("--prompt", help="the user message")
    source.add_argument("--prompt-file", help="a file holding the user message")
    ap.add_argument("-n", type=int, default=256, help="tokens to generate (fewer at end of generation)")
    ap.add_argument("--draft-max", type=int, default=16)
    ap.add_argument("--draft-min", type=int, default=0)
    ap.add_argument("--p-min", type=float, default=0.75)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1, help="runs of each, alternating which goes first (median)")
    add_quiet_options(ap)
    ap.add_argument("--verbose", action="store_true", help="also a line for people (on stderr)")
    ap.add_argument("--print-text", action="store_true", help="print the target's answer (on stderr)")
    args = ap.parse_args()

    if args.prompt_file:
        kind, message = "file:" + args.prompt_file, open(args.prompt_file).read().strip()
    elif args.prompt is not None:
        kind, message = "custom", args.prompt
    else:
        kind, message = args.prompt_kind, PROMPTS[args.prompt_kind]
    load_before = load_average()
    target, draft_model = Model(args.target), Model(args.draft)
    if target.n_vocab != draft_model.n_vocab:
        sys.exit(f"the vocabularies differ: {target.n_vocab} and {draft_model.n_vocab} tokens")
    prompt = target.tokenize(CHATML.format(prompt=message))
    if prompt != draft_model.tokenize(CHATML.format(prompt=message)):
        sys.exit("the two models tokenize the prompt differently")
    n_ctx = len(prompt) + args.n + args.draft_max + 8
    n_batch = max(len(prompt), args.draft_max + 1, 32)
    tgt = Context(target, n_ctx, n_batch, args.threads)
    dft = Context(draft_model, n_ctx, n_batch, args.threads)
    for ctx in (tgt, dft):  # warm-up: touch the weights
        ctx.clear()
        ctx.decode([(t, i, 0, i == 7) for i, t in enumerate(prompt[:8])])
        ctx.synchronize()

    runs = {
        "alone": lambda: target_alone(tgt, prompt, args.n),
        "spec": lambda: speculative(tgt, dft, prompt, args.n, args.draft_max, args.draft_min, args.p_min),
    }
    results, others, tries = {"alone": [], "spec": []}, {"alone": [], "spec": []}, {"alone": [], "spec": []}
    max_others = args.max_others if args.max_others >= 0 else None
    for r in range(args.repeats):
        for which in (("alone", "spec") if r % 2 == 0 else ("spec", "alone")):
            result, share, n_tries = measure(runs[which], max_others, args.attempts)
            results[which].append(result)
            others[which].append(share)
            tries[which].append(n_tries)
    alone, spec = results["alone"], results["spec"]

    alone_tps = statistics.median(len(o) / s for o, s in alone)
    spec_tps = statistics.median(len(o) / s for o, s, _ in spec)
    reference = alone[0][0]
    stats = spec[0][2]
    diffs = [first_difference(o, reference) for o, _, _ in spec]
    result = {
        "target": os.path.basename(args.target),
        "draft": os.path.basename(args.draft),
        "prompt_kind": kind,
        "prompt_tokens": len(prompt),
        "threads": args.threads,
        "repeats": args.repeats,
        "draft_max": args.draft_max, "draft_min": args.draft_min, "p_min": args.p_min,
        "generated_alone": len(reference),
        "generated_speculative": len(spec[0][0]),
        "target_alone_tps": alone_tps,
        "speculative_tps": spec_tps,
        "speedup": spec_tps / alone_tps,
        "acceptance_rate": stats["accepted"] / stats["drafted"] if stats["drafted"] else None,
        "mean_accepted_per_round": stats["accepted"] / stats["rounds"],
        "tokens_per_target_decode": len(spec[0][0]) / stats["rounds"],
        **stats,
        "target_alone_tps_runs": [len(o) / s for o, s in alone],
        "speculative_tps_runs": [len(o) / s for o, s, _ in spec],
        "others_cpu_alone_runs": others["alone"],
        "others_cpu_speculative_runs": others["spec"],
        "tries_alone_runs": tries["alone"],
        "tries_speculative_runs": tries["spec"],
        "alone_runs_identical": all(o == reference for o, _ in alone),
        "speculative_equals_alone": all(d is None for d in diffs),
        "first_difference": next((d for d in diffs if d is not None), None),
        "cpu": cpu_name(),
        "load_average_before": load_before, "load_average_after": load_average(),
    }
    if args.print_text:
        print(target.detokenize(reference), file=sys.stderr)
    if args.verbose:
        same = "equal" if result["speculative_equals_alone"] else f"DIFFER at token {result['first_difference']}"
        print(f"{kind}: target alone {alone_tps:.1f} tok/s, speculative {spec_tps:.1f} tok/s "
              f"({result['speedup']:.2f}x); accepted {stats['accepted']}/{stats['drafted']} drafts "
              f"({result['acceptance_rate'] or 0:.3f}), {result['mean_accepted_per_round']:.2f} a round over "
              f"{stats['rounds']} rounds; {len(reference)} tokens; sequences {same}; other processes' CPU share "
              f"up to {max(others['alone'] + others['spec']):.0%}", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
