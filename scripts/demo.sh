#!/usr/bin/env bash
# The main job on the built-in default fixture: installs dependencies, builds the `default`
# preset, links a universal (arm64 + x86_64) macOS program with ld64.lld (which signs it ad hoc)
# and runs `sigharness inspect` on it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset default
cmake --build --preset default -j "$(nproc)"
tests/samples/build-samples.sh build/default/samples >/dev/null
build/default/harness/sigharness inspect build/default/samples/lld-fat
