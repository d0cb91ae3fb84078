#!/usr/bin/env bash
# Sets Sirocco up on this machine and opens the chat: installs the Debian packages it needs, builds
# it (release), puts `sirocco` where a new login shell finds it (as root /usr/local/bin, otherwise
# ~/.local/bin) with its themes beside it, pulls the default model with a progress bar, then opens
# the chat on it.
#
# Usage: scripts/install.sh [--no-chat]
# Env: PREFIX (where to install), SIROCCO_MODELS (the models folder), SIROCCO_BUILD_PATH (SwiftPM's
# scratch path, default .build; the first-run test builds in .build-first-run so it never waits on
# the lock of a `swift test` running in .build).
set -euo pipefail
cd "$(dirname "$0")/.."

open_chat=1
[[ "${1:-}" == "--no-chat" ]] && open_chat=0

fail() { echo "install.sh: error: $*" >&2; exit 1; }

command -v swift >/dev/null 2>&1 || fail "no Swift toolchain on PATH (Swift 6 is needed: https://swift.org/install)"
bash scripts/install-packages.sh

echo "building sirocco (release) …" >&2
build=(-c release --scratch-path "${SIROCCO_BUILD_PATH:-.build}")
swift build "${build[@]}" --product sirocco

if [[ -z "${PREFIX:-}" ]]; then
    if [[ "$(id -u)" -eq 0 ]]; then PREFIX=/usr/local; else PREFIX="$HOME/.local"; fi
fi
bin="$PREFIX/bin"
themes="$PREFIX/share/sirocco/themes"
mkdir -p "$bin" "$themes" || fail "cannot create $bin and $themes"
install -m 755 "$(swift build "${build[@]}" --show-bin-path)/sirocco" "$bin/sirocco"
install -m 644 themes/*.theme "$themes/"
echo "installed $bin/sirocco (themes in $themes)" >&2

# a new login shell finds it: /usr/local/bin always; ~/.local/bin through Debian's ~/.profile when it exists
case ":$PATH:" in
    *":$bin:"*) ;;
    *) echo "note: $bin is not on your PATH; add it with: echo 'export PATH=\"$bin:\$PATH\"' >> ~/.profile" >&2 ;;
esac

"$bin/sirocco" pull

if [[ $open_chat -eq 1 ]]; then
    if [[ -t 0 && -t 1 ]]; then
        exec "$bin/sirocco"
    fi
    echo "not a terminal: run sirocco to chat" >&2
fi
