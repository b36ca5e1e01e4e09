// Reads service directories through Sys, prints what was wrong with each bad file (file:line:
// setting), reports dependency cycles, and hands the good specs on. A bad file never stops
// the others from loading.
import { formatDiagnostic } from "./config/diagnostic.ts";
import { LIMITS, loadServices, type UnreadableFile } from "./config/load.ts";
import { findCycles, formatCycle } from "./core/graph.ts";
import type { ReloadSummary } from "./core/service-set.ts";
import type { ServiceSpec } from "./base/service-spec.ts";
import type { Supervisor } from "./supervisor/supervisor.ts";
import type { Log } from "./log/log.ts";
import type { Sys } from "./sys/sys.ts";

export interface LoadedServices {
  services: Map<string, ServiceSpec>;
  /** Members of dependency cycles, with the cycle they are on: they fail when started. */
  blocked: Map<string, string>;
  /** Names whose files are there but did not load (errors in them or in a dependency). */
  unreadable: Set<string>;
}

/** Re-reads the directories into a running supervisor and says what changed. */
export function reloadServiceDirs(sys: Sys, log: Log, dirs: readonly string[], supervisor: Supervisor): ReloadSummary {
  const { services, blocked, unreadable } = loadServiceDirs(sys, log, dirs);
  const summary = supervisor.reload(services, blocked, unreadable);
  const parts = (["added", "changed", "removed"] as const)
    .filter((key) => summary[key].length > 0)
    .map((key) => `${key} ${summary[key].join(", ")}`);
  log.info(`reloaded ${dirs.join(" ")}: ${parts.length === 0 ? "nothing changed" : parts.join("; ")}`);
  if (summary.pending.length > 0) log.info(`${summary.pending.join(", ")}: will change once stopped`);
  if (summary.kept.length > 0) log.warn(`${summary.kept.join(", ")}: the files have errors; keeping the descriptions in use`);
  for (const name of summary.shadowed) log.warn(`${name}: a service added with initctl run has this name; its file is ignored until that service is removed`);
  return summary;
}

/**
 * A service file through Sys.readRegularFile (non-blocking, regular files only, capped): a
 * FIFO or a link to /dev/zero in a services directory must not stop PID 1.
 */
export function readServiceFile(sys: Sys, path: string): string | undefined | UnreadableFile {
  const text = sys.readRegularFile(path, LIMITS.fileBytes);
  if (typeof text === "string") return text;
  if (text.code === "EISDIR") return undefined;
  // ENOENT for a name that a directory lists is a link to nothing: say so. For a name that
  // is only looked for (an instance's candidates) it is simply not there.
  if (text.code === "ENOENT") {
    const target = sys.readlink(path);
    return target === undefined ? undefined : { unreadable: `a dangling symbolic link to ${JSON.stringify(target)}` };
  }
  if (text.code === "ELOOP") return { unreadable: "ELOOP (a symbolic link loop, or too many links)" };
  return { unreadable: text.reason };
}

export function loadServiceDirs(sys: Sys, log: Log, dirs: readonly string[]): LoadedServices {
  const { services, diagnostics } = loadServices([...dirs], {
    readFile: (path) => readServiceFile(sys, path),
    readDir: (path) => sys.readDir(path),
  });
  for (const diagnostic of diagnostics) {
    const text = formatDiagnostic(diagnostic);
    if (diagnostic.severity === "error") log.error(text);
    else log.warn(text);
  }
  const blocked = new Map<string, string>();
  for (const cycle of findCycles(services)) {
    const reason = `dependency cycle: ${formatCycle(cycle)}`;
    log.error(`${reason}; its members will not start`);
    for (const name of cycle) blocked.set(name, reason);
  }
  // A diagnostic error names the file of the service that failed to load.
  const unreadable = new Set(
    diagnostics.filter((d) => d.severity === "error").map((d) => d.file.split("/").at(-1) ?? "").filter((name) => name !== "" && !services.has(name)),
  );
  return { services, blocked, unreadable };
}
