// The service set: every loaded service, its live state, and the rules that move it.
//
// Model (dinit's). A service has a current state (stopped, starting, started, stopping) and is
// *wanted* or not. It is wanted when it was started explicitly (a command, or being the boot
// target) or while a wanted dependent holds it: becoming wanted acquires each dependency
// (`holds`, `requiredBy`), becoming unwanted releases them. States then follow wants:
// - a wanted, stopped service launches once its depends-on/depends-ms are started, its
//   waits-for have settled (started or given up) and the services it is ordered after are not
//   about to start;
// - a started service that must stop (unwanted, a restart was asked, or a depends-on dependency
//   is going down) stops only after every running hard dependent has stopped, so stop order is
//   the reverse of start order;
// - a failure, or a stop that is not followed by a restart, forces down the hard dependents
//   (they are unmarked and, if still waiting to start, fail with "dependency X failed") and
//   releases the waits-for dependents' hold.
//
// Transitions never recurse, and they go through one queue (dinit's flag-and-drain, not
// finit's re-derive-until-stable): commands and process events only change flags and states,
// and every change of a service's state, wants or restart flags `touch`es it, which puts on the
// dirty queue exactly the services whose next step could now differ: the service itself, the
// services that need it (depends-on, depends-ms, waits-for) and those it needs, the services
// ordered after it, and the console's waiters when the console is let go. `settle()` then
// drains the queue, stepping each service once per touch, until it is empty. Who needs whom
// comes from reverse indexes built when a spec is added, replaced (a reload, once it applies)
// or removed, so no step scans the whole set. Whether a started service must stop (it, or a
// depends-on dependency below it, is going down) is kept as a flag that a touch recomputes
// and pushes up to the hard dependents at once, so a step never walks the dependency chain.
//
// A command event that carries an id is answered by exactly one `outcome` action: it is kept
// with its service and looked at again only when that service was touched.
// Everything that should happen outside is returned as Actions.
import { SIGNALS } from "../base/signals.ts";
import { describeExit, describeSpawnFailure, type ExitStatus } from "../base/process.ts";
import type { Action, CommandOp, Event, ProcessRole, TimerKind } from "./events.ts";
import { commandVerdict } from "./command-outcome.ts";
import { ServiceIndex, usesConsole } from "./service-index.ts";
import { decideRestart, emptyCrashHistory, isFailure, QUICK_CRASH_MS, spinFloorMs, type CrashHistory } from "./restart.ts";
import { bothDescriptions, cycleReason, findCycles, findCyclesThrough, formatCycle, type OnStep } from "./graph.ts";
import type { ServiceSpec } from "../base/service-spec.ts";

const { INT: SIGINT, KILL: SIGKILL } = SIGNALS;

export type ServiceState = "stopped" | "starting" | "started" | "stopping";

/** dinit's three kinds of dependency, as add-dep and rm-dep name them. */
export type DependencyKind = "regular" | "milestone" | "waits-for";
export const DEPENDENCY_KINDS: readonly DependencyKind[] = ["regular", "milestone", "waits-for"];
const DEPENDENCY_LIST = { regular: "dependsOn", milestone: "dependsMs", "waits-for": "waitsFor" } as const satisfies Record<DependencyKind, keyof ServiceSpec>;

/** The live side of a service; its spec is what its file said. */
export interface ServiceRecord {
  /**
   * Replaced by a reload only while the service is stopped and unwanted (it holds nothing);
   * by add-dep, rm-dep and `reload NAME` at once, with its holds adjusted to the new lists.
   */
  spec: ServiceSpec;
  /** A reloaded description waiting for the service to be stopped and unwanted. */
  pendingSpec?: ServiceSpec | "removed";
  state: ServiceState;
  /** Started by a command or as the boot target (dinit's "marked active"). */
  explicit: boolean;
  /** How many wanted dependents hold this service. */
  requiredBy: number;
  /** The dependencies this service holds while it is wanted. */
  readonly holds: Set<string>;
  pid?: number;
  stopPid?: number;
  /** Why the last start or run failed, until the next launch. */
  failed?: string;
  /**
   * `failed` is a run that ended, not a start that failed (dinit's "terminated"): dinitctl's
   * is-failed answers no for it.
   */
  terminated?: boolean;
  /**
   * Why this service cannot start: it is on a dependency cycle (lifted once a change breaks
   * the cycle), or it stands for a waits-for dependency that did not load (until a full reload).
   */
  blocked?: string;
  restartPending: boolean;
  /** A restart command: stop, then start again because it is still wanted. */
  restartRequested: boolean;
  /** A `triggered` service's trigger has been set. */
  triggered: boolean;
  /** tsinit itself sent SIGINT to cancel the start (start-interruptible). */
  startCancelled: boolean;
  /** kill-all-on-stop: every other process was told to go before this stop (until the next launch). */
  killedAll?: boolean;
  /** When chains started this service, for the chain-loop limit. */
  chainStarts: number[];
  /**
   * The service whose chain starts this one once the spin guard's delay (a `chain` timer) is
   * over; a stop cancels it.
   */
  chainPending?: string;
  /** Chains this service took after runs shorter than QUICK_CRASH_MS in a row (the spin guard). */
  quickChains: number;
  startedAt?: number;
  lastExit?: ExitStatus;
  crashes: CrashHistory;
  nextRestartAt?: number;
}

export interface ServiceSetOptions {
  now: () => number;
  random?: () => number;
  /** The terminal that runs-on-console services get. */
  console?: string;
}

/** Steps a settle may take beyond 64 per service before it gives up (a loop that spins). */
const SETTLE_STEP_LIMIT = 10_000;

export interface ReloadSummary {
  added: string[];
  changed: string[];
  removed: string[];
  /** Changed or removed services still running (or wanted): they change once stopped. */
  pending: string[];
  /** Files named like a service added at run time: ignored until that service is removed. */
  shadowed: string[];
  /** Services whose files (or dependencies) failed to load: they keep the description they have. */
  kept: string[];
}

/**
 * A service added at run time (`initctl run`): no file, and a process (the `boot` that loading
 * makes up when there is no file for it has no file either, but is internal).
 */
function addedAtRunTime(spec: ServiceSpec): boolean {
  return spec.file === "" && spec.type === "process";
}

/**
 * A service from a file never binds to one added at run time: that one belongs to whoever
 * added it (possibly a non-root user, who could take a dependency's name before root adds the
 * file, then stop or replace it and so force root's service down). The dependent neither holds
 * it (so does not start it) nor starts: its start fails with the reason.
 */
function unbindable(dependent: ServiceRecord, dependency: ServiceRecord): boolean {
  return dependent.spec.file !== "" && addedAtRunTime(dependency.spec);
}

function describeRunTimeService(spec: ServiceSpec): string {
  // A non-root caller's service runs as that caller, by number (src/control/runtime-services.ts).
  const uid = spec.runAs !== undefined && /^\d+$/.test(spec.runAs.user) ? ` by uid ${spec.runAs.user}` : "";
  return `a service added with initctl run${uid}`;
}

/**
 * A spec's content as a comparable string (options is a Set, origins only say where). The
 * dependency lists are compared as sets: an enable or add-dep appends at run time where a
 * reload of the files would list boot.d's entries in order, and that is no change.
 */
function specKey(spec: ServiceSpec): string {
  const sorted = (list: readonly string[]) => [...list].sort();
  return JSON.stringify({
    ...spec,
    options: sorted([...spec.options]),
    origins: undefined,
    dependsOn: sorted(spec.dependsOn),
    dependsMs: sorted(spec.dependsMs),
    waitsFor: sorted(spec.waitsFor),
    before: sorted(spec.before),
    after: sorted(spec.after),
  });
}

/** Stopped, and no restart or held-back chain will start it again of itself. */
export function settled(record: ServiceRecord): boolean {
  return record.state === "stopped" && !record.restartPending && record.chainPending === undefined;
}

export class ServiceSet {
  private readonly records = new Map<string, ServiceRecord>();
  private readonly index = new ServiceIndex();
  private specWatcher: ((spec: ServiceSpec, how: "add" | "remove") => void) | undefined;
  private actions: Action[] = [];
  /** The service that holds the console (runs-on-console, or starts-on-console while starting). */
  private consoleOwner: string | undefined;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly console: string;
  /** Services whose next step may have changed since they were last stepped, in touch order. */
  private readonly dirty = new Set<ServiceRecord>();
  /**
   * Services that must stop if they are running: unwanted, asked to restart, or a depends-on
   * dependency is not started or must stop itself. Kept current by every touch.
   */
  private readonly doomed = new Set<ServiceRecord>();
  /** Services starting, stopping, or waiting for a restart: the set is quiet when this is empty. */
  private readonly busy = new Set<ServiceRecord>();
  /** Services with a reloaded description waiting to be applied. */
  private readonly pendingSpecs = new Set<ServiceRecord>();
  /**
   * By name: the services whose waiting description has it in `before`. An on-demand load reads
   * it for each service it reaches, so that with thousands waiting it costs what it reaches.
   */
  private readonly pendingOrderedBefore = new Map<string, Set<string>>();
  /** Services blocked for being on a dependency cycle (blockCycle), as opposed to other blocks. */
  private readonly onCycle = new Set<ServiceRecord>();
  /**
   * The other blocks (block(): a waits-for dependency that did not load), kept apart so that a
   * cycle block over one of them, once lifted, gives it back rather than lifting it too.
   */
  private readonly standIns = new Map<ServiceRecord, string>();
  /** Commands that carried an id and have no outcome yet, by service. */
  private readonly commands = new Map<ServiceRecord, { id: number; op: CommandOp }[]>();
  /** Services with commands that a settle touched: their commands are looked at after it. */
  private readonly commandsToCheck = new Set<ServiceRecord>();
  /** Per service: its waits-for, after and ordered-before names; dropped when any spec changes. */
  private readonly softGates = new Map<ServiceRecord, string[]>();
  /** Per service: where the last scan of its soft gates found one waiting. */
  private readonly softCursor = new Map<ServiceRecord, number>();
  /** The main pid of a service started through the exec helper that has not exec'd yet. */
  private readonly execPending = new Map<ServiceRecord, number>();
  /**
   * Services whose main process (or stop-command) was asked for with a `spawn` action and is not
   * yet created: the runtime may carry a spawn out later (a queue served in turns). Set when the
   * action is emitted, cleared at its `spawned` or `spawn-failed`, or when the service stops.
   */
  private readonly mainSpawnAsked = new Set<ServiceRecord>();
  private readonly stopSpawnAsked = new Set<ServiceRecord>();
  /** Service steps taken since the set was made: what the settle costs, for tests. */
  private stepsTaken = 0;
  /** Shutdown has begun (stopChains): no chain-to is taken any more. */
  private chainsStopped = false;

