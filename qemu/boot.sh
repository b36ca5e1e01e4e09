#!/usr/bin/env bash
# Boot an initramfs with Debian's cloud kernel on the serial console, here in
# the terminal. TCG only: KVM guests hang on this project's machines.
# Usage: qemu/boot.sh KERNEL INITRD [EXTRA KERNEL ARGS...]
# Leave with `poweroff` in the guest, or Ctrl-A X. No NIC: the default one
# needs an iPXE ROM that a --no-install-recommends qemu lacks.
set -euo pipefail

kernel=${1:?usage: boot.sh KERNEL INITRD [ARGS...]}
initrd=${2:?usage: boot.sh KERNEL INITRD [ARGS...]}
shift 2

exec qemu-system-x86_64 -cpu max -m "${QEMU_MEM:-1024}" -smp "${QEMU_SMP:-1}" \
  -nographic -no-reboot -nic none \
  -kernel "$kernel" -initrd "$initrd" \
  -append "console=ttyS0 panic=-1 $*"
