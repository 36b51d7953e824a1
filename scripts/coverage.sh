#!/usr/bin/env bash
# Line and branch coverage of the unit tests plus the fuzz-corpus replay, per directory, with the
# floors CI enforces for parsers/ (90% lines, 80% branches).  Builds the `coverage` preset (gcc
# --coverage), runs ctest, reports with gcovr.  Usage: scripts/coverage.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset coverage >/dev/null
cmake --build --preset coverage -j "$(nproc)" >/dev/null
find build/coverage -name '*.gcda' -delete
ctest --preset coverage -j "$(nproc)" -LE oss-fuzz >/dev/null

for dir in parsers harness mutators; do
  echo "== $dir/"
  gcovr -r . --gcov-ignore-parse-errors --filter "$dir/" build/coverage | grep -E '^TOTAL' | sed 's/^TOTAL/  lines   /'
  gcovr -r . --gcov-ignore-parse-errors --filter "$dir/" --branches build/coverage | grep -E '^TOTAL' | sed 's/^TOTAL/  branches/'
done
gcovr -r . --gcov-ignore-parse-errors --filter 'parsers/' --fail-under-line 90 --fail-under-branch 80 build/coverage >/dev/null \
  || { echo "coverage: parsers/ is below the floor (90% lines, 80% branches)"; exit 1; }
echo "coverage: parsers/ meets the floor (90% lines, 80% branches)"
