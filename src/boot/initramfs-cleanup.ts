// Deleting the initramfs before the exec of the real init, as switch_root does: its files live
// in RAM, and only deleting them (and the exec that unmaps tsinit's own executable) gives that
// memory back. The walk never leaves the initramfs's filesystem, so the new root mounted
// inside it, and anything else mounted there, is left alone. Iterative: no depth limit. Pure
// over Sys.
import { FS_MAGIC, parseMounts } from "../base/mounts.ts";
import { SysError, type Sys } from "../sys/sys.ts";

export interface CleanupResult {
  files: number;
  directories: number;
  bytes: number;
  /** What could not be removed, with why (the walk goes on past each). */
  problems: string[];
}

/**
 * Refuses unless `/` is a ramfs or tmpfs holding `/init`: what busybox's switch_root checks
 * too, so a mistake can never empty a real disk.
 */
export function checkIsInitramfs(sys: Sys): SysError | undefined {
  const type = sys.filesystemType("/");
  if (type instanceof SysError) return type;
  if (type !== FS_MAGIC.ramfs && type !== FS_MAGIC.tmpfs) {
    return new SysError("switch_root", 22, "EINVAL", "/", `/ is not an initramfs (statfs type 0x${type.toString(16)}), not deleting it`);
  }
  const init = sys.lstat("/init");
  if (init instanceof SysError || init.kind !== "file") return new SysError("switch_root", 2, "ENOENT", "/init", "/ has no /init, so it is not an initramfs; not deleting it");
  return undefined;
}

/** Removes everything under `root` that is on the same filesystem as `root` itself. */
export function removeTree(sys: Sys, root: string): CleanupResult {
  const result: CleanupResult = { files: 0, directories: 0, bytes: 0, problems: [] };
  const top = sys.lstat(root);
  if (top instanceof SysError) {
    result.problems.push(top.message);
    return result;
  }
  const join = (dir: string, name: string) => (dir.endsWith("/") ? `${dir}${name}` : `${dir}/${name}`);
  // Directories are visited twice: first to push their entries, then (after them) to rmdir.
  const stack: { path: string; leaving: boolean }[] = [{ path: root, leaving: false }];
  while (stack.length > 0) {
    const { path, leaving } = stack.pop()!;
    if (leaving) {
      if (path === root) continue;
      const error = sys.rmdir(path);
      if (error === undefined) result.directories++;
      else result.problems.push(error.message);
      continue;
    }
    stack.push({ path, leaving: true });
    for (const name of sys.readDir(path) ?? []) {
      const entry = join(path, name);
      const status = sys.lstat(entry);
      if (status instanceof SysError) {
        result.problems.push(status.message);
        continue;
      }
      // Another filesystem mounted here (the new root, a moved /proc's leftover mount): skip it.
      if (status.device !== top.device) continue;
      if (status.kind === "directory") {
        stack.push({ path: entry, leaving: false });
        continue;
      }
      const error = sys.unlink(entry);
      if (error === undefined) {
        result.files++;
        result.bytes += status.size;
      } else {
        result.problems.push(error.message);
      }
    }
  }
  return result;
}

/**
 * The mounts still inside the initramfs once the new root is mounted and the early mounts have
 * moved into it, deepest (latest) first: the squashfs or erofs that the stub /init mounted to
 * hold tsinit itself (docs/image.md), or anything mounted by hand in the initramfs stage. Left
 * there they would be unreachable under the new root yet pin their loop device, its backing
 * file in the initramfs and so the RAM the deletion is meant to give back.
 */
export function leftoverMounts(procMounts: string, newRoot: string): string[] {
  return parseMounts(procMounts)
    .map((entry) => entry.target)
    .filter((target) => target !== "/" && target !== newRoot && !target.startsWith(`${newRoot}/`))
    .reverse();
}
