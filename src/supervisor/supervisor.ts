// The supervisor: the loop around the pure ServiceSet. It feeds events in one at a time (a
// queue drained in a loop, so an action's consequences never re-enter the core), hands each
// action to the part that carries it out, and routes process exits, timers, readiness and
// NOTIFY_SOCKET messages back as events. Everything it touches of the machine or of time comes
// through the injected Runtime.
import { SIGNALS } from "../base/signals.ts";
import type { ServiceSpec } from "../base/service-spec.ts";
import { describeExit, type Reaped } from "../base/process.ts";
import type { Action, CommandOp, CommandOutcome, Event } from "../core/events.ts";
import { ServiceSet, settled, type DependencyKind, type ReloadSummary, type ServiceRecord } from "../core/service-set.ts";
import type { Log } from "../log/log.ts";
import type { RingLog } from "../log/ring.ts";
import type { EventBody } from "../log/event-log.ts";
import type { Runtime, Sys, Timer } from "../sys/sys.ts";
import { ActivationSockets } from "./activation.ts";
import { ServiceCgroups } from "./cgroups.ts";
import { Leftovers } from "./leftovers.ts";
import { LogPipes } from "./log-pipes.ts";
import { UtmpRecords } from "./utmp.ts";
import { NotifySocket } from "./notify.ts";
import { OutputBuffers } from "./output-buffers.ts";
import { readPidFile } from "./pid-file.ts";
import { processGroup } from "./proc-stat.ts";
import { ProcessTable } from "./process-table.ts";
import { Spawner, type ProcessOwner } from "./spawner.ts";
import { ServiceTimers } from "./timers.ts";

export interface SupervisorOptions {
  runtime: Runtime;
  log: Log;
  /** The environment every service starts with (before its env-file). */
  env: Readonly<Record<string, string>>;
  /** The terminal for runs-on-console services. */
  console?: string;
  /** A cgroup2 directory under which each service gets a cgroup of its own. */
  cgroupRoot?: string;
  /** Where NOTIFY_SOCKET is bound when the first `notify` service launches; none: such services fail. */
  notifyPath?: string;
  /** The restart delay's jitter (tests make it 0). */
  random?: () => number;
  /** The unguessable part of each NOTIFY_SOCKET name (default: 64 bits from Sys.randomBytes). */
  notifyNonce?: () => string;
  /** Services that can never start, with why (waits-for dependencies that did not load). */
  blocked?: ReadonlyMap<string, string>;
  /** Dependency cycles found at load time: their members cannot start while on one. */
  cycles?: readonly (readonly string[])[];
  /**
   * The oom_score_adj each new process gets back (tsinit's own before it made itself -1000);
   * undefined: children keep what they inherit.
   */
  childOomScoreAdj?: string;
  /** Told of every state change, spawn, exit and readiness (the event log). */
  observe?: (event: EventBody) => void;
  /**
   * PID 1 of a machine: called when a `starts-rwfs` service has started, after the boot's
   * wtmp record is written (once) as dinit does; supervisor mode writes no wtmp.
   */
  startsRwfs?: () => void;
  /** PID 1: called when a `starts-log` service has started (tsinit then logs to /dev/log). */
  startsLog?: () => void;
}

/**
 * Loads a service that is not loaded yet (and what it reaches) into this supervisor, as a name
 * a client gives is loaded: ServiceDirectories.ensure, which `attach` hands over.
 */
export type ServiceLoader = (name: string) => { kind: "loaded" } | { kind: "missing" } | { kind: "failed"; message: string };

/** kill-all-on-stop's pause between SIGTERM and SIGKILL (dinit: "a short pause"). */
export const KILL_ALL_PAUSE_MS = 1_000;

/** How long a shutdown waits beyond the longest stop-timeout before it kills what is left. */
export const STOP_GRACE_MS = 5_000;

/**
 * How long spawning may hold the event loop before it lets it turn (control requests, reaping,
 * signals, timers). A spawn costs about 1 ms on a small VM, so 10,000 services at boot are ten
 * seconds of spawns: done in one go, nothing else was served until the last one.
 */
export const SPAWN_TURN_MS = 10;

type SpawnAction = Extract<Action, { kind: "spawn" }>;

interface QueuedSpawn {
  key: string;
  action: SpawnAction;
  spec: ServiceSpec;
}