  constructor(specs: Iterable<ServiceSpec>, options: ServiceSetOptions) {
    this.now = options.now;
    this.random = options.random ?? Math.random;
    this.console = options.console ?? "/dev/console";
    for (const spec of specs) this.add(spec);
  }

  /**
   * Called with each description that takes effect (`add`) or stops being one (`remove`):
   * every change of a record's spec passes through here, so a count kept from these calls
   * stays what counting every record again would give (the loader's template tally).
   */
  watchSpecs(watcher: ((spec: ServiceSpec, how: "add" | "remove") => void) | undefined): void {
    this.specWatcher = watcher;
  }

  add(spec: ServiceSpec): void {
    const replaced = this.records.get(spec.name);
    if (replaced !== undefined) this.forget(replaced);
    const record: ServiceRecord = {
      spec,
      state: "stopped",
      explicit: false,
      requiredBy: 0,
      holds: new Set(),
      restartPending: false,
      restartRequested: false,
      triggered: false,
      startCancelled: false,
      chainStarts: [],
      quickChains: 0,
      crashes: emptyCrashHistory(),
    };
    this.records.set(spec.name, record);
    this.indexSpec(spec, "add");
    this.doomed.add(record);
    this.touch(record);
  }

  /**
   * Take a new set of service descriptions (SIGHUP, `initctl reload`). New services are added;
   * a changed or removed one takes effect at once if it is stopped and unwanted, else when it
   * is (a running service keeps the dependencies it holds). Services added at run time (no
   * file) are left alone.
   */
  reload(specs: ReadonlyMap<string, ServiceSpec>, unreadable: ReadonlySet<string> = new Set()): ReloadSummary {
    this.actions = [];
    // A full reload's caller sets every block again from what loading found (clearBlocks, then
    // block and blockCycle). Members forgotten on the way must not have cycles looked at again
    // against half the new state (it would say members are free that the loader blocks again);
    // the reasons stay on the records meanwhile, so nothing blocked starts before then.
    this.onCycle.clear();
    const summary: ReloadSummary = { added: [], changed: [], removed: [], pending: [], shadowed: [], kept: [] };
    for (const [name, spec] of specs) {
      const record = this.records.get(name);
      if (record !== undefined && record.spec.file === "") {
        // A service added at run time belongs to whoever added it; a file of the same name
        // must not hand them a service the system configured.
        summary.shadowed.push(name);
      } else if (record === undefined) {
        this.add(spec);
        summary.added.push(name);
      } else if (specKey(record.spec) !== specKey(spec)) {
        this.setPendingSpec(record, spec);
        summary.changed.push(name);
      } else {
        this.setPendingSpec(record, undefined);
      }
    }
    for (const record of this.list()) {
      if (record.spec.file === "" || specs.has(record.spec.name)) continue;
      // A file that is there but did not load (a typo, or a dependency of it that did not)
      // keeps the description that runs: an edit in progress must not take services away.
      if (unreadable.has(record.spec.name)) {
        summary.kept.push(record.spec.name);
        continue;
      }
      this.setPendingSpec(record, "removed");
      summary.removed.push(record.spec.name);
    }
    this.applyPendingSpecs();
    summary.pending = this.list().filter((r) => r.pendingSpec !== undefined).map((r) => r.spec.name);
    this.settle();
    return summary;
  }

  /** The actions a reload or a removal produced. */
  takeActions(): Action[] {
    const actions = this.actions;
    this.actions = [];
    return actions;
  }

  private setPendingSpec(record: ServiceRecord, pending: ServiceSpec | "removed" | undefined): void {
    this.indexPendingBefore(record, "remove");
    record.pendingSpec = pending;
    if (pending === undefined) this.pendingSpecs.delete(record);
    else this.pendingSpecs.add(record);
    this.indexPendingBefore(record, "add");
  }

  private indexPendingBefore(record: ServiceRecord, how: "add" | "remove"): void {
    const pending = record.pendingSpec;
    if (pending === undefined || pending === "removed") return;
    for (const target of pending.before) {
      let names = this.pendingOrderedBefore.get(target);
      if (how === "add") {
        if (names === undefined) this.pendingOrderedBefore.set(target, (names = new Set()));
        names.add(pending.name);
      } else if (names !== undefined) {
        names.delete(pending.name);
        if (names.size === 0) this.pendingOrderedBefore.delete(target);
      }
    }
  }

  /** Only services with a waiting description are looked at, not the whole set. */
  private applyPendingSpecs(): void {
    for (const record of [...this.pendingSpecs]) {
      const pending = record.pendingSpec;
      if (pending === undefined) {
        this.pendingSpecs.delete(record);
        continue;
      }
      if (!this.idle(record)) continue;
      if (pending === "removed") {
        this.forget(record);
        continue;
      }
      // A cycle block may rest on an edge only the old description has (an on-demand load counts
      // both while the service may still run with the old one): read before it goes.
      const mates = this.cycleMates(record);
      // The neighbours of the old description and of the new one may both step differently.
      this.touch(record);
      this.indexSpec(record.spec, "remove");
      record.spec = pending;
      this.setPendingSpec(record, undefined);
      this.indexSpec(record.spec, "add");
      this.touch(record);
      if (mates !== undefined) this.recheckCycles(mates);
    }
  }

  /** Forget a stopped service that nothing holds; false (and nothing changes) otherwise. */
  remove(name: string): boolean {
    this.actions = [];
    const record = this.records.get(name);
    if (record === undefined || !this.idle(record)) return false;
    this.forget(record);
    // Its neighbours may step now (a waits-for dependent no longer waits); see takeActions.
    this.settle();
    return true;
  }

  /**
   * dinit's unload: forget a stopped service that nothing holds and no loaded service names as
   * a dependency. undefined when done, else why not.
   */
  unload(name: string): string | undefined {
    const record = this.records.get(name);
    if (record === undefined) return `no service named ${name}`;
    if (!this.idle(record)) {
      const waiting = record.chainPending !== undefined ? ` with a chain-to start from ${record.chainPending} pending` : record.restartPending ? " with a restart pending" : "";
      return `${name} is ${record.state}${this.wanted(record) ? " and wanted" : ""}${waiting}; stop it first`;
    }
    const dependents = this.dependents(record).map((dependent) => dependent.spec.name);
    if (dependents.length > 0) return `${name} has loaded dependents (${dependents.sort().join(", ")}); unload them first`;
    this.remove(name);
    return undefined;
  }

  /**
   * The loaded services that name `name` as a dependency, each with the kind of dependency and
   * whether it holds `name` now (it is wanted and acquired it).
   */
  dependentsOf(name: string): { name: string; kind: DependencyKind; holds: boolean }[] {
    const found: { name: string; kind: DependencyKind; holds: boolean }[] = [];
    for (const dependent of [...this.index.dependentsOf(name)].sort()) {
      const record = this.records.get(dependent);
      if (record === undefined) continue;
      for (const kind of DEPENDENCY_KINDS) {
        if (record.spec[DEPENDENCY_LIST[kind]].includes(name)) found.push({ name: dependent, kind, holds: record.holds.has(name) });
      }
    }
    return found;
  }

  /**
   * The direct dependents that a stop of `name` would take down with it: those that hold it
   * through depends-on, or depends-ms while they have not started yet. dinit refuses a stop
   * without --force while there are any, and names them.
   */
  activeHardDependents(name: string): string[] {
    const record = this.records.get(name);
    if (record === undefined) return [];
    return this.dependents(record)
      .filter((dependent) => this.isHardHolder(dependent, name))
      .map((dependent) => dependent.spec.name)
      .sort();
  }

  /**
   * dinit's add-dep (and enable, with `acquire`): `from` gets a dependency of `kind` on `to`.
   * A wanted `from` holds a new hard dependency at once; a waits-for one only with `acquire`
   * (enable starts it, add-dep does not). undefined when done, else why not.
   */
  addDependency(from: string, kind: DependencyKind, to: string, options: { acquire?: boolean } = {}): string | undefined {
    this.actions = [];
    const record = this.records.get(from);
    const dependency = this.records.get(to);
    if (record === undefined) return `no service named ${from}`;
    if (dependency === undefined) return `no service named ${to}`;
    if (from === to) return `${from} cannot depend on itself`;
    const list = DEPENDENCY_LIST[kind];
    if (record.spec[list].includes(to)) return `${from} already has a ${kind} dependency on ${to}`;
    if (unbindable(record, dependency)) return `${to} is ${describeRunTimeService(dependency.spec)}; a service from a file cannot depend on it`;
    const cycle = this.closesCycle(from, to);
    if (cycle !== undefined) return cycle;
    if (kind === "regular" && record.state !== "stopped" && dependency.state !== "started") {
      return `${from} is ${record.state}, so ${to} must be started before it can be a regular dependency (it is ${dependency.state})`;
    }
    this.replaceSpecNow(record, { ...record.spec, [list]: [...record.spec[list], to] });
    if (this.wanted(record) && (kind !== "waits-for" || options.acquire === true) && !record.holds.has(to)) this.hold(record, dependency);
    this.settle();
    return undefined;
  }

