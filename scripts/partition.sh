#!/usr/bin/env bash
# Put an ext4 root image into a partitioned disk image, reproducibly, without root or loop
# devices: sfdisk writes the table into a sparse file and dd copies each filesystem to its
# partition's offset.
# Usage: scripts/partition.sh gpt|mbr ROOT.ext4 OUT.img
#
# Layout, in MiB: 1 for the partition table, then partition 1, an empty 8 MiB vfat that is
# not the root (a root search must pass it by), then partition 2, the root, then 1 MiB for
# GPT's backup header. Every identifier is fixed (docs/disk.md lists them):
#   GPT: disk GUID 5453494e-4954-4000-8000-000000000100 ("TSINIT" in hex), partition GUIDs
#        ...-000000000101 and ...-000000000102, names tsinit-boot and tsinit-root;
#   MBR: disk id 0x5453494e, so the PARTUUIDs are 5453494e-01 and 5453494e-02;
#   vfat: volume id 5453-4254, label TSINIT-BOOT.
set -euo pipefail
export LC_ALL=C

table=${1:?usage: partition.sh gpt|mbr ROOT.ext4 OUT.img}
root=${2:?usage: partition.sh gpt|mbr ROOT.ext4 OUT.img}
out=${3:?usage: partition.sh gpt|mbr ROOT.ext4 OUT.img}

mib=$((1024 * 1024))
root_bytes=$(stat -c %s "$root")
if ((root_bytes % mib != 0)); then
  echo "partition.sh: $root is $root_bytes bytes, not a whole number of MiB" >&2
  exit 1
fi
boot_start=1 boot_size=8
root_start=$((boot_start + boot_size)) root_size=$((root_bytes / mib))
total=$((root_start + root_size + 1))
sectors() { echo $(($1 * mib / 512)); } # MiB -> 512-byte sectors

case $table in
  gpt)
    script="label: gpt
label-id: 5453494E-4954-4000-8000-000000000100
unit: sectors
first-lba: $(sectors 1)

start=$(sectors $boot_start), size=$(sectors $boot_size), type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=5453494E-4954-4000-8000-000000000101, name=\"tsinit-boot\"
start=$(sectors $root_start), size=$(sectors $root_size), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=5453494E-4954-4000-8000-000000000102, name=\"tsinit-root\"
"
    ;;
  mbr)
    script="label: dos
label-id: 0x5453494e
unit: sectors

start=$(sectors $boot_start), size=$(sectors $boot_size), type=c
start=$(sectors $root_start), size=$(sectors $root_size), type=83
"
    ;;
  *) echo "partition.sh: $table: use gpt or mbr" >&2; exit 2 ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$out.new"' EXIT

rm -f "$out.new"
truncate -s "${total}M" "$out.new"
sfdisk --quiet --no-reread --no-tell-kernel "$out.new" <<< "$script"

# dosfstools 4.2 ignores SOURCE_DATE_EPOCH and stamps the label with the local time;
# --invariant fixes the time (and would fix the volume id, which -i sets anyway).
mkfs.vfat --invariant -i 54534254 -n TSINIT-BOOT -C "$tmp/boot.vfat" $((boot_size * 1024)) > /dev/null
dd if="$tmp/boot.vfat" of="$out.new" bs=1M seek=$boot_start conv=notrunc,sparse status=none
dd if="$root" of="$out.new" bs=1M seek=$root_start conv=notrunc,sparse status=none
mv "$out.new" "$out"
