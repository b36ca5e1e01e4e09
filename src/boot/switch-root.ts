// switch_root as a plan of data: each step says what it does, as a shell line, and whether the
// switch can go on without it. The plan is printed with `tsinit.debug` and carried out by
// runSwitchPlan through Sys. Up to the deletion of the initramfs a failed required step leaves
// everything as it was (the new root is unmounted again), so the caller can offer recovery and
// a retry. Pure over Sys.
import { SysError, type Sys } from "../sys/sys.ts";
import { MS_MOVE, MS_RDONLY, type PlanStep } from "./early-mounts.ts";
import { checkIsInitramfs, leftoverMounts, removeTree } from "./initramfs-cleanup.ts";
import { chooseInit, initCandidates, resolveInRoot } from "./real-init.ts";

export const NEW_ROOT = "/sysroot";
const MNT_DETACH = 2;
/** Mounts of the initramfs stage that the real root keeps (SPEC 2), in the order they move. */
export const MOVED_MOUNTS = ["/dev", "/proc", "/sys", "/run"];

export interface SwitchRootRequest {
  /** The root device, e.g. /dev/vda1. */
  device: string;
  /** Filesystem types to try, in order (rootfstype=, else what the superblock says). */
  fstypes: readonly string[];
  readOnly: boolean;
  /** rootflags=, passed to mount as its data. */
  flags?: string;
  /** init= from the command line, if any. */
  init?: string;
  /** The new init's argv after its name (what the kernel gave tsinit). */
  initArgs: readonly string[];
  env: Readonly<Record<string, string>>;
  console: string;
}

export interface SwitchStep extends PlanStep {
  /** Whether a failure stops the switch. */
  required: boolean;
  /** Once this step has run, there is no way back to the initramfs. */
  pointOfNoReturn?: boolean;
}

/** What the steps learn as they run, and report to the caller. */
export interface SwitchState {
  /** The chosen init, once the root is mounted. */
  init?: string;
  note(text: string): void;
  /** The boot record's entries so far, written into the new root's /run just before the chroot. */
  handOff(): { path: string; data: string } | undefined;
}

