#!/usr/bin/env bash
# Boot the demo image once and save its boot timeline (`initctl analyze --svg`) as an SVG file.
# Usage: scripts/boot-timeline.sh OUT.svg   (make timeline writes docs/boot-timeline.svg)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: boot-timeline.sh OUT.svg}
qemu/smoke.sh --append tsinit.runner.after=boot --output "$out" -- /bin/sh -c 'initctl analyze --svg > "$SMOKE_OUTPUT"' > /dev/null
grep -q '</svg>' "$out" || { echo "boot-timeline.sh: no SVG came out" >&2; exit 1; }
echo "boot-timeline.sh: $out"
