#!/usr/bin/env python3
"""Generate llama.cpp goldens for Sirocco's tokenizer tests (TokenizerTests.swift).

For each vocab-only GGUF in this folder (and the SmolLM2 model, if present) it records, with
llama-cpp-python's low-level API (llama.cpp's own llama_tokenize / llama_token_to_piece /
llama_detokenize):
  - tokenize of fixed and pseudo-random texts with add_special/parse_special in all 4 combinations,
  - detokenize of those ids with remove_special/unparse_special in all 4 combinations (hex bytes),
  - token_to_piece (lstrip 0, special false/true) of a sample of ids and every special id,
  - bos/eos/add_bos/add_eos and the end-of-generation ids.

    python3 scripts/make_vocab_goldens.py            # goldens.json
    python3 scripts/make_vocab_goldens.py --derived  # derived-goldens.json

--derived records, in a file of its own, the vocabularies added later: falcon (llama.cpp's test file)
and pre-tokenizers llama.cpp has no vocab test file for, run on the llama-bpe vocabulary with only
`tokenizer.ggml.pre` rewritten (gguf-py's gguf-new-metadata into a temporary file): tekken (Mistral
NeMo / Small 3; llama-bpe is a tiktoken-style vocabulary like Tekken's) and gpt-4o (Llama 4, ...),
with texts that exercise their case-splitting regexes. TokenizerTests rewrites the key the same way.

Requires: pip install llama-cpp-python (tested with 0.3.36).
"""

from __future__ import annotations

import ctypes
import json
import os
import random
import subprocess
import sys
import tempfile

import llama_cpp
from llama_cpp import llama_cpp as C

HERE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Tests", "SiroccoEngineTests", "Fixtures", "vocab")
OUT = os.path.join(HERE, "goldens.json")
VOCABS = ["llama-spm", "llama-bpe", "qwen2", "gpt-2", "phi-3", "starcoder"]
SMOLLM = os.environ.get("SIROCCO_MODEL", os.path.expanduser("~/.cache/sirocco/models/SmolLM2-135M-Instruct.Q4_1.gguf"))

FIXED = [
    "",
    " ",
    "Hello world",
    " Hello, world! How's it going? I'm fine , you 're ok . Don't ' quote ' it 's",
    "a ' b '' c 'll 've 're 'S 'LL",
    "  leading and trailing  ",
    "tabs\tand\nnewlines\r\n\n\n  \n",
    "1234567890 12 1.5 3,000,000 ٣٤٥ ²³ ½",
    "emoji 🦙🚀👍🏽 👨‍👩‍👧 🇫🇷 and CJK 你好世界 日本語 한국어",
    "e\u0301 combining, \u00e9 precomposed, \ufb01 ligature, \u00a0nbsp\u3000ideographic\u2009thin",
    "Привет мир! مرحبا بالعالم שלום हिन्दी ไทย",
    "def f(x):\n    return x**2  # comment\n\n\tpass",
    "<s>hello</s> <unk> [INST] user [/INST]",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "<|im_start|>system\nYou are a bot.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
    "<|user|>\nHello<|end|>\n<|assistant|>  Hi there<|end|>  <|endoftext|>",
    "<|endoftext|><|endoftext|>x<|endoftext|> y",
    "▁ underscores ▁▁ and Ġ G-dot and Ċ",
    "\x00\x01\x07\x1b[31mred\x1b[0m\x7f",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "   \n   \n",
    "?!.,;: ... !!! ,,,",
]

POOL = [
    "a", "b", "Z", "the", " the", "Hello", "WORLD", "x", "q", "  ", " ", "\t", "\n", "\r\n", "\n\n",
    "'", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "0", "7", "42", "1234", "3.14",
    ".", ",", "!", "?", "-", "_", "(", ")", "[", "]", "{", "}", "<", ">", "=", "+", "$", "^", "~", "|", "`",
    "#", "@", "%", "&", "*", "/", "\\", '"', ":", ";",
    "é", "e\u0301", "ß", "Ω", "ж", "你", "好", "世界", "日本", "한", "🦙", "🚀", "👍🏽", "‍", "\u00a0",
    "\u3000", "\u2009", "\u200b", "٣", "²", "½", "Ⅻ", "ـ", "ा", "ก", "\u0301", "\ufb01", "€", "™", "∑",
    "<s>", "</s>", "<unk>", "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|eot_id|>", "<|end|>",
    "<|user|>", "<|begin_of_text|>", "▁", "Ġ",
]


# Texts for the case-splitting regexes (tekken, gpt-4o): case changes in ASCII and other scripts,
# combining marks, `/` after punctuation and newlines, contractions in every case, digit runs.
CASED = [
    "HelloWorld helloWorld HELLOworld HTTPServer iPhone XMLHttpRequest ABC abc aBC AbC A a",
    "ÉCOLE école Éa aÉ éA AéB ÀÉÎ Straße STRASSE ǅemal Ǆ ǆ ΑΒΓ αβγ Ωmega ПРИВЕТ Привет ａｂｃ ＡＢＣ",
    "e\u0301A A\u0301b a\u0301\u0301c \u0301x É\u0301É",
    "path/to/file.txt !!\n// comment\n/// doc ///\n!/\n/x a/b //\r\n/ ?/\n\n/",
    "I'M YOU'RE we've THEY'LL she'd it's IT'S Don'T 'twas '' 'S 'sA ÉT'S x'Ll",
    "12345 1234567 ٣٤٥٦ ½¾ 3.14159 0x1F2E Ⅻ ⅻ ⅰⅱ",
    "  \t Tab\tCaps\nNEW\r\nLines  \n  x _snake_case __dunder__ kebab-case CamelCase_Snake",
]

