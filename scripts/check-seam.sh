#!/usr/bin/env bash
# The system seam (docs/DESIGN.md): only src/sys/ may import bun:ffi, bun, node:fs, node:net,
# node:http, node:child_process or node:os, or call Bun.*; the control server and the
# initctl client are the two edges allowed to touch sockets.
set -euo pipefail
cd "$(dirname "$0")/.."
allowed='^src/(sys/|control/server\.ts|cli/client\.ts)'
bad=$(grep -rn --include='*.ts' -E '^import .* from "(bun:[a-z]+|bun|node:(fs|net|http|child_process|os))"|^[^/*]*\bBun\.[a-z]' src |
  grep -v -E "$allowed" || true)
if [[ -n $bad ]]; then
  echo "check-seam: these files reach the system outside src/sys/:" >&2
  echo "$bad" >&2
  exit 1
fi
echo "check-seam: only src/sys/ and the control socket edges touch the system"
