// The real Supervisor on a FakeMachine (fake system, fake clock), with a small vocabulary for
// tests of service behaviour: start, stop, a process exits, time passes; and records of what
// the core asked for (spawns, signals, status lines, logs, pid-file reads, leftovers, command
// outcomes). Services started through the exec helper report through the helper's status pipe:
// with `sys.execSucceeds = false` a test answers it with `confirmExec` or `failExec`.
import type { ExitStatus, SpawnStage } from "../../../src/base/process.ts";
import type { ServiceSpec } from "../../../src/base/service-spec.ts";
import type { Action, CommandOp, CommandOutcome, Event } from "../../../src/core/events.ts";
import { Log } from "../../../src/log/log.ts";
import { Supervisor, type SupervisorOptions } from "../../../src/supervisor/supervisor.ts";
import { FakeMachine } from "./fake-machine.ts";

export interface SpawnRecord {
  service: string;
  role: "main" | "stop";
  argv: readonly string[];
  pid: number;
  at: number;
}

export class FakeRuntime {
  readonly machine = new FakeMachine();
  readonly supervisor: Supervisor;
  readonly spawns: SpawnRecord[] = [];
  readonly signals: { service: string; pid: number; signal: number; at: number }[] = [];
  readonly statuses: string[] = [];
  readonly logs: string[] = [];
  readonly pidFileReads: string[] = [];
  readonly leftovers: { service: string; pgid: number; graceMs: number }[] = [];
  /** The outcome actions the core returned, by command id (a command gets exactly one). */
  readonly outcomes = new Map<number, CommandOutcome[]>();
  /** What each command sent through `command` resolved with, once it resolved. */
  readonly answers = new Map<number, CommandOutcome | undefined>();
  private lastCommandId: number | undefined;
  /** Every event that reached the core, in order. */
  readonly events: Event[] = [];

  constructor(specs: ServiceSpec[], options: { cgroupRoot?: string; notifyPath?: string; childOomScoreAdj?: string; startsRwfs?: () => void; startsLog?: () => void; observe?: SupervisorOptions["observe"] } = {}) {
    const log = new Log(this.machine.sink, { consoleThreshold: 7, kernelConsoleLevel: 0 });
    this.supervisor = new Supervisor(specs, { runtime: this.machine, log, env: { PATH: "/bin" }, random: () => 0, notifyNonce: () => "0", ...options });
    // Watch what goes into the core and what comes out, without changing either.
    const handle = this.supervisor.services.handle.bind(this.supervisor.services);
    this.supervisor.services.handle = (event: Event) => {
      if (event.kind === "command") this.lastCommandId = event.id;
      this.events.push(event);
      const actions = handle(event);
      if (event.kind === "spawned") this.recordSpawn(event);
      for (const action of actions) this.record(action);
      return actions;
    };
  }

  get set() {
    return this.supervisor.services;
  }

  get sys() {
    return this.machine.sys;
  }

  get now(): number {
    return this.machine.clock.now();
  }

  /** Timers armed and not yet fired or cancelled (intervals excluded). */
  get timers(): { size: number } {
    return { size: this.machine.clock.armed };
  }

  send(event: Event): void {
    this.supervisor.dispatch(event);
  }

  start(service: string): void {
    this.supervisor.start(service);
  }

  stop(service: string): void {
    this.supervisor.stop(service);
  }

  /**
   * Sends `op` through Supervisor.command and returns the command's id: its outcome actions are
   * in `outcomes`, and what the promise resolved with lands in `answers`.
   */
  command(op: CommandOp, service: string): number {
    this.lastCommandId = undefined;
    const answer = this.supervisor.command(op, service);
    const id = this.lastCommandId;
    if (id === undefined) throw new Error(`the core did not see the ${op} command for ${service}`);
    void answer.then((outcome) => this.answers.set(id, outcome));
    return id;
  }

  /** The outcome actions for command `id`, undefined while it has none. */
  outcome(id: number): CommandOutcome[] | undefined {
    return this.outcomes.get(id);
  }

