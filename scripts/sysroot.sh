#!/usr/bin/env bash
# Fetch what an image for another architecture carries from outside the build, without
# installing any of it: Debian's busybox-static and libc6 of that architecture, extracted to
# CACHE/root (the manifest finds the executable's libraries there by reading its ELF headers),
# and the pinned Bun's runtime for it from the npm registry, in CACHE/bun-VERSION/bin/bun (what
# `bun build --compile --compile-executable-path` puts the program into).
# Usage: scripts/sysroot.sh CACHE ARCH (Debian's name: arm64)
# Idempotent: CACHE/root/packages and CACHE/bun-VERSION/bin/bun are the stamps.
set -euo pipefail
cd "$(dirname "$0")/.."

cache=${1:?usage: sysroot.sh CACHE ARCH}
arch=${2:?usage: sysroot.sh CACHE ARCH}
# Debian's and npm's names of the architecture.
case $arch in
  arm64) npm_arch=aarch64 ;;
  *) echo "sysroot.sh: no cross build known for $arch" >&2; exit 2 ;;
esac
packages=(busybox-static libc6)

if [[ ! -s $cache/root/packages ]]; then
  # The architecture's package lists come with `dpkg --add-architecture` and an update
  # (scripts/deps.sh); an old list may name files the mirror no longer has.
  if ! apt-cache show "libc6:$arch" >/dev/null 2>&1; then apt-get update -qq; fi
  rm -rf "$cache/deb" "$cache/root"
  mkdir -p "$cache/deb"
  (cd "$cache/deb" && apt-get download "${packages[@]/%/:$arch}" 2>&1 | grep -v "unsandboxed" >&2 || true)
  for p in "${packages[@]}"; do
    ls "$cache/deb/${p}_"*"_$arch.deb" >/dev/null || { echo "sysroot.sh: apt-get download $p:$arch failed" >&2; exit 1; }
  done
  for deb in "$cache"/deb/*.deb; do dpkg-deb -x "$deb" "$cache/root"; done
  # What was extracted, by name and version: the stamp.
  for deb in "$cache"/deb/*.deb; do dpkg-deb --showformat='${Package}:${Architecture} ${Version}\n' -W "$deb"; done > "$cache/root/packages"
  echo "sysroot: $(paste -sd, "$cache/root/packages") in $cache/root"
fi

# The Bun that builds tsinit is pinned in package.json; its runtime for ARCH must be the same
# version. npm pack fetches the package's tarball from the registry and checks its integrity.
version=$(sed -n 's/^ *"bun": "\(.*\)",*$/\1/p' package.json)
[[ -n $version ]] || { echo "sysroot.sh: no bun version in package.json" >&2; exit 1; }
bun=$cache/bun-$version/bin/bun
if [[ ! -x $bun ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "@oven/bun-linux-$npm_arch@$version" > /dev/null)
  mkdir -p "$cache/bun-$version"
  tar -xzf "$tmp"/*.tgz -C "$cache/bun-$version" --strip-components=1 package/bin/bun package/package.json
  [[ -x $bun ]] || { echo "sysroot.sh: @oven/bun-linux-$npm_arch@$version has no bin/bun" >&2; exit 1; }
  echo "sysroot: Bun $version for linux-$npm_arch in $cache/bun-$version"
fi