  /** dinit's rm-dep (and disable): `to` may stop if nothing else holds it. */
  removeDependency(from: string, kind: DependencyKind, to: string): string | undefined {
    this.actions = [];
    const record = this.records.get(from);
    if (record === undefined) return `no service named ${from}`;
    const list = DEPENDENCY_LIST[kind];
    if (!record.spec[list].includes(to)) return `${from} has no ${kind} dependency on ${to}`;
    const mates = this.cycleMates(record);
    this.replaceSpecNow(record, { ...record.spec, [list]: record.spec[list].filter((name) => name !== to) });
    if (mates !== undefined) this.recheckCycles(mates);
    const stillNamed = DEPENDENCY_KINDS.some((other) => record.spec[DEPENDENCY_LIST[other]].includes(to));
    if (!stillNamed) this.letGo(record, to);
    this.settle();
    return undefined;
  }

  /**
   * dinit's `reload NAME`: a new description for one service. A service stopped and unwanted
   * takes it at once. A running one takes it too, as dinit does, within limits: its type,
   * pid-file, inittab-id, inittab-line and console options cannot change, and a new hard dependency must be started
   * already; its holds follow the new dependency lists, and the new command, environment and
   * the like apply from its next start. undefined when done, else why not.
   */
  reloadOne(spec: ServiceSpec): string | undefined {
    this.actions = [];
    const record = this.records.get(spec.name);
    if (record === undefined) {
      // A name loaded for the first time can close a cycle as well: a loaded service may
      // already order itself after it (`after = x` written before x had a file).
      const cycle = this.newCycle(spec, undefined);
      if (cycle !== undefined) return cycle;
      this.add(spec);
      this.settle();
      return undefined;
    }
    if (addedAtRunTime(record.spec)) return `${spec.name} was added with initctl run; it has no file to reload`;
    for (const name of [...spec.dependsOn, ...spec.dependsMs, ...spec.waitsFor]) {
      if (!this.records.has(name)) return `it names ${name} as a dependency, which is not loaded`;
    }
    const cycle = this.newCycle(spec, record.spec);
    if (cycle !== undefined) return cycle;
    const quiet = record.state === "stopped" && !this.wanted(record) && !record.restartPending;
    if (!quiet) {
      const old = record.spec;
      const changed = (what: string) => `${spec.name} is ${record.state}: its ${what} cannot change until it is stopped`;
      if (old.type !== spec.type) return changed(`type (${old.type})`);
      if (old.pidFile !== spec.pidFile) return changed("pid-file");
      // The utmp entry written at start is found again by these at exit (dinitctl(8)).
      if (old.inittabId !== spec.inittabId) return changed("inittab-id");
      if (old.inittabLine !== spec.inittabLine) return changed("inittab-line");
      for (const option of ["runs-on-console", "shares-console", "starts-on-console"] as const) {
        if (old.options.has(option) !== spec.options.has(option)) return changed(`option ${option}`);
      }
      if (record.state !== "stopped") {
        for (const name of [...spec.dependsOn, ...spec.dependsMs]) {
          if (old.dependsOn.includes(name) || old.dependsMs.includes(name)) continue;
          if (this.records.get(name)?.state !== "started") return `${spec.name} is ${record.state}: its new hard dependency ${name} must be started first`;
        }
      }
    }
    // Read before the old description (and any waiting one) goes: the cycles it was blocked for.
    const mates = this.cycleMates(record);
    this.setPendingSpec(record, undefined);
    this.replaceSpecNow(record, spec);
    // The description was read from its file: a stand-in for a dependency that did not load has
    // loaded now, and keeps no block of its own (a cycle it is still on blocks it, just below).
    const loadedNow = this.standIns.delete(record);
    if (mates !== undefined) this.recheckCycles(mates);
    if (loadedNow && !this.onCycle.has(record)) {
      record.blocked = undefined;
      this.mark(record);
      this.log("info", `${spec.name}: loaded from its file now; may start`);
    }
    // A spawn asked for and not yet carried out was built from the old description (its output,
    // its socket): it is asked for again under the new one, which replaces it where it waits.
    if (this.mainSpawnAsked.has(record)) this.spawnMain(record);
    if (this.stopSpawnAsked.has(record)) {
      if (spec.stopCommand !== undefined) this.spawnStop(record);
      else {
        // No stop-command any more: the queued one is dropped (awaitsSpawn), and the stop goes
        // on as beginStop would have begun it under the new description.
        this.stopSpawnAsked.delete(record);
        if (record.pid === undefined) this.becomeStopped(record);
        else {
          if (!spec.options.has("no-sigterm")) this.signal(record, spec.termSignal);
          this.armStopTimeout(record);
        }
      }
    }
    if (!quiet) {
      const named = new Set([...spec.dependsOn, ...spec.dependsMs, ...spec.waitsFor]);
      for (const name of [...record.holds]) if (!named.has(name)) this.letGo(record, name);
      if (this.wanted(record)) {
        for (const name of named) {
          const dependency = this.records.get(name);
          if (dependency !== undefined && !record.holds.has(name) && !unbindable(record, dependency)) this.hold(record, dependency);
        }
      }
    }
    this.settle();
    return undefined;
  }

  /**
   * Why `spec`, put in place of `old` (undefined: not loaded yet), would close a dependency
   * cycle, or undefined. Every edge of the new description is looked at as load-time cycle
   * detection counts them (graph.ts): `before = X` is X's `after`. Only edges the old
   * description did not have can close a new cycle, so a reload that keeps its edges is never
   * refused (a cycle made before, by files, is blocked by load-time detection instead).
   */
  private newCycle(spec: ServiceSpec, old: ServiceSpec | undefined): string | undefined {
    const had = (setting: "before" | "after", name: string): boolean => {
      if (old === undefined) return false;
      if (setting === "before") return old.before.includes(name);
      return old.dependsOn.includes(name) || old.dependsMs.includes(name) || old.waitsFor.includes(name) || old.after.includes(name);
    };
    for (const [setting, names] of [["depends-on", spec.dependsOn], ["depends-ms", spec.dependsMs], ["waits-for", spec.waitsFor], ["after", spec.after], ["before", spec.before]] as const) {
      for (const name of names) {
        if (had(setting === "before" ? "before" : "after", name)) continue;
        // A cycle would never start, and no start would say why.
        if (name === spec.name) return `${spec.name} names itself in ${setting}: that would be a dependency cycle: ${formatCycle([name])}`;
        if (!this.records.has(name)) continue;
        const cycle = setting === "before" ? this.closesCycle(name, spec.name, spec) : this.closesCycle(spec.name, name, spec);
        if (cycle !== undefined) return cycle;
      }
    }
    return undefined;
  }

  /**
   * Why a new edge `from -> to` ("from starts after to") would close a cycle, or undefined. The
   * edges are those of load-time cycle detection (graph.ts), over loaded services: depends-on,
   * depends-ms, waits-for and after (A -> X), and before (X -> A: ordering only, but a cycle of
   * it waits for ever all the same). `override` is a description not yet in place (reload NAME).
   */
  private closesCycle(from: string, to: string, override?: ServiceSpec): string | undefined {
    const path = this.startPath(to, from, override);
    if (path === undefined) return undefined;
    const cycle = formatCycle([from, ...path.names.slice(0, -1)]);
    const how = path.ordered ? "starts after" : "depends on";
    const through = path.ordered ? "directly or not, counting before and after" : "directly or not";
    return `${to} already ${how} ${from} (${through}): that would be a dependency cycle: ${cycle}`;
  }

  /**
   * The shortest way from `from` to `to` over "starts after" edges (see closesCycle), as the
   * names along it, `from` first; `ordered` when it takes a before or after edge.
   */
  private startPath(from: string, to: string, override?: ServiceSpec): { names: string[]; ordered: boolean } | undefined {
    const parent = new Map<string, { previous: string; order: boolean } | undefined>([[from, undefined]]);
    const pendingBefore = this.pendingBefore(override);
    const work = [from];
    for (let i = 0; i < work.length; i++) {
      const name = work[i] as string;
      if (name === to) {
        const names = [name];
        let ordered = false;
        for (let step = parent.get(name); step !== undefined; step = parent.get(step.previous)) {
          names.push(step.previous);
          ordered ||= step.order;
        }
        return { names: names.reverse(), ordered };
      }
      for (const next of this.startsAfter(name, pendingBefore, override)) {
        if (parent.has(next.name)) continue;
        parent.set(next.name, { previous: name, order: next.order });
        work.push(next.name);
      }
    }
    return undefined;
  }

