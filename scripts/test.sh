#!/usr/bin/env bash
# The whole test suite under ASan + UBSan: installs dependencies, builds the `asan` preset, runs
# ctest (unit tests, hostile inputs, cross-checks against Go/ld64.lld-signed binaries and the
# external samples, fuzz-corpus replay).  The last line is ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Warning gate: gcc must build everything warning-free too (the asan preset below uses clang-14).
cmake --preset gcc >/dev/null
cmake --build --preset gcc -j "$(nproc)" >/dev/null
cmake --preset asan
cmake --build --preset asan -j "$(nproc)"
ctest --preset asan -j "$(nproc)"
