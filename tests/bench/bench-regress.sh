#!/usr/bin/env bash
# The catalogue benchmark (issue: "fixtures broken + regress for the whole catalogue, goal under
# 5 seconds on one core"): times `sigharness regress` (build every base, apply every mutator,
# judge everything in memory) and `sigharness fixtures broken` (the same set written to disk,
# packed copies included), each pinned to one core, best of RUNS.  References measured in the same
# run: `sigharness fixtures base` (building and signing the base bundles alone), so the figures
# also read as "regress costs N times building the bases", and `openssl speed rsa2048` on the same
# core (both commands together make about 5,600 RSA-2048 signatures: the machine's signing rate
# says how fast it is today).  Usage: bench-regress.sh SIGHARNESS [RUNS]
# (BENCH_CPU=N pins to core N instead of 0, for a machine where core 0 is busy; TMPDIR chooses the
# file system fixtures broken writes to, e.g. TMPDIR=/dev/shm for tmpfs).
set -euo pipefail
sigharness=$1
runs=${2:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-regress.XXXXXX")
trap 'rm -rf "$work"' EXIT
pin=()
command -v taskset >/dev/null && pin=(taskset -c "${BENCH_CPU:-0}")

# Every run writes a directory of its own, removed only at the end: on ext4, creating thousands
# of files right after deleting thousands costs several seconds of kernel time (inode allocation
# skips recently freed inodes), which would measure the file system rather than sigharness.
run_no=0
best() { # command...: best wall time in seconds over $runs runs ("@OUT@" becomes a fresh directory)
    local best_t=
    for _ in $(seq "$runs"); do
        local s e args=()
        run_no=$((run_no + 1))
        for a in "$@"; do args+=("${a//@OUT@/$work/out-$run_no}"); done
        s=$(date +%s.%N)
        "${args[@]}" >/dev/null 2>&1 || true
        e=$(date +%s.%N)
        best_t=$(awk -v b="${best_t:-1e9}" -v t="$(awk -v s="$s" -v e="$e" 'BEGIN{print e-s}')" \
                 'BEGIN { print (t < b) ? t : b }')
    done
    echo "$best_t"
}
cases=$("${pin[@]}" "$sigharness" regress --quiet | tail -1 | awk '{print $1}')
regress=$(best "${pin[@]}" "$sigharness" regress --quiet)
broken=$(best "${pin[@]}" "$sigharness" fixtures broken -o @OUT@)
base=$(best "${pin[@]}" "$sigharness" fixtures base -o @OUT@)
rsa=$("${pin[@]}" openssl speed -seconds 2 rsa2048 2>/dev/null | awk '/^rsa 2048/ {print $6}')
fs=$(df -T "$work" 2>/dev/null | awk 'NR == 2 {print $2}')
printf 'catalogue: %s cases (bases x fitting mutators), one core, best of %s\n' "$cases" "$runs"
printf '  regress          %6.2f s  (%.1f ms per case)\n' "$regress" "$(awk -v t="$regress" -v n="$cases" 'BEGIN{print 1000*t/n}')"
printf '  fixtures broken  %6.2f s  (written to %s, with packed copies)\n' "$broken" "$fs"
printf '  together         %6.2f s  (goal: under 5 s)\n' "$(awk -v a="$regress" -v b="$broken" 'BEGIN{print a+b}')"
printf '  reference: fixtures base %.2f s; regress = %.1f x, fixtures broken = %.1f x\n' "$base" \
    "$(awk -v a="$regress" -v b="$base" 'BEGIN{print a/b}')" "$(awk -v a="$broken" -v b="$base" 'BEGIN{print a/b}')"
printf '  reference: openssl speed rsa2048 on the same core: %s signs/s; together = %.0f signatures\n' \
    "${rsa:-?}" "$(awk -v a="$regress" -v b="$broken" -v r="${rsa:-0}" 'BEGIN{print (a+b)*r}')"
