#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (swiftc -sanitize=fuzzer,address over the engine's sources)
# and runs each for a bounded time from its committed seed corpus. New inputs go to a scratch
# corpus (not the committed one); a crash leaves its input in .build-fuzz/findings/ and fails.
#
# Usage: scripts/fuzz.sh [--seconds N] [TARGET ...]
#   targets: gguf jinja tokenizer conversation kvcache (default: all); --seconds per target (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
targets=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[[ ${#targets[@]} -gt 0 ]] || targets=(gguf jinja tokenizer conversation kvcache)

out=.build-fuzz
mkdir -p "$out/obj" "$out/module" "$out/findings"
clang=$(dirname "$(command -v swiftc)")/clang

# the engine once, instrumented, as a library the targets link (its C kernels without the fuzzer's
# coverage: they are arithmetic, tested against scalar references elsewhere)
stamp="$out/engine.stamp"
if [[ ! -f "$stamp" ]] || [[ -n "$(find Sources/SiroccoEngine Sources/CKernels -newer "$stamp" -type f | head -1)" ]]; then
    echo "building the instrumented engine …" >&2
    rm -f "$out"/obj/*.o
    for c in Sources/CKernels/*.c; do
        "$clang" -O2 -g -fsanitize=address -I Sources/CKernels/include -c "$c" -o "$out/obj/$(basename "$c" .c).o"
    done
    printf 'module CKernels {\n    header "%s/Sources/CKernels/include/CKernels.h"\n    export *\n}\n' "$PWD" > "$out/module/module.modulemap"
    swiftc -O -g -sanitize=fuzzer,address -parse-as-library -enable-testing -module-name SiroccoEngine \
        -emit-library -static -emit-module -emit-module-path "$out/SiroccoEngine.swiftmodule" \
        -Xcc -fmodule-map-file="$out/module/module.modulemap" -I Sources/CKernels/include \
        $(find Sources/SiroccoEngine -name '*.swift' | sort) -o "$out/libSiroccoEngine.a"
    touch "$stamp"
fi

status=0
passed=0
failed=0
for target in "${targets[@]}"; do
    name="Fuzz$(echo "${target:0:1}" | tr a-z A-Z)${target:1}"
    [[ "$name" == "FuzzGguf" ]] && name=FuzzGGUF
    [[ "$name" == "FuzzKvcache" ]] && name=FuzzKVCache
    source="Fuzz/$name.swift"
    [[ -f "$source" ]] || { echo "fuzz.sh: no target $target ($source)" >&2; exit 2; }
    binary="$out/fuzz-$target"
    if [[ ! -f "$binary" || "$source" -nt "$binary" || "$out/libSiroccoEngine.a" -nt "$binary" ]]; then
        swiftc -O -g -sanitize=fuzzer,address -parse-as-library -I "$out" \
            -Xcc -fmodule-map-file="$out/module/module.modulemap" -I Sources/CKernels/include \
            "$source" "$out/libSiroccoEngine.a" "$out"/obj/*.o -o "$binary" 2> >(grep -v "Cannot export local symbol" >&2)
    fi
    # the tokenizer's cost grows with the text: short inputs find more per second
    max_len=65536
    [[ "$target" == tokenizer ]] && max_len=4096
    corpus="$out/corpus-$target"
    mkdir -p "$corpus"
    echo "fuzzing $target for ${seconds}s …" >&2
    if ! "$binary" "$corpus" "Fuzz/corpus/$target" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=3072 \
        -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$out/findings/$target-" \
        > "$out/$target.log" 2>&1; then
        echo "fuzz.sh: $target FOUND A FAILURE (see $out/$target.log and $out/findings/)" >&2
        grep -E "ERROR|Fatal|==[0-9]+==" "$out/$target.log" | head -5 >&2 || true
        status=1
        failed=$((failed + 1))
    else
        passed=$((passed + 1))
    fi
    runs=$(grep -E "stat::number_of_executed_units" "$out/$target.log" | awk '{s += $2} END {print s + 0}')
    cov=$(grep -oE "cov: [0-9]+ ft: [0-9]+" "$out/$target.log" | tail -1)
    echo "$target: $runs runs, $cov" >&2
done
echo "fuzz: $passed passed, $failed failed"
exit $status
