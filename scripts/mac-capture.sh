#!/bin/sh
# Runs Apple's own checkers over a sigharness fixture folder on a Mac and writes one JSON results
# file for `sigharness calibrate`.  Needs nothing beyond what macOS ships (sh, codesign, spctl,
# syspolicy_check on macOS 14+, sw_vers, awk, find).
#
#   sh mac-capture.sh FIXTURE_DIR [RESULTS.json]
#
# FIXTURE_DIR is what `sigharness fixtures base -o DIR` or `sigharness fixtures broken -o DIR`
# wrote: one folder per fixture holding one .app.  RESULTS.json defaults to
# mac-results.json in the current directory.  The schema is "sigharness.mac-capture/1"
# (docs/differential.md).
set -u

usage() {
    echo "usage: sh $0 FIXTURE_DIR [RESULTS.json]" >&2
    exit 2
}

[ $# -ge 1 ] && [ $# -le 2 ] || usage
fixtures=$1
results=${2:-mac-results.json}
[ -d "$fixtures" ] || { echo "$0: $fixtures is not a directory" >&2; exit 2; }

# JSON string escaping with POSIX tr, sed and awk only (no awk backslash-replacement quirks):
# other control characters are dropped (the tools print none that matter), backslash, quote, tab
# and CR escaped, lines joined by \n.
tab=$(printf '\t')
cr=$(printf '\r')
json_string() {
    tr -d '\000-\010\013\014\016-\037' |
    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e "s/$tab/\\\\t/g" -e "s/$cr/\\\\r/g" |
    awk 'BEGIN { ORS = ""; printf "\"" } { if (NR > 1) printf "\\n"; printf "%s", $0 } END { printf "\"" }'
}

os_version="$(sw_vers -productVersion 2>/dev/null || echo unknown) ($(sw_vers -buildVersion 2>/dev/null || echo unknown))"
tmp=$(mktemp "${TMPDIR:-/tmp}/sigharness-capture.XXXXXX") || exit 1
out=$(mktemp "${TMPDIR:-/tmp}/sigharness-results.XXXXXX") || exit 1
trap 'rm -f "$tmp" "$out"' EXIT INT TERM

have_syspolicy_check=no
command -v syspolicy_check >/dev/null 2>&1 && have_syspolicy_check=yes

# One tool run: appends a JSON object to $out (comma-separated by the caller).
record() { # fixture app tool command...
    r_fixture=$1; r_app=$2; r_tool=$3; shift 3
    "$@" >"$tmp" 2>&1
    status=$?
    printf '    {"fixture": %s, "bundle": %s, "tool": %s, "command": %s, "exit": %d, "output": %s}' \
        "$(printf '%s' "$r_fixture" | json_string)" "$(printf '%s' "$r_app" | json_string)" \
        "$(printf '%s' "$r_tool" | json_string)" "$(printf '%s' "$*" | json_string)" \
        "$status" "$(json_string <"$tmp")" >>"$out"
}

{
    printf '{\n  "schema": "sigharness.mac-capture/1",\n'
    printf '  "macos": %s,\n' "$(printf '%s' "$os_version" | json_string)"
    printf '  "syspolicy_check": %s,\n' "$([ $have_syspolicy_check = yes ] && echo true || echo false)"
    printf '  "results": [\n'
} >"$out"

first=yes
count=0
for dir in "$fixtures"/*/; do
    fixture=$(basename "$dir")
    for app in "$dir"*.app; do
        [ -d "$app" ] || continue
        count=$((count + 1))
        echo "[$count] $fixture" >&2
        for tool in codesign spctl syspolicy_check; do
            [ $tool = syspolicy_check ] && [ $have_syspolicy_check = no ] && continue
            [ $first = yes ] || printf ',\n' >>"$out"
            first=no
            case $tool in
                codesign) record "$fixture" "$(basename "$app")" codesign \
                              codesign --verify --deep --strict -vvvv "$app" ;;
                spctl) record "$fixture" "$(basename "$app")" spctl \
                           spctl --assess -vvv --type exec "$app" ;;
                syspolicy_check) record "$fixture" "$(basename "$app")" syspolicy_check \
                                     syspolicy_check distribution "$app" ;;
            esac
        done
    done
done
printf '\n  ]\n}\n' >>"$out"

[ $count -gt 0 ] || { echo "$0: no */*.app under $fixtures" >&2; exit 1; }
cp "$out" "$results" || exit 1
echo "wrote $results ($count fixtures)" >&2
