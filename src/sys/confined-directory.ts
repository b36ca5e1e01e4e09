// A log file's directory, opened one name at a time so that a user who may change a directory
// on the way cannot lead root elsewhere with a symbolic link, and told whether every directory
// looked in was root's alone (so that nothing found on the way could have been put by a user).
import { closeSync, constants, fstatSync, type FileStat } from "./file-calls.ts";
import { errnoName } from "../base/errno.ts";
import { cstr, errno, libc, ptr } from "./libc.ts";
import { SysError } from "./sys.ts";

const O_CLOEXEC = 0o2000000;
const O_PATH = 0o10000000;
/** 0o200000 and 0o400000 on x86_64, 0o40000 and 0o100000 on arm64. */
const { O_DIRECTORY, O_NOFOLLOW } = constants;
const ELOOP = 40;
const ENOTDIR = 20;
/** As the kernel's own limit on links followed in one lookup. */
const MAX_LINKS = 40;

export interface ConfinedDirectory {
  /** An O_PATH descriptor of the directory, for openat; the caller closes it. */
  fd: number;
  /** Only root could have made the way there what it is, and the directory is root's alone. */
  rootsAlone: boolean;
}

/**
 * Whether only root can change a directory's entries (owned by root, no group or other write).
 * "Root" is also this process's own user when that is not root (a supervisor run by a user):
 * what that user put in its own directories leads it nowhere it could not go itself.
 */
export function isRootsAlone(stat: FileStat): boolean {
  return isRootOrSelf(stat.uid) && (stat.mode & 0o022) === 0;
}

function isRootOrSelf(uid: number): boolean {
  return uid === 0 || uid === process.geteuid?.();
}

const S_ISVTX = 0o1000;

/**
 * Whether only root could have put `entry` in `directory` as it is: the directory is root's
 * alone, or it is root's and sticky (/tmp) and the entry is root's: there no one else may
 * remove, rename or replace it.
 */
function onlyRootCouldPut(directory: FileStat, entry: FileStat): boolean {
  return isRootsAlone(directory) || (isRootOrSelf(directory.uid) && (directory.mode & S_ISVTX) !== 0 && isRootOrSelf(entry.uid));
}

/**
 * Opens `path` as a directory, one component at a time with O_NOFOLLOW. A symbolic link is
 * followed (by reading it and going on from its target) only where only root could have put it
 * (a directory root's alone, or a root's link in root's sticky /tmp). Any other link is refused
 * (ELOOP). A relative path starts from the working directory, which is not known to be root's.
 */
export function openConfinedDirectory(path: string): ConfinedDirectory | SysError {
  const fail = (call: string, code = errno()) => new SysError(call, code, errnoName(code), path);
  const absolute = path.startsWith("/");
  let fd = libc.open(cstr(absolute ? "/" : "."), O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd === -1) return fail("open");
  let rootsAlone = absolute;
  let links = 0;
  const pending = path.split("/");
  try {
    while (pending.length > 0) {
      const name = pending.shift()!;
      if (name === "" || name === ".") continue;
      const directory = fstatSync(fd);
      const next = libc.openat(fd, cstr(name), O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
      if (next === -1) return fail("open");
      const stat = fstatSync(next);
      const here = onlyRootCouldPut(directory, stat);
      if (stat.isSymbolicLink()) {
        const target = here && ++links <= MAX_LINKS ? readLink(next) : undefined;
        closeSync(next);
        if (!here) return new SysError("open (a symbolic link in a directory a user may change)", ELOOP, "ELOOP", path);
        if (target === undefined) return fail("open", ELOOP);
        pending.unshift(...target.split("/"));
        if (target.startsWith("/")) {
          const root = libc.open(cstr("/"), O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
          if (root === -1) return fail("open");
          closeSync(fd);
          fd = root;
        }
        continue;
      }
      rootsAlone &&= here;
      closeSync(fd);
      fd = next;
      if (!stat.isDirectory()) return fail("open", ENOTDIR);
    }
    const result = { fd, rootsAlone: rootsAlone && isRootsAlone(fstatSync(fd)) };
    fd = -1;
    return result;
  } finally {
    if (fd !== -1) closeSync(fd);
  }
}

/** A symbolic link's text, read through its O_PATH descriptor. */
function readLink(fd: number): string | undefined {
  const buffer = Buffer.alloc(4096);
  const length = Number(libc.readlinkat(fd, cstr(""), ptr(buffer), buffer.length));
  return length < 0 || length >= buffer.length ? undefined : buffer.toString("utf8", 0, length);
}
