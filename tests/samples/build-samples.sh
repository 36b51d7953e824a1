#!/usr/bin/env bash
# Builds Mach-O binaries signed by tools other than ours, for the cross-check tests:
#   go-arm64     GOOS=darwin GOARCH=arm64 go build (Go's linker signs ad hoc)
#   lld-arm64    clang-14 + ld64.lld-14 for arm64 (ad hoc signed by default)
#   lld-x86_64   clang-14 + ld64.lld-14 for x86_64 with -adhoc_codesign
#   lld-fat      llvm-lipo-14 -create of the two lld binaries
#   lld-x86_64-unsigned  the x86_64 program linked without a signature
# Usage: build-samples.sh OUTDIR.  Prints what it built; exits non-zero if a tool is missing.
set -euo pipefail
out=${1:?usage: build-samples.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for arch in arm64 x86_64; do
  clang-14 -target "$arch-apple-macos11" -O1 -c "$here/hello.c" -o "$tmp/hello-$arch.o"
  ld64.lld-14 -arch "$arch" -platform_version macos 11.0 13.0 -adhoc_codesign \
    -o "$tmp/lld-$arch" "$tmp/hello-$arch.o"
done
ld64.lld-14 -arch x86_64 -platform_version macos 11.0 13.0 -no_adhoc_codesign \
  -o "$tmp/lld-x86_64-unsigned" "$tmp/hello-x86_64.o"
llvm-lipo-14 -create "$tmp/lld-arm64" "$tmp/lld-x86_64" -output "$tmp/lld-fat"

export GOCACHE="$tmp/gocache" GOPATH="$tmp/gopath" GOFLAGS=-mod=mod CGO_ENABLED=0
(cd "$tmp" && GOOS=darwin GOARCH=arm64 go build -o "$tmp/go-arm64" "$here/hello.go")

for f in lld-arm64 lld-x86_64 lld-x86_64-unsigned lld-fat go-arm64; do
  mv "$tmp/$f" "$out/$f"
  echo "$out/$f"
done
