// The early filesystems as a plan of data: each step says what it does (as shell would) and
// is carried out through Sys by runPlan, which logs a failed step and goes on. Pure.
import type { MountRequest, Sys } from "../sys/sys.ts";

export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_REMOUNT = 32;
export const MS_BIND = 4096;
export const MS_MOVE = 8192;
export const MS_RELATIME = 1 << 21;

export interface PlanStep {
  describe(): string;
  run(sys: Sys): Error | undefined;
}

function mountStep(request: MountRequest, mode = 0o755): PlanStep {
  return {
    describe: () => `mount -t ${request.fstype}${request.data ? ` -o ${request.data}` : ""} ${request.source} ${request.target}`,
    run: (sys) => {
      if (!sys.isDirectory(request.target)) {
        const error = sys.mkdir(request.target, mode);
        if (error !== undefined) return error;
      }
      return sys.mount(request);
    },
  };
}

const EARLY_MOUNTS: MountRequest[] = [
  { source: "proc", target: "/proc", fstype: "proc", flags: MS_NOSUID | MS_NODEV | MS_NOEXEC },
  { source: "sysfs", target: "/sys", fstype: "sysfs", flags: MS_NOSUID | MS_NODEV | MS_NOEXEC },
  { source: "devtmpfs", target: "/dev", fstype: "devtmpfs", flags: MS_NOSUID, data: "mode=0755" },
  { source: "devpts", target: "/dev/pts", fstype: "devpts", flags: MS_NOSUID | MS_NOEXEC, data: "gid=5,mode=0620,ptmxmode=0666" },
  { source: "tmpfs", target: "/dev/shm", fstype: "tmpfs", flags: MS_NOSUID | MS_NODEV, data: "mode=1777" },
  { source: "tmpfs", target: "/run", fstype: "tmpfs", flags: MS_NOSUID | MS_NODEV, data: "mode=0755" },
];

const CGROUP2: MountRequest = {
  source: "cgroup2",
  target: "/sys/fs/cgroup",
  fstype: "cgroup2",
  flags: MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME,
};

/** The early mounts that are not mounted yet, in order. */
export function earlyMountPlan(alreadyMounted: readonly string[], withCgroup2: boolean): PlanStep[] {
  const mounted = new Set(alreadyMounted);
  const wanted = withCgroup2 ? [...EARLY_MOUNTS, CGROUP2] : EARLY_MOUNTS;
  return wanted.filter((m) => !mounted.has(m.target)).map((m) => mountStep(m));
}

/** Run every step; a failure is reported and the next step still runs. */
export function runPlan(sys: Sys, steps: readonly PlanStep[], report: (step: PlanStep, error: Error) => void): void {
  for (const step of steps) {
    try {
      const error = step.run(sys);
      if (error !== undefined) report(step, error);
    } catch (error) {
      report(step, error instanceof Error ? error : new Error(String(error)));
    }
  }
}
