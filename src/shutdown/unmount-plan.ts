// The last filesystem steps of a shutdown, as data: unmount in reverse mount order, and
// remount read-only whatever cannot be unmounted (the root, a busy filesystem). Pure.
import type { MountEntry } from "../base/mounts.ts";
import { MS_RDONLY, MS_REMOUNT, type PlanStep } from "../boot/early-mounts.ts";

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
