#!/usr/bin/env bash
# Install what the build and the tests need, and only what is missing.
# Debian packages through apt, JavaScript tools (bun, tsc, vitest) through npm.
# ARCH=arm64 (make exports it) adds what the arm64 image and its boots need: qemu-system-arm,
# readelf, Debian's arm64 package lists (dpkg --add-architecture), and the target's busybox,
# libc and Bun runtime in .cache/arm64 (scripts/sysroot.sh; docs/arm64.md).
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${ARCH:-amd64}

# command -> Debian package that provides it
declare -A want=(
  [/bin/busybox]=busybox-static
  [qemu-system-x86_64]=qemu-system-x86
  [cpio]=cpio
  [zstd]=zstd
  [xz]=xz-utils
  [gzip]=gzip
  [mke2fs]=e2fsprogs
  [e2fsck]=e2fsprogs
  # Real filesystems and partition tables for the root-discovery tests and `make disk`.
  [mkfs.vfat]=dosfstools
  [mksquashfs]=squashfs-tools
  [mkfs.btrfs]=btrfs-progs
  [mkfs.erofs]=erofs-utils
  [sfdisk]=fdisk
  [unshare]=util-linux
  [ldd]=libc-bin
  [dpkg]=dpkg
  [apt-get]=apt
  [make]=make
  [node]=nodejs
  [npm]=npm
)

case $arch in
  amd64|x86_64) arch=amd64 ;;
  arm64|aarch64)
    arch=arm64
    want[qemu-system-aarch64]=qemu-system-arm
    want[readelf]=binutils
    ;;
  *) echo "deps: ARCH=$arch: use amd64 or arm64" >&2; exit 2 ;;
esac

missing=()
for cmd in "${!want[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${want[$cmd]}")
done
# Debian's plain busybox package is dynamic; the image needs the static one.
if [[ -x /bin/busybox ]] && ldd /bin/busybox >/dev/null 2>&1; then
  missing+=(busybox-static)
fi

sudo= ; ((EUID == 0)) || sudo=sudo
# apt-get download of another architecture's packages needs its package lists.
if [[ $arch != amd64 ]] && ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
  echo "deps: adding Debian's $arch packages (dpkg --add-architecture $arch)"
  $sudo dpkg --add-architecture "$arch"
  $sudo apt-get update -qq
fi

if ((${#missing[@]})); then
  pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  echo "deps: installing $pkgs"
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $pkgs
fi

# node_modules is stale when package-lock.json is newer than it.
if [[ ! -x node_modules/.bin/bun || package-lock.json -nt node_modules ]]; then
  npm ci --no-audit --no-fund
  touch node_modules
fi

if [[ $arch != amd64 ]]; then
  scripts/sysroot.sh ".cache/$arch" "$arch"
fi
