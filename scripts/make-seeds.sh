#!/usr/bin/env bash
# Regenerates the seed corpora corpus/fuzz_macho, corpus/fuzz_superblob, corpus/fuzz_codedir and
# corpus/fuzz_signed_data from binaries that ld64.lld-14 and Go sign (tests/samples/build-samples.sh),
# the signatures of ../shared/external-samples (BER CMS) and the executables of one built-in base
# bundle (DER CMS with a timestamp, from the test PKI), then minimises each with
# libFuzzer's -merge=1 when the `fuzz` preset is built.  Usage: scripts/make-seeds.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/asan}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tests/samples/build-samples.sh "$tmp/samples" >/dev/null
mkdir -p "$tmp/raw/fuzz_macho" "$tmp/raw/fuzz_superblob" "$tmp/raw/fuzz_codedir" \
         "$tmp/raw/fuzz_signed_data"
# The Go binary is large (about 2 MB): keep the lld ones as Mach-O seeds, extract blobs from all.
cp "$tmp/samples/lld-arm64" "$tmp/samples/lld-x86_64" "$tmp/samples/lld-fat" "$tmp/raw/fuzz_macho/"
"$build/fuzz/seed_extract" "$tmp/raw" "$tmp"/samples/* >/dev/null
# Real signatures nobody here wrote: CMS, entitlements, SHA-1 + SHA-256 CDs, old versions.
shared=../shared/external-samples
if [ -d "$shared" ]; then
  "$build/fuzz/seed_extract" "$tmp/raw" "$shared"/macho/* >/dev/null || true
  for f in "$shared"/detached/*CodeDirectory "$shared"/detached/*CodeRequirements-1; do
    cp "$f" "$tmp/raw/fuzz_codedir/detached-$(basename "$f")"
  done
fi

"$build/harness/sigharness" fixtures base -o "$tmp/bases" >/dev/null
mkdir -p "$tmp/base-exe"
for exe in "$tmp"/bases/network-content-filter-devid/*.app/Contents/MacOS/* \
           "$tmp"/bases/network-content-filter-devid/*.app/Contents/Library/SystemExtensions/*/Contents/MacOS/*; do
  cp "$exe" "$tmp/base-exe/base-$(basename "$exe")"
done
"$build/fuzz/seed_extract" "$tmp/raw" "$tmp"/base-exe/* >/dev/null
rm -f "$tmp"/raw/fuzz_superblob/base-* "$tmp"/raw/fuzz_codedir/base-*

for t in fuzz_macho fuzz_superblob fuzz_codedir fuzz_signed_data; do
  mkdir -p "corpus/$t"
  if [ -x "build/fuzz/fuzz/$t" ]; then
    "build/fuzz/fuzz/$t" -merge=1 "corpus/$t" "$tmp/raw/$t" 2>/dev/null
  else
    cp -n "$tmp/raw/$t"/* "corpus/$t/"
  fi
  echo "corpus/$t: $(ls "corpus/$t" | wc -l) files, $(du -sh "corpus/$t" | cut -f1)"
done