/** How long a supervisor's clean exit waits for SIGKILLed leftovers to leave their cgroups. */
const CGROUP_EMPTY_GRACE_MS = 1000;

export class Supervisor {
  readonly services: ServiceSet;
  private readonly sys: Sys;
  private readonly log: Log;
  private readonly processes: ProcessTable<ProcessOwner>;
  private readonly timers: ServiceTimers;
  private readonly cgroups: ServiceCgroups;
  private readonly leftovers: Leftovers;
  private readonly activation: ActivationSockets;
  private readonly notify: NotifySocket;
  private readonly outputs = new OutputBuffers();
  private readonly spawner: Spawner;
  private readonly logPipes: LogPipes;
  private readonly utmp: UtmpRecords;
  private readonly queue: Event[] = [];
  private draining = false;
  /**
   * Spawns the core asked for and not yet carried out, oldest first from `spawnHead`, one per
   * service and role (a newer request replaces an older one in its place: `queuedSpawns`), with
   * the description they were asked under. Served in turns of SPAWN_TURN_MS (runSpawns). An
   * array, not a Map walked from its start: a Map keeps its deleted entries until it is rebuilt,
   * so each turn would step over every spawn done before.
   */
  private readonly spawnQueue: QueuedSpawn[] = [];
  private spawnHead = 0;
  private readonly queuedSpawns = new Map<string, QueuedSpawn>();
  /** The next turn of spawning, when one is due. */
  private spawnTurn: Timer | undefined;
  private spawning = false;
  private readonly settledWaiters = new Set<() => void>();
  private readonly childlessWaiters = new Set<() => void>();
  private nextCommandId = 1;
  /** Who waits for the outcome of which command. */
  private readonly commandWaiters = new Map<number, (outcome: CommandOutcome) => void>();
  private observerFailed = false;
  /** Set by stopAll: from then on nothing new is started. */
  shuttingDown = false;
  /** Loads a chain-to target that is not loaded when the chain is taken; none: it is "no such service". */
  loader: ServiceLoader | undefined;
  /**
   * The activation environment (dinit's): what every service started from now on begins with.
   * `setenv`/`unsetenv` change it in place, so the spawner and the socket paths see the change.
   */
  private readonly env: Record<string, string>;