  /**
   * The loaded services `name` starts after (see closesCycle), with `override` in its own place
   * (it counts as loaded: `reload NAME` may be loading it). A description waiting to be applied
   * (pendingSpec, kept while a changed service runs after a full reload) counts as well as the
   * one in place: it will be in place once the service stops, and a cycle it closes then would
   * be checked by nobody.
   */
  private startsAfter(name: string, pendingBefore: ReadonlyMap<string, string[]>, override?: ServiceSpec): { name: string; order: boolean }[] {
    const found: { name: string; order: boolean }[] = [];
    const record = this.records.get(name);
    const specs = override?.name === name ? [override] : [record?.spec, record?.pendingSpec];
    for (const spec of specs) {
      if (spec === undefined || spec === "removed") continue;
      for (const next of [...spec.dependsOn, ...spec.dependsMs, ...spec.waitsFor]) found.push({ name: next, order: false });
      for (const next of spec.after) found.push({ name: next, order: true });
    }
    for (const next of this.index.orderedBefore(name)) {
      // The overridden service's `before` is read from the new description, below.
      if (next !== override?.name) found.push({ name: next, order: true });
    }
    for (const waiting of pendingBefore.get(name) ?? []) found.push({ name: waiting, order: true });
    if (override !== undefined && override.name !== name && override.before.includes(name)) found.push({ name: override.name, order: true });
    return found.filter((next) => this.records.has(next.name) || next.name === override?.name);
  }

  /**
   * The `before` edges of the descriptions waiting to be applied, by the service they name: read
   * once per search, not at each step (10,000 pending after a reload made a search take 3.8 s).
   */
  private pendingBefore(override?: ServiceSpec): Map<string, string[]> {
    const byTarget = new Map<string, string[]>();
    for (const waiting of this.pendingSpecs) {
      const pending = waiting.pendingSpec;
      if (pending === undefined || pending === "removed" || pending.name === override?.name) continue;
      for (const target of pending.before) {
        const names = byTarget.get(target);
        if (names === undefined) byTarget.set(target, [pending.name]);
        else names.push(pending.name);
      }
    }
    return byTarget;
  }

  /** A spec changes under a live record: the indexes and both neighbourhoods follow. */
  private replaceSpecNow(record: ServiceRecord, spec: ServiceSpec): void {
    this.touch(record);
    this.indexSpec(record.spec, "remove");
    record.spec = spec;
    this.indexSpec(spec, "add");
    this.touch(record);
  }

  /** `record` (wanted) takes a hold on `dependency`, which acquires its own if it just became wanted. */
  private hold(record: ServiceRecord, dependency: ServiceRecord): void {
    const wasWanted = this.wanted(dependency);
    record.holds.add(dependency.spec.name);
    dependency.requiredBy += 1;
    this.touch(dependency);
    if (!wasWanted) this.acquireDependencies(dependency);
  }

  /** `record` drops its hold on `name`, which stops if nothing else wants it. */
  private letGo(record: ServiceRecord, name: string): void {
    if (!record.holds.delete(name)) return;
    const dependency = this.records.get(name);
    if (dependency === undefined) return;
    dependency.requiredBy -= 1;
    this.touch(dependency);
    this.releaseIfUnwanted([dependency]);
  }

  /** The wanted services naming `record` as a dependency that do not hold it: a wake attaches them. */
  private wakers(record: ServiceRecord): ServiceRecord[] {
    return this.dependents(record).filter((dependent) => this.wanted(dependent) && !dependent.holds.has(record.spec.name) && !unbindable(dependent, record));
  }

  /** Drops a record and everything kept about it; its neighbours are stepped again. */
  private forget(record: ServiceRecord): void {
    // unload may take a member off an ordering cycle (after and before name no dependency).
    const mates = this.cycleMates(record);
    this.onCycle.delete(record);
    this.standIns.delete(record);
    this.touch(record);
    this.cancelPendingChain(record);
    this.records.delete(record.spec.name);
    this.indexSpec(record.spec, "remove");
    for (const set of [this.dirty, this.doomed, this.busy, this.pendingSpecs, this.commandsToCheck]) set.delete(record);
    this.indexPendingBefore(record, "remove");
    this.softCursor.delete(record);
    this.execPending.delete(record);
    this.mainSpawnAsked.delete(record);
    this.stopSpawnAsked.delete(record);
    // A removal forgets a service in the settle that stopped it, before checkCommands looks at
    // it: each command gets the verdict of the state the service went in (a stop is done, a
    // start failed with why), and only one still on its way fails because the service went.
    const wanted = this.wanted(record);
    for (const command of this.commands.get(record) ?? []) {
      const outcome = commandVerdict(command.op, record, wanted) ?? { kind: "failed", reason: "the service was removed" };
      this.emit({ kind: "outcome", id: command.id, service: record.spec.name, op: command.op, outcome });
    }
    this.commands.delete(record);
    // Whoever named it now sees it missing.
    for (const name of this.index.hardDependentsOf(record.spec.name)) {
      const dependent = this.records.get(name);
      if (dependent !== undefined) this.refreshDoom(dependent);
    }
    if (mates !== undefined) this.recheckCycles(mates);
    this.emit({ kind: "forgotten", service: record.spec.name });
  }

  /** Specs change only here (add, a reload, add-dep/rm-dep, forget): the cached gate lists go with them. */
  private indexSpec(spec: ServiceSpec, how: "add" | "remove"): void {
    if (how === "add") this.index.add(spec);
    else this.index.remove(spec);
    this.specWatcher?.(spec, how);
    this.softGates.clear();
    this.softCursor.clear();
  }

  /** Forget every block (before a reload sets them again). */
  clearBlocks(): void {
    this.onCycle.clear();
    this.standIns.clear();
    for (const record of this.records.values()) {
      if (record.blocked === undefined) continue;
      record.blocked = undefined;
      this.mark(record);
    }
  }

  /**
   * Refuse every start of `name`, with `reason`: a stand-in for a waits-for dependency that did
   * not load, until a full reload or `reload NAME` (reloadOne) loads it. (A dependency cycle's
   * members are blocked by blockCycle.)
   */
  block(name: string, reason: string): void {
    const record = this.records.get(name);
    if (record === undefined) return;
    this.onCycle.delete(record);
    this.standIns.set(record, reason);
    record.blocked = reason;
    this.mark(record);
  }

  /** Whether `name` is a stand-in blocked with block(): a dependency that has not loaded. */
  standsIn(name: string): boolean {
    const record = this.records.get(name);
    return record !== undefined && this.standIns.has(record);
  }

  /**
   * The dependency cycles through any of `names`, as findCycles over every service would give
   * them (graph.ts findCyclesThrough), at the cost of what `names` reach: what loading `names` on
   * demand may have closed. A service's edges are those closesCycle counts for `reload NAME` and
   * add-dep (startsAfter): its description in place and the one waiting to be applied, which
   * will be in place once it stops, when nobody would look for cycles again.
   */
  cyclesThrough(names: Iterable<string>, step?: OnStep): string[][] {
    const view = {
      spec: (name: string): ServiceSpec | undefined => {
        const record = this.records.get(name);
        const pending = record?.pendingSpec;
        if (record === undefined || pending === undefined || pending === "removed") return record?.spec;
        return bothDescriptions(record.spec, pending);
      },
      orderedBefore: (name: string): Iterable<string> => {
        const waiting = this.pendingOrderedBefore.get(name);
        return waiting === undefined ? this.index.orderedBefore(name) : [...this.index.orderedBefore(name), ...waiting];
      },
    };
    return findCyclesThrough(view, names, step);
  }

  /**
   * Refuse every start of the members of `cycle` (in edge order, as findCycles gives it), with
   * the cycle as the reason, until a change to one of them breaks every cycle a member is on
   * (recheckCycles) or a full reload finds the cycle gone.
   */
  blockCycle(cycle: readonly string[]): void {
    const reason = cycleReason(cycle);
    for (const name of cycle) {
      const record = this.records.get(name);
      if (record === undefined) continue;
      this.onCycle.add(record);
      if (record.blocked === reason) continue;
      record.blocked = reason;
      this.mark(record);
    }
  }

  /**
   * The services blocked for a cycle that `record`, blocked for one itself, reaches over "starts
   * after" edges (see startsAfter: the descriptions in place and those waiting), by name and
   * `record` included; undefined when `record` is on no cycle. Every cycle through `record`
   * lies among them, so a change to `record` can lift no block outside them, and looking again
   * costs these services, not the whole set.
   */
  private cycleMates(record: ServiceRecord): Set<string> | undefined {
    if (!this.onCycle.has(record)) return undefined;
    const pendingBefore = this.pendingBefore();
    const mates = new Set([record.spec.name]);
    const work = [record.spec.name];
    for (let name = work.pop(); name !== undefined; name = work.pop()) {
      for (const next of this.startsAfter(name, pendingBefore)) {
        const other = this.records.get(next.name);
        if (other === undefined || !this.onCycle.has(other) || mates.has(next.name)) continue;
        mates.add(next.name);
        work.push(next.name);
      }
    }
    return mates;
  }

  /**
   * After a change to one of `names` (cycleMates, read before it): those still on a cycle among
   * them stay blocked, with the cycle they are on now; the block goes from the others, which
   * may start again. A running service whose new description waits counts with both (it may
   * still restart under the one in place), as loading, reload NAME and add-dep count it.
   */
  private recheckCycles(names: ReadonlySet<string>): void {
    const specs = new Map<string, ServiceSpec>();
    for (const name of names) {
      const record = this.records.get(name);
      if (record === undefined) continue;
      const pending = record.pendingSpec;
      specs.set(name, pending !== undefined && pending !== "removed" ? bothDescriptions(record.spec, pending) : record.spec);
    }
    const still = new Set<string>();
    for (const cycle of findCycles(specs)) {
      for (const name of cycle) still.add(name);
      this.blockCycle(cycle);
    }
    const freed: string[] = [];
    for (const name of specs.keys()) {
      const record = this.records.get(name) as ServiceRecord;
      if (still.has(name) || !this.onCycle.delete(record)) continue;
      // A stand-in for a dependency that did not load stays blocked for that.
      record.blocked = this.standIns.get(record);
      this.mark(record);
      if (record.blocked === undefined) freed.push(name);
    }
    if (freed.length > 0) this.log("info", `${freed.sort().join(", ")}: no longer on a dependency cycle; may start again`);
  }

