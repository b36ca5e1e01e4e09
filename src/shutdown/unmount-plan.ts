// The last filesystem steps of a shutdown, as data: unmount in reverse mount order, and
// remount read-only whatever cannot be unmounted (the root, a busy filesystem). Pure.
import { MS_RDONLY, MS_REMOUNT, type PlanStep } from "../boot/early-mounts.ts";

export interface MountEntry {
  source: string;
  target: string;
  fstype: string;
}

export function parseMounts(procMounts: string): MountEntry[] {
  const unescape = (field: string) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  return procMounts
    .split("\n")
    .map((line) => line.split(" "))
    .filter((fields) => fields.length >= 3)
    .map(([source, target, fstype]) => ({ source: unescape(source!), target: unescape(target!), fstype: fstype! }));
}

/**
 * Virtual filesystems hold no data; /proc and /dev stay because the reboot helper and the
 * console still need them, and failures there are not worth a warning.
 */
const KEEP = new Set(["/proc", "/dev", "/sys"]);

export function unmountPlan(mounts: readonly MountEntry[]): PlanStep[] {
  const steps: PlanStep[] = [];
  for (const entry of [...mounts].reverse()) {
    if (KEEP.has(entry.target) || entry.fstype === "rootfs") continue;
    if (entry.target === "/") {
      steps.push(remountReadOnly(entry));
      continue;
    }
    steps.push({
      describe: () => `umount ${entry.target}`,
      run: (sys) => {
        const error = sys.umount(entry.target, 0);
        if (error === undefined) return undefined;
        // Busy: at least make it consistent on disk.
        return sys.mount({ source: entry.source, target: entry.target, fstype: entry.fstype, flags: MS_REMOUNT | MS_RDONLY }) === undefined
          ? undefined
          : error;
      },
    });
  }
  return steps;
}

function remountReadOnly(entry: MountEntry): PlanStep {
  return {
    describe: () => `mount -o remount,ro ${entry.target}`,
    run: (sys) => sys.mount({ source: entry.source, target: entry.target, fstype: entry.fstype, flags: MS_REMOUNT | MS_RDONLY }),
  };
}
