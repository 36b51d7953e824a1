#!/usr/bin/env bash
# Nightly fuzzing run: build, fuzz every target in parallel for a time budget, merge and minimise
# the corpora, de-duplicate crashes by stack, file new reproducers under corpus/regressions/,
# print progress and a summary (text + JSON), exit 1 when a new crash was found.
#
#   fuzz/nightly.sh [--minutes M] [--jobs N] [--engine libfuzzer|afl] [--targets a,b,...]
#                   [--workdir DIR] [--build-dir DIR] [--no-build] [--structured]
#                   [--update-corpus] [--no-regressions]
#
# --minutes M      wall-clock fuzzing budget (fractions allowed; default 60).  When there are more
#                  targets than jobs they run in rounds and share the budget.
# --jobs N         processes in use at once (default: nproc).  With fewer targets than jobs each
#                  target gets N/targets workers (libFuzzer -fork=K, AFL++ one -M plus -S).
# --engine         libfuzzer (preset `fuzz`, build/fuzz) or afl (preset `afl`, build/afl).
# --targets        comma-separated (default: every SH_FUZZ_TARGETS entry of fuzz/CMakeLists.txt).
# --workdir DIR    per-target work directories (default build/nightly): DIR/<target>/{corpus,
#                  minimised,artifacts,log}, DIR/summary.json, DIR/known-crashes.tsv.
# --build-dir DIR  use DIR instead of the preset's directory (configured like the preset).
# --no-build       use the binaries already built.
# --structured     libFuzzer: run <target>_structured (structure-aware mutator) where it exists;
#                  AFL++: load libsh_afl_mutator.so (AFL_CUSTOM_MUTATOR_LIBRARY).
# --update-corpus  merge new coverage into the committed corpus/<target>/ as well.
# --no-regressions do not copy new reproducers into corpus/regressions/<target>/.
#
# Crash de-duplication: each artifact is replayed through the target's sanitizer build and its
# signature is the top three frames of the first stack that are the project's own code
# (sanitizer, libFuzzer and libc frames skipped); without a stack, the file's SHA-1.  A
# signature already in DIR/known-crashes.tsv, or produced by a file already in
# corpus/regressions/<target>/, is not new.  New reproducers are copied to
# corpus/regressions/<target>/crash-<signature> where the replay ctest picks them up.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

# ---- pure helpers (tests/nightly_logic_test.sh sources this file and calls them) ------------

# Top three project frames of the first sanitizer / libFuzzer stack in a log, "f1|f2|f3"
# (function names only: addresses and line numbers move with every build).
crash_signature_from_log() {
  awk '
    /^ *#[0-9]+ 0x[0-9a-f]+ in / {
      fn = $4
      if (fn ~ /^(__sanitizer|__asan|__ubsan|__interceptor|__lsan|fuzzer::|std::|abort$|raise$|__GI_|__libc|__pthread|_start$|main$|LLVMFuzzerTestOneInput$|free$|malloc$|calloc$|realloc$)/) next
      if ($0 ~ /libFuzzer|compiler-rt|\/libc\.so|libc-start|sanitizer_common/) next
      frames[n++] = fn
      if (n == 3) exit
    }
    /^ *$/ { if (n > 0) exit }
    END { s = ""; for (i = 0; i < n; i++) s = s (i ? "|" : "") frames[i]; print s }
  ' "$1"
}

# A signature as a short file-name-safe id.
signature_id() { printf '%s' "$1" | sha1sum | cut -c1-12; }

# Final figures from a libFuzzer log: "execs_per_sec cov ft" (0 when absent).  Works for plain
# runs (stat:: lines, #N lines) and -fork runs ("#N: cov: C ft: F corp: ... exec/s E ...").
libfuzzer_stats() {
  awk '
    /stat::average_exec_per_sec:/ { eps = $2 }
    / cov: [0-9]+ ft: [0-9]+/ {
      for (i = 1; i <= NF; i++) {
        if ($i == "cov:") cov = $(i + 1)
        if ($i == "ft:") ft = $(i + 1)
        if ($i == "exec/s:" || $i == "exec/s") live = $(i + 1)
      }
    }
    END { if (eps == "") eps = live; printf "%d %d %d\n", eps + 0, cov + 0, ft + 0 }
  ' "$1"
}