  get(name: string): ServiceRecord | undefined {
    return this.records.get(name);
  }

  list(): ServiceRecord[] {
    return [...this.records.values()];
  }

  /** How many service steps settling has taken so far (each is one service looked at once). */
  get steps(): number {
    return this.stepsTaken;
  }

  wanted(record: ServiceRecord): boolean {
    return record.explicit || record.requiredBy > 0;
  }

  /**
   * Stopped, unwanted, and no restart or held-back chain will start it: it may be removed or
   * take a reloaded description. A pending chain counts as a pending restart does, so a removal
   * never drops it unseen (a full reload says the service changes once stopped).
   */
  idle(record: ServiceRecord): boolean {
    return settled(record) && !this.wanted(record);
  }

  /** True when no service is starting or stopping and none waits for a restart or a held-back chain. */
  isQuiet(): boolean {
    return this.busy.size === 0;
  }

  /**
   * Nobody waits for command `id` any more (`?wait=0` answered, or its client left): it is let
   * go, so it neither stays with its service nor costs a look at each later event.
   */
  forgetCommand(service: string, id: number): void {
    const record = this.records.get(service);
    const pending = record === undefined ? undefined : this.commands.get(record);
    if (record === undefined || pending === undefined) return;
    const left = pending.filter((command) => command.id !== id);
    if (left.length === 0) this.commands.delete(record);
    else this.commands.set(record, left);
  }

  /** Commands kept until their outcome, over every service. */
  get pendingCommands(): number {
    let count = 0;
    for (const pending of this.commands.values()) count += pending.length;
    return count;
  }

  /**
   * Whether a spawn asked for earlier is still wanted: it has not been carried out, and the
   * service still waits for that process (a main process while starting, or while started with
   * its restart due; a stop-command while stopping). A runtime that carries spawns out later
   * than it was asked (a queue served in turns) drops one the service no longer waits for: a
   * stop came first (a start whose process was never spawned goes straight to stopped), or the
   * service failed or was removed meanwhile.
   */
  awaitsSpawn(service: string, role: ProcessRole): boolean {
    const record = this.records.get(service);
    if (record === undefined) return false;
    if (role === "stop") return this.stopSpawnAsked.has(record) && record.state === "stopping" && record.stopPid === undefined;
    return this.mainSpawnAsked.has(record) && record.pid === undefined && (record.state === "starting" || (record.state === "started" && !record.restartPending));
  }

  handle(event: Event): Action[] {
    this.actions = [];
    const record = this.records.get(event.service);
    if (record === undefined) {
      if (event.kind === "command" && event.id !== undefined) {
        this.emit({ kind: "outcome", id: event.id, service: event.service, op: event.op, outcome: { kind: "refused", reason: `no service named ${event.service}` } });
      } else {
        this.log("warn", `event for unknown service ${event.service}`);
      }
      return this.actions;
    }
    // Whatever the event changes of this service (a pid, a flag), it is stepped again.
    this.mark(record);
    switch (event.kind) {
      case "command":
        if (event.op === "wake" && this.wakers(record).length === 0 && !this.wanted(record)) {
          // dinit: wake needs an active dependent to attach to; it never marks the service.
          if (event.id !== undefined) {
            this.emit({ kind: "outcome", id: event.id, service: event.service, op: event.op, outcome: { kind: "refused", reason: "no active service depends on it" } });
          }
          break;
        }
        if ((event.op === "trigger" || event.op === "untrigger") && record.spec.type !== "triggered") {
          // dinit: only a triggered service has a trigger. Answering "done" would tell the
          // user that something waits on it when nothing does.
          if (event.id !== undefined) {
            const reason = `it is a ${record.spec.type} service; only a triggered service has a trigger`;
            this.emit({ kind: "outcome", id: event.id, service: event.service, op: event.op, outcome: { kind: "refused", reason } });
          }
          break;
        }
        this.command(record, event.op);
        if (event.id !== undefined) {
          const pending = this.commands.get(record) ?? [];
          pending.push({ id: event.id, op: event.op });
          this.commands.set(record, pending);
          this.commandsToCheck.add(record);
        }
        break;
      case "spawned":
        this.spawned(record, event.role, event.pid, event.execPending === true);
        break;
      case "exec-done":
        this.execDone(record, event.role, event.pid);
        break;
      case "spawn-failed":
        this.spawnFailed(record, event.role, describeSpawnFailure(event.stage, event.error), event.pid);
        break;
      case "exited":
        this.exited(record, event.role, event.pid, event.status);
        break;
      case "ready":
        if (record.state === "starting" && record.pid !== undefined && record.spec.type !== "bgprocess") {
          // Readiness comes from the service's own program, so its exec went through.
          this.execPending.delete(record);
          this.becomeStarted(record);
        }
        break;
      case "pid-file":
        if (record.state !== "starting" || record.pid !== undefined) break;
        record.pid = event.pid;
        this.becomeStarted(record);
        break;
      case "pid-file-failed":
        if (record.state === "starting") this.fail(record, event.error);
        break;
      case "timer":
        this.timer(record, event.timer);
        break;
      case "killed-all":
        if (record.state === "stopping" && record.killedAll === true) this.beginStop(record);
        break;
      case "chain":
        this.takeChain(event.from, record, { delayMs: event.delayMs, quick: event.quick });
        break;
    }
    this.settle();
    return this.actions;
  }

  // ---- commands -------------------------------------------------------------------------

  private command(record: ServiceRecord, op: CommandOp): void {
    switch (op) {
      case "trigger":
        record.triggered = true;
        if (record.state === "starting" && record.spec.type === "triggered") this.becomeStarted(record);
        return;
      case "untrigger":
        record.triggered = false;
        return;
      case "start":
        if (!record.explicit) {
          const wasWanted = this.wanted(record);
          record.explicit = true;
          this.touch(record);
          if (!wasWanted) this.acquireDependencies(record);
        }
        return;
      case "stop":
        this.forceDown(record, undefined);
        this.cancelPendingRestart(record);
        this.cancelPendingChain(record);
        return;
      case "release":
        // A held-back chain would mark it active when its delay is over; taken at once, the
        // chain's start is what release undoes, so the pending one goes too.
        this.cancelPendingChain(record);
        record.explicit = false;
        this.touch(record);
        this.releaseIfUnwanted([record]);
        return;
      case "wake":
        for (const dependent of this.wakers(record)) {
          dependent.holds.add(record.spec.name);
          record.requiredBy += 1;
          this.mark(dependent);
        }
        this.touch(record);
        if (record.requiredBy > 0) this.acquireDependencies(record);
        return;
      case "restart":
        if (record.state === "started" || record.state === "starting") {
          record.restartRequested = true;
          this.touch(record);
        } else this.command(record, "start");
        return;
    }
  }

  /** Looks at the commands of the services a settle touched; each gets one outcome. */
  private checkCommands(): void {
    for (const record of this.commandsToCheck) {
      const pending = this.commands.get(record);
      if (pending === undefined) continue;
      const wanted = this.wanted(record);
      const left = pending.filter((command) => {
        const outcome = commandVerdict(command.op, record, wanted);
        if (outcome === undefined) return true;
        this.emit({ kind: "outcome", id: command.id, service: record.spec.name, op: command.op, outcome });
        return false;
      });
      if (left.length === 0) this.commands.delete(record);
      else this.commands.set(record, left);
    }
    this.commandsToCheck.clear();
  }

  // ---- wants ----------------------------------------------------------------------------

  /** depends-on, depends-ms and waits-for: the lists a wanted service holds. */
  private needs(record: ServiceRecord): readonly (readonly string[])[] {
    const { dependsOn, dependsMs, waitsFor } = record.spec;
    return [dependsOn, dependsMs, waitsFor];
  }

  /** Worklist, not recursion: a deep dependency chain cannot overflow the stack. */
  private acquireDependencies(root: ServiceRecord): void {
    const work = [root];
    for (let record = work.pop(); record !== undefined; record = work.pop()) {
      for (const list of this.needs(record)) {
        for (const name of list) {
          const dependency = this.records.get(name);
          if (dependency === undefined || record.holds.has(name) || unbindable(record, dependency)) continue;
          record.holds.add(name);
          dependency.requiredBy += 1;
          this.touch(dependency);
          if (dependency.requiredBy === 1 && !dependency.explicit) work.push(dependency);
        }
      }
    }
  }

  /** Takes back the hard dependencies a dependent dropped while it ran. */
  private reacquireHardDependencies(record: ServiceRecord): void {
    for (const list of [record.spec.dependsOn, record.spec.dependsMs]) {
      for (const name of list) {
        const dependency = this.records.get(name);
        if (dependency === undefined || record.holds.has(name) || unbindable(record, dependency)) continue;
        const wasWanted = this.wanted(dependency);
        record.holds.add(name);
        dependency.requiredBy += 1;
        this.touch(dependency);
        if (!wasWanted) this.acquireDependencies(dependency);
      }
    }
  }

