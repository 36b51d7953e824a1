#!/usr/bin/env bash
# Fuzzing throughput benchmark (not a test): executions per second of every libFuzzer target on
# one core (taskset -c 0), built twice with clang-14: without sanitizers and with ASan + UBSan
# (the `fuzz` preset's instrumentation).  Each run starts from a fresh copy of the seed corpus,
# fuzzes for --seconds and reports libFuzzer's stat::average_exec_per_sec.
#
#   fuzz/bench-execs.sh [--seconds S] [--targets a,b,...] [--build-root DIR] [--no-build] [--json]
#
# Prints a table: target, exec/s plain, exec/s ASan, the ASan slowdown, and each plain figure
# relative to fuzz_superblob's (the cheapest parser target), which transfers between machines
# better than absolute numbers.  Builds go to DIR-plain and DIR-asan (default build/bench-execs).
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
seconds=30 targets="" root="$repo/build/bench-execs" build=1 json=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds=${2:?}; shift ;;
    --targets) targets=${2:?}; shift ;;
    --build-root) root=${2:?}; shift ;;
    --no-build) build=0 ;;
    --json) json=1 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-execs: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[[ "$root" == /* ]] || root="$PWD/$root"
[[ -n "$targets" ]] ||
  targets=$(sed -n 's/^set(SH_FUZZ_TARGETS \(.*\))$/\1/p' "$repo/fuzz/CMakeLists.txt" | tr ' ' ',')
IFS=, read -r -a target_list <<<"$targets"

if [[ $build == 1 ]]; then
  for variant in plain asan; do
    sanitize=$([[ $variant == asan ]] && echo ON || echo OFF)
    cmake -S "$repo" -B "$root-$variant" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_C_COMPILER=clang-14 -DSH_SANITIZE=$sanitize -DSH_FUZZ_ENGINE=libfuzzer \
      -DSH_BUILD_TESTS=OFF >/dev/null || exit 2
    cmake --build "$root-$variant" -j"$(nproc)" --target "${target_list[@]}" >"$root-$variant.log" 2>&1 ||
      { tail -20 "$root-$variant.log" >&2; exit 2; }
  done
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)

# exec/s of one target in one build
measure() {
  local bin=$1 t=$2 dir="$tmp/corpus-$2-$RANDOM"
  mkdir -p "$dir"
  cp "$repo/corpus/$t"/* "$dir/" 2>/dev/null
  local dict=()
  [[ -f "$repo/fuzz/$t.dict" ]] && dict=(-dict="$repo/fuzz/$t.dict")
  (cd "$tmp" && "${pin[@]}" "$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=25 \
     -rss_limit_mb=4096 "${dict[@]}" "$dir") 2>&1 |
    awk '/stat::average_exec_per_sec:/ { print $2 }' | tail -1
  rm -rf "$dir"
}

declare -A plain=() asan=()
for t in "${target_list[@]}"; do
  plain[$t]=$(measure "$root-plain/fuzz/$t" "$t")
  asan[$t]=$(measure "$root-asan/fuzz/$t" "$t")
  echo "bench-execs: $t plain ${plain[$t]:-?} asan ${asan[$t]:-?}" >&2
done

ref=${plain[fuzz_superblob]:-0}
if [[ $json == 1 ]]; then
  printf '{"schema":"sigharness.bench-execs/1","seconds":%s,"reference":"fuzz_superblob","targets":[' "$seconds"
  first=1
  for t in "${target_list[@]}"; do
    [[ $first == 1 ]] || printf ','
    first=0
    printf '{"name":"%s","execs_per_sec_plain":%d,"execs_per_sec_asan":%d}' "$t" "${plain[$t]:-0}" "${asan[$t]:-0}"
  done
  printf ']}\n'
else
  printf '%-28s %12s %12s %9s %14s\n' target "plain exec/s" "ASan exec/s" slowdown "vs superblob"
  for t in "${target_list[@]}"; do
    p=${plain[$t]:-0} a=${asan[$t]:-0}
    awk -v t="$t" -v p="$p" -v a="$a" -v r="$ref" 'BEGIN {
      printf "%-28s %12d %12d %8.1fx %13.3f\n", t, p, a, (a > 0 ? p / a : 0), (r > 0 ? p / r : 0) }'
  done
fi
