// Reads service directories through Sys as dinit does, on demand: the boot target and what it
// reaches at start, a name a client gives when it is not loaded yet, and what is loaded again
// on a reload. Prints what was wrong with each bad file (file:line: setting), reports
// dependency cycles, and hands the good specs to the supervisor. A bad file never stops the
// others from loading; a waits-for dependency that does not load becomes a service that fails
// when started, with why.
import { defaultSpec, type ServiceSpec } from "./base/service-spec.ts";
import { formatDiagnostic, type Diagnostic } from "./config/diagnostic.ts";
import { joinPath, LIMITS, loadServices, serviceFilePaths, unreadableDirectories, type ConfigFs, type LoadResult, type UnreadableFile } from "./config/load.ts";
import { TemplateTally, type TemplateUse } from "./config/template-limits.ts";
import { bothDescriptions, cycleReason, findCycles, type OnStep } from "./core/graph.ts";
import type { ReloadSummary } from "./core/service-set.ts";
import type { Supervisor } from "./supervisor/supervisor.ts";
import type { Log } from "./log/log.ts";
import type { Sys } from "./sys/sys.ts";

export interface LoadedServices {
  services: Map<string, ServiceSpec>;
  /** Services that can never start, with why: waits-for dependencies that did not load. */
  blocked: Map<string, string>;
  /** Dependency cycles, each as findCycles gives it: their members cannot start while they are on one. */
  cycles: string[][];
  /** Roots with no file at all. */
  missing: Set<string>;
}

/** What loading a name on demand gave. */
export type LoadAnswer = { kind: "loaded" } | { kind: "missing" } | { kind: "failed"; message: string };

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

export function sysConfigFs(sys: Sys): ConfigFs {
  return {
    readFile: (path) => readServiceFile(sys, path),
    readDir: (path) => sys.readDir(path),
  };
}

/** Why a placeholder for a waits-for dependency that did not load refuses to start. */
function placeholderReason(name: string, why: string): string {
  return `did not load: ${why}; fix it and run initctl reload ${name}`;
}

/** The service directories of one supervisor, and what has been loaded from them. */
export class ServiceDirectories {
  private readonly fs: ConfigFs;
  private supervisor: Supervisor | undefined;
  /** What the supervisor's template instances cost, kept up to date as its services change. */
  private tally: TemplateTally | undefined;

  /**
   * `onStep` counts the steps of the cycle search of each on-demand load (graph.ts), and each
   * service counted into or out of the template tally (tests).
   */
  constructor(
    private readonly sys: Sys,
    private readonly log: Log,
    readonly dirs: readonly string[],
    private readonly onStep?: OnStep,
  ) {
    this.fs = sysConfigFs(sys);
  }

  /**
   * Whether a file could describe `name` (anything but a directory at one of the paths that
   * loading it would read, a dangling link included), without reading or loading it: for
   * questions a client may ask that must not make PID 1 load anything.
   */
  hasFile(name: string): boolean {
    return serviceFilePaths(name, this.dirs).some((path) => this.sys.readlink(path) !== undefined || (this.sys.exists(path) && !this.sys.isDirectory(path)));
  }

  /** The first load, before the supervisor exists: `roots` and everything they reach. */
  loadInitial(roots: readonly string[]): LoadedServices {
    report(this.log, unreadableDirectories(this.dirs, this.fs));
    const result = this.load(roots, () => false);
    const services = new Map(result.services);
    const blocked = new Map<string, string>();
    this.addPlaceholders(result, services, blocked, () => false);
    const cycles = this.cycles(services);
    return { services, blocked, cycles, missing: result.missing };
  }

  /**
   * The supervisor that `ensure` and `reload` work on. It loads through `ensure` too: a chain-to
   * target is loaded only when the chain is taken.
   */
  attach(supervisor: Supervisor): void {
    this.supervisor = supervisor;
    supervisor.loader = (name) => this.ensure(name);
    // Counted once here, then as services come and go: counting them all on each on-demand
    // load cost O(all services) a load.
    const tally = TemplateTally.of(supervisor.serviceList().map((record) => record.spec), this.onStep);
    this.tally = tally;
    supervisor.services.watchSpecs((spec, how) => (how === "add" ? tally.add(spec) : tally.remove(spec)));
  }

