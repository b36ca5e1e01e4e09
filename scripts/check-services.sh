#!/usr/bin/env bash
# `tsinit check` on an image's services before it is packed: a broken service file fails the
# build. The manifest's files and links are staged as empty files with their modes (the
# check reads only the service directory's files for their text), so that commands and
# env-files are looked for where the machine will have them.
# Usage: scripts/check-services.sh MANIFEST SERVICES_DIR [NAME...]
# Environment: TSINIT (the executable, default dist/tsinit; for another ARCH, dist/tsinit of
# the host if it is built).
set -euo pipefail
cd "$(dirname "$0")/.."
manifest=${1:?usage: check-services.sh MANIFEST SERVICES_DIR [NAME...]}
services=${2:?usage: check-services.sh MANIFEST SERVICES_DIR [NAME...]}
shift 2
tsinit=${TSINIT:-dist/tsinit}

# The executable is built for ARCH; on a build host of another architecture it cannot run
# here. The host's own build (dist/tsinit) checks instead if there is one; else no check.
if ! "$tsinit" --help >/dev/null 2>&1; then
  if [[ $tsinit != dist/tsinit ]] && dist/tsinit --help >/dev/null 2>&1; then
    echo "check-services: $tsinit does not run on this host ($(uname -m)); checking with dist/tsinit" >&2
    tsinit=dist/tsinit
  else
    echo "check-services: $tsinit does not run on this host ($(uname -m)); service files not checked" >&2
    exit 0
  fi
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
while read -r kind path rest; do
  case $kind in
    file)
      read -r source mode _ <<<"$rest"  # a `last` may follow the mode
      mkdir -p "$stage$(dirname "$path")"
      # The service directory's own files keep their text; everything else is an empty stand-in.
      if [[ $path == "$services"/* ]]; then cp "$source" "$stage$path"; else : >"$stage$path"; fi
      chmod "$mode" "$stage$path" ;;
    slink)
      mkdir -p "$stage$(dirname "$path")"
      ln -s "$rest" "$stage$path" ;;
    dir)
      mkdir -p "$stage$path" ;;
  esac
done < <(grep -v '^#' "$manifest")
"$tsinit" check --root "$stage" -d "$services" "${@:-boot}"
