// /proc/mounts read as data, for the early mounts (what is there already) and the shutdown
// (what to unmount). The ground floor: imports nothing.

export interface MountEntry {
  source: string;
  target: string;
  fstype: string;
}

/** The entries of /proc/mounts in mount order, with the kernel's octal escapes undone. */
export function parseMounts(procMounts: string): MountEntry[] {
  const unescape = (field: string) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  return procMounts
    .split("\n")
    .map((line) => line.split(" "))
    .filter((fields) => fields.length >= 3)
    .map(([source, target, fstype]) => ({ source: unescape(source!), target: unescape(target!), fstype: fstype! }));
}

/** statfs(2) f_type values that matter to tsinit. */
export const FS_MAGIC = {
  /** The kernel's initramfs rootfs when root= is given (else it may be tmpfs). */
  ramfs: 0x858458f6,
  tmpfs: 0x01021994,
} as const;
