#!/usr/bin/env bash
# shellcheck disable=SC2016  # single-quoted $SRC/$ORIGIN patterns are literal on purpose
# ctest oss_fuzz_build: runs fuzz/oss-fuzz/build.sh the way OSS-Fuzz does (only $CC $CXX $CFLAGS
# $CXXFLAGS $LIB_FUZZING_ENGINE $OUT $SRC $WORK, libFuzzer + ASan flags, clean environment), then
# checks that every target of SH_FUZZ_TARGETS (fuzz/CMakeLists.txt) is in $OUT with its seed
# zip, dictionary and options, that its shared libraries resolve from $OUT alone, and that it
# fuzzes its unpacked seeds for 2 seconds with exit status 0.  Also runs the ClusterFuzzLite
# entry point (.clusterfuzzlite/build.sh, OSS-Fuzz's $SRC/<project> layout) on the same build
# directory and statically checks the Dockerfiles / project.yaml files (Docker cannot run here).
#
# usage: tests/oss_fuzz_build.sh [REPO_ROOT]      fails without clang-14/zip/unzip
set -euo pipefail

repo=$(cd "${1:-$(dirname "$0")/..}" && pwd -P)
fail() { echo "oss_fuzz_build: FAIL: $*" >&2; exit 1; }
note() { echo "oss_fuzz_build: $*"; }

for tool in clang-14 cmake zip unzip ldd readelf; do
  command -v "$tool" >/dev/null || { note "FAIL: $tool is not installed (scripts/install-deps.sh installs it)"; exit 1; }
done
cxx=clang++-14
command -v "$cxx" >/dev/null || cxx=clang-14   # unused by this C project anyway

