#!/usr/bin/env bash
# Boot an initramfs with Debian's cloud kernel on the serial console, here in
# the terminal. TCG only: KVM guests hang on this project's machines.
# Usage: qemu/boot.sh KERNEL INITRD [EXTRA KERNEL ARGS...]
# DISK=FILE attaches FILE as a raw virtio disk (/dev/vda once virtio_pci and virtio_blk are
# loaded); more -drive options may follow it after commas (DISK=disk.ext4,snapshot=on).
# Leave with `poweroff` in the guest, or Ctrl-A X. No NIC: the default one
# needs an iPXE ROM that a --no-install-recommends qemu lacks.
set -euo pipefail

kernel=${1:?usage: boot.sh KERNEL INITRD [ARGS...]}
initrd=${2:?usage: boot.sh KERNEL INITRD [ARGS...]}
shift 2
disk=()
[[ -n ${DISK:-} ]] && disk=(-drive "file=$DISK,format=raw,if=virtio")

# ARCH=arm64: qemu-system-aarch64 -M virt, console ttyAMA0 (qemu/arch.sh).
# shellcheck source=qemu/arch.sh
source "$(dirname "$0")/arch.sh"

exec "${qemu_machine[@]}" -m "${QEMU_MEM:-$arch_memory}" -smp "${QEMU_SMP:-1}" \
  -nographic -no-reboot -nic none "${disk[@]}" \
  -kernel "$kernel" -initrd "$initrd" \
  -append "console=$console panic=-1 $arch_append $*"
