#!/usr/bin/env bash
# Installs what the tests need (Debian packages; the models, from PyPI, through `sirocco pull`),
# builds once in release mode and runs every test. The tests need no Python but for one check of
# `sirocco serve` with the `openai` client: reference data from llama.cpp is committed. The build
# goes to .build-test, so it neither repeats nor undoes the `swift build -c release` of .build that
# `swift run -c release sirocco` and install.sh use.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-packages.sh --tests
# the official OpenAI client, for the `sirocco serve` check (scripts/check_serve_openai.py): only when
# missing, quietly; without it that one test is skipped
python3 -c "import openai" 2>/dev/null ||
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore openai >/dev/null 2>&1 ||
    echo "sirocco: pip install openai failed; the OpenAI client check will be skipped" >&2

# -enable-testing allows @testable imports; --build-tests builds the sirocco binary and the tests
# in one go, and `swift test --skip-build` runs them without building again.
build=(-c release -Xswiftc -enable-testing --scratch-path .build-test)
swift build "${build[@]}" --build-tests
"$(swift build "${build[@]}" --show-bin-path)/sirocco" pull smollm2:135m gemma3:270m qwen2.5-coder:0.5b
if [[ $# -gt 0 ]]; then
    swift test "${build[@]}" --skip-build "$@"
else
    # the first-run test builds and installs the app itself: alone, after the rest, so its build
    # does not slow the tests that watch the clock
    swift test "${build[@]}" --skip-build --skip FirstRunTests
    swift test "${build[@]}" --skip-build --filter FirstRunTests
fi