  private releaseIfUnwanted(start: ServiceRecord[]): void {
    const work = [...start];
    for (let record = work.pop(); record !== undefined; record = work.pop()) {
      if (this.wanted(record)) continue;
      for (const name of record.holds) {
        const dependency = this.records.get(name);
        record.holds.delete(name);
        if (dependency === undefined) continue;
        dependency.requiredBy -= 1;
        this.touch(dependency);
        work.push(dependency);
      }
    }
  }

  /** Holders for which `dependency` going down means they must go down too. */
  private isHardHolder(holder: ServiceRecord, dependency: string): boolean {
    if (!holder.holds.has(dependency)) return false;
    if (holder.spec.dependsOn.includes(dependency)) return true;
    return holder.spec.dependsMs.includes(dependency) && holder.state !== "started";
  }

  /** The loaded services that name `record` as a dependency (only they can hold it). */
  private dependents(record: ServiceRecord): ServiceRecord[] {
    const found: ServiceRecord[] = [];
    for (const name of this.index.dependentsOf(record.spec.name)) {
      const dependent = this.records.get(name);
      if (dependent !== undefined) found.push(dependent);
    }
    return found;
  }

  /**
   * Unmark `root` and everything that hard-depends on it, drop soft holds on them, and let the
   * wants cascade. `dependentReason` marks dependents still waiting to start as failed.
   */
  private forceDown(root: ServiceRecord, dependentReason: string | undefined): void {
    const down = new Set<ServiceRecord>([root]);
    const work = [root];
    for (let record = work.pop(); record !== undefined; record = work.pop()) {
      for (const holder of this.dependents(record)) {
        if (!down.has(holder) && this.isHardHolder(holder, record.spec.name)) {
          down.add(holder);
          work.push(holder);
        }
      }
    }
    for (const record of down) {
      if (record !== root && dependentReason !== undefined && record.state === "stopped" && this.wanted(record)) {
        record.failed = dependentReason;
        record.terminated = false;
        this.status(record, false, dependentReason);
      }
    }
    for (const record of down) record.explicit = false;
    // Every member is now unwanted (its hard holders are members too, its soft holders let go
    // below), so each drops its own holds directly; holds among members may form a loop that
    // waiting for requiredBy to reach 0 would never undo.
    const released: ServiceRecord[] = [];
    for (const record of down) {
      for (const holder of this.dependents(record)) {
        if (down.has(holder) || !holder.holds.has(record.spec.name)) continue;
        holder.holds.delete(record.spec.name);
        record.requiredBy -= 1;
        this.mark(holder);
      }
      for (const name of record.holds) {
        const dependency = this.records.get(name);
        if (dependency === undefined) continue;
        dependency.requiredBy -= 1;
        this.touch(dependency);
        released.push(dependency);
      }
      record.holds.clear();
    }
    for (const record of down) this.touch(record);
    this.releaseIfUnwanted(released);
  }

  // ---- the queue ------------------------------------------------------------------------

  /**
   * Something about `record` changed (its state, its wants, its restart flags, its spec): queue
   * it and every service whose step reads it, and bring the must-stop flags up to date.
   */
  private touch(record: ServiceRecord): void {
    const name = record.spec.name;
    this.dirty.add(record);
    // The services that need it wait for it to start, or must go down with it.
    for (const other of this.index.dependentsOf(name)) this.touchName(other);
    // Its depends-on dependencies: a started one that must stop waits for it to be stopped.
    for (const other of record.spec.dependsOn) this.touchName(other);
    // Ordering: the services that start after it.
    for (const other of this.index.orderedAfter(name)) this.touchName(other);
    for (const other of record.spec.before) this.touchName(other);
    this.refreshDoom(record);
  }

  /** Only `record`'s own step may differ (its holds, its pid, its block): queue it alone. */
  private mark(record: ServiceRecord): void {
    this.dirty.add(record);
  }

  private touchName(name: string): void {
    const record = this.records.get(name);
    if (record !== undefined) this.dirty.add(record);
  }

  /** Recomputes the must-stop flag of `record` and of its hard dependents, and up from there. */
  private refreshDoom(record: ServiceRecord): void {
    const work = [record];
    for (const name of this.index.hardDependentsOf(record.spec.name)) {
      const dependent = this.records.get(name);
      if (dependent !== undefined) work.push(dependent);
    }
    // Each flag changes at most a few times per wave; the limit only guards against a loop.
    let budget = 4 * (this.records.size + 16);
    for (let next = work.pop(); next !== undefined; next = work.pop()) {
      const doomed = this.mustStop(next);
      if (doomed === this.doomed.has(next)) continue;
      if (budget-- <= 0) {
        this.log("error", "must-stop flags did not settle; a dependency loop is likely");
        return;
      }
      if (doomed) this.doomed.add(next);
      else this.doomed.delete(next);
      // Whoever needs it reads the flag before starting; hard dependents inherit it.
      this.dirty.add(next);
      for (const name of this.index.dependentsOf(next.spec.name)) this.touchName(name);
      for (const name of this.index.hardDependentsOf(next.spec.name)) {
        const dependent = this.records.get(name);
        if (dependent !== undefined) work.push(dependent);
      }
    }
  }

  /** Unwanted, a restart asked, or a depends-on dependency is not started or must stop. */
  private mustStop(record: ServiceRecord): boolean {
    if (!this.wanted(record) || record.restartRequested) return true;
    for (const name of record.spec.dependsOn) {
      const dependency = this.records.get(name);
      if (dependency !== undefined && (dependency.state !== "started" || this.doomed.has(dependency))) return true;
    }
    return false;
  }

  /** Steps every queued service until the queue is empty. */
  private settle(): void {
    this.applyPendingSpecs();
    let budget = SETTLE_STEP_LIMIT + 64 * this.records.size;
    for (const record of this.dirty) {
      this.dirty.delete(record);
      if (budget-- <= 0) {
        this.dirty.clear();
        this.log("error", "service states did not settle; a dependency loop is likely");
        break;
      }
      if (this.commands.has(record)) this.commandsToCheck.add(record);
      this.stepsTaken += 1;
      this.step(record);
      // Its step may have changed it again, and so queued it again: it is counted then.
      if (!this.dirty.has(record)) this.countBusy(record);
      if (record.pendingSpec !== undefined && record.state === "stopped") this.applyPendingSpecs();
    }
    this.checkCommands();
  }

  private countBusy(record: ServiceRecord): void {
    if ((record.state === "starting" || record.state === "stopping" || record.restartPending || record.chainPending !== undefined) && this.records.get(record.spec.name) === record) {
      this.busy.add(record);
    } else {
      this.busy.delete(record);
    }
  }

  private step(record: ServiceRecord): void {
    switch (record.state) {
      case "stopped":
        this.stepStopped(record);
        return;
      case "started":
        if (this.doomed.has(record)) this.stopWhenDependentsAreDown(record);
        return;
      case "starting":
        if (!this.wanted(record)) this.cancelStart(record);
        return;
      case "stopping":
        return;
    }
  }

  private stepStopped(record: ServiceRecord): void {
    if (!this.wanted(record) || record.restartPending) return;
    // A depends-ms dependency that went down while this one ran dropped its hold; starting
    // again needs it again. (If it then fails, this one fails with it: no loop.)
    this.reacquireHardDependencies(record);
    const verdict = record.blocked ?? this.startReadiness(record);
    if (verdict === "wait") return;
    if (verdict !== "go") {
      this.fail(record, verdict);
      return;
    }
    this.launch(record);
  }

  /** "go", "wait", or the reason the service cannot start. */
  private startReadiness(record: ServiceRecord): "go" | "wait" | string {
    const { dependsOn, dependsMs } = record.spec;
    for (const list of [dependsOn, dependsMs]) {
      for (const name of list) {
        const dependency = this.records.get(name);
        if (dependency === undefined) return `depends on ${name}, which is not loaded`;
        if (unbindable(record, dependency)) return `depends on ${name}, which is ${describeRunTimeService(dependency.spec)}`;
        if (dependency.state !== "started" || this.doomed.has(dependency)) return "wait";
      }
    }
    if (this.waitsForSoftGate(record)) return "wait";
    if (this.needsConsole(record) && this.consoleOwner !== undefined && this.consoleOwner !== record.spec.name) return "wait";
    return "go";
  }

  /**
   * Whether a waits-for dependency or an ordering predecessor is still about to start. A target
   * that waits for thousands of services is stepped each time one of them moves, so the scan
   * starts where the last one stopped: the services before that point were found settled, and
   * the scan goes round to look at them again only if none after it waits.
   */
  private waitsForSoftGate(record: ServiceRecord): boolean {
    let gates = this.softGates.get(record);
    if (gates === undefined) {
      const { waitsFor, after, name } = record.spec;
      gates = [...waitsFor, ...after, ...this.index.orderedBefore(name)];
      this.softGates.set(record, gates);
    }
    const count = gates.length;
    const start = this.softCursor.get(record) ?? 0;
    for (let i = 0; i < count; i++) {
      const at = (start + i) % count;
      const gate = this.records.get(gates[at]!);
      if (gate !== undefined && this.isAboutToStart(gate)) {
        this.softCursor.set(record, at);
        return true;
      }
    }
    return false;
  }

  /** runs-on-console and starts-on-console services take turns on the console. */
  private needsConsole(record: ServiceRecord): boolean {
    return usesConsole(record.spec);
  }

  private takeConsole(record: ServiceRecord): void {
    this.consoleOwner = record.spec.name;
  }

  /** The console is free again: the services waiting for it are stepped again. */
  private releaseConsole(record: ServiceRecord): void {
    if (this.consoleOwner !== record.spec.name) return;
    this.consoleOwner = undefined;
    for (const name of this.index.consoleServices()) this.touchName(name);
  }

