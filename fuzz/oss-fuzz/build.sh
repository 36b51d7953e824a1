#!/bin/bash
# OSS-Fuzz / ClusterFuzzLite build script for sigharness.
#
# Reads only the variables OSS-Fuzz sets: $CC $CXX $CFLAGS $CXXFLAGS $LIB_FUZZING_ENGINE $OUT $SRC
# (and $WORK, when set, for the CMake build directory; otherwise a temporary directory).
# Produces in $OUT, for every target in SH_FUZZ_TARGETS (fuzz/CMakeLists.txt):
#   <t>                   the fuzzer (SH_FUZZ_ENGINE=external, links $LIB_FUZZING_ENGINE)
#   <t>_seed_corpus.zip   corpus/<t>/ plus corpus/regressions/<t>/ when present
#   <t>.dict, <t>.options fuzz/<t>.dict and "[libfuzzer] dict = <t>.dict"
#   lib/                  shared libraries the OSS-Fuzz base-runner image lacks (libplist); the
#                         fuzzers find them through RUNPATH $ORIGIN/lib.  OpenSSL's libcrypto is
#                         linked statically when libcrypto.a is installed (it is with libssl-dev).
# Needs no network access.
set -euo pipefail

die() { echo "oss-fuzz build.sh: error: $*" >&2; exit 1; }
log() { echo "oss-fuzz build.sh: $*" >&2; }

for v in CC CFLAGS LIB_FUZZING_ENGINE OUT SRC; do
  [[ -n "${!v:-}" ]] || die "\$$v is not set (this script expects the OSS-Fuzz build environment)"
done
: "${CXX:=}" "${CXXFLAGS:=}"   # a C project: accepted, unused

# The repository: this script lives in fuzz/oss-fuzz/ of it; OSS-Fuzz copies it to $SRC/build.sh
# and the checkout to $SRC/sigharness, so fall back to that.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
if [[ -f "$here/../../fuzz/CMakeLists.txt" && -d "$here/../../corpus" ]]; then
  repo=$(cd "$here/../.." && pwd -P)
elif [[ -f "$SRC/sigharness/fuzz/CMakeLists.txt" ]]; then
  repo=$SRC/sigharness
elif [[ -f "$SRC/fuzz/CMakeLists.txt" ]]; then
  repo=$SRC
else
  die "cannot find the sigharness sources (looked beside $here, in \$SRC/sigharness and \$SRC=$SRC)"
fi
log "sources: $repo"

for tool in cmake zip; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done

# Target list: the single source of truth is SH_FUZZ_TARGETS in fuzz/CMakeLists.txt.
targets=$(sed -n 's/^set(SH_FUZZ_TARGETS \(.*\))$/\1/p' "$repo/fuzz/CMakeLists.txt")
[[ -n "$targets" ]] || die "no set(SH_FUZZ_TARGETS ...) line in $repo/fuzz/CMakeLists.txt"
read -r -a targets <<<"$targets"

if [[ -n "${WORK:-}" ]]; then
  build=$WORK/sigharness-build
else
  build=$(mktemp -d -t sigharness-oss-fuzz.XXXXXX)
  trap 'rm -rf "$build"' EXIT
fi
mkdir -p "$OUT" "$build"

cmake_args=(
  -S "$repo" -B "$build" -G "Unix Makefiles"
  -DCMAKE_BUILD_TYPE=
  -DCMAKE_C_COMPILER="$CC"
  -DCMAKE_C_FLAGS="$CFLAGS"
  -DSH_FUZZ_ENGINE=external
  -DSH_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE"
  -DSH_BUILD_TESTS=OFF
  # Shared libraries copied to $OUT/lib (below) are found relative to the fuzzer.
  "-DCMAKE_BUILD_RPATH=\$ORIGIN/lib"
  "-DCMAKE_EXE_LINKER_FLAGS=-Wl,--enable-new-dtags"
)
# Static OpenSSL when available: the runner image need not carry OpenSSL 3.
for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib64 /usr/local/lib; do
  if [[ -f $d/libcrypto.a ]]; then
    cmake_args+=(-DOPENSSL_USE_STATIC_LIBS=TRUE)
    log "linking OpenSSL statically ($d/libcrypto.a)"
    break
  fi
done

log "configuring in $build"
cmake "${cmake_args[@]}"
log "building ${#targets[@]} targets"
jobs=$(nproc 2>/dev/null || echo 2)
cmake --build "$build" --target "${targets[@]}" -j "$jobs"

# Shared libraries a stock base-runner image does not have: copy them next to the fuzzers.
# (ldd prints "name => path (addr)"; keep the system's C runtime and sanitizer-free basics.)
copy_runtime_libs() {
  local bin=$1 name path
  command -v ldd >/dev/null || return 0
  while read -r name _ path _; do
    case $name in
      libplist*) ;;
      *) continue ;;
    esac
    [[ -f $path ]] || die "$bin needs $name, which is not installed"
    mkdir -p "$OUT/lib"
    cp -L "$path" "$OUT/lib/$name"
  done < <(ldd "$bin" | grep '=>')
}

for t in "${targets[@]}"; do
  bin=$build/fuzz/$t
  [[ -x $bin ]] || die "the build did not produce $bin"
  cp "$bin" "$OUT/$t"
  copy_runtime_libs "$bin"

  seeds=("$repo/corpus/$t")
  [[ -d ${seeds[0]} ]] || die "no seed corpus $repo/corpus/$t"
  [[ -d $repo/corpus/regressions/$t ]] && seeds+=("$repo/corpus/regressions/$t")
  zip_out=$OUT/${t}_seed_corpus.zip
  rm -f "$zip_out"
  # -j: flat archive (file names only), as OSS-Fuzz unpacks seeds into one directory.  Seeds
  # of the two directories that share a name would collide, so prefix the regression seeds.
  (cd "${seeds[0]}" && find . -type f -print | sort | zip -q -X -@ "$zip_out") ||
    die "zipping ${seeds[0]} failed"
  if ((${#seeds[@]} > 1)); then
    tmp=$(mktemp -d -t sigharness-reg.XXXXXX)
    (cd "${seeds[1]}" && find . -type f -print0 | while IFS= read -r -d '' f; do
       cp "$f" "$tmp/regression-$(basename "$f")"; done)
    (cd "$tmp" && zip -q -X -r "$zip_out" .) || die "zipping ${seeds[1]} failed"
    rm -rf "$tmp"
  fi

  dict=$repo/fuzz/$t.dict
  if [[ -f $dict ]]; then
    cp "$dict" "$OUT/$t.dict"
    printf '[libfuzzer]\ndict = %s.dict\n' "$t" >"$OUT/$t.options"
  else
    log "warning: no dictionary $dict"
  fi
  log "$t: done"
done
log "${#targets[@]} fuzzers in $OUT"
