# The machine qemu emulates for ARCH (amd64, the default, or arm64), sourced by qemu/boot.sh and
# qemu/smoke.sh; test/boot/qemu.ts holds the same table (docs/arm64.md). It sets:
#   qemu_machine  the qemu command with its machine and CPU options
#   console       the guest's name of the serial console (console= on the kernel command line)
#   arch_kernel, arch_initrd   the kernel and the image `make ARCH=...` builds
#   arch_memory   the RAM (MB) its default image (squashfs-zstd) boots in: 192 for amd64, 240
#                 for arm64, whose kernel keeps 64 MB for CMA (docs/arm64.md)
#   arch_append   kernel arguments every boot gets: on amd64 no_timer_check, since on a
#                 loaded host TCG can be too slow for the kernel's IO-APIC timer check, which
#                 then panics ("IO-APIC + timer doesn't work"); on both, lean_append (below);
#                 test/boot/qemu.ts does the same
# and report_port FILE sets report_args, the qemu options of a second serial port written to
# FILE, and report_device, the guest's name of it (for tsinit.report=); output_port FILE does the
# same for a third port (output_args, output_device), which qemu/smoke.sh --output gives the
# command for files it hands out.
# arm64 runs -cpu max with pauth-impdef=on: TCG's emulation of the architected pointer
# authentication (QARMA5) made the boot to login: 4 times slower, and the guest cannot tell the
# implementation-defined algorithm from it.
# lean_append: the kernel's tracefs makes files for every trace event at boot, 9 MB of inodes and
# dentries (slab 20.3 MB against 11.4 once booted) that nothing frees; tracefs then stays empty. Without them the kernel at -m 128
# stops its unpack at the rootfs's size limit, so the stub can say how much RAM the image needs;
# with them it runs out of memory first and panics (docs/image.md, "Too little RAM").
lean_append=initcall_blacklist=tracer_init_tracefs
case ${ARCH:-amd64} in
  amd64|x86_64)
    qemu_machine=(qemu-system-x86_64 -cpu max)
    console=ttyS0
    arch_kernel=.cache/kernel/vmlinuz
    arch_initrd=dist/initramfs.cpio
    arch_memory=192
    arch_append="no_timer_check $lean_append"
    ;;
  arm64|aarch64)
    qemu_machine=(qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on)
    console=ttyAMA0
    arch_kernel=.cache/kernel-arm64/vmlinuz
    arch_initrd=dist/arm64/initramfs.cpio
    arch_memory=240
    arch_append=$lean_append
    ;;
  *) echo "qemu/arch.sh: ARCH=$ARCH: use amd64 or arm64" >&2; exit 2 ;;
esac

report_port() { # FILE
  case $console in
    # The PC's second 16550 UART.
    ttyS0) report_args=(-serial "file:$1"); report_device=ttyS1 ;;
    # -M virt has one PL011 for the normal world. A 16550 on the PCI bus (qemu's pci-serial) is
    # the kernel's built-in 8250_pci driver's, so it is there before /init, without a module;
    # it is the first 8250 port, so ttyS0.
    ttyAMA0) report_args=(-chardev "file,id=report,path=$1" -device pci-serial,chardev=report); report_device=ttyS0 ;;
  esac
}

output_port() { # FILE
  case $console in
    # The PC's third 16550 UART (0x3e8).
    ttyS0) output_args=(-serial "file:$1"); output_device=ttyS2 ;;
    # A second PCI 16550, after the report's.
    ttyAMA0) output_args=(-chardev "file,id=output,path=$1" -device pci-serial,chardev=output); output_device=ttyS1 ;;
  esac
}
