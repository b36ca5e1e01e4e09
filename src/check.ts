// `tsinit check [-d DIR]... [NAME...]` (and `initctl check`): dinitcheck for tsinit. Loads the
// named services (default `boot`) and everything they reach, as PID 1 would, without starting
// anything, and prints every problem with file:line and setting: what loading finds (syntax,
// values, types, missing dependencies), dependency cycles with their members, and what only the
// file system can tell (programs that cannot be executed, env-files that cannot be read).
// Exits 1 when there is an error, else 0; warnings are printed either way. `--root DIR` checks a
// tree as if it were `/` (an image's files on the build host).
import { formatDiagnostic, type Diagnostic } from "./config/diagnostic.ts";
import { checkFiles } from "./config/check.ts";
import { BOOT_SERVICE, loadService, loadServices, unreadableDirectories } from "./config/load.ts";
import { settingKey } from "./config/parse.ts";
import { findCycles, formatCycle } from "./core/graph.ts";
import { SERVICES_DIR } from "./init.ts";
import { sysConfigFs } from "./service-loading.ts";
import { fileProbe, inRoot } from "./sys/file-probe.ts";
import type { ConfigFs } from "./config/load.ts";
import type { Sys } from "./sys/sys.ts";

export const CHECK_USAGE = "usage: tsinit check [-d|--services-dir DIR]... [--root DIR] [NAME...]";

export interface CheckArgs {
  dirs: string[];
  names: string[];
  /** Programs, env-files and working directories are looked for below this (an image's tree). */
  root?: string;
}

/** The arguments, or a usage error's message. */
export function parseCheckArgs(args: readonly string[]): CheckArgs | string {
  const dirs: string[] = [];
  const names: string[] = [];
  let root: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "-d" || arg === "--services-dir") {
      const dir = args[++i];
      if (dir === undefined) return `${arg} needs a directory`;
      dirs.push(dir);
    } else if (arg === "--root") {
      root = args[++i];
      if (root === undefined) return `${arg} needs a directory`;
    } else if (arg.startsWith("--services-dir=")) dirs.push(arg.slice("--services-dir=".length));
    else if (arg.startsWith("-")) return `unknown option ${arg}`;
    else names.push(arg);
  }
  return { dirs: dirs.length === 0 ? [SERVICES_DIR] : dirs, names: names.length === 0 ? [BOOT_SERVICE] : names, ...(root !== undefined && { root }) };
}

export interface CheckReport {
  diagnostics: Diagnostic[];
  checked: number;
}

/** With a root, the service directories are read inside it too, as after a chroot. */
function withinRoot(fs: ConfigFs, root: string | undefined): ConfigFs {
  if (root === undefined) return fs;
  return {
    readFile: (path) => {
      const real = inRoot(root, path);
      return real === undefined ? { unreadable: "ELOOP (a symbolic link loop, or too many links)" } : fs.readFile(real);
    },
    readDir: (path) => {
      const real = inRoot(root, path);
      return real === undefined ? undefined : fs.readDir(real);
    },
  };
}

/** Everything wrong with `names` and what they reach, in the order found. */
export function checkServices(sys: Sys, args: CheckArgs, env: Readonly<Record<string, string | undefined>> = {}): CheckReport {
  const fs = withinRoot(sysConfigFs(sys), args.root);
  const result = loadServices(args.dirs, fs, { roots: args.names });
  const diagnostics = [...unreadableDirectories(args.dirs, fs), ...result.diagnostics];
  for (const name of args.names) {
    if (result.missing.has(name)) diagnostics.push({ severity: "error", file: args.dirs.join(":"), line: 0, message: `no service named ${JSON.stringify(name)}` });
  }
  for (const cycle of findCycles(result.services)) {
    const first = result.services.get(cycle[0] as string);
    diagnostics.push({ severity: "error", file: first?.file ?? args.dirs.join(":"), line: 0, message: `dependency cycle: ${formatCycle(cycle)}; its members can never start` });
  }
  const probe = fileProbe(args.root);
  for (const spec of result.services.values()) {
    diagnostics.push(...checkFiles(spec, probe, env.PATH));
    // chain-to is loaded only when the chain is taken; a name with no file is worth a word.
    if (spec.chainTo !== undefined && !result.services.has(spec.chainTo) && !loadService(spec.chainTo, args.dirs, fs).found) {
      const origin = spec.origins?.[settingKey("chain-to")];
      diagnostics.push({ severity: "warning", file: origin?.file ?? spec.file, line: origin?.line ?? 0, setting: "chain-to", message: `no service named ${JSON.stringify(spec.chainTo)}` });
    }
  }
  return { diagnostics, checked: result.services.size };
}

/** Runs the check and prints it; the exit status. */
export function runCheck(sys: Sys, args: readonly string[], write: (text: string) => void, env: Readonly<Record<string, string | undefined>> = {}): number {
  const parsed = parseCheckArgs(args);
  if (typeof parsed === "string") {
    write(`tsinit check: ${parsed}\n${CHECK_USAGE}\n`);
    return 2;
  }
  const { diagnostics, checked } = checkServices(sys, parsed, env);
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  for (const d of diagnostics) write(`${d.severity}: ${formatDiagnostic(d)}\n`);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const where = parsed.root === undefined ? "" : ` in ${parsed.root}`;
  write(`${plural(checked, "service")} loaded from ${parsed.dirs.join(" ")}${where} (${parsed.names.join(" ")}): ${plural(errors, "error")}, ${plural(warnings, "warning")}\n`);
  return errors > 0 ? 1 : 0;
}