  /** Who holds the console, for status and tests. */
  consoleHolder(): string | undefined {
    return this.consoleOwner;
  }

  private isAboutToStart(record: ServiceRecord): boolean {
    return record.state !== "started" && this.wanted(record);
  }

  /**
   * An unwanted service still starting: a triggered one, or one whose process is not yet
   * spawned (it waits in the runtime's queue), simply stops, since nothing of it runs; a
   * start-interruptible one gets SIGINT (dinit's way), others finish starting and are stopped
   * after.
   */
  private cancelStart(record: ServiceRecord): void {
    if (record.spec.type === "triggered" || this.mainSpawnAsked.has(record)) {
      this.becomeStopped(record);
      return;
    }
    if (!record.spec.options.has("start-interruptible") || record.startCancelled || record.pid === undefined) return;
    record.startCancelled = true;
    this.signal(record, SIGINT);
  }

  private stopWhenDependentsAreDown(record: ServiceRecord): void {
    for (const name of this.index.hardDependentsOf(record.spec.name)) {
      const dependent = this.records.get(name);
      if (dependent !== undefined && dependent.state !== "stopped") return;
    }
    this.beginStop(record);
  }

  // ---- starting -------------------------------------------------------------------------

  private launch(record: ServiceRecord): void {
    record.failed = undefined;
    record.terminated = false;
    record.restartRequested = false;
    if (this.needsConsole(record)) this.takeConsole(record);
    const { type, command } = record.spec;
    if (type === "triggered" && !record.triggered) {
      this.setState(record, "starting");
      return;
    }
    if (type === "internal" || type === "triggered" || command === undefined) {
      this.releaseConsole(record);
      this.setState(record, "started");
      record.startedAt = this.now();
      return;
    }
    record.startCancelled = false;
    record.killedAll = false;
    this.setState(record, "starting");
    // start-timeout is armed once the process exists (`spawned`): time spent waiting for its
    // turn to be spawned is not the service's to be charged with.
    this.spawnMain(record);
  }

  /** Whether "starting" lasts beyond the spawn: readiness, or a scripted command's exit. */
  private waitsForStart(record: ServiceRecord): boolean {
    return record.spec.type === "scripted" || record.spec.type === "bgprocess" || record.spec.readyNotification !== undefined;
  }

  private spawnMain(record: ServiceRecord): void {
    const { spec } = record;
    const onConsole = this.needsConsole(record) || spec.options.has("shares-console");
    // dinit: a console option wins over the log settings.
    const output = onConsole
      ? ({ kind: "tty", path: this.console } as const)
      : spec.logType === "file" && spec.logfile !== undefined
        ? ({ kind: "file", path: spec.logfile, append: true } as const)
        : spec.logType === "buffer" || spec.logType === "pipe"
          ? ({ kind: spec.logType } as const)
          : ({ kind: "null" } as const);
    this.mainSpawnAsked.add(record);
    this.emit({
      kind: "spawn",
      service: spec.name,
      role: "main",
      argv: spec.command ?? [],
      cwd: spec.workingDir,
      stdin: onConsole ? { kind: "tty", path: this.console } : { kind: "null" },
      stdout: output,
    });
  }

  /**
   * A process was created. One started through the exec helper (`execPending`) is not yet the
   * service's program: a process service without readiness is started only at its exec-done.
   */
  private spawned(record: ServiceRecord, role: ProcessRole, pid: number, execPending: boolean): void {
    const { spec } = record;
    if (role === "stop") {
      record.stopPid = pid;
      this.stopSpawnAsked.delete(record);
      // stop-timeout runs from when the stop-command runs, not from when it was asked for.
      if (record.state === "stopping") this.armStopTimeout(record);
      return;
    }
    record.pid = pid;
    this.mainSpawnAsked.delete(record);
    // dinit's start-timeout is the time the process is given to start: it runs from its spawn.
    if (record.state === "starting" && this.waitsForStart(record) && spec.startTimeoutMs > 0) {
      this.emit({ kind: "arm-timer", service: spec.name, timer: "start-timeout", ms: spec.startTimeoutMs });
    }
    if (execPending) {
      this.execPending.set(record, pid);
      return;
    }
    this.execPending.delete(record);
    if (record.state === "starting" && !this.waitsForStart(record)) this.becomeStarted(record);
  }

  private execDone(record: ServiceRecord, role: ProcessRole, pid: number): void {
    if (role !== "main" || this.execPending.get(record) !== pid) return;
    this.execPending.delete(record);
    if (record.state === "starting" && record.pid === pid && !this.waitsForStart(record)) this.becomeStarted(record);
  }

  private becomeStarted(record: ServiceRecord): void {
    this.emit({ kind: "cancel-timer", service: record.spec.name, timer: "start-timeout" });
    record.startedAt = this.now();
    if (!record.spec.options.has("runs-on-console")) this.releaseConsole(record);
    this.setState(record, "started");
    this.status(record, true, `started ${record.spec.name}`);
  }

  /**
   * A spawn failed. With `pid`, the exec helper of that process reported it: the process exits
   * next, and since the record no longer has that pid, its exit is no crash and no restart.
   */
  private spawnFailed(record: ServiceRecord, role: ProcessRole, why: string, pid: number | undefined): void {
    if (role === "stop") {
      if (pid !== undefined) {
        if (pid !== record.stopPid) return;
        record.stopPid = undefined;
      } else {
        this.stopSpawnAsked.delete(record);
      }
      this.log("warn", `${record.spec.name}: stop-command failed: ${why}`);
      if (record.pid === undefined) this.becomeStopped(record);
      else if (record.state === "stopping") {
        if (!record.spec.options.has("no-sigterm")) this.signal(record, record.spec.termSignal);
        // Never spawned, so stop-timeout was not armed: it runs from the stop signal.
        if (pid === undefined) this.armStopTimeout(record);
      }
      return;
    }
    if (pid === undefined) this.mainSpawnAsked.delete(record);
    if (pid !== undefined) {
      if (pid !== record.pid) return;
      // The helper exits on its own; there is nothing of the service to kill.
      this.execPending.delete(record);
      record.pid = undefined;
    }
    if (record.state === "stopping") {
      this.becomeStopped(record);
      return;
    }
    this.fail(record, why);
  }

  private fail(record: ServiceRecord, why: string): void {
    const name = record.spec.name;
    this.emit({ kind: "cancel-timer", service: name, timer: "start-timeout" });
    if (record.pid !== undefined) this.signal(record, SIGKILL);
    record.pid = undefined;
    this.execPending.delete(record);
    this.mainSpawnAsked.delete(record);
    record.failed = why;
    record.terminated = false;
    record.restartRequested = false;
    this.touch(record);
    if (record.state !== "stopped") this.setState(record, "stopped");
    this.status(record, false, why);
    this.forceDown(record, `dependency ${name} failed`);
  }

  // ---- stopping -------------------------------------------------------------------------

  /** A stop-command replaces the term signal (as in dinit); stop-timeout then ends in SIGKILL. */
  private beginStop(record: ServiceRecord): void {
    const { spec } = record;
    // dinit's kill-all-on-stop: TERM, a pause, then KILL to every other process, before the
    // stop itself; the supervisor answers with `killed-all`.
    if (spec.options.has("kill-all-on-stop") && record.killedAll !== true) {
      record.killedAll = true;
      this.cancelPendingRestart(record);
      this.setState(record, "stopping");
      this.emit({ kind: "kill-all", service: spec.name });
      return;
    }
    const runStopCommand = spec.stopCommand !== undefined && (spec.type === "scripted" || record.pid !== undefined);
    if (record.pid === undefined && !runStopCommand) {
      this.cancelPendingRestart(record);
      this.becomeStopped(record);
      return;
    }
    this.setState(record, "stopping");
    if (runStopCommand) {
      // stop-timeout is armed once the stop-command is spawned (`spawned`).
      this.spawnStop(record);
      return;
    }
    if (!spec.options.has("no-sigterm")) this.signal(record, spec.termSignal);
    this.armStopTimeout(record);
  }

  private spawnStop(record: ServiceRecord): void {
    const { spec } = record;
    this.stopSpawnAsked.add(record);
    const argv = spec.stopCommand ?? [];
    this.emit({ kind: "spawn", service: spec.name, role: "stop", argv, cwd: spec.workingDir, stdin: { kind: "null" }, stdout: { kind: "null" } });
  }

  /** From the stop signal, or the stop-command's spawn; then SIGKILL. */
  private armStopTimeout(record: ServiceRecord): void {
    const { spec } = record;
    if (spec.stopTimeoutMs > 0) this.emit({ kind: "arm-timer", service: spec.name, timer: "stop-timeout", ms: spec.stopTimeoutMs });
  }

  private becomeStopped(record: ServiceRecord): void {
    const name = record.spec.name;
    this.emit({ kind: "cancel-timer", service: name, timer: "stop-timeout" });
    this.emit({ kind: "cancel-timer", service: name, timer: "start-timeout" });
    record.restartRequested = false;
    record.pid = undefined;
    this.execPending.delete(record);
    this.mainSpawnAsked.delete(record);
    this.stopSpawnAsked.delete(record);
    const wasRunning = record.state !== "stopped";
    this.setState(record, "stopped");
    if (wasRunning && record.spec.type !== "internal") this.status(record, true, `stopped ${name}`);
  }

  private cancelPendingRestart(record: ServiceRecord): void {
    if (!record.restartPending) return;
    record.restartPending = false;
    record.nextRestartAt = undefined;
    this.touch(record);
    this.emit({ kind: "cancel-timer", service: record.spec.name, timer: "restart" });
  }

