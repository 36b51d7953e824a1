#!/usr/bin/env bash
# `sigharness fixtures broken`: deterministic bytes, a manifest entry per fixture, a packed copy
# of each, refuses a non-empty DIR without --force, replaces it with --force, leaves no
# temporary directory behind.  Usage: fixtures_broken_test.sh SIGHARNESS
set -euo pipefail
sigharness=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/sh-broken.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$sigharness" fixtures broken --category driver -o "$work/a" 2>/dev/null
"$sigharness" fixtures broken --category driver -o "$work/b" 2>/dev/null
diff -r "$work/a" "$work/b" >/dev/null || fail "two runs differ"

cases=$(grep -o '"name":"driver-' "$work/a/manifest.json" | wc -l)
[ "$cases" -gt 20 ] || fail "only $cases manifest entries"
packed=$(ls "$work/a/packed" | wc -l)
[ "$packed" -eq "$cases" ] || fail "$packed packed copies for $cases fixtures"
dirs=$(find "$work/a" -mindepth 2 -maxdepth 2 -name '*.app' | wc -l)
[ "$dirs" -eq "$cases" ] || fail "$dirs app folders for $cases fixtures"
grep -q '"schema":"sigharness.broken/1"' "$work/a/manifest.json" || fail "no schema"
grep -q '"mutator":"extension-code-page-flipped"' "$work/a/manifest.json" || fail "catalogue missing"

touch "$work/a/marker"
if "$sigharness" fixtures broken --category driver -o "$work/a" 2>/dev/null; then
    fail "a non-empty DIR was replaced without --force"
fi
[ -e "$work/a/marker" ] || fail "the refused run touched DIR"
"$sigharness" fixtures broken --category driver -o "$work/a" --force 2>/dev/null
[ ! -e "$work/a/marker" ] || fail "--force did not replace DIR"
diff -r "$work/a" "$work/b" >/dev/null || fail "--force output differs"
leftovers=$(find "$work" -maxdepth 1 -name '*.sigharness-*' | wc -l)
[ "$leftovers" -eq 0 ] || fail "temporary directories left behind"
echo "fixtures broken: $cases fixtures, deterministic, atomic"
