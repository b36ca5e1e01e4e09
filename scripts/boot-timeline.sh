#!/usr/bin/env bash
# Boot the demo image once and save its boot timeline (`initctl analyze --svg`) as an SVG file.
# Usage: scripts/boot-timeline.sh OUT.svg   (make timeline writes docs/boot-timeline.svg)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: boot-timeline.sh OUT.svg}
console=$(mktemp)
trap 'rm -f "$console"' EXIT
qemu/smoke.sh --append tsinit.runner.after=boot -- /bin/sh -c "echo '<<svg'; initctl analyze --svg; echo 'svg>>'" > "$console"
# The picture is what the runner printed between its markers (the console ends lines in CRLF,
# and a kernel line may fall between them).
tr -d '\r' < "$console" | sed -n '/^<<svg$/,/^svg>>$/p' | sed '1d;$d' | grep '^<' > "$out"
grep -q '</svg>' "$out" || { echo "boot-timeline.sh: no SVG came out" >&2; exit 1; }
echo "boot-timeline.sh: $out"
