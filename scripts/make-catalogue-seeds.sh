#!/usr/bin/env bash
# Regenerates seed inputs from the fixture builder and the mutation catalogue: every catalogue
# mutator applied to a compact base of each category (`sigharness fixtures broken`, arm64 only),
# then split into the inputs each fuzz target takes:
#   packed bundles            -> fuzz_bundle_unpack, fuzz_bundle_verdict
#   main executables          -> fuzz_macho (and their SuperBlobs / CodeDirectories through
#                                fuzz/seed_extract -> fuzz_superblob, fuzz_codedir)
#   Info.plist files          -> fuzz_infoplist
#   _CodeSignature/CodeResources -> fuzz_coderesources
#   embedded.provisionprofile -> fuzz_profile
# Each target's candidates are minimised against its committed corpus with libFuzzer's
# -merge=1 (the `fuzz` preset must be built: cmake --preset fuzz && cmake --build --preset fuzz),
# and only the inputs that add coverage are committed, smallest first, at most MAX_NEW per
# target (default 8) so the corpora stay small.
# Usage: scripts/make-catalogue-seeds.sh [--max-new N] [--sigharness PATH] [--fuzz-dir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
max_new=8
sigharness=build/default/harness/sigharness
fuzz_dir=build/fuzz/fuzz
while [ $# -gt 0 ]; do
    case $1 in
        --max-new) max_new=$2; shift 2 ;;
        --sigharness) sigharness=$2; shift 2 ;;
        --fuzz-dir) fuzz_dir=$2; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "make-catalogue-seeds.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ -x "$sigharness" ] || { echo "build sigharness first (cmake --preset default && cmake --build --preset default)" >&2; exit 2; }
[ -x "$fuzz_dir/fuzz_macho" ] || { echo "build the fuzz preset first ($fuzz_dir)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/spec" <<'EOF'
[seed-network-devid]
category  network
provider  content-filter
variant   developer-id
app-name  Filter
app-id    com.sigharness.seed.filter
archs     arm64

[seed-es-dev]
category  endpoint-security
variant   development
app-name  Sensor
app-id    com.sigharness.seed.sensor
archs     arm64

[seed-driver-devid]
category  driver
variant   developer-id
app-name  Driver
app-id    com.sigharness.seed.driver
archs     arm64

[seed-camera-devid]
category  camera
variant   developer-id
app-name  Camera
app-id    com.sigharness.seed.camera
archs     arm64
EOF
"$sigharness" fixtures broken --spec "$tmp/spec" -o "$tmp/broken" >/dev/null 2>&1

raw=$tmp/raw
for t in fuzz_bundle_unpack fuzz_bundle_verdict fuzz_macho fuzz_superblob fuzz_codedir \
         fuzz_infoplist fuzz_coderesources fuzz_profile; do
    mkdir -p "$raw/$t"
done
for f in "$tmp/broken/packed"/*.shbundle; do
    name=$(basename "$f" .shbundle)
    cp "$f" "$raw/fuzz_bundle_unpack/$name"
    cp "$f" "$raw/fuzz_bundle_verdict/$name"
done
# Files inside each fixture, named after the fixture and their path (no symlinks followed).
find "$tmp/broken" -mindepth 2 -path "$tmp/broken/packed" -prune -o -type f -print | while read -r f; do
    rel=${f#"$tmp/broken/"}
    flat=$(printf '%s' "$rel" | tr '/' '_')
    case $rel in
        */Contents/MacOS/*) cp "$f" "$raw/fuzz_macho/$flat" ;;
        */Contents/Info.plist) cp "$f" "$raw/fuzz_infoplist/$flat" ;;
        */_CodeSignature/CodeResources) cp "$f" "$raw/fuzz_coderesources/$flat" ;;
        */embedded.provisionprofile) cp "$f" "$raw/fuzz_profile/$flat" ;;
    esac
done
"$fuzz_dir/seed_extract" "$raw" "$raw/fuzz_macho"/* >/dev/null 2>&1 || true

# Keep only what adds coverage, smallest first, at most max_new per target.
for t in fuzz_bundle_unpack fuzz_bundle_verdict fuzz_macho fuzz_superblob fuzz_codedir \
         fuzz_infoplist fuzz_coderesources fuzz_profile; do
    [ -n "$(ls "$raw/$t")" ] || continue
    mkdir -p "corpus/$t" "$tmp/merged/$t"
    cp "corpus/$t"/* "$tmp/merged/$t/" 2>/dev/null || true
    before=$(ls "$tmp/merged/$t" | sort)
    max_len=$(find "$raw/$t" -type f -printf '%s\n' | sort -n | tail -1)
    "$fuzz_dir/$t" -merge=1 -max_len="$max_len" -rss_limit_mb=4096 "$tmp/merged/$t" "$raw/$t" \
        >/dev/null 2>&1 || true
    added=0
    for f in $(comm -13 <(printf '%s\n' "$before") <(ls "$tmp/merged/$t" | sort) |
               while read -r n; do printf '%s %s\n' "$(stat -c %s "$tmp/merged/$t/$n")" "$n"; done |
               sort -n | head -n "$max_new" | cut -d' ' -f2); do
        cp "$tmp/merged/$t/$f" "corpus/$t/catalogue-$f"
        added=$((added + 1))
    done
    echo "corpus/$t: +$added from the catalogue ($(ls "corpus/$t" | wc -l) files, $(du -sh "corpus/$t" | cut -f1))"
done
