// The supervisor: the runtime around the pure ServiceSet. It feeds events in one at a time
// (a queue drained in a loop, so an action's consequences never re-enter the core), carries
// out the actions through Sys, owns the timers, and routes process exits back as events.
import { SIGNALS } from "../base/signals.ts";
import type { Action, CommandOp, CommandOutcome, Event, ProcessRole, TimerKind } from "../core/events.ts";
import { describeExit } from "../base/process.ts";
import { ServiceSet, type ReloadSummary, type ServiceRecord } from "../core/service-set.ts";
import type { ServiceSpec } from "../base/service-spec.ts";
import type { Log } from "../log/log.ts";
import type { Sys } from "../sys/sys.ts";
import type { Reaped } from "../base/process.ts";
import { substituteValue } from "../config/substitute.ts";
import { RingLog } from "../log/ring.ts";
import { prepareSpawn } from "./launch.ts";
import { ProcessTable } from "./process-table.ts";

const { KILL: SIGKILL } = SIGNALS;


interface Owner {
  service: string;
  role: ProcessRole;
}

export interface SupervisorOptions {
  sys: Sys;
  log: Log;
  /** The environment every service starts with (before its env-file). */
  env: Record<string, string>;
  /** The terminal for runs-on-console services. */
  console?: string;
  /** A cgroup2 directory under which each service gets a cgroup of its own. */
  cgroupRoot?: string;
  /** NOTIFY_SOCKET for `ready-notification = notify` services; the listener starts on first use. */
  notify?: {
    path: string;
    listen: (path: string, onMessage: (message: NotifyMessage) => void, onError: (error: Error) => void) => { close(): void };
  };
}

/** One sd_notify datagram, with the sender's pid from its credentials. */
export interface NotifyMessage {
  pid: number;
  uid: number;
  fields: Record<string, string>;
}

export class Supervisor {
  readonly services: ServiceSet;
  private readonly processes: ProcessTable<Owner>;
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly queue: Event[] = [];
  private draining = false;
  private readonly settledWaiters = new Set<() => void>();
  private readonly childlessWaiters = new Set<() => void>();
  private readonly listeners = new Set<() => void>();
  /** Output of `log-type = buffer` services. */
  private readonly bufferLogs = new Map<string, RingLog>();
  /** socket-listen sockets by service. */
  private readonly activationSockets = new Map<string, { fd: number; path: string; mode: number }>();
  /** Services whose leftover processes wait for their SIGKILL. */
  private readonly leftovers = new Map<string, { timer: ReturnType<typeof setTimeout>; kill: () => void }>();
  private notifyListener: { close(): void } | undefined;
  /** The last STATUS= each service sent through NOTIFY_SOCKET. */
  readonly notifyStatus = new Map<string, string>();

  constructor(
    specs: Iterable<ServiceSpec>,
    private readonly options: SupervisorOptions,
  ) {
    const { sys } = options;
    this.services = new ServiceSet(specs, { now: () => sys.now(), console: options.console });
    this.processes = new ProcessTable<Owner>(
      sys,
      (owner, pid, status) => this.dispatch({ kind: "exited", service: owner.service, role: owner.role, pid, status }),
      (reaped) => this.orphanReaped(reaped),
    );
  }

  add(spec: ServiceSpec): void {
    this.services.add(spec);
  }

  /** New service descriptions (SIGHUP, `initctl reload`); `blocked` are cycle members. */
  reload(specs: ReadonlyMap<string, ServiceSpec>, blocked: ReadonlyMap<string, string>, unreadable: ReadonlySet<string>): ReloadSummary {
    if (this.shuttingDown) {
      this.options.log.warn("not reloading: shutting down");
      return { added: [], changed: [], removed: [], pending: [], shadowed: [], kept: [] };
    }
    const summary = this.services.reload(specs, unreadable);
    this.services.clearBlocks();
    for (const [name, reason] of blocked) this.services.block(name, reason);
    for (const action of this.services.takeActions()) this.perform(action);
    this.closeUnusedActivationSockets();
    this.wake(this.listeners);
    return summary;
  }