export function switchRootPlan(request: SwitchRootRequest, state: SwitchState): SwitchStep[] {
  const candidates = initCandidates(request.init);
  const options = [request.readOnly ? "ro" : "rw", ...(request.flags ? [request.flags] : [])].join(",");
  const steps: SwitchStep[] = [
    {
      describe: () => `mkdir -p ${NEW_ROOT}`,
      required: true,
      run: (sys) => (sys.isDirectory(NEW_ROOT) ? undefined : sys.mkdir(NEW_ROOT, 0o755)),
    },
    {
      describe: () => `mount -t ${request.fstypes.join(",") || "(every type the kernel knows)"} -o ${options} ${request.device} ${NEW_ROOT}`,
      required: true,
      run: (sys) => mountRoot(sys, request),
    },
    {
      describe: () => `find the real init in ${NEW_ROOT}: ${candidates.join(", ")}`,
      required: true,
      run: (sys) => {
        const choice = chooseInit(sys, NEW_ROOT, candidates);
        if (!choice.ok) {
          // Leave things as they were, for recovery and a retry.
          sys.umount(NEW_ROOT, 0);
          return new SysError("switch_root", 2, "ENOENT", NEW_ROOT, `no init in the new root (${choice.tried.join("; ")})`);
        }
        for (const skipped of choice.skipped) state.note(`passed over ${skipped}`);
        state.init = choice.path;
        return undefined;
      },
    },
    {
      describe: () => `test -d ${NEW_ROOT}/dev -a -d ${NEW_ROOT}/proc`,
      required: true,
      run: (sys) => {
        // Without /proc in the new root a Bun executable aborts, and without /dev the real init
        // has no console: refuse such a root while the initramfs can still take over.
        const missing = REQUIRED_MOUNT_POINTS.filter((mount) => mountPoint(sys, mount) === undefined);
        if (missing.length === 0) return undefined;
        sys.umount(NEW_ROOT, 0);
        return new SysError("switch_root", 2, "ENOENT", NEW_ROOT, `the new root has no ${missing.join(" or ")} directory to move the initramfs's into`);
      },
    },
    ...MOVED_MOUNTS.map((mount): SwitchStep => ({
      describe: () => `mount --move ${mount} ${NEW_ROOT}${mount}`,
      required: false,
      pointOfNoReturn: mount === "/dev",
      run: (sys) => moveMount(sys, mount, state),
    })),
    {
      describe: () => "umount -l every mount left in the initramfs (the filesystem /init mounted tsinit from)",
      required: false,
      run: (sys) => {
        // Lazily: tsinit runs from that filesystem until its exec of the real init, which lets
        // go of the last reference; the kernel then frees the mount, and the loop device (set
        // up to clear itself) lets go of its file, which the deletion below has unlinked.
        const mounts = sys.readFile(`${NEW_ROOT}/proc/mounts`) ?? sys.readFile("/proc/mounts") ?? "";
        const problems: string[] = [];
        for (const target of leftoverMounts(mounts, NEW_ROOT)) {
          const error = sys.umount(target, MNT_DETACH);
          if (error === undefined) state.note(`initramfs: detached ${target}`);
          else problems.push(error.message);
        }
        return problems.length === 0 ? undefined : new Error(problems.join("; "));
      },
    },
    {
      describe: () => "rm -rf / (the initramfs only: never into another filesystem)",
      required: false,
      run: (sys) => {
        const refused = checkIsInitramfs(sys);
        if (refused !== undefined) return refused;
        const before = memAvailableKiB(sys, `${NEW_ROOT}/proc/meminfo`);
        const result = removeTree(sys, "/");
        const after = memAvailableKiB(sys, `${NEW_ROOT}/proc/meminfo`);
        const freed = before !== undefined && after !== undefined ? `; MemAvailable ${mib(before)} -> ${mib(after)} MiB (tsinit's own executable is given back at the exec)` : "";
        state.note(`initramfs: removed ${result.files} files and ${result.directories} directories, ${mib(result.bytes / 1024)} MiB${freed}`);
        for (const problem of result.problems.slice(0, 10)) state.note(`initramfs: ${problem}`);
        return undefined;
      },
    },
    {
      describe: () => `hand the boot record to the real root (${NEW_ROOT}/run)`,
      required: false,
      run: (sys) => {
        const handOff = state.handOff();
        if (handOff === undefined) return undefined;
        const dir = `${NEW_ROOT}${handOff.path.slice(0, handOff.path.lastIndexOf("/"))}`;
        return sys.mkdir(dir, 0o755) ?? sys.writeFile(`${NEW_ROOT}${handOff.path}`, handOff.data);
      },
    },
    { describe: () => `cd ${NEW_ROOT}`, required: true, run: (sys) => sys.chdir(NEW_ROOT) },
    { describe: () => `mount --move . /`, required: true, run: (sys) => sys.mount({ source: ".", target: "/", fstype: "", flags: MS_MOVE }) },
    { describe: () => "chroot .", required: true, run: (sys) => sys.chroot(".") },
    { describe: () => "cd /", required: true, run: (sys) => sys.chdir("/") },
    { describe: () => `exec <${request.console} >${request.console} 2>&1`, required: false, run: (sys) => sys.reopenConsole(request.console) },
    {
      describe: () => `exec the real init as PID 1 (the first of ${candidates.join(", ")} found above)`,
      required: true,
      run: (sys) => execInit(sys, state.init ?? candidates[0]!, candidates, request),
    },
  ];
  return steps;
}

