#!/usr/bin/env bash
# Regenerates corpus/fuzz_bundle_verdict/: small packed bundles (arm64 only, one per category)
# built by `sigharness fixtures base --spec`, plus hand-cut variants of one of them (extension
# removed, app Info.plist removed, extension executable removed) made by dropping entries from
# the packed form (parsers/bundle_pack.c: "SHBUNDL1", u32 version, u32 count, then per entry
# u8 kind, u32 mode, u16 path length, path, u64 data length, data; all big-endian).
# Usage: scripts/make-verdict-seeds.sh [BUILD_DIR]   (BUILD_DIR holds harness/sigharness)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/asan}
out=corpus/fuzz_bundle_verdict
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat > "$tmp/seeds.spec" <<'SPEC'
[net-filter]
category  network
provider  content-filter
variant   developer-id
app-name  F
app-id    com.s.f
archs     arm64
sandbox   yes

[es-dev]
category  endpoint-security
variant   development
app-name  E
app-id    com.s.e
archs     arm64

[driver]
category  driver
variant   developer-id
team      2
app-name  D
app-id    com.s.d
archs     arm64

[camera-nots]
category   camera
variant    developer-id
app-name   C
app-id     com.s.c
archs      arm64
sandbox    yes
timestamp  no
notarized  no
SPEC

"$build/harness/sigharness" fixtures base -o "$tmp/fx" --spec "$tmp/seeds.spec" >/dev/null
mkdir -p "$out"
for f in "$tmp"/fx/*.shbundle; do
  cp "$f" "$out/$(basename "$f" .shbundle).shb"
done

# drop.py IN OUT PREFIX...: the packed bundle IN without every entry at or below a PREFIX.
# drop.py --extract IN OUT PATH: the contents of the file entry PATH (a lone-executable seed).
cat > "$tmp/drop.py" <<'PY'
import struct, sys
extract = sys.argv[1] == '--extract'
args = sys.argv[2:] if extract else sys.argv[1:]
src, dst, prefixes = args[0], args[1], args[2:]
data = open(src, 'rb').read()
assert data[:8] == b'SHBUNDL1'
version, count = struct.unpack('>II', data[8:16])
pos, kept = 16, []
for _ in range(count):
    kind, mode, plen = struct.unpack('>BIH', data[pos:pos + 7])
    path = data[pos + 7:pos + 7 + plen]
    dlen, = struct.unpack('>Q', data[pos + 7 + plen:pos + 15 + plen])
    end = pos + 15 + plen + dlen
    p = path.decode()
    if extract and p == prefixes[0]:
        open(dst, 'wb').write(data[pos + 15 + plen:end])
        sys.exit(0)
    if not any(p == x or p.startswith(x + '/') for x in prefixes):
        kept.append(data[pos:end])
    pos = end
if extract:
    sys.exit('no entry ' + prefixes[0])
open(dst, 'wb').write(data[:8] + struct.pack('>II', version, len(kept)) + b''.join(kept))
PY
base="$out/camera-nots.shb"
ext=Contents/Library/SystemExtensions/com.s.c.extension.systemextension/Contents
python3 "$tmp/drop.py" "$base" "$out/no-extension.shb" Contents/Library
python3 "$tmp/drop.py" "$base" "$out/no-info-plist.shb" Contents/Info.plist
python3 "$tmp/drop.py" "$base" "$out/no-extension-exe.shb" "$ext/MacOS"
python3 "$tmp/drop.py" "$base" "$out/empty.shb" Contents
python3 "$tmp/drop.py" --extract "$base" "$out/extension-exe.macho" "$ext/MacOS/com.s.c.extension"
ls -l "$out" | awk 'NR > 1 { print $5, $9 }'
