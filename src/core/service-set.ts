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
// Transitions never recurse: commands and process events only change flags and states, then
// `settle()` re-derives every service's next step until nothing changes (finit's approach).
// Everything that should happen outside is returned as Actions.
import { SIGNALS } from "../base/signals.ts";
import { describeExit, describeSpawnFailure, type ExitStatus } from "../base/process.ts";
import type { Action, CommandOp, Event, ProcessRole, TimerKind } from "./events.ts";
import { decideRestart, emptyCrashHistory, isFailure, type CrashHistory } from "./restart.ts";
import type { ServiceSpec } from "../base/service-spec.ts";

const { INT: SIGINT, KILL: SIGKILL } = SIGNALS;

export type ServiceState = "stopped" | "starting" | "started" | "stopping";

/** The live side of a service; its spec is what its file said. */
export interface ServiceRecord {
  /** Replaced by a reload only while the service is stopped and unwanted (it holds nothing). */
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
  /** Why this service can never start (it is on a dependency cycle). */
  blocked?: string;
  restartPending: boolean;
  /** A restart command: stop, then start again because it is still wanted. */
  restartRequested: boolean;
  /** A `triggered` service's trigger has been set. */
  triggered: boolean;
  /** tsinit itself sent SIGINT to cancel the start (start-interruptible). */
  startCancelled: boolean;
  /** When chains started this service, for the chain-loop limit. */
  chainStarts: number[];
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

const SETTLE_PASS_LIMIT = 10_000;

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

/** A spec's content as a comparable string (options is a Set, origins only say where). */
function specKey(spec: ServiceSpec): string {
  return JSON.stringify({ ...spec, options: [...spec.options].sort(), origins: undefined });
}

export class ServiceSet {
  private readonly records = new Map<string, ServiceRecord>();
  private actions: Action[] = [];
  /** The service that holds the console (runs-on-console, or starts-on-console while starting). */
  private consoleOwner: string | undefined;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly console: string;

  constructor(specs: Iterable<ServiceSpec>, options: ServiceSetOptions) {
    this.now = options.now;
    this.random = options.random ?? Math.random;
    this.console = options.console ?? "/dev/console";
    for (const spec of specs) this.add(spec);
  }

  add(spec: ServiceSpec): void {
    this.records.set(spec.name, {
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
      crashes: emptyCrashHistory(),
    });
  }

  /**
   * Take a new set of service descriptions (SIGHUP, `initctl reload`). New services are added;
   * a changed or removed one takes effect at once if it is stopped and unwanted, else when it
   * is (a running service keeps the dependencies it holds). Services added at run time (no
   * file) are left alone.
   */
  reload(specs: ReadonlyMap<string, ServiceSpec>, unreadable: ReadonlySet<string> = new Set()): ReloadSummary {
    this.actions = [];
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
        record.pendingSpec = spec;
        summary.changed.push(name);
      } else {
        record.pendingSpec = undefined;
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
      record.pendingSpec = "removed";
      summary.removed.push(record.spec.name);
    }
    this.applyPendingSpecs();
    summary.pending = this.list().filter((r) => r.pendingSpec !== undefined).map((r) => r.spec.name);
    this.settle();
    return summary;
  }

  /** The actions a reload produced (normally none: it only changes descriptions). */
  takeActions(): Action[] {
    const actions = this.actions;
    this.actions = [];
    return actions;
  }

  private applyPendingSpecs(): void {
    for (const record of this.list()) {
      const pending = record.pendingSpec;
      if (pending === undefined || record.state !== "stopped" || this.wanted(record) || record.restartPending) continue;
      if (pending === "removed") {
        this.records.delete(record.spec.name);
        continue;
      }
      record.spec = pending;
      record.pendingSpec = undefined;
    }
  }

  /** Forget a stopped service that nothing holds; false (and nothing changes) otherwise. */
  remove(name: string): boolean {
    const record = this.records.get(name);
    if (record === undefined || record.state !== "stopped" || this.wanted(record) || record.restartPending) return false;
    this.records.delete(name);
    return true;
  }

