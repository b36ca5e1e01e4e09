#!/usr/bin/env bash
# Boot the demo image once and save its boot timeline (`initctl analyze --svg`) as an SVG file.
# Usage: scripts/boot-timeline.sh OUT.svg   (make timeline writes docs/boot-timeline.svg)
# The picture comes out on a serial port of its own (qemu/smoke.sh --output); OUT is replaced
# only once a whole picture came out, so a failed boot leaves the old one.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: boot-timeline.sh OUT.svg}
new=$(mktemp)
trap 'rm -f "$new"' EXIT
qemu/smoke.sh --append tsinit.runner.after=boot --output "$new" -- /bin/sh -c 'initctl analyze --svg > "$SMOKE_OUTPUT"' > /dev/null
grep -q '</svg>' "$new" || { echo "boot-timeline.sh: no SVG came out" >&2; exit 1; }
chmod 644 "$new"
mv "$new" "$out"
trap - EXIT
echo "boot-timeline.sh: $out"
