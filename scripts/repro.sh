#!/usr/bin/env bash
# Reproducibility check: build the executable, both images and the example
# root's disks (docs/disk.md) twice, in two scratch directories with different
# umasks and time zones, and compare the bytes. Both builds compile one
# snapshot of the sources, so edits made in the tree meanwhile do not count as
# a difference. The executable must keep its name: bun embeds it
# (/$bunfs/root/NAME). MODULES and MODULES_DIR, when set, are passed on to
# scripts/manifest.sh; IMAGE_SHAPE to scripts/payload.sh (its record holds the size and a
# checksum of the filesystem image, so comparing it and the archive compares that image too).
set -euo pipefail
cd "$(dirname "$0")/.."

bun=$PWD/node_modules/.bin/bun
entries=${ENTRIES:-src/main.ts}
bunflags=${BUNFLAGS:---compile --minify --target=bun-linux-x64-baseline --no-compile-autoload-dotenv --no-compile-autoload-bunfig}
shape=${IMAGE_SHAPE:-squashfs-zstd}
disk_ext4=${DISK_EXT4:---size 192M --label tsinit-root --uuid 5453494e-4954-4000-8000-000000000001}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir "$tmp/src"
cp -r src package.json tsconfig.json "$tmp/src/"
ln -s "$PWD/node_modules" "$tmp/src/node_modules"

build() { # DIR UMASK TZ
  local dir=$tmp/$1
  mkdir -p "$dir"
  (
    umask "$2"
    export TZ=$3
    # shellcheck disable=SC2086
    (cd "$tmp/src" && "$bun" build $bunflags $entries --outfile "$dir/tsinit" > /dev/null)
    # tsinit's filesystem image and its record (IMAGE_SHAPE, as the Makefile's).
    scripts/payload.sh "$shape" "$dir/tsinit" "$dir/payload" > /dev/null
    for flavor in tsinit busybox-init; do
      TSINIT=$dir/tsinit PAYLOAD=$dir/payload MODULES_OUT=$dir/$flavor.modules scripts/manifest.sh "$flavor" > "$dir/$flavor.manifest"
      "$bun" scripts/mkcpio.ts "$dir/$flavor.manifest" "$dir/$flavor.cpio"
      gzip -n -6 < "$dir/$flavor.cpio" > "$dir/$flavor.cpio.gz"
    done
    # As `make disk`: no modules on the example root.
    TSINIT=$dir/tsinit MODULES= scripts/manifest.sh disk > "$dir/disk.manifest"
    # shellcheck disable=SC2086
    "$bun" scripts/mkext4.ts $disk_ext4 "$dir/disk.manifest" "$dir/disk.ext4" > /dev/null
    # The MBR disk is made by the same steps as this one but for its table's text.
    scripts/partition.sh gpt "$dir/disk.ext4" "$dir/disk-gpt.img"
  )
}

build a 022 UTC
build b 077 Asia/Tokyo

fail=0
# cmp first: hashing the 200 MB disks takes a second each.
for f in tsinit payload/image tsinit.cpio tsinit.cpio.gz busybox-init.cpio busybox-init.cpio.gz disk.ext4 disk-gpt.img; do
  a=$(sha256sum < "$tmp/a/$f" | cut -c1-64)
  if cmp -s "$tmp/a/$f" "$tmp/b/$f"; then
    echo "repro: same    $f $a"
  else
    echo "repro: DIFFERS $f $a $(sha256sum < "$tmp/b/$f" | cut -c1-64)"
    fail=1
  fi
done
exit $fail