  /** The main (or stop) process of `service` ends: the kernel reports it and tsinit reaps it. */
  exit(service: string, status: ExitStatus | number, role: "main" | "stop" = "main"): void {
    const record = this.set.get(service);
    const pid = role === "main" ? record?.pid : record?.stopPid;
    if (pid === undefined) throw new Error(`${service} has no ${role} process`);
    this.exitPid(pid, status);
  }

  /** Process `pid` ends (whether or not its service still counts it as its own) and is reaped. */
  exitPid(pid: number, status: ExitStatus | number): void {
    const decoded: ExitStatus = typeof status === "number" ? { kind: "exited", code: status } : status;
    this.sys.pending.push({ pid, status: decoded });
    this.supervisor.reap();
  }

  /** The exec helper's status pipe of the latest main (or stop) process spawned for `service`. */
  execFd(service: string, role: "main" | "stop" = "main"): number {
    const pid = this.spawns.filter((s) => s.service === service && s.role === role).at(-1)?.pid;
    const fd = this.sys.spawns.find((s) => s.pid !== undefined && s.pid === pid)?.execStatusFd;
    if (fd === undefined) throw new Error(`${service}'s latest ${role} process has no exec helper`);
    return fd;
  }

  /** The exec helper exec'd the program: its status pipe closes with nothing written. */
  async confirmExec(service: string, role: "main" | "stop" = "main"): Promise<void> {
    this.sys.endOfFile(this.execFd(service, role));
    await macrotask();
  }

  /** The exec helper failed at `stage`: it writes its report, then the pipe closes. */
  async failExec(service: string, stage: SpawnStage, detail: string, role: "main" | "stop" = "main"): Promise<void> {
    const fd = this.execFd(service, role);
    this.sys.feed(fd, `${JSON.stringify({ stage, detail })}\n`);
    this.sys.endOfFile(fd);
    await macrotask();
  }

  /** A daemon's pid file naming `pid`, a live child of tsinit (PID 1 here). */
  writePidFile(path: string, pid: number): void {
    this.sys.files.set(path, `${pid}\n`);
    this.sys.files.set(`/proc/${pid}/stat`, `${pid} (daemon) S 1 ${pid} ${pid} 0`);
  }

  /** Moves the clock, firing due timers in order. */
  advance(ms: number): void {
    this.machine.clock.advance(ms);
  }

  state(service: string): string | undefined {
    return this.set.get(service)?.state;
  }

  /** How many main (or stop) processes were spawned for `service`. */
  spawnCount(service: string, role: "main" | "stop" = "main"): number {
    return this.spawns.filter((s) => s.service === service && s.role === role).length;
  }

  spawnOrder(role: "main" | "stop" = "main"): string[] {
    return this.spawns.filter((s) => s.role === role).map((s) => s.service);
  }

  private recordSpawn(event: Extract<Event, { kind: "spawned" }>): void {
    const request = this.sys.spawns.find((s) => s.pid === event.pid)?.request;
    this.spawns.push({ service: event.service, role: event.role, argv: request?.argv ?? [], pid: event.pid, at: this.now });
  }

  private record(action: Action): void {
    switch (action.kind) {
      case "signal":
        this.signals.push({ service: action.service, pid: action.pid, signal: action.signal, at: this.now });
        return;
      case "status":
        this.statuses.push(`${action.ok ? "OK" : "FAILED"} ${action.text}`);
        return;
      case "log":
        this.logs.push(`${action.level}: ${action.text}`);
        return;
      case "read-pid-file":
        this.pidFileReads.push(action.path);
        return;
      case "kill-leftovers":
        this.leftovers.push({ service: action.service, pgid: action.pgid, graceMs: action.graceMs });
        return;
      case "outcome":
        this.outcomes.set(action.id, [...(this.outcomes.get(action.id) ?? []), action.outcome]);
        return;
      default:
        return;
    }
  }
}

/** Lets promise callbacks (a pipe read ending, a command answered) run. */
function macrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
