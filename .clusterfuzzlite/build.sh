#!/bin/bash
# ClusterFuzzLite build: the same script OSS-Fuzz runs (fuzz/oss-fuzz/build.sh), from the
# checkout the Dockerfile copies to $SRC/sigharness.
set -euo pipefail
script=$SRC/sigharness/fuzz/oss-fuzz/build.sh
[[ -x $script ]] || { echo "clusterfuzzlite build.sh: error: $script not found" >&2; exit 1; }
exec "$script"