  /** Forget every block (before a reload sets them again). */
  clearBlocks(): void {
    for (const record of this.records.values()) record.blocked = undefined;
  }

  /** Refuse every start of `name`, with `reason` (a dependency cycle it is on). */
  block(name: string, reason: string): void {
    const record = this.records.get(name);
    if (record !== undefined) record.blocked = reason;
  }

  get(name: string): ServiceRecord | undefined {
    return this.records.get(name);
  }

  list(): ServiceRecord[] {
    return [...this.records.values()];
  }

  wanted(record: ServiceRecord): boolean {
    return record.explicit || record.requiredBy > 0;
  }

  /** True when no service is starting or stopping and none waits for a restart. */
  isQuiet(): boolean {
    return this.list().every((r) => (r.state === "stopped" || r.state === "started") && !r.restartPending);
  }

  handle(event: Event): Action[] {
    this.actions = [];
    const record = this.records.get(event.service);
    if (record === undefined) {
      this.log("warn", `event for unknown service ${event.service}`);
      return this.actions;
    }
    switch (event.kind) {
      case "command":
        this.command(record, event.op);
        break;
      case "spawned":
        this.spawned(record, event.role, event.pid);
        break;
      case "spawn-failed":
        this.spawnFailed(record, event.role, describeSpawnFailure(event.stage, event.error));
        break;
      case "exited":
        this.exited(record, event.role, event.pid, event.status);
        break;
      case "ready":
        if (record.state === "starting" && record.pid !== undefined && record.spec.type !== "bgprocess") this.becomeStarted(record);
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
          if (!wasWanted) this.acquireDependencies(record);
        }
        return;
      case "stop":
        this.forceDown(record, undefined);
        this.cancelPendingRestart(record);
        return;
      case "release":
        record.explicit = false;
        this.releaseIfUnwanted([record]);
        return;
      case "restart":
        if (record.state === "started" || record.state === "starting") record.restartRequested = true;
        else this.command(record, "start");
        return;
    }
  }

  // ---- wants ----------------------------------------------------------------------------

  private needs(record: ServiceRecord): string[] {
    const { dependsOn, dependsMs, waitsFor } = record.spec;
    return [...dependsOn, ...dependsMs, ...waitsFor];
  }

  /** Worklist, not recursion: a deep dependency chain cannot overflow the stack. */
  private acquireDependencies(root: ServiceRecord): void {
    const work = [root];
    for (let record = work.pop(); record !== undefined; record = work.pop()) {
      for (const name of this.needs(record)) {
        const dependency = this.records.get(name);
        if (dependency === undefined || record.holds.has(name)) continue;
        record.holds.add(name);
        dependency.requiredBy += 1;
        if (dependency.requiredBy === 1 && !dependency.explicit) work.push(dependency);
      }
    }
  }

  /** True when a dependency was taken back (the settle loop must look again). */
  private reacquireHardDependencies(record: ServiceRecord): boolean {
    let changed = false;
    for (const name of [...record.spec.dependsOn, ...record.spec.dependsMs]) {
      const dependency = this.records.get(name);
      if (dependency === undefined || record.holds.has(name)) continue;
      const wasWanted = this.wanted(dependency);
      record.holds.add(name);
      dependency.requiredBy += 1;
      changed = true;
      if (!wasWanted) this.acquireDependencies(dependency);
    }
    return changed;
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

  /**
   * Unmark `root` and everything that hard-depends on it, drop soft holds on them, and let the
   * wants cascade. `dependentReason` marks dependents still waiting to start as failed.
   */
  private forceDown(root: ServiceRecord, dependentReason: string | undefined): void {
    const down = new Set<ServiceRecord>([root]);
    const work = [root];
    for (let record = work.pop(); record !== undefined; record = work.pop()) {
      for (const holder of this.records.values()) {
        if (!down.has(holder) && this.isHardHolder(holder, record.spec.name)) {
          down.add(holder);
          work.push(holder);
        }
      }
    }
    for (const record of down) {
      if (record !== root && dependentReason !== undefined && record.state === "stopped" && this.wanted(record)) {
        record.failed = dependentReason;
        this.status(record, false, dependentReason);
      }
    }
    for (const record of down) record.explicit = false;
    // Every member is now unwanted (its hard holders are members too, its soft holders let go
    // below), so each drops its own holds directly; holds among members may form a loop that
    // waiting for requiredBy to reach 0 would never undo.
    const released: ServiceRecord[] = [];
    for (const record of down) {
      for (const holder of this.records.values()) {
        if (down.has(holder) || !holder.holds.has(record.spec.name)) continue;
        holder.holds.delete(record.spec.name);
        record.requiredBy -= 1;
      }
      for (const name of record.holds) {
        const dependency = this.records.get(name);
        if (dependency === undefined) continue;
        dependency.requiredBy -= 1;
        released.push(dependency);
      }
      record.holds.clear();
    }
    this.releaseIfUnwanted(released);
  }

  // ---- settling -------------------------------------------------------------------------

  private settle(): void {
    this.applyPendingSpecs();
    for (let pass = 0; pass < SETTLE_PASS_LIMIT; pass++) {
      const mustStop = new Map<ServiceRecord, boolean>();
      let changed = false;
      for (const record of this.records.values()) {
        if (this.step(record, mustStop)) changed = true;
      }
      if (!changed) return;
    }
    this.log("error", "service states did not settle; a dependency loop is likely");
  }

  private step(record: ServiceRecord, mustStop: Map<ServiceRecord, boolean>): boolean {
    switch (record.state) {
      case "stopped":
        return this.stepStopped(record);
      case "started":
        return this.mustStop(record, mustStop) && this.stopWhenDependentsAreDown(record);
      case "starting":
        return !this.wanted(record) && this.cancelStart(record);
      case "stopping":
        return false;
    }
  }

  private stepStopped(record: ServiceRecord): boolean {
    if (!this.wanted(record) || record.restartPending) return false;
    // A depends-ms dependency that went down while this one ran dropped its hold; starting
    // again needs it again. (If it then fails, this one fails with it: no loop.)
    const reacquired = this.reacquireHardDependencies(record);
    const verdict = record.blocked ?? this.startReadiness(record);
    if (verdict === "wait") return reacquired;
    if (verdict !== "go") {
      this.fail(record, verdict);
      return true;
    }
    this.launch(record);
    return true;
  }

  /** "go", "wait", or the reason the service cannot start. */
  private startReadiness(record: ServiceRecord): "go" | "wait" | string {
    const { dependsOn, dependsMs, waitsFor, after } = record.spec;
    for (const name of [...dependsOn, ...dependsMs]) {
      const dependency = this.records.get(name);
      if (dependency === undefined) return `depends on ${name}, which is not loaded`;
      if (dependency.state !== "started" || this.mustStop(dependency, new Map())) return "wait";
    }
    for (const name of waitsFor) {
      const dependency = this.records.get(name);
      if (dependency !== undefined && this.isAboutToStart(dependency)) return "wait";
    }
    for (const name of [...after, ...this.orderedBefore(record.spec.name)]) {
      const predecessor = this.records.get(name);
      if (predecessor !== undefined && this.isAboutToStart(predecessor)) return "wait";
    }
    if (this.needsConsole(record) && this.consoleOwner !== undefined && this.consoleOwner !== record.spec.name) return "wait";
    return "go";
  }

  /** runs-on-console and starts-on-console services take turns on the console. */
  private needsConsole(record: ServiceRecord): boolean {
    const { options } = record.spec;
    return options.has("runs-on-console") || options.has("starts-on-console");
  }

  private releaseConsole(record: ServiceRecord): void {
    if (this.consoleOwner === record.spec.name) this.consoleOwner = undefined;
  }

  /** Who holds the console, for status and tests. */
  consoleHolder(): string | undefined {
    return this.consoleOwner;
  }

  private isAboutToStart(record: ServiceRecord): boolean {
    if (record.state === "starting" || record.state === "stopping") return this.wanted(record);
    return record.state === "stopped" && this.wanted(record);
  }

  /** Services whose `before` names this one: they start first. */
  private orderedBefore(name: string): string[] {
    return this.list()
      .filter((r) => r.spec.before.includes(name))
      .map((r) => r.spec.name);
  }

  private mustStop(record: ServiceRecord, memo: Map<ServiceRecord, boolean>): boolean {
    const known = memo.get(record);
    if (known !== undefined) return known;
    memo.set(record, false); // a guard against loops; cycles never reach "started"
    let result = !this.wanted(record) || record.restartRequested;
    for (const name of record.spec.dependsOn) {
      const dependency = this.records.get(name);
      if (result || dependency === undefined) break;
      result = dependency.state !== "started" || this.mustStop(dependency, memo);
    }
    memo.set(record, result);
    return result;
  }

  /**
   * An unwanted service still starting: a triggered one simply stops; a start-interruptible
   * one gets SIGINT (dinit's way), others finish starting and are stopped after.
   */
  private cancelStart(record: ServiceRecord): boolean {
    if (record.spec.type === "triggered") {
      this.becomeStopped(record);
      return true;
    }
    if (!record.spec.options.has("start-interruptible") || record.startCancelled || record.pid === undefined) return false;
    record.startCancelled = true;
    this.signal(record, SIGINT);
    return true;
  }

  private stopWhenDependentsAreDown(record: ServiceRecord): boolean {
    const name = record.spec.name;
    for (const other of this.records.values()) {
      if (other.state === "stopped" || !other.spec.dependsOn.includes(name)) continue;
      return false;
    }
    this.beginStop(record);
    return true;
  }

  // ---- starting -------------------------------------------------------------------------

  private launch(record: ServiceRecord): void {
    record.failed = undefined;
    record.restartRequested = false;
    if (this.needsConsole(record)) this.consoleOwner = record.spec.name;
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
    this.setState(record, "starting");
    this.spawnMain(record);
    if (record.spec.startTimeoutMs > 0 && this.waitsForStart(record)) {
      this.emit({ kind: "arm-timer", service: record.spec.name, timer: "start-timeout", ms: record.spec.startTimeoutMs });
    }
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
        : spec.logType === "buffer"
          ? ({ kind: "buffer" } as const)
          : ({ kind: "null" } as const);
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

  private spawned(record: ServiceRecord, role: ProcessRole, pid: number): void {
    if (role === "stop") {
      record.stopPid = pid;
      return;
    }
    record.pid = pid;
    if (record.state === "starting" && !this.waitsForStart(record)) this.becomeStarted(record);
  }

  private becomeStarted(record: ServiceRecord): void {
    this.emit({ kind: "cancel-timer", service: record.spec.name, timer: "start-timeout" });
    record.startedAt = this.now();
    if (!record.spec.options.has("runs-on-console")) this.releaseConsole(record);
    this.setState(record, "started");
    this.status(record, true, `started ${record.spec.name}`);
  }

  private spawnFailed(record: ServiceRecord, role: ProcessRole, why: string): void {
    if (role === "stop") {
      this.log("warn", `${record.spec.name}: stop-command failed: ${why}`);
      if (record.pid === undefined) this.becomeStopped(record);
      else if (record.state === "stopping" && !record.spec.options.has("no-sigterm")) this.signal(record, record.spec.termSignal);
      return;
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
    record.failed = why;
    record.restartRequested = false;
    if (record.state !== "stopped") this.setState(record, "stopped");
    this.status(record, false, why);
    this.forceDown(record, `dependency ${name} failed`);
  }

  // ---- stopping -------------------------------------------------------------------------

  /** A stop-command replaces the term signal (as in dinit); stop-timeout then ends in SIGKILL. */
  private beginStop(record: ServiceRecord): void {
    const { spec } = record;
    const runStopCommand = spec.stopCommand !== undefined && (spec.type === "scripted" || record.pid !== undefined);
    if (record.pid === undefined && !runStopCommand) {
      this.cancelPendingRestart(record);
      this.becomeStopped(record);
      return;
    }
    this.setState(record, "stopping");
    if (runStopCommand) {
      const argv = spec.stopCommand ?? [];
      this.emit({ kind: "spawn", service: spec.name, role: "stop", argv, cwd: spec.workingDir, stdin: { kind: "null" }, stdout: { kind: "null" } });
    } else if (!spec.options.has("no-sigterm")) {
      this.signal(record, spec.termSignal);
    }
    if (spec.stopTimeoutMs > 0) this.emit({ kind: "arm-timer", service: spec.name, timer: "stop-timeout", ms: spec.stopTimeoutMs });
  }

  private becomeStopped(record: ServiceRecord): void {
    const name = record.spec.name;
    this.emit({ kind: "cancel-timer", service: name, timer: "stop-timeout" });
    this.emit({ kind: "cancel-timer", service: name, timer: "start-timeout" });
    record.restartRequested = false;
    record.pid = undefined;
    const wasRunning = record.state !== "stopped";
    this.setState(record, "stopped");
    if (wasRunning && record.spec.type !== "internal") this.status(record, true, `stopped ${name}`);
  }

  private cancelPendingRestart(record: ServiceRecord): void {
    if (!record.restartPending) return;
    record.restartPending = false;
    record.nextRestartAt = undefined;
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
      this.log("info", `${spec.name}: ${describeExit(status)}; restarting in ${decision.delayMs} ms`);
      // A bgprocess restarts through its launcher and pid file, which only a normal start reads.
      if (!spec.smoothRecovery || spec.type === "bgprocess") this.setState(record, "stopped");
      this.emit({ kind: "arm-timer", service: spec.name, timer: "restart", ms: decision.delayMs });
      return;
    }
    this.setState(record, "stopped");
    if (isFailure(status)) {
      record.failed = `${describeExit(status)} (${decision.reason})`;
      this.status(record, false, record.failed);
    } else {
      this.log("info", `${spec.name}: ${describeExit(status)}`);
    }
    this.forceDown(record, undefined);
    this.followChain(record, status);
  }

  /** chain-to: a service that ended of its own accord, cleanly (or always-chain), starts the next. */
  private followChain(record: ServiceRecord, status: ExitStatus): void {
    const { chainTo, options } = record.spec;
    if (chainTo === undefined || (isFailure(status) && !options.has("always-chain"))) return;
    const next = this.records.get(chainTo);
    if (next === undefined) {
      this.log("error", `${record.spec.name}: chain-to ${chainTo}: no such service`);
      return;
    }
    // A chain that comes back round (A -> A, or A -> B -> A with always-chain) must not spin:
    // it is held to the chained service's restart limit.
    const now = this.now();
    const limit = Math.max(1, next.spec.restartLimitCount);
    next.chainStarts = next.chainStarts.filter((time) => now - time < next.spec.restartLimitIntervalMs);
    if (next.chainStarts.length >= limit) {
      this.log("error", `${record.spec.name}: chain-to ${chainTo}: started ${limit} times within ${next.spec.restartLimitIntervalMs / 1000}s by chains; not again`);
      return;
    }
    next.chainStarts.push(now);
    this.log("info", `${record.spec.name} ended; starting ${chainTo} (chain-to)`);
    this.command(next, "start");
  }

  private timer(record: ServiceRecord, timer: TimerKind): void {
    switch (timer) {
      case "restart":
        if (!record.restartPending) return;
        record.restartPending = false;
        record.nextRestartAt = undefined;
        if (record.state === "started" && record.pid === undefined) {
          if (this.wanted(record)) this.spawnMain(record);
          else this.becomeStopped(record);
        }
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
