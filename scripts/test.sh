#!/usr/bin/env bash
# The whole test suite under ASan + UBSan: installs dependencies, builds the `asan` preset, runs
# ctest (unit tests, hostile inputs, cross-checks against Go/ld64.lld-signed binaries and the
# external samples, fuzz-corpus replay).  The last line is ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset asan
cmake --build --preset asan -j "$(nproc)"
ctest --preset asan -j "$(nproc)"