  /**
   * Load `name` (and what it reaches) if it is not loaded yet, as dinit does for a name a client
   * gives. A service added at run time or already loaded is left as it is.
   */
  ensure(name: string): LoadAnswer {
    const supervisor = this.supervisor;
    if (supervisor === undefined || supervisor.service(name) !== undefined) return { kind: "loaded" };
    // The instances the supervisor has count against the template limits.
    const knownInstances = this.tally;
    // A stand-in is read again: its file may load now.
    const result = this.load([name], (other) => supervisor.service(other) !== undefined && !supervisor.services.standsIn(other), knownInstances);
    if (!result.services.has(name)) {
      if (result.missing.has(name)) return { kind: "missing" };
      const why = result.diagnostics.find((d) => d.severity === "error");
      return { kind: "failed", message: why === undefined ? `${name} failed to load` : `${name} failed to load: ${formatDiagnostic(why)}` };
    }
    const blocked = new Map<string, string>();
    const added = new Map(result.services);
    this.addPlaceholders(result, added, blocked, (other) => supervisor.service(other) !== undefined);
    for (const spec of added.values()) supervisor.add(spec);
    for (const [service, reason] of blocked) supervisor.services.block(service, reason);
    // Only through what was added can a new cycle close (any new edge ends at one of them):
    // looking at what they reach, not at every service, keeps loading N services one by one
    // from costing N times the whole set.
    const cycles = supervisor.services.cyclesThrough(added.keys(), this.onStep);
    for (const cycle of this.reportCycles(cycles)) supervisor.services.blockCycle(cycle);
    this.log.info(`loaded ${[...added.keys()].join(", ")}`);
    return { kind: "loaded" };
  }

  /**
   * Read again every loaded service that came from a file (and what they reach now), into the
   * running supervisor, and say what changed.
   */
  reload(): ReloadSummary {
    const supervisor = this.supervisor;
    if (supervisor === undefined) throw new Error("reload before the supervisor exists");
    const roots = supervisor.serviceList().filter((record) => record.spec.file !== "").map((record) => record.spec.name);
    const result = this.load(roots, () => false);
    const services = new Map(result.services);
    const blocked = new Map<string, string>();
    const isReal = (name: string): boolean => {
      const record = supervisor.service(name);
      return record !== undefined && record.spec.file !== "" && !supervisor.services.standsIn(name);
    };
    // A loaded service whose file now fails keeps the description it runs with.
    const kept = this.addPlaceholders(result, services, blocked, isReal);
    // Cycles over every service there will be, not just the files': a service added with
    // initctl run (and the edges add-dep gave it) keeps its description, and so does one whose
    // file now fails.
    const graph = new Map(services);
    for (const record of supervisor.serviceList()) {
      const name = record.spec.name;
      if (record.spec.file === "" || kept.includes(name)) graph.set(name, record.spec);
      // A running service's new description waits until it stops, and it may restart under the
      // one in place meanwhile: both count, as the run-time checks count them.
      else if (record.state !== "stopped" && services.has(name)) graph.set(name, bothDescriptions(record.spec, services.get(name)!));
    }
    const cycles = this.cycles(graph);
    const unreadable = new Set([...result.failed, ...kept]);
    const summary = supervisor.reload(services, blocked, unreadable, cycles);
    const parts = (["added", "changed", "removed"] as const)
      .filter((key) => summary[key].length > 0)
      .map((key) => `${key} ${summary[key].join(", ")}`);
    this.log.info(`reloaded ${this.dirs.join(" ")}: ${parts.length === 0 ? "nothing changed" : parts.join("; ")}`);
    if (summary.pending.length > 0) this.log.info(`${summary.pending.join(", ")}: will change once stopped`);
    if (summary.kept.length > 0) this.log.warn(`${summary.kept.join(", ")}: the files have errors; keeping the descriptions in use`);
    for (const name of summary.shadowed) this.log.warn(`${name}: a service added with initctl run has this name; its file is ignored until that service is removed`);
    return summary;
  }

  private load(roots: readonly string[], known: (name: string) => boolean, knownInstances?: ReadonlyMap<string, TemplateUse> | TemplateTally): LoadResult {
    const result = loadServices(this.dirs, this.fs, { roots, known, ...(knownInstances !== undefined && { knownInstances }) });
    report(this.log, result.diagnostics);
    return result;
  }

  /**
   * A waits-for dependency that did not load becomes an internal service that refuses to
   * start, with why: its dependents wait for it as for one that failed. Names for which
   * `exists` holds are left as they are; they are returned.
   */
  private addPlaceholders(result: LoadResult, services: Map<string, ServiceSpec>, blocked: Map<string, string>, exists: (name: string) => boolean): string[] {
    const left: string[] = [];
    for (const [name, why] of result.unloadable) {
      if (exists(name)) {
        left.push(name);
        continue;
      }
      services.set(name, defaultSpec(name, "internal", joinPath(this.dirs[0] ?? ".", name)));
      blocked.set(name, placeholderReason(name, why));
    }
    return left;
  }

  /** The cycles among `services`, each said once. The service set blocks their members (ServiceSet.blockCycle). */
  private cycles(services: ReadonlyMap<string, ServiceSpec>): string[][] {
    return this.reportCycles(findCycles(services));
  }

  private reportCycles(found: string[][]): string[][] {
    for (const cycle of found) this.log.error(`${cycleReason(cycle)}; its members will not start`);
    return found;
  }
}

function report(log: Log, diagnostics: readonly Diagnostic[]): void {
  for (const diagnostic of diagnostics) {
    const text = formatDiagnostic(diagnostic);
    if (diagnostic.severity === "error") log.error(text);
    else log.warn(text);
  }
}
