#!/usr/bin/env python3
"""Writes GGUF files whose chat template is hostile, for the hardening tests: a copy of the
synthetic llama-dense-q5_0 model (300-token SentencePiece vocabulary) with a
`tokenizer.chat_template` that recurses without end. gguf-py's gguf-new-metadata does the copy.

Usage: scripts/make_hostile_fixtures.py   (needs `pip install gguf`)
"""
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "Tests", "SiroccoEngineTests", "Fixtures")
SOURCE = os.path.join(FIXTURES, "synthetic", "llama-dense-q5_0.gguf")
OUT = os.path.join(FIXTURES, "hostile")

TEMPLATES = {
    # a macro that calls itself: crashed the evaluator's stack before the limits
    "recursive-template.gguf": "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}[INST] {{ messages[-1]['content'] }} [/INST]",
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, template in TEMPLATES.items():
        target = os.path.join(OUT, name)
        if os.path.exists(target):
            os.remove(target)
        subprocess.run(["gguf-new-metadata", SOURCE, target, "--chat-template", template, "--force"], check=True,
                       stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
