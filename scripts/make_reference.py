#!/usr/bin/env python3
"""Generate llama.cpp reference data for Sirocco's default model.

Uses llama-cpp-python's low-level (ctypes) API so that every step is explicit:
tokenization, detokenization, one batched prompt decode and one 1-token decode per
greedy step, reading logits with llama_get_logits_ith(ctx, -1).

    python3 scripts/make_reference.py [--model PATH] [--out PATH] [--suite NAME] [--cache-type f16|q8_0]

--cache-type q8_0 stores keys and values as Q8_0 (llama.cpp's --cache-type-k/-v q8_0, which needs
flash attention); its noise-floor replay then uses llama.cpp's default F16 cache instead of
turning flash attention off, and records how far the cache type alone moves the logits.

Requires: pip install llama-cpp-python (tested with 0.3.36), numpy (its dependency).
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import json
import os
import re
import sys
import time

import numpy as np

# ggml's OpenMP threads spin at barriers by default; on a loaded 2-core machine that makes a
# 2-thread decode 20x slower. Passive waiting changes scheduling only, not results.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import llama_cpp  # noqa: E402
from llama_cpp import llama_cpp as C  # noqa: E402  (the raw bindings module)

DEFAULT_MODEL = os.path.expanduser("~/.cache/sirocco/models/SmolLM2-135M-Instruct.Q4_1.gguf")
DEFAULT_OUT = "Tests/SiroccoEngineTests/Fixtures/smollm2-reference.json"

N_CTX = 2048
N_THREADS = 2
N_BATCH = 512
N_GREEDY = 32
TOPK = 5
ROUND = 5
GGML_TYPE_F16 = 1
GGML_TYPE_Q8_0 = 8
CACHE_TYPES = {"f16": GGML_TYPE_F16, "q8_0": GGML_TYPE_Q8_0}

# --------------------------------------------------------------------------------------
# Test inputs
# --------------------------------------------------------------------------------------

TOKENIZE_TEXTS = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "   leading spaces",
    "trailing spaces   ",
    "multiple     spaces  between   words",
    "a\tb\n\n  c",
    "I'm, you're, they'll, we've, it's, he'd, DON'T",
    "1234567 3.14159 1,000,000",
    "2024-01-15 12:34:56 and 007",
    "café naïve résumé Ærøskøbing",
    "e\u0301 (e + combining acute) vs \u00e9, and \ufb01 ligature",
    "你好，世界。日本語のテキスト",
    "안녕하세요, 세계! 한국어 텍스트입니다.",
    "👍🏽 👨\u200d👩\u200d👧 🚀",
    "🇫🇷",
    "def add(a, b):\n    \"\"\"Add two numbers.\"\"\"\n    if a is None:\n        return b\n    return a + b\n",
    '{"name": "SmolLM", "params": 135000000, "tags": ["small", "llm"], "ok": true}',
    "<|im_start|>user\nHi<|im_end|>\n",
    "<|endoftext|>",
    "<|im_start|  not quite <|unknown|> special",
    "English, Русский, 中文, العربية, עברית, हिन्दी in one line",
    " \t\n  \n",
    " ",
    "",
    "Pneumonoultramicroscopicsilicovolcanoconiosis Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch",
    "https://example.com/path/to/page.html?query=value&x=1#section",
    "∀x ∈ ℝ: x² ≥ 0, ∑ᵢ aᵢ ≈ ∫ f(x) dx ≠ ∞ ± √2",
    "مرحبا بالعالم",
    "שלום עולם",
    "Привет, мир! Как дела?",
    "!!!???...",
    "Hello\r\nWorld",
    "bell\x07 and escape \x1b[31mred\x1b[0m and \x01",
    "line1\n\n\nline2\n",
    "HELLO WORLD hello world Hello World",
]

LONG_TEXT = (
    "The lighthouse stood at the end of a narrow spit of rock, and for nearly a century it had "
    "warned ships away from the shoals that lay hidden beneath the grey water. Its keeper was an "
    "old man who had come to the island as a boy, when his father still tended the lamp, and he "
    "had never found a reason to leave. Every evening he climbed the one hundred and twelve steps "
    "of the iron staircase, trimmed the wick, polished the great lens until it shone like ice, and "
    "watched the beam sweep slowly across the sea. In winter the storms came in from the west and "
    "the waves broke so high against the tower that the salt spray reached the gallery rail. In "
    "summer the fishing boats passed close enough that he could hear the men singing as they "
    "hauled their nets. He kept a logbook in which he wrote the weather, the ships he saw, and the "
    "birds that rested on the rocks during their long migrations. Some pages held only a single "
    "line; others were filled with careful sketches of gulls, terns, and once a lost heron that "
    "stayed for three days before flying south. When the government finally decided to replace "
    "the lamp with an automatic light, they sent a young engineer to make the arrangements. She "
    "expected to find a lonely and bitter man. Instead she found someone who showed her every "
    "page of the logbook and asked, with great seriousness, whether the new light would still be "
    "kind to the birds. Summarize the story in one sentence:"
)

PROMPTS = [
    ("raw_completion", "The capital of France is"),
    (
        "chat_2plus2",
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    ),
    ("code", "def fibonacci(n):"),
    ("long", LONG_TEXT),
    ("unicode", "Traduction : « Bonjour, ça va ? » — 日本語では「こんにちは」。Emoji: 🌍🚀 → "),
    (
        "chat_multiturn",
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
        "<|im_start|>user\nName a primary color.<|im_end|>\n<|im_start|>assistant\nRed.<|im_end|>\n"
        "<|im_start|>user\nAnother one?<|im_end|>\n<|im_start|>assistant\n",
    ),
]

# Gemma 3 (sliding window 512): a prompt about 1,200 tokens long and a long multi-turn chat, so
# the local layers' window is exceeded; `--suite gemma3`.
GEMMA_TURNS = [
    ("user", "I am planning a week-long trip along the coast. " + LONG_TEXT[:600]),
    ("model", "That sounds lovely. Coastal trips are best planned around the weather and the tides."),
    ("user", "Which towns should I visit first, and what should I pack for changing weather?"),
    ("model", "Start in the north where the ferries run most often, and pack layers and a rain jacket."),
    ("user", "Tell me about lighthouses. " + LONG_TEXT),
    ("model", "Lighthouses guided ships for centuries; many are now automatic but still welcome visitors."),
    ("user", "Write one sentence about the keeper in the story."),
]
GEMMA_PROMPTS = [
    ("raw_completion", "The capital of France is"),
    ("long_1200", " ".join([LONG_TEXT] * 4)),
    ("multiturn", "".join(f"<start_of_turn>{r}\n{t}<end_of_turn>\n" for r, t in GEMMA_TURNS) + "<start_of_turn>model\n"),
]
SUITES = {"smollm2": PROMPTS, "gemma3": GEMMA_PROMPTS}

# --------------------------------------------------------------------------------------
# llama.cpp helpers
# --------------------------------------------------------------------------------------

_LOG_LINES: list[str] = []


@C.llama_log_callback
def _log_cb(level, text, user_data):  # noqa: ARG001
    if text:
        _LOG_LINES.append(text.decode("utf-8", errors="replace"))


def die(msg: str) -> None:
    print(f"make_reference.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tokenize(vocab, text: str, add_special: bool, parse_special: bool) -> list[int]:
    data = text.encode("utf-8")
    cap = len(data) + 8
    buf = (C.llama_token * cap)()
    n = C.llama_tokenize(vocab, data, len(data), buf, cap, add_special, parse_special)
    if n < 0:
        cap = -n
        buf = (C.llama_token * cap)()
        n = C.llama_tokenize(vocab, data, len(data), buf, cap, add_special, parse_special)
        if n < 0:
            raise RuntimeError(f"llama_tokenize failed for {text!r}")
    return list(buf[:n])


def piece_bytes(vocab, tok: int, special: bool = True) -> bytes:
    buf = ctypes.create_string_buffer(64)
    n = C.llama_token_to_piece(vocab, tok, buf, len(buf), 0, special)
    if n < 0:
        buf = ctypes.create_string_buffer(-n)
        n = C.llama_token_to_piece(vocab, tok, buf, len(buf), 0, special)
    return buf.raw[:n]


def detokenize_bytes(vocab, ids: list[int], remove_special: bool = False, unparse_special: bool = True) -> bytes:
    arr = (C.llama_token * max(1, len(ids)))(*ids)
    cap = 64 + 32 * len(ids)
    buf = ctypes.create_string_buffer(cap)
    n = C.llama_detokenize(vocab, arr, len(ids), buf, cap, remove_special, unparse_special)
    if n < 0:
        cap = -n
        buf = ctypes.create_string_buffer(cap)
        n = C.llama_detokenize(vocab, arr, len(ids), buf, cap, remove_special, unparse_special)
    return buf.raw[:n]


def meta_str(model, key: str) -> str | None:
    buf = ctypes.create_string_buffer(4096)
    n = C.llama_model_meta_val_str(model, key.encode(), buf, len(buf))
    if n < 0:
        return None
    return buf.value.decode("utf-8", errors="replace")


def decode(ctx, ids: list[int]) -> None:
    if len(ids) > N_BATCH:  # llama.cpp takes at most n_batch tokens per call
        for start in range(0, len(ids), N_BATCH):
            decode(ctx, ids[start:start + N_BATCH])
        return
    arr = (C.llama_token * len(ids))(*ids)
    batch = C.llama_batch_get_one(arr, len(ids))
    rc = C.llama_decode(ctx, batch)
    if rc != 0:
        raise RuntimeError(f"llama_decode returned {rc} for a batch of {len(ids)} tokens")


def last_logits(ctx, n_vocab: int) -> np.ndarray:
    ptr = C.llama_get_logits_ith(ctx, -1)
    if not ptr:
        raise RuntimeError("llama_get_logits_ith returned NULL")
    return np.ctypeslib.as_array(ptr, shape=(n_vocab,)).astype(np.float32, copy=True)


def topk(logits: np.ndarray, k: int = TOPK) -> list[list]:
    # stable descending order: ties broken by lower id first (like llama.cpp's greedy argmax)
    idx = np.lexsort((np.arange(len(logits)), -logits))[:k]
    return [[int(i), round(float(logits[i]), ROUND)] for i in idx]


def run_prompt(ctx, vocab, n_vocab: int, name: str, prompt: str) -> dict:
    ids = tokenize(vocab, prompt, add_special=True, parse_special=True)
    C.llama_memory_clear(C.llama_get_memory(ctx), True)

    decode(ctx, ids)  # in batches of n_batch (one when it fits); only the last position's logits are read
    logits = last_logits(ctx, n_vocab)
    prompt_top5 = topk(logits)

    greedy: list[int] = []
    steps: list[dict] = []
    for step in range(N_GREEDY):
        if step > 0:
            decode(ctx, [greedy[-1]])  # one decode of one token per generated token
            logits = last_logits(ctx, n_vocab)
        tok = int(np.argmax(logits))  # first index of the max
        t5 = topk(logits)
        assert t5[0][0] == tok
        steps.append({
            "id": tok,
            "top2_margin": round(float(logits[t5[0][0]] - logits[t5[1][0]]), ROUND),
            "top5": t5,
        })
        greedy.append(tok)

    return {
        "name": name,
        "prompt": prompt,
        "ids": ids,
        "n_prompt_tokens": len(ids),
        "top5": prompt_top5,
        "greedy": greedy,
        "greedy_text": detokenize_bytes(vocab, greedy).decode("utf-8", errors="replace"),
        "steps": steps,
    }


def cross_check(ctx, n_vocab: int, entry: dict) -> dict:
    """Replay a prompt plus its greedy tokens (teacher-forced) in another context and report,
    per step, how far its logits are from the reference ones: an empirical noise floor."""
    C.llama_memory_clear(C.llama_get_memory(ctx), True)
    decode(ctx, entry["ids"])
    logits = last_logits(ctx, n_vocab)
    argmax, top5_maxdiff = [], []
    for step, ref in enumerate(entry["steps"]):
        if step > 0:
            decode(ctx, [entry["greedy"][step - 1]])
            logits = last_logits(ctx, n_vocab)
        argmax.append(int(np.argmax(logits)))
        top5_maxdiff.append(round(max(abs(float(logits[i]) - l) for i, l in ref["top5"]), 4))
    return {"argmax": argmax, "top5_maxdiff": top5_maxdiff}


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--suite", choices=sorted(SUITES), default="smollm2",
                    help="prompt set: smollm2 (default model) or gemma3 (prompts longer than its 512 window)")
    ap.add_argument("--threads", type=int, default=N_THREADS,
                    help=f"llama.cpp threads (default {N_THREADS}; the committed fixture uses {N_THREADS})")
    ap.add_argument("--cache-type", choices=sorted(CACHE_TYPES), default="f16",
                    help="KV cache type for keys and values (default f16, llama.cpp's default)")
    args = ap.parse_args()
    quantized_cache = args.cache_type != "f16"

    if not os.path.isfile(args.model):
        die(f"model not found: {args.model} (run sirocco pull smollm2:135m)")

    t0 = time.perf_counter()
    C.llama_log_set(_log_cb, ctypes.c_void_p(0))
    C.llama_backend_init()

    mparams = C.llama_model_default_params()
    mparams.n_gpu_layers = 0
    model = C.llama_model_load_from_file(args.model.encode(), mparams)
    if not model:
        die(f"llama.cpp could not load {args.model}:\n" + "".join(_LOG_LINES[-20:]))
    vocab = C.llama_model_get_vocab(model)
    n_vocab = C.llama_vocab_n_tokens(vocab)

    cparams = C.llama_context_default_params()
    default_fa_type = cparams.flash_attn_type
    cparams.n_ctx = N_CTX
    cparams.n_batch = N_BATCH
    cparams.n_ubatch = N_BATCH
    cparams.n_threads = args.threads
    cparams.n_threads_batch = args.threads
    if cparams.type_k != GGML_TYPE_F16 or cparams.type_v != GGML_TYPE_F16:
        die(f"unexpected default KV types k={cparams.type_k} v={cparams.type_v}")
    if quantized_cache:  # a quantized V cache needs flash attention
        cparams.type_k = cparams.type_v = CACHE_TYPES[args.cache_type]
        cparams.flash_attn_type = C.LLAMA_FLASH_ATTN_TYPE_ENABLED
    n_log_before_ctx = len(_LOG_LINES)
    ctx = C.llama_init_from_model(model, cparams)
    if not ctx:
        die("llama_init_from_model failed:\n" + "".join(_LOG_LINES[-20:]))

    # Flash attention: the default is AUTO; llama.cpp resolves it while reserving graphs at
    # context creation and logs "Flash Attention enabled" or "... not supported, set to disabled".
    ctx_log = "".join(_LOG_LINES[n_log_before_ctx:])
    fa_name = (C.llama_flash_attn_type_name(default_fa_type) or b"?").decode()
    if re.search(r"Flash Attention enabled|flash_attn\s*=\s*enabled", ctx_log):
        flash_attn = True
    elif re.search(r"Flash Attention not supported|flash_attn\s*=\s*disabled", ctx_log):
        flash_attn = False
    else:
        die("could not determine whether flash attention is on; context log was:\n" + ctx_log)
    t_load = time.perf_counter() - t0

    # ---- tokenizer ----
    tokenize_cases = [{"text": t, "ids": tokenize(vocab, t, True, True)} for t in TOKENIZE_TEXTS]
    tokenize_plain = [{"text": t, "ids": tokenize(vocab, t, True, False)} for t in TOKENIZE_TEXTS]
    for case in tokenize_cases + tokenize_plain:
        back = detokenize_bytes(vocab, case["ids"]).decode("utf-8", errors="replace")
        if back != case["text"]:
            case["detokenized"] = back  # only recorded when the round trip is not exact

    detok_inputs: list[list[int]] = [
        tokenize(vocab, "Hello world", True, True),
        tokenize(vocab, "<|im_start|>user\nHi<|im_end|>\n", True, True),
        tokenize(vocab, "   leading spaces and a\ttab", True, True),
        tokenize(vocab, "你好，世界。", True, True),
    ]
    # one whose multi-byte characters are split across tokens (a token's piece is not valid UTF-8)
    split_case = None
    for t in ["👍🏽 👨\u200d👩\u200d👧 🚀", "🇫🇷", "你好，世界。日本語のテキスト", "안녕하세요"]:
        ids = tokenize(vocab, t, True, True)
        bad = []
        for tok in ids:
            try:
                piece_bytes(vocab, tok).decode("utf-8")
            except UnicodeDecodeError:
                bad.append(tok)
        if bad:
            split_case = ids
            break
    if split_case is not None:
        detok_inputs.append(split_case)
    elif args.suite == "smollm2":
        die("found no tokenization that splits a multi-byte character")
    detok_inputs.append([tokenize(vocab, "Hi", True, True)[0], C.llama_vocab_eos(vocab)])

    detokenize = []
    for ids in detok_inputs:
        pieces = [piece_bytes(vocab, t) for t in ids]
        entry = {
            "ids": ids,
            "text": detokenize_bytes(vocab, ids).decode("utf-8"),
            "pieces_hex": [p.hex() for p in pieces],
        }
        entry["splits_multibyte_char"] = any(_invalid_utf8(p) for p in pieces)
        detokenize.append(entry)

    # ---- prompts ----
    t1 = time.perf_counter()
    suite = SUITES[args.suite]
    prompts = [run_prompt(ctx, vocab, n_vocab, name, p) for name, p in suite]
    # sanity: clearing the memory really resets state (re-run the first prompt, must be identical)
    again = run_prompt(ctx, vocab, n_vocab, *suite[0])
    if again["top5"] != prompts[0]["top5"] or again["greedy"] != prompts[0]["greedy"]:
        die("re-running the first prompt after llama_memory_clear gave different results")

    # noise floor: the same prompts with flash attention forced off (same threads, f16 KV), or
    # for a quantized cache with llama.cpp's default F16 cache, teacher-forced along the reference
    # greedy path
    cparams_nofa = C.llama_context_default_params()
    cparams_nofa.n_ctx, cparams_nofa.n_batch, cparams_nofa.n_ubatch = N_CTX, N_BATCH, N_BATCH
    cparams_nofa.n_threads = cparams_nofa.n_threads_batch = args.threads
    if not quantized_cache:
        cparams_nofa.flash_attn_type = C.LLAMA_FLASH_ATTN_TYPE_DISABLED
    ctx_nofa = C.llama_init_from_model(model, cparams_nofa)
    if not ctx_nofa:
        die("llama_init_from_model (noise-floor context) failed")
    floor_key = "f16_cache" if quantized_cache else "flash_attn_off"
    for entry in prompts:
        entry[floor_key] = cross_check(ctx_nofa, n_vocab, entry)
    C.llama_free(ctx_nofa)
    t_prompts = time.perf_counter() - t1

    sysinfo = (C.llama_print_system_info() or b"").decode(errors="replace").strip()

    out = {
        "generator": "scripts/make_reference.py",
        "llama_cpp_python_version": llama_cpp.__version__,
        "model_file": os.path.basename(args.model),
        "model_sha256": sha256_file(args.model),
        "n_ctx": N_CTX,
        "n_threads": args.threads,
        "n_batch": N_BATCH,
        "n_ubatch": N_BATCH,
        "flash_attn": flash_attn,
        "flash_attn_setting": fa_name,
        "kv_type": args.cache_type,
        "logit_decimals": ROUND,
        "notes": (
            "tokenize: add_special=True, parse_special=True; tokenize_plain: parse_special=False. "
            "detokenize and greedy_text: llama_detokenize(remove_special=False, unparse_special=True); "
            "'detokenized' appears on a tokenize case only when detokenizing its ids does not give the text back. "
            "Each prompt starts from a cleared KV cache (llama_memory_clear), is decoded as one batch "
            "(llama_batch_get_one), then each greedy token is decoded alone; logits from "
            "llama_get_logits_ith(ctx, -1). steps[i] holds the logits that chose greedy[i] "
            "(steps[0] = logits after the prompt). Greedy does not stop at EOS. Ties: lowest id. "
            "flash_attn_off: the same prompt replayed with flash attention disabled (otherwise identical "
            "settings), teacher-forced along 'greedy': per step its argmax and the max |logit difference| "
            "over the reference top5 ids -- an empirical noise floor of llama.cpp itself. "
            "f16_cache (q8_0 fixtures, instead of flash_attn_off): the same replay with llama.cpp's default "
            "F16 cache -- how far the cache type alone moves the logits."
        ),
        "vocab": {
            "n_vocab": n_vocab,
            "type": C.llama_vocab_type(vocab),
            "pre": meta_str(model, "tokenizer.ggml.pre"),
            "bos": C.llama_vocab_bos(vocab),
            "eos": C.llama_vocab_eos(vocab),
            "eot": C.llama_vocab_eot(vocab),
            "add_bos": bool(C.llama_vocab_get_add_bos(vocab)),
            "add_eos": bool(C.llama_vocab_get_add_eos(vocab)),
        },
        "system_info": sysinfo,
        "tokenize": tokenize_cases,
        "tokenize_plain": tokenize_plain,
        "detokenize": detokenize,
        "prompts": prompts,
    }

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    # one line per top-level key / list element keeps diffs readable while staying compact
    text = _pretty_compact(out)
    if json.loads(text) != json.loads(json.dumps(out)):
        die("internal error: pretty-printed JSON does not match the data")
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)

    C.llama_free(ctx)
    C.llama_model_free(model)
    elapsed = time.perf_counter() - t0

    # ---- summary ----
    print(f"llama-cpp-python {llama_cpp.__version__}; model {out['model_file']} sha256 {out['model_sha256'][:16]}…")
    print(f"flash_attn: default setting '{fa_name}' -> {'enabled' if flash_attn else 'disabled'}; kv {args.cache_type}; "
          f"n_ctx {N_CTX} n_threads {args.threads} n_batch {N_BATCH}")
    print(f"vocab: {out['vocab']}")
    print(f"tokenize cases: {len(tokenize_cases)} (+{len(tokenize_plain)} plain); detokenize cases: {len(detokenize)}")
    nrt = sum(1 for c in tokenize_cases if "detokenized" in c)
    nrt_plain = sum(1 for c in tokenize_plain if "detokenized" in c)
    print(f"round-trip mismatches: {nrt} (parse_special) / {nrt_plain} (plain)")
    for p in prompts:
        minm = min(s["top2_margin"] for s in p["steps"])
        off = p[floor_key]
        nflip = sum(1 for a, b in zip(off["argmax"], p["greedy"]) if a != b)
        print(f"  [{p['name']}] {p['n_prompt_tokens']} prompt tokens, top1 {p['top5'][0]}, "
              f"min top2 margin {minm:.4f}; {floor_key}: max top5 |diff| {max(off['top5_maxdiff']):.3f}, "
              f"argmax flips {nflip}/{N_GREEDY}")
        print(f"      greedy: {p['greedy_text']!r}")
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes); load {t_load:.2f}s, prompts {t_prompts:.2f}s, "
          f"total {elapsed:.2f}s")


def _invalid_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
        return False
    except UnicodeDecodeError:
        return True


def _pretty_compact(obj: dict) -> str:
    """JSON with one line per top-level scalar, per tokenizer case, and per greedy step."""
    def dump(x):
        return json.dumps(x, ensure_ascii=False, separators=(",", ":"))

    lines = ["{"]
    items = list(obj.items())
    for i, (k, v) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if isinstance(v, list) and k in ("tokenize", "tokenize_plain", "detokenize"):
            lines.append(f"  {dump(k)}: [")
            lines += [f"    {dump(e)}" + ("," if j < len(v) - 1 else "") for j, e in enumerate(v)]
            lines.append(f"  ]{comma}")
        elif k == "prompts":
            lines.append(f"  {dump(k)}: [")
            for j, p in enumerate(v):
                lines.append("    {")
                pitems = list(p.items())
                for m, (pk, pv) in enumerate(pitems):
                    pc = "," if m < len(pitems) - 1 else ""
                    if pk == "steps":
                        lines.append(f"      {dump(pk)}: [")
                        lines += [f"        {dump(s)}" + ("," if n < len(pv) - 1 else "") for n, s in enumerate(pv)]
                        lines.append(f"      ]{pc}")
                    else:
                        lines.append(f"      {dump(pk)}: {dump(pv)}{pc}")
                lines.append("    }" + ("," if j < len(v) - 1 else ""))
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {dump(k)}: {dump(v)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