  constructor(
    specs: Iterable<ServiceSpec>,
    private readonly options: SupervisorOptions,
  ) {
    const { runtime, log } = options;
    const env: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, options.env);
    this.env = env;
    const { sys, clock } = runtime;
    this.sys = sys;
    this.log = log;
    this.services = new ServiceSet(specs, { now: () => clock.now(), console: options.console, random: options.random });
    for (const [name, reason] of options.blocked ?? []) this.services.block(name, reason);
    for (const cycle of options.cycles ?? []) this.services.blockCycle(cycle);
    this.processes = new ProcessTable<ProcessOwner>(
      sys,
      (owner, pid, status) => {
        // Whatever the service's state by now, the process is gone: so is its utmp record.
        this.utmp.reaped(pid, status);
        if (!this.spawner.passExit(pid, status)) return;
        // A process of a service forgotten since (killed at a failed start, reaped only now) is
        // nothing to the core, nor to a new service that took the name.
        const exited: Event = { kind: "exited", service: owner.service, role: owner.role, pid, status };
        if (this.current(owner)) return this.dispatch(exited);
        this.log.debug(`${owner.service}: pid ${pid} ${describeExit(status)} after the service was removed`);
        // The event log saw it spawned; it sees it end too.
        this.observeEvent(exited);
      },
      (reaped) => this.orphanReaped(reaped),
    );
    this.timers = new ServiceTimers(clock, (service, timer) => this.dispatch({ kind: "timer", service, timer }));
    this.cgroups = new ServiceCgroups(sys, log, options.cgroupRoot);
    this.leftovers = new Leftovers(sys, clock, this.cgroups);
    this.activation = new ActivationSockets(sys, env);
    this.notify = new NotifySocket(sys, log, runtime.listenNotify, options.notifyPath, {
      mainPid: (service) => this.services.get(service)?.pid,
      ready: (service) => this.dispatch({ kind: "ready", service }),
      ownCgroup: (service) => this.cgroups.enabled && this.services.get(service)?.spec.runInCgroup === undefined,
    }, options.notifyNonce);
    this.utmp = new UtmpRecords(sys, clock, log);
    this.logPipes = new LogPipes(
      sys,
      (name) => this.services.get(name)?.spec,
      (producer) => this.services.list().filter((record) => record.spec.consumerOf === producer).map((record) => record.spec.name),
    );
    this.spawner = new Spawner({
      sys,
      log,
      env,
      processes: this.processes,
      activation: this.activation,
      notify: this.notify,
      cgroups: this.cgroups,
      leftovers: this.leftovers,
      outputs: this.outputs,
      post: (event) => this.dispatch(event),
      mainPid: (service) => this.services.get(service)?.pid,
      instance: (service) => this.services.get(service),
      current: (owner) => this.current(owner),
      childOomScoreAdj: options.childOomScoreAdj,
      logPipes: this.logPipes,
    });
  }

  /** Whether `owner`'s process belongs to the service loaded under its name now (ProcessOwner.instance). */
  private current(owner: ProcessOwner): boolean {
    return owner.instance !== undefined && this.services.get(owner.service) === owner.instance;
  }

  add(spec: ServiceSpec): void {
    this.services.add(spec);
  }

  /**
   * New service descriptions (SIGHUP, `initctl reload`); `blocked` are services that can never
   * start (with why), `cycles` the dependency cycles found over the services there will be.
   */
  reload(specs: ReadonlyMap<string, ServiceSpec>, blocked: ReadonlyMap<string, string>, unreadable: ReadonlySet<string>, cycles: readonly (readonly string[])[] = []): ReloadSummary {
    if (this.shuttingDown) {
      this.log.warn("not reloading: shutting down");
      return { added: [], changed: [], removed: [], pending: [], shadowed: [], kept: [] };
    }
    let summary: ReloadSummary | undefined;
    this.batch(() => {
      summary = this.services.reload(specs, unreadable);
      this.services.clearBlocks();
      for (const [name, reason] of blocked) this.services.block(name, reason);
      for (const cycle of cycles) this.services.blockCycle(cycle);
      return this.services.takeActions();
    });
    // New descriptions may drop log-type = pipe or buffer, which forgets nothing.
    this.prune();
    return summary!;
  }

  /** Forget a stopped service that nothing holds (`initctl remove`); false when it is not such. */
  remove(service: string): boolean {
    let removed = false;
    this.batch(() => {
      removed = this.services.remove(service);
      return this.services.takeActions();
    });
    return removed;
  }

  /** dinit's unload: forget a stopped service that no loaded service names; undefined when done, else why not. */
  unload(service: string): string | undefined {
    return this.change(() => this.services.unload(service));
  }

  /** dinit's add-dep (`acquire`: enable's start of the dependency); undefined when done, else why not. */
  addDependency(from: string, kind: DependencyKind, to: string, options: { acquire?: boolean } = {}): string | undefined {
    if (this.shuttingDown && options.acquire === true) return "shutting down";
    return this.change(() => this.services.addDependency(from, kind, to, options));
  }

  /** dinit's rm-dep; undefined when done, else why not. */
  removeDependency(from: string, kind: DependencyKind, to: string): string | undefined {
    return this.change(() => this.services.removeDependency(from, kind, to));
  }

  /** dinit's `reload NAME`: one service's new description; undefined when done, else why not. */
  reloadService(spec: ServiceSpec): string | undefined {
    if (this.shuttingDown) return "shutting down";
    const refused = this.change(() => this.services.reloadOne(spec));
    // The new description may drop log-type = pipe or buffer: that goes, as after a full reload.
    if (refused === undefined) this.prune();
    return refused;
  }

  /** How many buffer logs are held (tests). */
  get bufferLogs(): number {
    return this.outputs.size;
  }

  /** How many bgprocess launchers wait for their pid file to be read (tests). */
  get bgprocessLaunchers(): number {
    return this.spawner.launcherCount;
  }

  /** How many per-service cgroups are kept (tests). */
  get serviceCgroups(): number {
    return this.cgroups.size;
  }

  /** The direct dependents a stop would take down (dinit names them and refuses without --force). */
  activeHardDependents(service: string): string[] {
    return this.services.activeHardDependents(service);
  }

  /** The loaded services that name `service` as a dependency, with the kind and whether they hold it. */
  dependentsOf(service: string): { name: string; kind: DependencyKind; holds: boolean }[] {
    return this.services.dependentsOf(service);
  }

  /** The activation environment, as services started now get it (before their env-file). */
  activationEnvironment(): Record<string, string> {
    return { ...this.env };
  }

  /** dinit's setenv and unsetenv (after the sets): services started from now on see the change. */
  changeEnvironment(set: Readonly<Record<string, string>>, unset: readonly string[]): void {
    for (const [name, value] of Object.entries(set)) this.env[name] = value;
    for (const name of unset) delete this.env[name];
  }

  /**
   * dinit's `signal`: `signal` to the service's process (its group, and its cgroup, as a stop
   * signal goes). undefined when sent, else why not.
   */
  signalService(service: string, signal: number): string | undefined {
    const record = this.services.get(service);
    if (record === undefined) return `no service named ${service}`;
    if (record.pid === undefined) return `${service} has no process (it is ${record.state})`;
    this.signal(service, record.pid, signal);
    return undefined;
  }

  /**
   * Resolves once no service is active: each one stopped with no restart pending and not
   * wanted (supervisor mode's --exit-when-idle).
   */
  whenIdle(): Promise<void> {
    const idle = () => this.services.list().every((r) => this.services.idle(r));
    return new Promise((resolve) => {
      const check = () => {
        if (!idle()) return;
        this.settledWaiters.delete(check);
        resolve();
      };
      this.settledWaiters.add(check);
      if (this.services.isQuiet()) check();
    });
  }

  /** One change to the core outside an event, with its actions carried out; its answer back. */
  private change(run: () => string | undefined): string | undefined {
    let answer: string | undefined;
    this.batch(() => {
      answer = run();
      return this.services.takeActions();
    });
    return answer;
  }

  /** A service's live record, read-only (status, list). */
  service(name: string): Readonly<ServiceRecord> | undefined {
    return this.services.get(name);
  }

  serviceList(): readonly Readonly<ServiceRecord>[] {
    return this.services.list();
  }

  /** Whether a service is wanted: started explicitly or held by a wanted dependent. */
  wanted(record: Readonly<ServiceRecord>): boolean {
    return record.explicit || record.requiredBy > 0;
  }

  /**
   * Carry out a command and resolve with its outcome as the core reports it; undefined when
   * `signal` aborts first (the client went away).
   */
  command(op: CommandOp, service: string, signal?: AbortSignal): Promise<CommandOutcome | undefined> {
    const id = this.nextCommandId++;
    return new Promise((resolve) => {
      const onAbort = () => {
        this.commandWaiters.delete(id);
        this.abandon(service, id);
        resolve(undefined);
      };
      this.commandWaiters.set(id, (outcome) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(outcome);
      });
      this.dispatch({ kind: "command", op, service, id });
      if (signal?.aborted) onAbort();
      else if (this.commandWaiters.has(id)) signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * Command `id` is waited for no more: the core lets it go, or, still queued, it goes in
   * without an id. Without this, every `?wait=0` command on a service that does not get there
   * soon stayed with it until it did.
   */
  private abandon(service: string, id: number): void {
    const queued = this.queue.find((event) => event.kind === "command" && event.id === id);
    if (queued?.kind === "command") delete queued.id;
    else this.services.forgetCommand(service, id);
  }

  start(service: string): void {
    this.dispatch({ kind: "command", op: "start", service });
  }

  stop(service: string): void {
    this.dispatch({ kind: "command", op: "stop", service });
  }

  /** Call on SIGCHLD: reaps every exited child and turns each exit into an event. */
  reap(): void {
    this.processes.reap();
    if (this.processes.hasNoChildren()) this.wake(this.childlessWaiters);
  }

  dispatch(event: Event): void {
    const starts = (event.kind === "command" && (event.op === "start" || event.op === "restart" || event.op === "trigger" || event.op === "wake")) || event.kind === "chain";
    if (this.shuttingDown && starts) {
      this.log.warn(`not starting ${event.service}: shutting down`);
      if (event.kind === "command" && event.id !== undefined) this.commandOutcome(event.id, { kind: "refused", reason: "shutting down" });
      return;
    }
    this.observeEvent(event);
    this.keepUtmp(event);
    this.queue.push(event);
    if (!this.draining) this.batch(() => []);
  }

  /**
   * One batch: `first` changes the core and returns its actions, then every event queued
   * meanwhile is handled, one at a time, until the queue is empty. Events that arrive during a
   * batch (a spawn's `spawned`, a pid file) wait in the queue, so the core is never re-entered.
   */
  private batch(first: () => Action[], what = "a reload or removal"): void {
    if (this.draining) {
      for (const action of first()) this.perform(action);
      return;
    }
    this.draining = true;
    try {
      this.guarded(what, undefined, () => {
        for (const action of first()) this.perform(action);
      });
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        const event = next;
        this.guarded(`${event.kind} for ${event.service}`, event, () => {
          for (const action of this.services.handle(event)) this.perform(action);
        });
      }
    } finally {
      this.draining = false;
    }
    if (this.services.isQuiet()) this.wake(this.settledWaiters);
    if (this.activation.size > 0) this.activation.closeUnused((service) => this.services.get(service)?.spec);
    this.runSpawns();
  }

  /**
   * Carries out the queued spawns, each followed at once by the events it caused (its
   * `spawned`, and whatever that starts, which may queue more). After SPAWN_TURN_MS it lets the
   * event loop turn and goes on in the next turn, so that thousands of services starting
   * together never hold up a control request, a reap or a signal for longer than that. A spawn
   * the core no longer waits for by its turn (a stop came first, which stops a service not yet
   * spawned at once; the service failed or was removed meanwhile) is dropped.
   */
  private runSpawns(): void {
    if (this.spawning || this.spawnTurn !== undefined || this.spawnHead === this.spawnQueue.length) return;
    const { clock } = this.options.runtime;
    const until = clock.now() + SPAWN_TURN_MS;
    this.spawning = true;
    try {
      // Spawns queued by these spawns' events join the end and are served in this turn too.
      while (this.spawnHead < this.spawnQueue.length) {
        if (clock.now() >= until) {
          this.spawnTurn = clock.setTimer(0, () => {
            this.spawnTurn = undefined;
            this.runSpawns();
          });
          return;
        }
        const { key, action, spec } = this.spawnQueue[this.spawnHead++]!;
        this.queuedSpawns.delete(key);
        if (!this.services.awaitsSpawn(action.service, action.role)) continue;
        this.batch(() => {
          this.spawner.spawn(action, spec);
          return [];
        }, `the spawn of ${action.service}`);
      }
    } finally {
      this.spawning = false;
      // What was served goes: all of it once the queue is empty, else now and then.
      if (this.spawnHead === this.spawnQueue.length || this.spawnHead > 1024) {
        this.spawnQueue.splice(0, this.spawnHead);
        this.spawnHead = 0;
      }
    }
  }

  /** Nothing queued is spawned any more (a shutdown killing what is left, an exit). */
  private dropSpawns(): void {
    this.spawnQueue.length = 0;
    this.spawnHead = 0;
    this.queuedSpawns.clear();
    this.spawnTurn?.cancel();
    this.spawnTurn = undefined;
  }

  /** inittab-id / inittab-line: a main process's utmp record, made as it starts (closed as it is reaped). */
  private keepUtmp(event: Event): void {
    if (event.kind !== "spawned" || event.role !== "main") return;
    const record = this.services.get(event.service);
    if (record !== undefined) this.utmp.started(record.spec, event.pid);
  }

  /** The observer's failure must never cost an action or an exit status: it is logged, once. */
  private observe(body: EventBody): void {
    try {
      this.options.observe?.(body);
    } catch (error) {
      if (this.observerFailed) return;
      this.observerFailed = true;
      this.log.error(`event observer: ${String(error)}`);
    }
  }

  private observeEvent(event: Event): void {
    if (this.options.observe === undefined) return;
    const observe = (body: EventBody) => this.observe(body);
    if (event.kind === "spawned") observe({ kind: "spawned", service: event.service, role: event.role, pid: event.pid });
    else if (event.kind === "ready") observe({ kind: "ready", service: event.service });
    else if (event.kind === "exited") {
      const { status } = event;
      observe({ kind: "exited", service: event.service, role: event.role, pid: event.pid, ...(status.kind === "exited" ? { code: status.code } : { signal: status.signal }) });
    }
  }

  /** One bad event must not stop the next: log it, answer its command, and go on. */
  private guarded(what: string, event: Event | undefined, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.log.error(`handling ${what}: ${String(error)}`);
      if (event?.kind === "command" && event.id !== undefined) this.commandOutcome(event.id, { kind: "failed", reason: `internal error: ${String(error)}` });
    }
  }

  /**
   * Stop every service (dependents before their dependencies). Resolves true once all are
   * down, or false when the longest stop-timeout plus STOP_GRACE_MS ran out first or `hurry`
   * was aborted (a second SIGTERM).
   */
  async stopAll(hurry?: AbortSignal): Promise<boolean> {
    this.shuttingDown = true;
    // The core takes no chain from now on: a stop that ends a chaining service, or a held-back
    // chain's timer, must not start anything under the shutdown.
    this.batch(() => this.services.stopChains(), "stopping chains");
    const longestStop = Math.max(0, ...this.services.list().map((r) => r.spec.stopTimeoutMs));
    for (const record of this.services.list()) {
      if (!this.services.idle(record)) this.stop(record.spec.name);
    }
    const stopped = await this.within(longestStop + STOP_GRACE_MS, this.settledWaiters, () => this.allStopped(), hurry);
    // Out of time: what is still queued to start must not appear while the rest is killed.
    if (!stopped) this.dropSpawns();
    return stopped;
  }

  /**
   * Resolves once `service` is stopped with no restart pending, or is gone: a shell on the
   * console (rd.break, recovery) that the user has left.
   */
  whenStopped(service: string): Promise<void> {
    const stopped = () => {
      const record = this.services.get(service);
      return record === undefined || (record.state === "stopped" && !record.restartPending);
    };
    if (stopped()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!stopped()) return;
        this.settledWaiters.delete(check);
        resolve();
      };
      this.settledWaiters.add(check);
    });
  }

  /**
   * Resolves true once `service` is stopped with no restart pending (or gone); false when
   * `ms` ran out first or `abort` fired (the client went away). For a client's wait, which
   * must end even if the service never stops (stop-timeout = 0, a process in D state).
   */
  stoppedWithin(service: string, ms: number, abort?: AbortSignal): Promise<boolean> {
    return this.within(ms, this.settledWaiters, () => {
      const record = this.services.get(service);
      return record === undefined || (record.state === "stopped" && !record.restartPending);
    }, abort);
  }

  /** Resolves true when this process has no children left, false after `timeoutMs`. */
  whenChildless(timeoutMs: number): Promise<boolean> {
    this.reap();
    return this.within(timeoutMs, this.childlessWaiters, () => this.processes.hasNoChildren());
  }

  /**
   * The one wait-with-a-deadline: true once `done()` holds (checked now and at each wake of
   * `waiters`), false after `ms` or when `abort` fires. Nothing is left behind either way.
   */
  private within(ms: number, waiters: Set<() => void>, done: () => boolean, abort?: AbortSignal): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (result: boolean) => {
        timer.cancel();
        waiters.delete(check);
        abort?.removeEventListener("abort", onAbort);
        resolve(result);
      };
      const check = () => {
        if (done()) finish(true);
      };
      const onAbort = () => finish(false);
      const timer = this.options.runtime.clock.setTimer(ms, () => finish(false));
      waiters.add(check);
      if (abort?.aborted) finish(false);
      else abort?.addEventListener("abort", onAbort, { once: true });
    });
  }

  private allStopped(): boolean {
    return this.services.list().every(settled);
  }

  private wake(waiters: Set<() => void>): void {
    for (const waiter of [...waiters]) waiter();
  }

  private perform(action: Action): void {
    switch (action.kind) {
      case "spawn": {
        const spec = this.services.get(action.service)?.spec;
        if (spec === undefined) return;
        const key = `${action.role} ${action.service}`;
        const queued = this.queuedSpawns.get(key);
        if (queued !== undefined) Object.assign(queued, { action, spec });
        else {
          const entry = { key, action, spec };
          this.queuedSpawns.set(key, entry);
          this.spawnQueue.push(entry);
        }
        return;
      }
      case "signal":
        this.signal(action.service, action.pid, action.signal);
        return;
      case "kill-leftovers":
        // signal-process-only: what the process left behind is not tsinit's to signal.
        if (this.services.get(action.service)?.spec.options.has("signal-process-only") === true) return;
        this.leftovers.killLater(action.service, action.pgid, action.graceMs);
        return;
      case "arm-timer":
        this.timers.arm(action.service, action.timer, action.ms);
        return;
      case "cancel-timer":
        this.timers.cancel(action.service, action.timer);
        return;
      case "log":
        this.log.write(action.level, action.text);
        return;
      case "status":
        this.log.status(action.ok, action.text);
        if (!action.ok) this.observe({ kind: "failed", service: action.service, why: action.text });
        return;
      case "state":
        if (action.to === "started" && this.options.startsRwfs !== undefined && this.services.get(action.service)?.spec.options.has("starts-rwfs")) {
          this.utmp.bootRecord(this.options.runtime.clock);
          this.options.startsRwfs();
        }
        if (action.to === "started" && this.options.startsLog !== undefined && this.services.get(action.service)?.spec.options.has("starts-log")) {
          this.options.startsLog();
        }
        // A stopped (or failed) service's NOTIFY_SOCKET is closed; its next start makes a new one.
        if (action.to === "stopped") this.notify.release(action.service);
        this.log.debug(`${action.service}: ${action.from} -> ${action.to}`);
        this.observe({ kind: "state", service: action.service, from: action.from, to: action.to });
        return;
      case "read-pid-file": {
        const event = readPidFile(action.service, action.path, {
          sys: this.sys,
          env: this.env,
          owned: (pid) => this.processes.owns(pid),
          cgroupMembers: (service) => this.cgroups.members(service),
          launcher: this.spawner.takeLauncher(action.service),
        });
        this.dispatch(event);
        if (event.kind === "pid-file") this.processes.adopt({ service: action.service, role: "main", instance: this.services.get(action.service) }, event.pid);
        return;
      }
      case "outcome":
        this.commandOutcome(action.id, action.outcome);
        return;
      case "kill-all":
        void this.killAll(action.service);
        return;
      case "load-chained":
        this.loadChained(action);
        return;
      case "forgotten":
        this.forgetName(action.service);
        return;
      default:
        action satisfies never;
    }
  }

  /**
   * A chain whose target was not loaded: it is loaded now and the chain goes on in the core
   * (which applies the chain limit and the spin guard), or the reason it did not load is logged
   * (`a: chain-to b: b failed to load: FILE:LINE: ...`) and nothing else happens.
   */
  private loadChained(action: Extract<Action, { kind: "load-chained" }>): void {
    const { service, from } = action;
    if (this.shuttingDown) {
      this.log.warn(`not starting ${service} (chain-to from ${from}): shutting down`);
      return;
    }
    // Called part-way through an event's actions: a loader that throws must not cost the rest
    // of them (a dependent's stop-timeout, say), so its error is this chain's alone.
    let answer: ReturnType<ServiceLoader>;
    try {
      answer = this.loader?.(service) ?? { kind: "missing" };
    } catch (error) {
      answer = { kind: "failed", message: String(error) };
    }
    if (answer.kind === "loaded" && this.services.get(service) !== undefined) {
      this.dispatch({ kind: "chain", service, from, delayMs: action.delayMs, quick: action.quick });
      return;
    }
    this.log.error(`${from}: chain-to ${service}: ${answer.kind === "failed" ? answer.message : "no such service"}`);
  }

  /**
   * dinit's kill-all-on-stop: SIGTERM (and SIGCONT) to every process but tsinit, a pause that
   * ends early once tsinit has no children left, then SIGKILL; then the service's stop goes on.
   * Only where tsinit is PID 1 (of the machine or of a PID namespace): elsewhere kill(-1) would
   * reach every process of the user, so nothing is signalled and a warning says so.
   */
  private async killAll(service: string): Promise<void> {
    if (this.sys.getpid() !== 1) {
      this.log.warn(`${service}: kill-all-on-stop: tsinit is not PID 1 here; no process was signalled`);
    } else {
      this.log.info(`${service}: kill-all-on-stop: sending SIGTERM to every process`);
      this.sys.kill(-1, SIGNALS.TERM);
      this.sys.kill(-1, SIGNALS.CONT);
      if (!(await this.whenChildless(KILL_ALL_PAUSE_MS))) {
        this.log.info(`${service}: kill-all-on-stop: sending SIGKILL to what is left`);
        this.sys.kill(-1, SIGNALS.KILL);
      }
    }
    this.dispatch({ kind: "killed-all", service });
  }

  /**
   * The whole process group first (the service's own session), then the leader itself only if
   * it is not in that group any more, then whatever else is in the service's cgroup and not in
   * the group. Each process gets the signal once.
   */
  private signal(service: string, pid: number, signal: number): void {
    // dinit's signal-process-only: the main process alone, whatever the signal is for.
    if (this.services.get(service)?.spec.options.has("signal-process-only") === true) {
      const error = this.sys.kill(pid, signal);
      if (error !== undefined && error.code !== "ESRCH") this.log.warn(`${service}: ${error.message}`);
      return;
    }
    const groupError = this.sys.kill(-pid, signal);
    const leaderGroup = processGroup(this.sys, pid);
    if (groupError !== undefined || (leaderGroup !== undefined && leaderGroup !== pid)) {
      const leaderError = this.sys.kill(pid, signal);
      if (groupError !== undefined && leaderError !== undefined && leaderError.code !== "ESRCH") this.log.warn(`${service}: ${leaderError.message}`);
    }
    this.cgroups.signal(service, signal, (member) => member === pid || processGroup(this.sys, member) === pid);
  }

  /** The buffer log of a `log-type = buffer` service; it outlives restarts. */
  bufferLog(service: string, capacity?: number): RingLog {
    return this.outputs.get(service, capacity ?? this.services.get(service)?.spec.logBufferSize ?? 4096);
  }

  /** The last STATUS= each service sent through NOTIFY_SOCKET. */
  get notifyStatus(): Map<string, string> {
    return this.notify.status;
  }

  /** SIGKILL every service's processes, groups and cgroups now (a shutdown out of time). */
  killEverything(): void {
    this.dropSpawns();
    for (const record of this.services.list()) {
      if (record.pid !== undefined) this.signal(record.spec.name, record.pid, SIGNALS.KILL);
      if (record.stopPid !== undefined) this.sys.kill(record.stopPid, SIGNALS.KILL);
    }
    this.leftovers.killAll();
  }

  /**
   * Lets go of what belonged to services no longer loaded (or no longer of that log-type): log
   * pipes, notify sockets and their last STATUS=, buffer logs, bgprocess launchers, cgroups. Else every
   * reload that brings new names grows PID 1. After a reload, whose new descriptions may drop
   * log-type = pipe or buffer; what the core forgets goes by forgetName as it happens.
   */
  private prune(): void {
    const loaded = (service: string) => this.services.get(service) !== undefined;
    this.logPipes.prune();
    this.notify.prune(loaded);
    this.outputs.prune((service) => this.services.get(service)?.spec.logType === "buffer");
    this.spawner.forgetLaunchers(loaded);
    this.cgroups.prune(loaded);
  }

  /**
   * The state kept by the name of a service the core has just forgotten (removed, unloaded, a
   * removal that waited for its stop): its log pipe, notify socket and last STATUS=, buffer log,
   * launcher and cgroup. Only that name's, so a thousand removals cost a thousand steps; and at
   * once, so a service loaded under the name later in the same batch (a chain-to) starts afresh.
   * A name loaded again already (a record replaced) keeps them.
   */
  private forgetName(service: string): void {
    if (this.services.get(service) !== undefined) return;
    this.logPipes.forget(service);
    this.notify.forget(service);
    this.outputs.forget(service);
    this.spawner.forgetLauncher(service);
    this.cgroups.forget(service);
  }

  /**
   * Stop listening and remove the services' cgroups (supervisor mode's exit, once they have
   * stopped): one that a just-killed leftover still holds is waited for, up to
   * CGROUP_EMPTY_GRACE_MS.
   */
  close(): Promise<void> {
    this.dropSpawns();
    this.notify.close();
    return this.cgroups.removeAll(this.options.runtime.clock, CGROUP_EMPTY_GRACE_MS);
  }

  private commandOutcome(id: number, outcome: CommandOutcome): void {
    const waiter = this.commandWaiters.get(id);
    this.commandWaiters.delete(id);
    waiter?.(outcome);
  }

  private orphanReaped({ pid, status }: Reaped): void {
    this.log.debug(`reaped orphan ${pid} (${describeExit(status)})`);
  }
}