function mountRoot(sys: Sys, request: SwitchRootRequest): SysError | undefined {
  const flags = request.readOnly ? MS_RDONLY : 0;
  const types = request.fstypes.length > 0 ? request.fstypes : kernelFilesystems(sys);
  const failures: string[] = [];
  for (const fstype of types) {
    const error = sys.mount({ source: request.device, target: NEW_ROOT, fstype, flags, data: request.flags });
    if (error === undefined) return undefined;
    failures.push(`${fstype}: ${error.code}`);
  }
  return new SysError("mount", 22, "EINVAL", request.device, `cannot mount ${request.device} on ${NEW_ROOT} (${failures.join(", ") || "no filesystem types to try"})`);
}

/** Block-device filesystems the kernel has now (no `nodev` in /proc/filesystems), as the kernel tries them. */
export function kernelFilesystems(sys: Sys): string[] {
  return (sys.readFile("/proc/filesystems") ?? "")
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("nodev"))
    .map((line) => line.trim());
}

/** Mount points the new root must have; the others of MOVED_MOUNTS may be missing. */
const REQUIRED_MOUNT_POINTS = ["/dev", "/proc"];

/**
 * Where `mount` goes in the new root, as a path in this namespace: a link there (`/run ->
 * /var/run`) is followed inside the new root. Undefined when it is not a directory there.
 */
function mountPoint(sys: Sys, mount: string): string | undefined {
  const inside = resolveInRoot(sys, NEW_ROOT, mount);
  if (inside === undefined) return undefined;
  const status = sys.lstat(`${NEW_ROOT}${inside}`);
  return status instanceof SysError || status.kind !== "directory" ? undefined : `${NEW_ROOT}${inside}`;
}

function moveMount(sys: Sys, mount: string, state: SwitchState): SysError | undefined {
  const target = mountPoint(sys, mount);
  if (target === undefined) {
    // A root without the mount point: its init mounts its own; this one must not pin the
    // initramfs, so it goes away.
    state.note(`${NEW_ROOT}${mount} is missing: ${mount} is unmounted instead of moved`);
    return sys.umount(mount, MNT_DETACH);
  }
  return sys.mount({ source: mount, target, fstype: "", flags: MS_MOVE });
}

function execInit(sys: Sys, chosen: string, candidates: readonly string[], request: SwitchRootRequest): SysError {
  // The chosen one first; if its exec fails after all (a missing interpreter or library), the
  // others, as the kernel goes down its own list.
  const failures: string[] = [];
  for (const path of [chosen, ...candidates.filter((c) => c !== chosen)]) {
    const error = sys.exec(path, [path, ...request.initArgs], request.env);
    failures.push(`${path}: ${error.code}`);
  }
  return new SysError("execve", 2, "ENOENT", chosen, `no init could be executed (${failures.join(", ")})`);
}

/** MemAvailable from a meminfo file, in KiB. */
export function memAvailableKiB(sys: Sys, path = "/proc/meminfo"): number | undefined {
  const match = /^MemAvailable:\s+(\d+) kB/m.exec(sys.readFile(path) ?? "");
  return match ? Number(match[1]) : undefined;
}

function mib(kib: number): string {
  return (kib / 1024).toFixed(1);
}

export type SwitchOutcome =
  /** A step before the point of no return failed: the initramfs is as it was. */
  | { kind: "not-switched"; step: string; error: Error }
  /** A step after it failed: the initramfs is gone, there is no going back. */
  | { kind: "stranded"; step: string; error: Error };

/**
 * Runs the plan. Never returns on success (the exec replaced this process). A failed optional
 * step is reported and the plan goes on.
 */
export function runSwitchPlan(sys: Sys, steps: readonly SwitchStep[], report: (step: SwitchStep, error: Error) => void): SwitchOutcome {
  let committed = false;
  for (const step of steps) {
    committed ||= step.pointOfNoReturn === true;
    let error: Error | undefined;
    try {
      error = step.run(sys);
    } catch (thrown) {
      error = thrown instanceof Error ? thrown : new Error(String(thrown));
    }
    if (error === undefined) continue;
    report(step, error);
    if (step.required) return { kind: committed ? "stranded" : "not-switched", step: step.describe(), error };
  }
  return { kind: "stranded", step: "exec", error: new Error("the plan ended without an exec") };
}

