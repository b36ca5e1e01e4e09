// What `tsinit check` asks of files without running anything: whether a program can be
// executed, a file read, a directory entered (as the user running the check).
import { accessSync, constants, statSync } from "node:fs";

export type ProbeResult = "ok" | "missing" | "denied" | "not-a-file" | "not-a-directory";

export function probeExecutable(path: string): ProbeResult {
  return probe(path, constants.X_OK, "file");
}

export function probeReadable(path: string): ProbeResult {
  return probe(path, constants.R_OK, "file");
}

export function probeDirectory(path: string): ProbeResult {
  return probe(path, constants.X_OK, "directory");
}

function probe(path: string, mode: number, kind: "file" | "directory"): ProbeResult {
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
