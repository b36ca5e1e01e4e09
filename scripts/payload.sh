#!/usr/bin/env bash
# The shape of tsinit inside the initramfs (docs/image.md, "Image shapes"): the executable as a
# plain file, or in a compressed read-only filesystem that the stub /init mounts. Writes into
# OUTDIR the filesystem image (none for plain) and `image`, the record /init checks before it
# execs tsinit: which file must be whole (its size and the md5 of its tail), how to mount it,
# and how much RAM the image needs, so that a short unpack is named instead of panicking.
# Usage: scripts/payload.sh SHAPE EXECUTABLE OUTDIR
# Shapes: plain, squashfs-xz, squashfs-zstd, squashfs-lz4, squashfs-gzip, erofs-lz4.
# Environment: ARCH (amd64, the default, or arm64: picks xz's branch filter and the kernel's
# reservation below), SYSROOT (the target's libraries, when ARCH is not the host's),
# SOURCE_DATE_EPOCH, BUSYBOX and KERNEL_RESERVED_KIB (for the RAM figure below).
set -euo pipefail
export LC_ALL=C

shape=${1:?usage: payload.sh SHAPE EXECUTABLE OUTDIR}
exe=${2:?usage: payload.sh SHAPE EXECUTABLE OUTDIR}
out=${3:?usage: payload.sh SHAPE EXECUTABLE OUTDIR}
epoch=${SOURCE_DATE_EPOCH:-0}
arch=${ARCH:-amd64}

case $shape in
  plain|squashfs-xz|squashfs-zstd|squashfs-lz4|squashfs-gzip|erofs-lz4) ;;
  *) echo "payload.sh: unknown shape $shape (plain, squashfs-xz, squashfs-zstd, squashfs-lz4, squashfs-gzip, erofs-lz4)" >&2; exit 2 ;;
esac

mkdir -p "$out"
# The filesystem holds one file, /tsinit, owned by root, with the build's fixed time.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$exe" "$stage/tsinit"
chmod 0755 "$stage/tsinit"
# With the shared libraries tsinit needs (at their own paths below the filesystem's root; the
# image links each to its place): they compress there (3 MB of plain files would cost three
# times their size in the RAM floor, docs/image.md).
# The libraries come from the host through ldd, or with SYSROOT from the target's packages
# (scripts/shared-libs.sh, which fails on a library it cannot find).
libraries=
if [[ $shape != plain ]]; then
  found=$(SYSROOT=${SYSROOT:-} "$(dirname "$0")/shared-libs.sh" "$exe")
  while read -r lib source; do
    mkdir -p "$stage$(dirname "$lib")"
    cp "$source" "$stage$lib"
    chmod 0755 "$stage$lib"
  done <<< "$found"
  libraries=$(cut -d' ' -f1 <<< "$found" | sort -u)
fi
find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -exec touch -h -d "@$epoch" {} +

squashfs() { # COMPRESSOR OPTIONS...
  rm -f "$out/tsinit.img"
  # SOURCE_DATE_EPOCH sets every time inside (mksquashfs refuses -all-time beside it);
  # -all-root: uid/gid 0; one file, so no order to fix. The output does not depend on the
  # thread count.
  SOURCE_DATE_EPOCH=$epoch mksquashfs "$stage" "$out/tsinit.img" -noappend -no-xattrs -all-root \
    -quiet -no-progress -comp "$@" > /dev/null
}

case $shape in
  plain) rm -f "$out/tsinit.img" ;;
  # 256 KiB blocks: a page fault decompresses one block, so smaller blocks start tsinit sooner
  # under TCG for a little more size; the branch filter makes x86 code compress better.
  squashfs-xz)
    bcj=(); [[ $arch == x86_64 || $arch == amd64 ]] && bcj=(-Xbcj x86)
    squashfs xz "${bcj[@]}" -b 256K ;;
  # 1 MiB blocks compress 2 MB better than 256 KiB ones, which is what lets this shape boot in
  # 192 MB; zstd decompresses them fast enough (docs/image.md has the figures).
  squashfs-zstd) squashfs zstd -Xcompression-level 22 -b 1M ;;
  squashfs-lz4) squashfs lz4 -Xhc -b 256K ;;
  squashfs-gzip) squashfs gzip -Xcompression-level 9 -b 256K ;;
  erofs-lz4)
    rm -f "$out/tsinit.img"
    # The cloud kernel's erofs decompresses lz4 only. -T and -U fix the time and the UUID.
    mkfs.erofs -zlz4hc,12 -C262144 -T "$epoch" -U 00000000-0000-0000-0000-000000000000 --all-root \
      "$out/tsinit.img" "$stage" > /dev/null ;;
esac

# The big file the kernel unpacks last, and how the stub turns it into /sbin/tsinit.
if [[ $shape == plain ]]; then
  file=/sbin/tsinit source=$exe fstype= modules= mount=
else
  file=/lib/tsinit/tsinit.img source=$out/tsinit.img fstype=${shape%%-*} mount=/lib/tsinit/mnt
  modules="loop $fstype"
fi
tail_bytes=65536
# The RAM the image needs, from the rule measured in docs/image.md ("Why 192 MB"): the kernel
# unpacks into a tmpfs limited to half the RAM it has once the initrd is loaded, so it needs
# KERNEL_RESERVED_KIB (its own reservation) plus three times the archive, rounded up to qemu's
# 16 MB steps. The archive is this file, busybox and some 600 KiB of modules and /etc. The
# reservation, from the kernel's `Memory:` line under qemu (docs/image.md, docs/arm64.md):
# 48,141 KiB for 6.1.0-57-cloud-amd64; 99,076 KiB for 6.1.0-57-cloud-arm64 on -M virt, of which
# 65,536 KiB are its CMA area (CONFIG_CMA_SIZE_MBYTES=64), which is not RAM until after the
# rootfs is sized. It matches the measured floors (amd64: 192 for both squashfs shapes, 384 for
# plain; arm64: 240 for squashfs-zstd).
case $arch in
  arm64|aarch64) reserved_kib=${KERNEL_RESERVED_KIB:-99076} ;;
  *) reserved_kib=${KERNEL_RESERVED_KIB:-48141} ;;
esac
archive_kib=$(( ($(stat -c %s "$source") + $(stat -L -c %s "${BUSYBOX:-/bin/busybox}")) / 1024 + 600 ))
ram_mb=$(( ((reserved_kib + 3 * archive_kib) / 1024 + 15) / 16 * 16 ))
{
  echo "# scripts/payload.sh $shape: what /init checks and mounts before it execs tsinit"
  echo "shape=$shape"
  echo "file=$file"
  echo "size=$(stat -c %s "$source")"
  echo "tail_bytes=$tail_bytes"
  echo "tail=$(tail -c "$tail_bytes" "$source" | md5sum | cut -c1-32)"
  echo "ram_mb=$ram_mb"
  echo "fstype=$fstype"
  echo "modules=\"$modules\""
  echo "mount=$mount"
  echo "exec=/sbin/tsinit"
  # The libraries inside the filesystem, one per line (none for plain).
  [[ $shape == plain ]] || echo "libraries=\"$libraries\""
} > "$out/image"
