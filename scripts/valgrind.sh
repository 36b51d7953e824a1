#!/usr/bin/env bash
# valgrind memcheck over the cmocka unit tests (ctest label "unit"): a Debug build without
# sanitizers in build/valgrind whose tests run under valgrind (CMAKE_CROSSCOMPILING_EMULATOR
# prefixes every add_test(... COMMAND <target>)).  Fails on any memory error and on definite or
# indirect leaks; "possibly lost" and "still reachable" blocks (library caches held in globals)
# are reported but do not fail.  Suppressions: scripts/valgrind.supp (each one justified there).
#
#   scripts/valgrind.sh            all unit tests
#   scripts/valgrind.sh REGEX      only the unit tests whose name matches REGEX
#   VALGRIND_EXCLUDE=REGEX scripts/valgrind.sh   all but the tests matching REGEX
#
# Separate from scripts/test.sh / .ci/run because of its run time (README "Memory checks").
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
build=build/valgrind
emulator="valgrind;--error-exitcode=1;--leak-check=full;--errors-for-leak-kinds=definite,indirect"
emulator+=";--show-leak-kinds=definite,indirect;--track-origins=yes;--num-callers=30"
emulator+=";--suppressions=$PWD/scripts/valgrind.supp"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DSH_SANITIZE=OFF \
  "-DCMAKE_CROSSCOMPILING_EMULATOR=$emulator" >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
args=(-L unit --output-on-failure -j "$(nproc)" --timeout 1800)
if [[ $# -gt 0 ]]; then
  args+=(-R "$1")
fi
if [[ -n "${VALGRIND_EXCLUDE:-}" ]]; then
  args+=(-E "$VALGRIND_EXCLUDE")
fi
ctest --test-dir "$build" "${args[@]}"
