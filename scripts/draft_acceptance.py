#!/usr/bin/env python3
"""How often a draft model's greedy token is the target's, measured with llama.cpp (llama-cpp-python):
the target answers a chat prompt greedily, then the draft reads prompt and answer in one pass and its
argmax at each answer position is compared with the target's token. The rate α bounds what
speculative decoding can gain (issue 19): a round of k drafts yields (1 − α^(k+1)) / (1 − α) tokens.

    scripts/draft_acceptance.py TARGET.gguf DRAFT.gguf [--tokens 200]

Prints α for a code prompt and a prose prompt. Both models need the same vocabulary (ChatML here).
"""
import argparse

import llama_cpp
import numpy as np

PROMPTS = {
    "code": "Write a Python function that parses a CSV file and returns the rows as a list of dictionaries, "
            "with error handling and a docstring.",
    "prose": "Tell me a short story about a lighthouse keeper and a storm.",
}

parser = argparse.ArgumentParser()
parser.add_argument("target")
parser.add_argument("draft")
parser.add_argument("--tokens", type=int, default=200)
args = parser.parse_args()

def load(path):
    return llama_cpp.Llama(path, n_ctx=1024, n_threads=2, logits_all=True, verbose=False)

target, draft = load(args.target), load(args.draft)
for name, question in PROMPTS.items():
    prompt = ("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
              f"<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n")
    prompt_tokens = target.tokenize(prompt.encode(), add_bos=False, special=True)
    answer = target.create_completion(prompt, max_tokens=args.tokens, temperature=0, top_k=1, repeat_penalty=1.0)
    answer_tokens = target.tokenize(answer["choices"][0]["text"].encode(), add_bos=False, special=False)
    tokens = prompt_tokens + answer_tokens
    draft.reset()
    draft.eval(tokens)
    logits = np.array(draft.scores[:len(tokens)])
    guesses = logits[len(prompt_tokens) - 1:len(tokens) - 1].argmax(axis=1)
    alpha = float((guesses == np.array(answer_tokens)).mean())
    print(f"{name}: {len(answer_tokens)} answer tokens, draft agrees on {alpha:.3f}")