# Final figures from AFL++ fuzzer_stats files: "execs_per_sec edges corpus" summed / maxed over
# the instances given.
afl_stats() {
  awk -F' *: *' '
    $1 == "execs_per_sec" { eps += $2 }
    $1 == "edges_found" { if ($2 > edges) edges = $2 }
    $1 == "corpus_count" || $1 == "paths_total" { if ($2 > corpus) corpus = $2 }
    END { printf "%d %d %d\n", eps, edges, corpus }
  ' "$@"
}

# JSON string escaping for the summary (targets and signatures are plain, but be safe).
json_str() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

# ---- the run ----------------------------------------------------------------------------------

usage() { sed -n '2,31p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "nightly: error: $*" >&2; exit 2; }
say() { echo "nightly: $*"; }

parse_args() {
  minutes=60 jobs=$(nproc) engine=libfuzzer targets="" workdir="$repo/build/nightly"
  build_dir="" build=1 structured=0 update_corpus=0 regressions=1
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --minutes) minutes=${2:?}; shift ;;
      --jobs) jobs=${2:?}; shift ;;
      --engine) engine=${2:?}; shift ;;
      --targets) targets=${2:?}; shift ;;
      --workdir) workdir=${2:?}; shift ;;
      --build-dir) build_dir=${2:?}; shift ;;
      --no-build) build=0 ;;
      --structured) structured=1 ;;
      --update-corpus) update_corpus=1 ;;
      --no-regressions) regressions=0 ;;
      -h|--help) usage; exit 0 ;;
      *) die "unknown option $1 (see --help)" ;;
    esac
    shift
  done
  [[ "$engine" == libfuzzer || "$engine" == afl ]] || die "--engine must be libfuzzer or afl"
  [[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive integer"
  [[ "$minutes" =~ ^[0-9]*\.?[0-9]+$ ]] || die "--minutes must be a number"
  if [[ -z "$targets" ]]; then
    targets=$(sed -n 's/^set(SH_FUZZ_TARGETS \(.*\))$/\1/p' "$repo/fuzz/CMakeLists.txt" | tr ' ' ',')
  fi
  IFS=, read -r -a target_list <<<"$targets"
  [[ ${#target_list[@]} -gt 0 ]] || die "no targets"
  preset=$([[ "$engine" == libfuzzer ]] && echo fuzz || echo afl)
  [[ -n "$build_dir" ]] || build_dir="$repo/build/$preset"
  [[ "$build_dir" == /* ]] || build_dir="$PWD/$build_dir"
  mkdir -p "$workdir" || die "cannot create $workdir"
  workdir=$(cd "$workdir" && pwd -P)
}

binary_for() { # target -> the fuzzing binary
  local t=$1
  if [[ "$engine" == afl ]]; then echo "$build_dir/fuzz/${t}_afl"; return; fi
  if [[ $structured == 1 && -x "$build_dir/fuzz/${t}_structured" ]]; then
    echo "$build_dir/fuzz/${t}_structured"
  else
    echo "$build_dir/fuzz/$t"
  fi
}

build_targets() {
  local names=() t
  for t in "${target_list[@]}"; do
    if [[ "$engine" == afl ]]; then names+=("${t}_afl"); else names+=("$t"); fi
    [[ "$engine" == libfuzzer && $structured == 1 ]] &&
      grep -q "SH_FUZZ_STRUCTURED_TARGETS.*\b$t\b" "$repo/fuzz/CMakeLists.txt" && names+=("${t}_structured")
  done
  [[ "$engine" == afl && $structured == 1 ]] && names+=(sh_afl_mutator)
  if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
    if [[ "$build_dir" == "$repo/build/$preset" ]]; then
      (cd "$repo" && cmake --preset "$preset" >/dev/null) || die "configuring preset $preset failed"
    elif [[ "$engine" == libfuzzer ]]; then
      cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang-14 \
        -DSH_SANITIZE=ON -DSH_FUZZ_ENGINE=libfuzzer -DSH_BUILD_TESTS=OFF >/dev/null || die "configure failed"
    else
      cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=afl-clang-fast \
        -DSH_FUZZ_ENGINE=afl -DSH_BUILD_TESTS=OFF >/dev/null || die "configure failed"
    fi
  fi
  say "building ${names[*]} in $build_dir"
  cmake --build "$build_dir" -j"$jobs" --target "${names[@]}" >"$workdir/build.log" 2>&1 ||
    { tail -30 "$workdir/build.log" >&2; die "build failed (log: $workdir/build.log)"; }
}

# Starts one target in the background; sets pids[t].
start_target() {
  local t=$1 seconds=$2 workers=$3 bin wd dict
  bin=$(binary_for "$t")
  [[ -x "$bin" ]] || die "$bin is missing (build it or drop --no-build)"
  wd="$workdir/$t"
  mkdir -p "$wd/corpus" "$wd/artifacts"
  dict="$repo/fuzz/$t.dict"
  local seeds=("$repo/corpus/$t")
  [[ -d "$repo/corpus/regressions/$t" ]] && seeds+=("$repo/corpus/regressions/$t")
  if [[ "$engine" == libfuzzer ]]; then
    local args=(-max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$wd/artifacts/"
                -timeout=25 -rss_limit_mb=2048)
    [[ -f "$dict" ]] && args+=(-dict="$dict")
    [[ $workers -gt 1 ]] && args+=(-fork="$workers" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    (cd "$wd" && exec "$bin" "${args[@]}" "$wd/corpus" "${seeds[@]}") >"$wd/log" 2>&1 &
    pids[$t]=$!
  else
    # AFL++: one main (-M) and workers-1 secondaries (-S); the seeds as input directory.
    local in="$wd/afl-in" i env=(AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1)
    mkdir -p "$in"
    cp -n "${seeds[@]/%//}"* "$in/" 2>/dev/null
    [[ $structured == 1 ]] && env+=(AFL_CUSTOM_MUTATOR_LIBRARY="$build_dir/fuzz/libsh_afl_mutator.so")
    local dictarg=()
    [[ -f "$dict" ]] && dictarg=(-x "$dict")
    local group=""
    for ((i = 0; i < workers; i++)); do
      local role=(-S "s$i")
      [[ $i == 0 ]] && role=(-M m0)
      env "${env[@]}" afl-fuzz -i "$in" -o "$wd/afl" "${role[@]}" -V "$seconds" "${dictarg[@]}" \
        -- "$bin" >"$wd/log.$i" 2>&1 &
      group+="$! "
    done
    pids[$t]=$group
  fi
}

progress_line() {
  local t=$1 wd="$workdir/$1" line
  if [[ "$engine" == libfuzzer ]]; then
    line=$(grep -a -E '^#[0-9]+:?[[:space:]].*cov: ' "$wd/log" 2>/dev/null | tail -1 | cut -c1-110)
  else
    line=$(afl_stats "$wd"/afl/*/fuzzer_stats 2>/dev/null | awk '{print "execs/s " $1 " edges " $2 " corpus " $3}')
  fi
  printf '  %-28s %s\n' "$t" "${line:-starting}"
}

# Runs the targets in rounds of at most $jobs, each round for its share of the budget.
run_all() {
  local n=${#target_list[@]} per_round rounds seconds workers i
  per_round=$(( n < jobs ? n : jobs ))
  rounds=$(( (n + per_round - 1) / per_round ))
  seconds=$(awk -v m="$minutes" -v r="$rounds" 'BEGIN { s = int(m * 60 / r); print s < 1 ? 1 : s }')
  workers=$(( jobs / per_round ))
  say "${n} targets, ${rounds} round(s) of ${seconds}s, ${workers} worker(s) each, engine $engine"
  declare -gA pids=()
  for ((i = 0; i < n; i += per_round)); do
    local round=("${target_list[@]:i:per_round}") t start=$SECONDS
    for t in "${round[@]}"; do start_target "$t" "$seconds" "$workers"; done
    while :; do
      local alive=0
      for t in "${round[@]}"; do
        for p in ${pids[$t]}; do kill -0 "$p" 2>/dev/null && alive=1; done
      done
      [[ $alive == 0 ]] && break
      sleep 1
      if (( (SECONDS - start) % 15 == 0 )); then
        say "progress $((SECONDS - start))s / ${seconds}s"
        for t in "${round[@]}"; do progress_line "$t"; done
      fi
      # a stuck fuzzer must not hold the night: 2 minutes of grace
      if (( SECONDS - start > seconds + 120 )); then
        for t in "${round[@]}"; do for p in ${pids[$t]}; do kill "$p" 2>/dev/null; done; done
      fi
    done
    for t in "${round[@]}"; do for p in ${pids[$t]}; do wait "$p" 2>/dev/null; done; done
  done
}

# Minimised corpus in $wd/minimised (and, with --update-corpus, new coverage into corpus/<t>).
merge_corpus() {
  local t=$1 wd="$workdir/$1" bin
  bin=$(binary_for "$t")
  rm -rf "$wd/minimised"
  mkdir -p "$wd/minimised"
  local sources=("$wd/corpus" "$repo/corpus/$t")
  if [[ "$engine" == afl ]]; then
    sources=("$repo/corpus/$t")
    local q
    for q in "$wd"/afl/*/queue; do [[ -d "$q" ]] && sources+=("$q"); done
    # libFuzzer's merge is the minimiser; the AFL++ binary cannot run it, a libFuzzer build can.
    bin="$repo/build/fuzz/fuzz/$t"
    if [[ ! -x "$bin" ]]; then
      say "$t: no libFuzzer build for merging; copying the AFL++ queue unminimised"
      for q in "${sources[@]:1}"; do cp -n "$q"/id:* "$wd/minimised/" 2>/dev/null; done
      return
    fi
  fi
  "$bin" -merge=1 -timeout=25 "$wd/minimised" "${sources[@]}" >"$wd/merge.log" 2>&1 ||
    say "$t: merge failed (see $wd/merge.log)"
  if [[ $update_corpus == 1 ]]; then
    "$bin" -merge=1 -timeout=25 "$repo/corpus/$t" "$wd/minimised" >>"$wd/merge.log" 2>&1
  fi
}

# The sanitizer binary used to replay an artifact for its stack.
replay_binary_for() {
  local t=$1
  if [[ "$engine" == libfuzzer ]]; then binary_for "$t"; return; fi
  local b
  for b in "$repo/build/fuzz/fuzz/$t" "$repo/build/asan/fuzz/${t}_replay"; do
    [[ -x "$b" ]] && { echo "$b"; return; }
  done
  echo ""
}

signature_of_file() {
  local bin=$1 file=$2 log sig
  log=$(mktemp)
  if [[ -n "$bin" ]]; then
    timeout 60 "$bin" "$file" >"$log" 2>&1
  fi
  sig=$(crash_signature_from_log "$log")
  rm -f "$log"
  [[ -n "$sig" ]] || sig="content:$(sha1sum <"$file" | cut -c1-12)"
  echo "$sig"
}

# Sets new_crashes[t] and total_crashes[t]; records and files new ones.
triage_crashes() {
  local t=$1 wd="$workdir/$1" bin known="$workdir/known-crashes.tsv" files=() f sig id tab=$'\t'
  bin=$(replay_binary_for "$t")
  touch "$known"
  if [[ "$engine" == libfuzzer ]]; then
    for f in "$wd"/artifacts/crash-* "$wd"/artifacts/leak-* "$wd"/artifacts/timeout-* \
             "$wd"/artifacts/oom-*; do [[ -f "$f" ]] && files+=("$f"); done
  else
    for f in "$wd"/afl/*/crashes/id:*; do [[ -f "$f" ]] && files+=("$f"); done
  fi
  # Signatures the committed reproducers already stand for are not new.
  if [[ -d "$repo/corpus/regressions/$t" ]]; then
    for f in "$repo/corpus/regressions/$t"/crash-*; do
      [[ -f "$f" ]] || continue
      id=${f##*/crash-}
      grep -qxF "$t$tab$id" <(cut -f1,3 "$known") || printf '%s\t%s\t%s\n' "$t" "committed" "$id" >>"$known"
    done
  fi
  local total=0 new=0
  declare -A seen=()
  for f in "${files[@]}"; do
    sig=$(signature_of_file "$bin" "$f")
    id=$(signature_id "$sig")
    total=$((total + 1))
    [[ -n "${seen[$id]:-}" ]] && continue
    seen[$id]=1
    if grep -qxF "$t$tab$id" <(cut -f1,3 "$known"); then continue; fi
    new=$((new + 1))
    printf '%s\t%s\t%s\n' "$t" "$sig" "$id" >>"$known"
    say "NEW CRASH in $t: $sig ($f)"
    new_signatures+=("$t $id $sig")
    if [[ $regressions == 1 ]]; then
      mkdir -p "$repo/corpus/regressions/$t"
      cp "$f" "$repo/corpus/regressions/$t/crash-$id"
      say "  reproducer: corpus/regressions/$t/crash-$id (replayed by ctest replay_$t)"
    fi
  done
  total_crashes[$t]=$total
  new_crashes[$t]=$new
}

# True when the fuzzer started (a failed exec or a bad flag leaves no engine banner).
target_ran() {
  local wd="$workdir/$1"
  if [[ "$engine" == libfuzzer ]]; then
    grep -aq '^INFO: Seed: \|^INFO: -fork=' "$wd/log" 2>/dev/null
  else
    compgen -G "$wd/afl/*/fuzzer_stats" >/dev/null
  fi
}

summarise() {
  local json="$workdir/summary.json" t first=1 eps cov ft corpus
  printf '\n%-28s %10s %8s %8s %8s %7s %5s\n' target exec/s cov ft corpus crashes new
  {
    printf '{"schema":"sigharness.nightly/1","engine":%s,"minutes":%s,"jobs":%s,"structured":%s,"targets":[' \
      "$(json_str "$engine")" "$minutes" "$jobs" "$([[ $structured == 1 ]] && echo true || echo false)"
  } >"$json"
  for t in "${target_list[@]}"; do
    local wd="$workdir/$t"
    if [[ "$engine" == libfuzzer ]]; then
      read -r eps cov ft < <(libfuzzer_stats "$wd/log")
    else
      read -r eps cov _ < <(afl_stats "$wd"/afl/*/fuzzer_stats 2>/dev/null)
      ft=0
    fi
    corpus=$(find "$wd/minimised" -type f 2>/dev/null | wc -l)
    printf '%-28s %10s %8s %8s %8s %7s %5s\n' "$t" "$eps" "$cov" "$ft" "$corpus" \
      "${total_crashes[$t]:-0}" "${new_crashes[$t]:-0}"
    [[ $first == 1 ]] || printf ',' >>"$json"
    first=0
    printf '{"name":%s,"execs_per_sec":%d,"edges":%d,"features":%d,"corpus_files":%d,"crashes":%d,"new_crashes":%d}' \
      "$(json_str "$t")" "$eps" "$cov" "$ft" "$corpus" "${total_crashes[$t]:-0}" "${new_crashes[$t]:-0}" >>"$json"
  done
  printf '],"new_crash_signatures":[' >>"$json"
  first=1
  local s
  for s in "${new_signatures[@]}"; do
    [[ $first == 1 ]] || printf ',' >>"$json"
    first=0
    printf '%s' "$(json_str "$s")" >>"$json"
  done
  printf ']}\n' >>"$json"
  say "summary: $json"
}

main() {
  parse_args "$@"
  [[ $build == 1 ]] && build_targets
  declare -gA new_crashes=() total_crashes=()
  new_signatures=()
  run_all
  local t
  for t in "${target_list[@]}"; do
    say "merging and triaging $t"
    merge_corpus "$t"
    triage_crashes "$t"
  done
  summarise
  local broken=()
  for t in "${target_list[@]}"; do target_ran "$t" || broken+=("$t"); done
  if [[ ${#broken[@]} -gt 0 ]]; then
    say "error: these targets did not run (see their logs under $workdir): ${broken[*]}"
    exit 2
  fi
  if [[ ${#new_signatures[@]} -gt 0 ]]; then
    say "${#new_signatures[@]} new crash(es)"
    exit 1
  fi
  say "no new crashes"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