  // ---- process exits --------------------------------------------------------------------

  private exited(record: ServiceRecord, role: ProcessRole, pid: number, status: ExitStatus): void {
    if (role === "stop") {
      if (pid !== record.stopPid) return;
      record.stopPid = undefined;
      if (status.kind !== "exited" || status.code !== 0) {
        this.log("warn", `${record.spec.name}: stop-command ${describeExit(status)}`);
      }
      if (record.state === "stopping" && record.pid === undefined) this.becomeStopped(record);
      return;
    }
    if (pid !== record.pid) return;
    record.pid = undefined;
    record.lastExit = status;
    switch (record.state) {
      case "starting":
        if (record.startCancelled) {
          this.becomeStopped(record);
          return;
        }
        if (record.spec.options.has("skippable") && status.kind === "signaled" && status.signal === SIGINT) {
          this.log("info", `${record.spec.name}: interrupted, skipped`);
          this.becomeStarted(record);
          return;
        }
        if (isFailure(status)) this.fail(record, `${describeExit(status)} before it was ready`);
        else if (record.spec.type === "scripted") this.becomeStarted(record);
        else if (record.spec.type === "bgprocess" && record.spec.pidFile !== undefined) {
          // The launcher has daemonized: the daemon's pid comes from the pid file.
          this.emit({ kind: "read-pid-file", service: record.spec.name, path: record.spec.pidFile });
        } else this.fail(record, `${describeExit(status)} before it was ready`);
        return;
      case "stopping":
        this.emit({ kind: "kill-leftovers", service: record.spec.name, pgid: pid, graceMs: record.spec.stopTimeoutMs });
        if (record.stopPid === undefined) this.becomeStopped(record);
        return;
      case "started":
        this.unexpectedExit(record, status);
        return;
      case "stopped":
        return;
    }
  }

  private unexpectedExit(record: ServiceRecord, status: ExitStatus): void {
    const { spec } = record;
    const now = this.now();
    if (spec.type === "scripted") {
      // A scripted service's command has done its job; nothing of it is still running.
      return;
    }
    const decision = decideRestart(spec, status, now - (record.startedAt ?? now), record.crashes, now, this.random);
    record.crashes = decision.history;
    if (decision.restart) {
      record.restartPending = true;
      record.nextRestartAt = now + decision.delayMs;
      this.touch(record);
      this.log("info", `${spec.name}: ${describeExit(status)}; restarting in ${decision.delayMs} ms`);
      // A bgprocess restarts through its launcher and pid file, which only a normal start reads.
      if (!spec.smoothRecovery || spec.type === "bgprocess") this.setState(record, "stopped");
      this.emit({ kind: "arm-timer", service: spec.name, timer: "restart", ms: decision.delayMs });
      return;
    }
    this.setState(record, "stopped");
    if (isFailure(status)) {
      record.failed = `${describeExit(status)} (${decision.reason})`;
      record.terminated = true;
      this.status(record, false, record.failed);
    } else {
      this.log("info", `${spec.name}: ${describeExit(status)}`);
    }
    this.forceDown(record, undefined);
    this.followChain(record, status);
  }

  /**
   * chain-to: a service that ended of its own accord, cleanly (or always-chain), starts the next.
   * A target not loaded yet is loaded now (dinit loads it only when the chain is taken): the
   * runtime does that and hands the chain back as a `chain` event. Once shutdown has begun
   * (stopChains) no chain is taken, as in dinit.
   */
  private followChain(record: ServiceRecord, status: ExitStatus): void {
    const { chainTo, options } = record.spec;
    if (chainTo === undefined || (isFailure(status) && !options.has("always-chain"))) return;
    if (this.chainsStopped) {
      this.log("info", `${record.spec.name} ended; not starting ${chainTo} (chain-to): shutting down`);
      return;
    }
    const pace = this.chainDelay(record);
    const next = this.records.get(chainTo);
    if (next === undefined) {
      this.emit({ kind: "load-chained", service: chainTo, from: record.spec.name, ...pace });
      return;
    }
    this.takeChain(record.spec.name, next, pace);
  }

  /**
   * The restart spin guard, for chains: a service that keeps ending within QUICK_CRASH_MS of
   * its start and chaining (to itself, or round a loop back to itself) has its chain held back
   * as a restart would be: 10 ms doubling up to max(restart-delay-max, 1 s) (spinFloorMs),
   * whatever its other restart settings say. The chain limit alone cannot do it:
   * `restart-limit-interval = 0` keeps no chain starts to count, and PID 1 spawned a thousand
   * processes a second. `quick` is counted (takeChain) only when the chain is taken.
   */
  private chainDelay(record: ServiceRecord): { delayMs: number; quick: boolean } {
    const now = this.now();
    const quick = now - (record.startedAt ?? now) < QUICK_CRASH_MS;
    if (!quick) record.quickChains = 0;
    return { delayMs: spinFloorMs(record.spec, quick ? record.quickChains : 0), quick };
  }

  /** The chain from `from` to `next` is taken: at once, or after the spin guard's delay. */
  private takeChain(from: string, next: ServiceRecord, pace: { delayMs: number; quick: boolean }): void {
    const name = next.spec.name;
    if (this.chainsStopped) {
      this.log("info", `${from} ended; not starting ${name} (chain-to): shutting down`);
      return;
    }
    const source = this.records.get(from);
    // As a dependency does not bind to it: a service from a file (root's) must not start a
    // service someone added with initctl run, who may have taken the name on purpose.
    if (source !== undefined && unbindable(source, next)) {
      this.log("error", `${from}: chain-to ${name}: ${name} is ${describeRunTimeService(next.spec)}; a service from a file does not start it`);
      return;
    }
    // A chain that comes back round (A -> A, or A -> B -> A with always-chain) is also held to
    // the chained service's restart limit.
    const now = this.now();
    const limit = Math.max(1, next.spec.restartLimitCount);
    next.chainStarts = next.chainStarts.filter((time) => now - time < next.spec.restartLimitIntervalMs);
    if (next.chainStarts.length >= limit) {
      this.log("error", `${from}: chain-to ${name}: started ${limit} times within ${next.spec.restartLimitIntervalMs / 1000}s by chains; not again`);
      return;
    }
    next.chainStarts.push(now);
    if (source !== undefined) source.quickChains = pace.quick ? source.quickChains + 1 : 0;
    if (pace.delayMs === 0) {
      this.log("info", `${from} ended; starting ${name} (chain-to)`);
      this.command(next, "start");
      return;
    }
    this.log("info", `${from} ended again at once; starting ${name} in ${pace.delayMs} ms (chain-to)`);
    next.chainPending = from;
    this.mark(next);
    this.emit({ kind: "arm-timer", service: name, timer: "chain", ms: pace.delayMs });
  }

  /**
   * Shutdown has begun: no chain is taken from now on (dinit never chains while shutting
   * down), and the held-back ones are dropped, so nothing starts under the stop.
   */
  stopChains(): Action[] {
    this.actions = [];
    this.chainsStopped = true;
    for (const record of [...this.busy]) {
      if (record.chainPending === undefined) continue;
      this.log("info", `not starting ${record.spec.name} (chain-to from ${record.chainPending}): shutting down`);
      this.cancelPendingChain(record);
    }
    this.settle();
    return this.actions;
  }

  private cancelPendingChain(record: ServiceRecord): void {
    if (record.chainPending === undefined) return;
    record.chainPending = undefined;
    this.mark(record);
    this.emit({ kind: "cancel-timer", service: record.spec.name, timer: "chain" });
  }

  private timer(record: ServiceRecord, timer: TimerKind): void {
    switch (timer) {
      case "restart":
        if (!record.restartPending) return;
        record.restartPending = false;
        record.nextRestartAt = undefined;
        this.touch(record);
        if (record.state === "started" && record.pid === undefined) {
          if (this.wanted(record)) this.spawnMain(record);
          else this.becomeStopped(record);
        }
        return;
      case "chain":
        if (record.chainPending === undefined) return;
        record.chainPending = undefined;
        this.mark(record);
        if (!this.chainsStopped) this.command(record, "start");
        return;
      case "start-timeout":
        if (record.state === "starting") this.fail(record, `not ready within ${record.spec.startTimeoutMs / 1000}s`);
        return;
      case "stop-timeout":
        if (record.state !== "stopping") return;
        this.log("warn", `${record.spec.name}: not stopped within ${record.spec.stopTimeoutMs / 1000}s, sending SIGKILL`);
        this.signal(record, SIGKILL);
        if (record.stopPid !== undefined) this.emit({ kind: "signal", service: record.spec.name, pid: record.stopPid, signal: SIGKILL });
        return;
    }
  }

  // ---- output ---------------------------------------------------------------------------

  private setState(record: ServiceRecord, to: ServiceState): void {
    const from = record.state;
    if (to === "stopped") this.releaseConsole(record);
    record.state = to;
    this.touch(record);
    this.emit({ kind: "state", service: record.spec.name, from, to });
  }

  private signal(record: ServiceRecord, signal: number): void {
    if (record.pid !== undefined) this.emit({ kind: "signal", service: record.spec.name, pid: record.pid, signal });
  }

  private status(record: ServiceRecord, ok: boolean, text: string): void {
    this.emit({ kind: "status", service: record.spec.name, ok, text: ok ? text : `${record.spec.name}: ${text}` });
  }

  private log(level: "debug" | "info" | "warn" | "error", text: string): void {
    this.emit({ kind: "log", level, text });
  }

  private emit(action: Action): void {
    this.actions.push(action);
  }
}
