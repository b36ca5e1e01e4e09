// Which program in the real root becomes PID 1: `init=` if given, else /sbin/init, then
// /sbin/tsinit, then /bin/sh, the first that is an executable file. Paths are resolved inside
// the new root, before the chroot: an absolute link (/sbin/init -> /lib/systemd/systemd, or a
// merged /sbin -> usr/sbin) means the new root's file, never the initramfs's. Pure over Sys.
import { SysError, type Sys } from "../sys/sys.ts";

export const DEFAULT_INITS = ["/sbin/init", "/sbin/tsinit", "/bin/sh"];
const MAX_LINKS = 40;

/** The programs to try, in order: `init=` first when given, then the defaults. */
export function initCandidates(init: string | undefined): string[] {
  return init === undefined ? [...DEFAULT_INITS] : [init, ...DEFAULT_INITS.filter((path) => path !== init)];
}

/** `path` inside `root`, with every symbolic link followed as if `root` were `/`; undefined if it is not there. */
export function resolveInRoot(sys: Sys, root: string, path: string): string | undefined {
  let rest = path.split("/").filter((part) => part !== "");
  let resolved: string[] = [];
  let links = 0;
  while (rest.length > 0) {
    const part = rest.shift()!;
    if (part === ".") continue;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    const here = `${root}/${[...resolved, part].join("/")}`;
    const status = sys.lstat(here);
    if (status instanceof SysError) return undefined;
    if (status.kind !== "symlink") {
      resolved.push(part);
      continue;
    }
    const target = sys.readlink(here);
    if (target === undefined || ++links > MAX_LINKS) return undefined;
    if (target.startsWith("/")) resolved = [];
    rest = [...target.split("/").filter((p) => p !== ""), ...rest];
  }
  return `/${resolved.join("/")}`;
}

export type InitChoice = { ok: true; path: string; skipped: string[] } | { ok: false; tried: string[] };

/** The first candidate that is an executable regular file in `root`, and why earlier ones were passed over. */
export function chooseInit(sys: Sys, root: string, candidates: readonly string[]): InitChoice {
  const tried: string[] = [];
  for (const candidate of candidates) {
    const resolved = resolveInRoot(sys, root, candidate);
    const status = resolved === undefined ? undefined : sys.lstat(`${root}${resolved}`);
    if (status === undefined || status instanceof SysError) {
      tried.push(`${candidate}: not found`);
    } else if (status.kind !== "file") {
      tried.push(`${candidate}: not a regular file`);
    } else if ((status.mode & 0o111) === 0) {
      tried.push(`${candidate}: not executable`);
    } else {
      return { ok: true, path: candidate, skipped: tried };
    }
  }
  return { ok: false, tried };
}
