#!/usr/bin/env bash
# Structure-aware vs plain byte mutation, same target, same seeds, same time, same run:
#   fuzz/compare-structured.sh [--target T] [--seconds S] [--build-dir DIR] [--seeds DIR]
#                              [--json FILE] [--keep DIR]
# Runs <T>_structured (the custom mutator) and <T> (libFuzzer's byte mutation) side by side, one
# core each, from copies of the seeds (default corpus/<T>/), then prints the coverage (cov:
# edges) and features (ft:) the seeds alone gave and each side reached, and their ratio.  Needs
# the `fuzz` preset (cmake --preset fuzz; the script builds the two binaries).  Default:
# fuzz_bundle_verdict for 600 s.  --keep DIR keeps both final corpora and logs (DIR/plain,
# DIR/structured), e.g. to replay them through a source-coverage build.
set -euo pipefail
cd "$(dirname "$0")/.."
target=fuzz_bundle_verdict
seconds=600
build=build/fuzz
json=
seeds=
keep=
while [ $# -gt 0 ]; do
    case $1 in
        --target) target=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --build-dir) build=$2; shift 2 ;;
        --json) json=$2; shift 2 ;;
        --seeds) seeds=$2; shift 2 ;;
        --keep) keep=$2; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "compare-structured.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
seeds=${seeds:-corpus/$target}
[ -d "$build" ] || cmake --preset fuzz -B "$build" >/dev/null
cmake --build "$build" -j "$(nproc)" --target "$target" "${target}_structured" >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/compare-structured.XXXXXX")
trap 'rm -rf "$work"' EXIT
dict=()
[ -f "fuzz/$target.dict" ] && dict=(-dict="fuzz/$target.dict")
max_len=$(find "$seeds" -type f -printf '%s\n' | sort -n | tail -1)
max_len=$((max_len + 4096))

run() { # name binary
    mkdir -p "$work/$1/corpus"
    cp "$seeds"/* "$work/$1/corpus/"
    "$2" "${dict[@]}" -max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb=4096 \
        -print_final_stats=1 -artifact_prefix="$work/$1/" "$work/$1/corpus" >"$work/$1/log" 2>&1 || true
}
run plain "$build/fuzz/$target" &
run structured "$build/fuzz/${target}_structured" &
wait
if [ -n "$keep" ]; then
    mkdir -p "$keep"
    cp -r "$work/plain" "$work/structured" "$keep/"
fi

# The last status line libFuzzer printed: "#N ... cov: E ft: F corp: C ... exec/s: X".
stat() { # name field
    grep -Eo "$2: [0-9]+" "$work/$1/log" | tail -1 | grep -Eo '[0-9]+' || echo 0
}
pc=$(stat plain cov) pf=$(stat plain ft) sc=$(stat structured cov) sf=$(stat structured ft)
# What loading the seeds gave (libFuzzer's "INITED" line), the same for both sides.
ic=$(grep -E 'INITED' "$work/plain/log" | grep -Eo 'cov: [0-9]+' | grep -Eo '[0-9]+' || echo 0)
if_=$(grep -E 'INITED' "$work/plain/log" | grep -Eo 'ft: [0-9]+' | grep -Eo '[0-9]+' || echo 0)
pe=$(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$work/plain/log" | grep -Eo '[0-9]+$' || echo 0)
se=$(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$work/structured/log" | grep -Eo '[0-9]+$' || echo 0)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }
printf '%s, %s s each, one core each, seeds %s\n' "$target" "$seconds" "$seeds"
printf '%-12s %10s %10s %12s\n' mutation edges features executions
printf '%-12s %10s %10s %12s\n' 'seeds alone' "$ic" "$if_" -
printf '%-12s %10s %10s %12s\n' plain "$pc" "$pf" "$pe"
printf '%-12s %10s %10s %12s\n' structured "$sc" "$sf" "$se"
printf 'ratio structured/plain: edges %s, features %s\n' "$(ratio "$sc" "$pc")" "$(ratio "$sf" "$pf")"
if [ -n "$json" ]; then
    printf '{"schema": "sigharness.compare-structured/1", "target": "%s", "seeds": "%s", "seconds": %s, "seeds_alone": {"edges": %s, "features": %s}, "plain": {"edges": %s, "features": %s, "executions": %s}, "structured": {"edges": %s, "features": %s, "executions": %s}, "edge_ratio": "%s", "feature_ratio": "%s"}\n' \
        "$target" "$seeds" "$seconds" "$ic" "$if_" "$pc" "$pf" "$pe" "$sc" "$sf" "$se" "$(ratio "$sc" "$pc")" "$(ratio "$sf" "$pf")" >"$json"
fi
