#!/usr/bin/env bash
# Fetch Debian's cloud kernel into a cache without installing it.
# Usage: scripts/kernel.sh CACHE_DIR
# Leaves CACHE_DIR/vmlinuz (a link to boot/vmlinuz-VERSION), CACHE_DIR/modules
# (a link to lib/modules/VERSION) and CACHE_DIR/version. Idempotent: the
# links are the stamp, so a second run does nothing.
set -euo pipefail

cache=${1:-.cache/kernel}
meta=linux-image-cloud-amd64

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
version=${pkg#linux-image-}

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
