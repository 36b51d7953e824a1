#!/usr/bin/env bash
# The main job on the built-in default fixtures: installs dependencies, builds the `default`
# preset and runs `sigharness regress`: builds every base app + system-extension bundle of the
# built-in catalogue, applies every mutator of the catalogue, judges each result with the verdict
# engine and compares it with the mutator's declared expectation (table, then a summary; exit
# non-zero on any mismatch).  Extra arguments go to regress (e.g. --category camera, --json).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset default
cmake --build --preset default -j "$(nproc)"
build/default/harness/sigharness regress "$@"