CASED_POOL = POOL + ["HTTP", "Server", "iPhone", "ÉCOLE", "École", "Ǆ", "ǅ", "ПРИВЕТ", "Привет", "/", "//",
                     "'S", "'Re", "'LL", "I'M", "ABCdef", "abcDEF", "ａ", "Ａ"]


def fuzz(seed: int, n: int, pool: list[str] = POOL) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = rng.randint(1, 24)
        out.append("".join(rng.choice(pool) for _ in range(k)))
    return out


def tokenize(vocab, text: str, add_special: bool, parse_special: bool) -> list[int]:
    data = text.encode("utf-8")
    n_max = len(data) + 8
    buf = (C.llama_token * n_max)()
    n = C.llama_tokenize(vocab, data, len(data), buf, n_max, add_special, parse_special)
    if n < 0:
        n_max = -n
        buf = (C.llama_token * n_max)()
        n = C.llama_tokenize(vocab, data, len(data), buf, n_max, add_special, parse_special)
    return list(buf[:n])


def detokenize(vocab, ids: list[int], remove_special: bool, unparse_special: bool) -> bytes:
    arr = (C.llama_token * max(len(ids), 1))(*ids)
    size = 64 + 32 * len(ids)
    buf = ctypes.create_string_buffer(size)
    n = C.llama_detokenize(vocab, arr, len(ids), buf, size, remove_special, unparse_special)
    if n < 0:
        size = -n
        buf = ctypes.create_string_buffer(size)
        n = C.llama_detokenize(vocab, arr, len(ids), buf, size, remove_special, unparse_special)
    return buf.raw[:n]


def piece(vocab, token: int, special: bool) -> bytes:
    buf = ctypes.create_string_buffer(256)
    n = C.llama_token_to_piece(vocab, token, buf, 256, 0, special)
    if n < 0:
        buf = ctypes.create_string_buffer(-n)
        n = C.llama_token_to_piece(vocab, token, buf, -n, 0, special)
    return buf.raw[:n]


def golden(path: str, seed: int, n_fuzz: int, extra: list[str] = [], pool: list[str] = POOL) -> dict:
    params = C.llama_model_default_params()
    params.vocab_only = True
    model = C.llama_model_load_from_file(path.encode(), params)
    assert model, path
    vocab = C.llama_model_get_vocab(model)
    n_vocab = C.llama_vocab_n_tokens(vocab)

    cases = []
    for text in FIXED + extra + fuzz(seed, n_fuzz, pool):
        case = {"text": text}
        for add in (True, False):
            for parse in (True, False):
                case[f"ids_{'a' if add else ''}{'p' if parse else ''}"] = tokenize(vocab, text, add, parse)
        ids = case["ids_ap"]
        for remove in (True, False):
            for unparse in (True, False):
                key = f"text_{'r' if remove else ''}{'u' if unparse else ''}"
                case[key] = detokenize(vocab, ids, remove, unparse).hex()
        cases.append(case)

    sample = sorted(set(range(0, n_vocab, max(1, n_vocab // 400))) | set(range(0, 300)) | set(range(n_vocab - 300, n_vocab)))
    pieces = [[t, piece(vocab, t, False).hex(), piece(vocab, t, True).hex()] for t in sample]
    eog = [t for t in range(n_vocab) if C.llama_vocab_is_eog(vocab, t)]
    info = {
        "n_vocab": n_vocab,
        "bos": C.llama_vocab_bos(vocab),
        "eos": C.llama_vocab_eos(vocab),
        "add_bos": bool(C.llama_vocab_get_add_bos(vocab)),
        "add_eos": bool(C.llama_vocab_get_add_eos(vocab)),
        "eog": eog,
    }
    C.llama_model_free(model)
    return {"info": info, "cases": cases, "pieces": pieces}


# name -> (fixture vocabulary, tokenizer.ggml.pre to write, or None to use the file as it is)
DERIVED = {"falcon": ("falcon", None), "tekken": ("llama-bpe", "tekken"), "gpt-4o": ("llama-bpe", "gpt-4o")}


def derived() -> None:
    out = {"generator": "scripts/make_vocab_goldens.py --derived",
           "llama_cpp_python_version": llama_cpp.__version__, "vocabs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, (base, pre)) in enumerate(DERIVED.items()):
            path = os.path.join(HERE, f"ggml-vocab-{base}.gguf")
            if pre is not None:
                target = os.path.join(tmp, f"{name}.gguf")
                subprocess.run(["gguf-new-metadata", path, target, "--pre-tokenizer", pre, "--force"], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                path = target
            out["vocabs"][name] = golden(path, 3000 + i, 80, CASED, CASED_POOL)
            print(name, file=sys.stderr)
    with open(os.path.join(HERE, "derived-goldens.json"), "w") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


def main() -> None:
    C.llama_backend_init()
    if "--derived" in sys.argv[1:]:
        derived()
        return
    out = {"generator": "scripts/make_vocab_goldens.py",
           "llama_cpp_python_version": llama_cpp.__version__, "vocabs": {}}
    for i, name in enumerate(VOCABS):
        out["vocabs"][name] = golden(os.path.join(HERE, f"ggml-vocab-{name}.gguf"), 1000 + i, 150)
        print(name, file=sys.stderr)
    if os.path.exists(SMOLLM):
        out["vocabs"]["smollm2"] = golden(SMOLLM, 2000, 200)
        print("smollm2", file=sys.stderr)
    with open(OUT, "w") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