  private nextCommandId = 1;
  /** Who waits for the outcome of which command. */
  private readonly commandWaiters = new Map<number, (outcome: CommandOutcome) => void>();

  /**
   * Carry out a command and resolve with its outcome as the core reports it; undefined when
   * `signal` aborts first (the client went away).
   */
  command(op: CommandOp, service: string, signal?: AbortSignal): Promise<CommandOutcome | undefined> {
    const id = this.nextCommandId++;
    return new Promise((resolve) => {
      const onAbort = () => {
        this.commandWaiters.delete(id);
        resolve(undefined);
      };
      this.commandWaiters.set(id, (outcome) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(outcome);
      });
      signal?.addEventListener("abort", onAbort, { once: true });
      this.dispatch({ kind: "command", op, service, id });
    });
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
    if (this.shuttingDown && event.kind === "command" && (event.op === "start" || event.op === "restart" || event.op === "trigger")) {
      this.options.log.warn(`not starting ${event.service}: shutting down`);
      if (event.id !== undefined) this.commandOutcome(event.id, { kind: "refused", reason: "shutting down" });
      return;
    }
    this.queue.push(event);
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        try {
          for (const action of this.services.handle(next)) this.perform(action);
        } catch (error) {
          // One bad event must not stop the next: log it and go on.
          this.options.log.error(`handling ${next.kind} for ${next.service}: ${String(error)}`);
        }
      }
    } finally {
      this.draining = false;
    }
    if (this.services.isQuiet()) this.wake(this.settledWaiters);
    if (this.activationSockets.size > 0) this.closeUnusedActivationSockets();
    this.wake(this.listeners);
  }

  /** A service removed or changed by a reload, once applied, no longer holds its old socket. */
  private closeUnusedActivationSockets(): void {
    for (const [service, known] of [...this.activationSockets]) {
      const spec = this.services.get(service)?.spec;
      if (spec === undefined || spec.socketListen !== known.path || spec.socketPermissions !== known.mode) this.closeActivationSocket(service);
    }
  }

  /** Calls `listener` after every batch of events; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Set by stopAll: from then on nothing new is started. */
  shuttingDown = false;

  /** Stop every service (dependents before their dependencies) and wait until all are down. */
  async stopAll(): Promise<void> {
    this.shuttingDown = true;
    for (const record of this.services.list()) {
      if (record.state !== "stopped" || this.services.wanted(record) || record.restartPending) this.stop(record.spec.name);
    }
    await this.until(this.settledWaiters, () => this.allStopped());
  }

  /** Resolves true when this process has no children left, false after `timeoutMs`. */
  async whenChildless(timeoutMs: number): Promise<boolean> {
    this.reap();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const childless = this.until(this.childlessWaiters, () => this.processes.hasNoChildren()).then(() => true);
    const result = await Promise.race([childless, timedOut]);
    clearTimeout(timer);
    return result;
  }

  private allStopped(): boolean {
    return this.services.list().every((r: ServiceRecord) => r.state === "stopped" && !r.restartPending);
  }

  private until(waiters: Set<() => void>, done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!done()) return;
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
    });
  }

  private wake(waiters: Set<() => void>): void {
    for (const waiter of [...waiters]) waiter();
  }

  private perform(action: Action): void {
    const { log, sys } = this.options;
    switch (action.kind) {
      case "spawn":
        this.spawn(action);
        return;
      case "signal": {
        // The whole process group first (the service's own session), then the leader itself
        // in case it moved to another group, then whatever else is in the service's cgroup.
        const groupError = sys.kill(-action.pid, action.signal);
        const leaderError = sys.kill(action.pid, action.signal);
        if (groupError !== undefined && leaderError !== undefined && leaderError.code !== "ESRCH") {
          log.warn(`${action.service}: ${leaderError.message}`);
        }
        this.signalCgroup(action.service, action.signal);
        return;
      }
      case "kill-leftovers":
        this.killLeftoversLater(action.service, action.pgid, action.graceMs);
        return;
      case "arm-timer":
        this.armTimer(action.service, action.timer, action.ms);
        return;
      case "cancel-timer": {
        const key = `${action.service}/${action.timer}`;
        clearTimeout(this.timers.get(key));
        this.timers.delete(key);
        return;
      }
      case "log":
        log.write(action.level, action.text);
        return;
      case "status":
        log.status(action.ok, action.text);
        return;
      case "state":
        log.debug(`${action.service}: ${action.from} -> ${action.to}`);
        return;
      case "read-pid-file":
        this.readPidFile(action.service, action.path);
        return;
      case "outcome":
        this.commandOutcome(action.id, action.outcome);
        return;
      default:
        action satisfies never;
    }
  }

  private spawn(action: Extract<Action, { kind: "spawn" }>): void {
    const { sys, env } = this.options;
    const { service, role } = action;
    const spec = this.services.get(service)?.spec;
    if (spec === undefined) return;
    const notifySocket = spec.readyNotification?.kind === "notify" ? this.notifySocket() : undefined;
    const activationFd = role === "main" && spec.socketListen !== undefined ? this.activationSocket(spec.name, spec.socketListen, spec.socketPermissions) : undefined;
    if (activationFd instanceof Error) {
      this.queue.push({ kind: "spawn-failed", service, role, stage: "socket-listen", error: activationFd.message });
      return;
    }
    const prepared = prepareSpawn(spec, action, { sys, env, notifySocket, activationFd });
    if (!prepared.ok) {
      this.queue.push({ kind: "spawn-failed", service, role, stage: prepared.stage, error: prepared.error });
      return;
    }
    // A new instance does not share its cgroup with the last one's leftovers.
    if (role === "main") this.killLeftoversNow(service);
    const result = this.processes.spawn({ service, role }, prepared.request);
    for (const fd of prepared.closeAfterSpawn) sys.close(fd);
    if (!result.ok) {
      if (prepared.readinessFd !== undefined) sys.close(prepared.readinessFd);
      if (prepared.outputFd !== undefined) sys.close(prepared.outputFd);
      // exec's detail is the program and errno; other stages name their call.
      const detail = result.stage === "exec" ? `${result.error.path ?? ""}: ${result.error.code}` : result.error.message;
      this.queue.push({ kind: "spawn-failed", service, role, stage: result.stage, error: detail });
      return;
    }
    this.queue.push({ kind: "spawned", service, role, pid: result.pid });
    if (role === "main") this.joinCgroup(service, result.pid);
    if (prepared.readinessFd !== undefined) this.watchReadiness(service, result.pid, prepared.readinessFd);
    if (prepared.outputFd !== undefined) {
      const log = this.bufferLog(service, spec.logBufferSize);
      void sys.readUntilClosed(prepared.outputFd, (chunk) => log.append(chunk));
    }
  }

  /**
   * Moves a service's new main process into the service's own cgroup, so that stopping it can
   * end whatever escaped its process group. posix_spawn cannot start a child in a cgroup, so a
   * process that forks in its first microseconds may leave a child outside.
   */
  private joinCgroup(service: string, pid: number): void {
    const { sys, log, cgroupRoot } = this.options;
    if (cgroupRoot === undefined) return;
    const dir = `${cgroupRoot}/${service}`;
    const error = (sys.isDirectory(dir) ? undefined : sys.mkdir(dir, 0o755)) ?? sys.writeFile(`${dir}/cgroup.procs`, String(pid));
    if (error !== undefined) log.warn(`${service}: joining cgroup ${dir}: ${error.message}`);
  }

  /** The pids in a service's cgroup, or [] where services get no cgroups. */
  private cgroupMembers(service: string): number[] {
    const { sys, cgroupRoot } = this.options;
    if (cgroupRoot === undefined) return [];
    const text = sys.readFile(`${cgroupRoot}/${service}/cgroup.procs`) ?? "";
    return text.split("\n").filter(Boolean).map(Number);
  }

  /** SIGKILL is cgroup.kill, which also catches what forks meanwhile; others go pid by pid. */
  private signalCgroup(service: string, signal: number): void {
    const { sys, cgroupRoot } = this.options;
    if (cgroupRoot === undefined) return;
    if (signal === SIGKILL) {
      const dir = `${cgroupRoot}/${service}`;
      if (sys.isDirectory(dir)) sys.writeFile(`${dir}/cgroup.kill`, "1");
      return;
    }
    for (const pid of this.cgroupMembers(service)) sys.kill(pid, signal);
  }

  /**
   * Leftovers of a stopped service (in its process group or cgroup) already had the stop
   * signal; they get `graceMs` before SIGKILL, or less if the service starts again first.
   */
  private killLeftoversLater(service: string, pgid: number, graceMs: number): void {
    const { sys } = this.options;
    const alive = sys.kill(-pgid, 0) === undefined || this.cgroupMembers(service).length > 0;
    if (!alive) return;
    this.killLeftoversNow(service);
    const kill = () => {
      this.leftovers.delete(service);
      sys.kill(-pgid, SIGKILL);
      this.signalCgroup(service, SIGKILL);
    };
    this.leftovers.set(service, { timer: setTimeout(kill, graceMs), kill });
  }

  /**
   * The listening socket of a socket-listen service, made on its first start and kept across
   * restarts, so connections made while the service restarts wait in the backlog.
   */
  private activationSocket(service: string, path: string, mode: number): number | Error {
    const known = this.activationSockets.get(service);
    if (known !== undefined && known.path === path && known.mode === mode) return known.fd;
    // A reload changed the setting: the old socket goes.
    if (known !== undefined) this.closeActivationSocket(service);
    const fd = this.options.sys.listenUnix(substituteValue(path, this.options.env), mode);
    if (typeof fd === "number") this.activationSockets.set(service, { fd, path, mode });
    return fd;
  }

  private closeActivationSocket(service: string): void {
    const known = this.activationSockets.get(service);
    if (known === undefined) return;
    this.activationSockets.delete(service);
    this.options.sys.close(known.fd);
  }

  /** The buffer log of a `log-type = buffer` service; it outlives restarts. */
  bufferLog(service: string, capacity?: number): RingLog {
    let log = this.bufferLogs.get(service);
    if (log === undefined) {
      log = new RingLog(capacity ?? this.services.get(service)?.spec.logBufferSize ?? 4096);
      this.bufferLogs.set(service, log);
    }
    return log;
  }

  /** SIGKILL every service's processes, groups and cgroups now (a shutdown out of time). */
  killEverything(): void {
    for (const record of this.services.list()) {
      if (record.pid !== undefined) this.perform({ kind: "signal", service: record.spec.name, pid: record.pid, signal: SIGKILL });
      if (record.stopPid !== undefined) this.options.sys.kill(record.stopPid, SIGKILL);
    }
    this.killAllLeftovers();
  }

  /** SIGKILL every stopped service's leftovers now (supervisor mode, before it exits). */
  killAllLeftovers(): void {
    for (const service of [...this.leftovers.keys()]) this.killLeftoversNow(service);
  }

  private killLeftoversNow(service: string): void {
    const pending = this.leftovers.get(service);
    if (pending === undefined) return;
    clearTimeout(pending.timer);
    pending.kill();
  }

  private notifySocket(): string | undefined {
    const { notify, log } = this.options;
    if (notify === undefined) return undefined;
    if (this.notifyListener === undefined) {
      try {
        this.notifyListener = notify.listen(notify.path, (message) => this.notified(message), (error) => log.warn(`NOTIFY_SOCKET: ${error.message}`));
      } catch (error) {
        log.error(`NOTIFY_SOCKET ${notify.path}: ${String(error)}`);
        return undefined;
      }
    }
    return notify.path;
  }

  /**
   * A datagram on NOTIFY_SOCKET belongs to the service whose main process sent it, or whose
   * session the sender is in (systemd-notify run as another user sends its own pid).
   */
  private notified({ pid, fields }: NotifyMessage): void {
    const session = Number(this.options.sys.readFile(`/proc/${pid}/stat`)?.replace(/^.*\) /s, "").split(" ")[3]);
    const record = this.services.list().find((r) => r.pid !== undefined && (r.pid === pid || r.pid === session));
    if (record === undefined) {
      this.options.log.debug(`NOTIFY_SOCKET: message from pid ${pid}, which is no service's`);
      return;
    }
    const name = record.spec.name;
    if (fields.STATUS !== undefined) this.notifyStatus.set(name, fields.STATUS);
    if (fields.READY === "1") this.dispatch({ kind: "ready", service: name });
  }

  /** Stop listening (supervisor mode's exit). */
  close(): void {
    this.notifyListener?.close();
    this.notifyListener = undefined;
  }

  /** dinit's readiness pipe: the first byte the service writes means it is ready. */
  private watchReadiness(service: string, pid: number, fd: number): void {
    let told = false;
    void this.options.sys.readUntilClosed(fd, () => {
      if (told || this.services.get(service)?.pid !== pid) return;
      told = true;
      this.dispatch({ kind: "ready", service });
    });
  }

  /**
   * A pid file can be stale or written by anyone the daemon runs as: tsinit only adopts a
   * live process that is its own child (the daemon was re-parented to it when the launcher
   * exited) or in the service's cgroup, and not one that another service owns.
   */
  private untrustedPid(service: string, pid: number): string | undefined {
    const stat = this.options.sys.readFile(`/proc/${pid}/stat`);
    if (stat === undefined) return `pid ${pid} is not running`;
    if (this.processes.owns(pid)) return `pid ${pid} belongs to another service`;
    const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (parent === this.options.sys.getpid() || this.cgroupMembers(service).includes(pid)) return undefined;
    return `pid ${pid} is not a child of tsinit (a stale pid file?)`;
  }

  private readPidFile(service: string, pidFile: string): void {
    const { sys, env } = this.options;
    const path = substituteValue(pidFile, env);
    const text = sys.readFile(path);
    const pid = Number(text?.trim());
    if (text === undefined || !Number.isInteger(pid) || pid <= 1) {
      this.queue.push({ kind: "pid-file-failed", service, error: text === undefined ? `pid-file ${path} cannot be read` : `pid-file ${path} holds no pid` });
      return;
    }
    const refused = this.untrustedPid(service, pid);
    if (refused !== undefined) {
      this.queue.push({ kind: "pid-file-failed", service, error: `pid-file ${path}: ${refused}` });
      return;
    }
    this.queue.push({ kind: "pid-file", service, pid });
    // Just checked alive: an orphan exit remembered for this pid is an older process's.
    this.processes.adopt({ service, role: "main" }, pid, { alive: true });
  }

  private armTimer(service: string, timer: TimerKind, requested: number): void {
    // Longer than 2^31-1 ms, setTimeout fires at once; the parser refuses such settings, and
    // a doubled restart delay is capped the same way here.
    const ms = Math.min(requested, 2 ** 31 - 1);
    const key = `${service}/${timer}`;
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.dispatch({ kind: "timer", service, timer });
      }, ms),
    );
  }

  private commandOutcome(id: number, outcome: CommandOutcome): void {
    const waiter = this.commandWaiters.get(id);
    this.commandWaiters.delete(id);
    waiter?.(outcome);
  }

  private orphanReaped({ pid, status }: Reaped): void {
    this.options.log.debug(`reaped orphan ${pid} (${describeExit(status)})`);
  }
}