tmp=$(mktemp -d -t sh-oss-fuzz-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/out" "$tmp/work" "$tmp/seeds" "$tmp/logs"

flags="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address,fuzzer-no-link"
# OSS-Fuzz's environment and nothing else (PATH/HOME so the tools run; nproc limits -j).
oss_env() {
  env -i PATH="$PATH" HOME="${HOME:-/tmp}" \
    CC=clang-14 CXX="$cxx" CFLAGS="$flags" CXXFLAGS="$flags" \
    LIB_FUZZING_ENGINE=-fsanitize=fuzzer WORK="$tmp/work" "$@"
}

# --- static checks of the packaging files -------------------------------------------------
bs=$repo/fuzz/oss-fuzz/build.sh
[[ -x $bs ]] || fail "$bs missing or not executable"
[[ -x $repo/.clusterfuzzlite/build.sh ]] || fail ".clusterfuzzlite/build.sh missing or not executable"
bash -n "$bs" || fail "build.sh: syntax error"
bash -n "$repo/.clusterfuzzlite/build.sh" || fail ".clusterfuzzlite/build.sh: syntax error"
grep -q 'set -euo pipefail' "$bs" || fail "build.sh lacks set -euo pipefail"
# Upper-case variables build.sh reads: only OSS-Fuzz's.
allowed=" CC CXX CFLAGS CXXFLAGS LIB_FUZZING_ENGINE OUT SRC WORK BASH_SOURCE ORIGIN "
for v in $(grep -v '^\s*#' "$bs" | grep -oE '\$\{?[A-Z_][A-Z0-9_]*' | tr -d '${' | sort -u); do
  [[ $allowed == *" $v "* ]] || fail "build.sh reads \$$v (only OSS-Fuzz's variables are allowed)"
done
for f in fuzz/oss-fuzz/Dockerfile .clusterfuzzlite/Dockerfile; do
  [[ -f $repo/$f ]] || fail "$f missing"
  grep -qE '^FROM gcr\.io/oss-fuzz-base/base-builder(:[a-z0-9-]+)?$' "$repo/$f" || fail "$f: FROM base-builder"
  for p in cmake pkg-config libssl-dev libplist-dev zip; do
    grep -qE "apt-get install.* $p( |$)" "$repo/$f" || fail "$f does not install $p"
  done
  grep -q 'COPY . \$SRC/sigharness' "$repo/$f" || fail "$f: sources not copied to \$SRC/sigharness"
  grep -q '^WORKDIR \$SRC/sigharness' "$repo/$f" || fail "$f: WORKDIR"
  grep -qE '^COPY (\.clusterfuzzlite/)?build\.sh \$SRC/$' "$repo/$f" || fail "$f: build.sh not copied to \$SRC/"
done
for f in fuzz/oss-fuzz/project.yaml .clusterfuzzlite/project.yaml; do
  grep -q '^language: c$' "$repo/$f" || fail "$f: language: c"
done
y=$repo/fuzz/oss-fuzz/project.yaml
grep -q '^main_repo:' "$y" || fail "project.yaml: main_repo (required by OSS-Fuzz)"
for s in address undefined libfuzzer afl; do
  grep -qE "^  - $s$" "$y" || fail "project.yaml does not list $s"
done
grep -q 'fuzz/oss-fuzz/build.sh' "$repo/.clusterfuzzlite/build.sh" || fail ".clusterfuzzlite/build.sh does not call fuzz/oss-fuzz/build.sh"

# --- the build ----------------------------------------------------------------------------
read -r -a targets <<<"$(sed -n 's/^set(SH_FUZZ_TARGETS \(.*\))$/\1/p' "$repo/fuzz/CMakeLists.txt")"
((${#targets[@]} > 0)) || fail "no SH_FUZZ_TARGETS in fuzz/CMakeLists.txt"
note "${#targets[@]} targets: ${targets[*]}"

start=$SECONDS
oss_env SRC="$repo" OUT="$tmp/out" "$bs" >"$tmp/logs/build.log" 2>&1 ||
  { tail -40 "$tmp/logs/build.log" >&2; fail "fuzz/oss-fuzz/build.sh exited non-zero (log above)"; }
note "build.sh: $((SECONDS - start)) s"

static_crypto=no
[[ -f /usr/lib/x86_64-linux-gnu/libcrypto.a ]] && static_crypto=yes
out=$tmp/out
for t in "${targets[@]}"; do
  [[ -x $out/$t ]] || fail "$t: no fuzzer in \$OUT"
  [[ -f $out/${t}_seed_corpus.zip ]] || fail "$t: no ${t}_seed_corpus.zip"
  [[ -f $out/$t.dict ]] || fail "$t: no $t.dict"
  cmp -s "$out/$t.dict" "$repo/fuzz/$t.dict" || fail "$t.dict differs from fuzz/$t.dict"
  [[ "$(cat "$out/$t.options")" == "$(printf '[libfuzzer]\ndict = %s.dict' "$t")" ]] ||
    fail "$t.options: want '[libfuzzer]\\ndict = $t.dict', got: $(cat "$out/$t.options" 2>/dev/null)"
  # The zip holds every seed (corpus/<t>/ and corpus/regressions/<t>/).
  want=$(find "$repo/corpus/$t" -type f | wc -l)
  [[ -d $repo/corpus/regressions/$t ]] && want=$((want + $(find "$repo/corpus/regressions/$t" -type f | wc -l)))
  mkdir -p "$tmp/seeds/$t"
  unzip -q -o "$out/${t}_seed_corpus.zip" -d "$tmp/seeds/$t" || fail "$t: bad seed zip"
  got=$(find "$tmp/seeds/$t" -type f | wc -l)
  ((got == want && want > 0)) || fail "$t: seed zip has $got files, corpus has $want"
  # Runs on a machine with none of the -dev packages: libplist from $OUT/lib, no libcrypto.so.
  readelf -d "$out/$t" | grep -q 'RUNPATH.*\$ORIGIN/lib' || fail "$t: no RUNPATH \$ORIGIN/lib"
  libs=$(env -u LD_LIBRARY_PATH ldd "$out/$t")
  ! grep -q 'not found' <<<"$libs" || fail "$t: unresolved shared libraries: $libs"
  ! grep -qE 'libplist.* => /(usr/)?lib' <<<"$libs" || fail "$t: libplist resolved outside \$OUT/lib: $libs"
  if [[ $static_crypto == yes ]] && grep -q 'libcrypto' <<<"$libs"; then
    fail "$t: libcrypto linked dynamically although libcrypto.a is installed"
  fi
done
note "all ${#targets[@]} targets in \$OUT with seed zip, dict, options; libcrypto static: $static_crypto"

# --- each fuzzer runs 2 s on its seeds ----------------------------------------------------
start=$SECONDS
for t in "${targets[@]}"; do
  log=$tmp/logs/$t.log
  if ! (cd "$tmp/logs" && env -u LD_LIBRARY_PATH "$out/$t" -max_total_time=2 -timeout=25 \
          -dict="$out/$t.dict" "$tmp/seeds/$t") >"$log" 2>&1; then
    tail -40 "$log" >&2
    fail "$t: fuzzing its seeds for 2 s failed (log above)"
  fi
  grep -q 'Dictionary: [1-9][0-9]* entries' "$log" || fail "$t: libFuzzer did not load $t.dict"
  done_line=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1) ||
    fail "$t: no libFuzzer 'Done N runs' line (log: $(tail -5 "$log"))"
  note "$t: $done_line"
done
note "fuzzing: $((SECONDS - start)) s"

# --- ClusterFuzzLite entry point, OSS-Fuzz layout ($SRC/sigharness), same build directory ----
mkdir -p "$tmp/src" "$tmp/out2"
ln -s "$repo" "$tmp/src/sigharness"
oss_env SRC="$tmp/src" OUT="$tmp/out2" "$repo/.clusterfuzzlite/build.sh" >"$tmp/logs/cflite.log" 2>&1 ||
  { tail -40 "$tmp/logs/cflite.log" >&2; fail ".clusterfuzzlite/build.sh exited non-zero"; }
for t in "${targets[@]}"; do
  [[ -x $tmp/out2/$t && -f $tmp/out2/${t}_seed_corpus.zip ]] || fail ".clusterfuzzlite/build.sh: no $t"
done
note "PASS"
