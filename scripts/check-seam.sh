#!/usr/bin/env bash
# The architecture's two rules (docs/DESIGN.md), checked on every `make test`:
# 1. The system seam: only src/sys/ may import bun:ffi, bun, node:fs, node:net, node:http,
#    node:child_process or node:os, or call Bun.*; the control server and the initctl client
#    are the two edges allowed to touch sockets.
# 2. Imports point down: src/base/ (the ground floor) imports only itself; sys, log, core and
#    config import only the ground floor and themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
# refuse WHAT FOUND: when FOUND (grep's lines) is not empty, say WHAT and them, and fail.
refuse() {
  [[ -z $2 ]] && return
  echo "check-seam: $1:" >&2
  echo "$2" >&2
  status=1
}

allowed='^src/(sys/|control/server\.ts|cli/client\.ts)'
bad=$(grep -rn --include='*.ts' -E '^import .* from "(bun:[a-z]+|bun|node:(fs|net|http|child_process|os))"|^[^/*]*\bBun\.[a-z]' src |
  grep -v -E "$allowed" || true)
refuse "these files reach the system outside src/sys/" "$bad"

# The compiled executable must not load node:fs or node:path (nor node:http, node:net, node:os,
# node:child_process): each costs PID 1 memory and the image bytes (node:fs and node:path
# together: 1.3 MiB of PID 1's Rss and 1.4 MB of executable, docs/bench.md). Files go through
# src/sys/file-calls.ts (a write off the event loop: src/sys/aio-write.ts), paths through
# src/base/paths.ts. A type-only import loads nothing.
heavy=$(grep -rn --include='*.ts' -E '(^|[ }])from "node:(fs|path|http|os|child_process|net)"' src |
  grep -v -E ':import type ' || true)
refuse "these load a node: module into the compiled tsinit (use src/sys/file-calls.ts or src/base/paths.ts)" "$heavy"

# Nor crypto: the first crypto.getRandomValues sets up BoringSSL's generator, 0.25-0.45 MB of
# PID 1's Rss for the 8 bytes of a socket name. Random bytes come from getrandom(2) through
# src/sys/random.ts (Sys.randomBytes).
webcrypto=$(grep -rn --include='*.ts' -E '^[^/*]*\bcrypto\b|from "(node:)?crypto"' src | grep -v -E '^src/sys/random\.ts:' || true)
refuse "these use crypto in the compiled tsinit (use Sys.randomBytes or src/sys/random.ts)" "$webcrypto"

# The supervisor and the pure layers reach time, signals and the environment through the
# injected Runtime only, so that they run on a fake clock in unit tests.
side=$(grep -rn --include='*.ts' -E '^[^/*]*\b(setTimeout|setInterval|clearTimeout|clearInterval|Date\.now|performance\.now|process\.(on|env|exit|pid|getuid|kill))\b' \
  src/supervisor src/core src/config src/log src/base src/shutdown src/boot || true)
refuse "these reach time, signals or the environment around the Runtime" "$side"

# layer -> the folders it may import from (besides itself)
declare -A may=([base]="" [sys]="base" [log]="base" [core]="base" [config]="base")
for layer in "${!may[@]}"; do
  ok="^($layer${may[$layer]:+|${may[$layer]// /|}})/"
  while IFS= read -r hit; do
    file=${hit%%:*}
    target=$(sed -E 's/.*from "([^"]+)".*/\1/' <<<"${hit#*:}")
    [[ $target == ./* || $target == ../* ]] || continue
    resolved=$(realpath -m --relative-to=src "$(dirname "$file")/$target")
    if ! [[ $resolved =~ $ok ]]; then
      echo "check-seam: $file imports $target: src/$layer/ may import only from ${may[$layer]:-nothing outside itself}" >&2
      status=1
    fi
  done < <(grep -rn --include='*.ts' -E '^(import|export) .* from "' "src/$layer" | sed -E 's/^([^:]+):[0-9]+:/\1:/' || true)
done

[[ $status -eq 0 ]] && echo "check-seam: only src/sys/ and the control socket edges touch the system; the supervisor gets time and signals from the Runtime; imports point down"
exit $status
