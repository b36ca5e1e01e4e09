// What `tsinit check` asks of files without running anything: whether a program can be
// executed, a file read, a directory entered (as the user running the check). With a root
// (`--root DIR`, an image's tree on the build host), absolute paths and absolute symbolic links
// are taken inside that root, as they will be on the machine.
import { accessSync, constants, lstatSync, readlinkSync, statSync } from "./file-calls.ts";

export type ProbeResult = "ok" | "missing" | "denied" | "not-a-file" | "not-a-directory";

export interface FileProbe {
  executable(path: string): ProbeResult;
  readable(path: string): ProbeResult;
  directory(path: string): ProbeResult;
}

/** The probe of the real file system, or of the tree below `root`. */
export function fileProbe(root?: string): FileProbe {
  const at = (path: string) => (root === undefined ? path : inRoot(root, path));
  return {
    executable: (path) => probe(at(path), constants.X_OK, "file"),
    readable: (path) => probe(at(path), constants.R_OK, "file"),
    directory: (path) => probe(at(path), constants.X_OK, "directory"),
  };
}

/** `path` below `root`, its symbolic links followed inside `root` (at most 40, as the kernel). */
export function inRoot(root: string, path: string): string | undefined {
  const parts = path.split("/").filter((part) => part !== "" && part !== ".");
  const done: string[] = [];
  for (let links = 0; parts.length > 0; ) {
    const part = parts.shift() as string;
    if (part === "..") {
      done.pop();
      continue;
    }
    const here = `${root}/${[...done, part].join("/")}`;
    let target: string | undefined;
    try {
      target = lstatSync(here).isSymbolicLink() ? readlinkSync(here) : undefined;
    } catch {
      target = undefined;
    }
    if (target === undefined) {
      done.push(part);
      continue;
    }
    if (++links > 40) return undefined;
    if (target.startsWith("/")) done.length = 0;
    parts.unshift(...target.split("/").filter((p) => p !== "" && p !== "."));
  }
  return `${root}/${done.join("/")}`;
}

function probe(path: string | undefined, mode: number, kind: "file" | "directory"): ProbeResult {
  if (path === undefined) return "missing";
  try {
    const stat = statSync(path);
    if (kind === "file" && !stat.isFile()) return "not-a-file";
    if (kind === "directory" && !stat.isDirectory()) return "not-a-directory";
  } catch {
    return "missing";
  }
  try {
    accessSync(path, mode);
    return "ok";
  } catch {
    return "denied";
  }
}
