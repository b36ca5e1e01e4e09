#!/bin/busybox sh
# The bench's peer for booting through switch_root: what a minimal busybox initramfs does to
# reach the same disk with the same kernel. Appended to the busybox-init image as its /init.
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox modprobe virtio_pci
/bin/busybox modprobe virtio_blk
while [ ! -b /dev/vda ]; do /bin/busybox usleep 10000; done
/bin/busybox mkdir -p /newroot
/bin/busybox mount -o ro /dev/vda /newroot
/bin/busybox mount --move /dev /newroot/dev
/bin/busybox mount --move /sys /newroot/sys
/bin/busybox mount --move /proc /newroot/proc
exec /bin/busybox switch_root /newroot /sbin/init
