#!/usr/bin/env bash
# Fetch Debian's cloud kernel into a cache without installing it.
# Usage: scripts/kernel.sh CACHE_DIR [ARCH]
# ARCH is Debian's name of the architecture: amd64 (the default) or arm64, whose packages apt
# finds once `dpkg --add-architecture arm64` is done (scripts/deps.sh does it for ARCH=arm64).
# Leaves CACHE_DIR/vmlinuz (a link to boot/vmlinuz-VERSION), CACHE_DIR/modules
# (a link to lib/modules/VERSION) and CACHE_DIR/version. Idempotent: the
# links are the stamp, so a second run does nothing.
set -euo pipefail

cache=${1:-.cache/kernel}
arch=${2:-amd64}
meta=linux-image-cloud-$arch:$arch

if [[ -e $cache/vmlinuz && -e $cache/modules && -s $cache/version ]]; then
  exit 0
fi

# The metapackage depends on the versioned image package; resolve it.
pkg=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
if [[ -z $pkg ]]; then
  apt-get update -qq
  pkg=$(apt-cache depends "$meta" | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
fi
[[ -n $pkg ]] || { echo "kernel.sh: cannot resolve $meta" >&2; exit 1; }
pkg=${pkg%:*}:$arch # apt-cache names a foreign package "NAME:ARCH", the host's plain "NAME"
version=${pkg#linux-image-}
version=${version%:*}

mkdir -p "$cache/deb"
(cd "$cache/deb" && rm -f ./*.deb && apt-get download "$pkg" 2>&1 | grep -v "unsandboxed" >&2 || true)
ls "$cache"/deb/*.deb >/dev/null
rm -rf "$cache/root"
dpkg -x "$cache"/deb/*.deb "$cache/root"

# The package leaves modules.dep to its postinst; make it here. busybox's
# depmod writes the same "path: deps" format kmod reads.
busybox depmod -b "$cache/root" "$version"

ln -sfn "root/boot/vmlinuz-$version" "$cache/vmlinuz"
ln -sfn "root/lib/modules/$version" "$cache/modules"
echo "$version" > "$cache/version"
echo "kernel: $version in $cache"
