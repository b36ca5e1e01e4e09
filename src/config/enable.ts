// Where `enable` and `disable` put or take away the link that makes a service start at boot,
// as dinitctl does: a symbolic link named after the service in the directory that the
// dependent's one `waits-for.d` setting names. The dependent is the one given (`--from`), else
// the one the service's `@meta enable-via NAME` names, else `boot`; for `boot` without a
// `waits-for.d` setting, tsinit's own `boot.d/` in the services directory is the place. Pure
// (the file access is injected); the link is made by whoever carries the plan out, PID 1's
// control socket or `initctl --offline`.
import { serviceNameProblem } from "../base/service-name.ts";
import { joinPath, splitInstanceName, BOOT_SERVICE, type ConfigFs } from "./load.ts";
import { parseService } from "./parse.ts";

export interface EnableFs extends ConfigFs {
  /** Whether anything (a file, a link, even a dangling one) is at `path`. */
  entryExists(path: string): boolean;
}

export interface LinkPlan {
  /** The dependent whose waits-for.d holds the link. */
  from: string;
  /** The directory of the link, and the link itself. */
  dir: string;
  path: string;
  /** What the link names: the service's description file (dinit's choice; only the name counts). */
  target: string;
  /** The link (or an entry of that name) is there already. */
  exists: boolean;
  /** The directory must be made first (a `boot.d/` that is not there yet). */
  createDir: boolean;
  /**
   * Set when the service has no description file (disable only; enable refuses): "no service
   * named NAME in DIRS". Whoever carries the plan out decides: a service still loaded (added at
   * run time, or its file removed since) is disabled as any other, and with no link either,
   * there is nothing by that name at all.
   */
  noFile?: string;
}

export type LinkPlanResult = { ok: true; plan: LinkPlan } | { ok: false; message: string };

/** The file that describes `name` (an instance's own file, else its template's), if any. */
export function serviceFile(name: string, dirs: readonly string[], fs: ConfigFs): { file: string; text: string } | { unreadable: string } | undefined {
  const { base, argument } = splitInstanceName(name);
  if (base === "" || argument === "" || name.includes("/") || name.startsWith(".")) return undefined;
  const candidates = argument === undefined ? [name] : [name, base, `${base}@`];
  for (const dir of dirs) {
    for (const candidate of candidates) {
      const file = joinPath(dir, candidate);
      const text = fs.readFile(file);
      if (text === undefined) continue;
      if (typeof text !== "string") return { unreadable: `${file}: cannot be read: ${text.unreadable}` };
      return { file, text };
    }
  }
  return undefined;
}

/** `@meta enable-via NAME` in a description: the dependent `enable` uses by default. */
export function enableVia(text: string): string | undefined {
  for (const line of text.split("\n")) {
    const match = /^\s*@meta\s+enable-via\s+(\S+)\s*$/.exec(line);
    if (match !== null) return match[1];
  }
  return undefined;
}

function dirOf(file: string): string {
  const slash = file.lastIndexOf("/");
  return slash <= 0 ? (slash === 0 ? "/" : ".") : file.slice(0, slash);
}

export function planLink(verb: "enable" | "disable", to: string, fromGiven: string | undefined, dirs: readonly string[], fs: EnableFs): LinkPlanResult {
  const fail = (message: string): LinkPlanResult => ({ ok: false, message });
  if (dirs.length === 0) return fail("no services directory");
  // The names become paths (the link, its directory): one with a `/` or `..` would reach
  // outside the services directories (initctl --offline passes what the user typed).
  const badName = serviceNameProblem(to) ?? (fromGiven === undefined ? undefined : serviceNameProblem(fromGiven));
  if (badName !== undefined) return fail(badName);
  const toFile = serviceFile(to, dirs, fs);
  if (toFile !== undefined && "unreadable" in toFile) return fail(toFile.unreadable);
  // Disabling a service whose file is gone must still take its link away.
  const noFile = toFile === undefined ? `no service named ${to} in ${dirs.join(", ")}` : undefined;
  if (noFile !== undefined && verb === "enable") return fail(noFile);
  const from = fromGiven ?? (toFile === undefined ? undefined : enableVia(toFile.text)) ?? BOOT_SERVICE;
  const badFrom = serviceNameProblem(from);
  if (badFrom !== undefined) return fail(`${toFile?.file ?? to}: @meta enable-via: ${badFrom}`);
  if (from === to) return fail(`${to} cannot ${verb} itself`);

  const fromFile = serviceFile(from, dirs, fs);
  if (fromFile !== undefined && "unreadable" in fromFile) return fail(fromFile.unreadable);
  let dir: string | undefined;
  if (fromFile !== undefined) {
    const { argument } = splitInstanceName(from);
    const parsed = parseService(fromFile.text, { name: from, file: fromFile.file, ...(argument !== undefined && { argument }) });
    const waitsForDirs = parsed.dependencyDirs.filter((entry) => entry.kind === "waitsFor");
    if (waitsForDirs.length > 1) {
      const lines = waitsForDirs.map((entry) => entry.origin.line).join(", ");
      return fail(`${fromFile.file} has ${waitsForDirs.length} waits-for.d settings (lines ${lines}); ${verb} needs exactly one`);
    }
    if (waitsForDirs.length === 1) dir = joinPath(dirOf(fromFile.file), waitsForDirs[0]!.path);
  } else if (from !== BOOT_SERVICE) {
    return fail(`no service named ${from} in ${dirs.join(", ")}`);
  }
  let createDir = false;
  if (dir === undefined) {
    if (from !== BOOT_SERVICE) return fail(`${fromFile?.file ?? from} has no waits-for.d setting; add one (such as waits-for.d = ${from}.d) to ${verb} services from it`);
    // tsinit's boot.d/: the one a services directory already has, else the first directory's.
    dir = dirs.map((d) => joinPath(d, `${BOOT_SERVICE}.d`)).find((path) => fs.readDir(path) !== undefined);
    if (dir === undefined) {
      dir = joinPath(dirs[0]!, `${BOOT_SERVICE}.d`);
      createDir = true;
    }
  } else if (fs.readDir(dir) === undefined) {
    if (verb === "enable") createDir = true;
  }
  const path = joinPath(dir, to);
  const plan: LinkPlan = { from, dir, path, target: toFile?.file ?? to, exists: !createDir && fs.entryExists(path), createDir };
  if (noFile !== undefined) plan.noFile = noFile;
  return { ok: true, plan };
}
