// Drives a ServiceSet the way the real supervisor loop does, with a fake clock and fake pids,
// and records what it was asked to do, so tests assert on sequences without real processes.
import type { Action, Event, TimerKind } from "../../../src/core/events.ts";
import { ServiceSet } from "../../../src/core/service-set.ts";
import type { ServiceSpec } from "../../../src/base/service-spec.ts";
import type { ExitStatus } from "../../../src/base/process.ts";

export interface SpawnRecord {
  service: string;
  role: "main" | "stop";
  argv: readonly string[];
  pid: number;
  at: number;
}

export class FakeRuntime {
  now = 0;
  readonly set: ServiceSet;
  readonly spawns: SpawnRecord[] = [];
  readonly signals: { service: string; pid: number; signal: number; at: number }[] = [];
  readonly statuses: string[] = [];
  readonly logs: string[] = [];
  readonly pidFileReads: string[] = [];
  readonly leftovers: { service: string; pgid: number; graceMs: number }[] = [];
  readonly timers = new Map<string, { service: string; timer: TimerKind; due: number }>();
  /** Programs whose spawn fails, as posix_spawn reports a missing executable. */
  readonly missingPrograms = new Set<string>(["/missing"]);
  private nextPid = 100;

  constructor(specs: ServiceSpec[]) {
    this.set = new ServiceSet(specs, { now: () => this.now, random: () => 0 });
  }

  send(first: Event): void {
    const queue: Event[] = [first];
    for (let event = queue.shift(); event !== undefined; event = queue.shift()) {
      for (const action of this.set.handle(event)) this.perform(action, queue);
    }
  }

  start(service: string): void {
    this.send({ kind: "command", op: "start", service });
  }

  stop(service: string): void {
    this.send({ kind: "command", op: "stop", service });
  }

  /** The main (or stop) process of `service` ends. */
  exit(service: string, status: ExitStatus | number, role: "main" | "stop" = "main"): void {
    const record = this.set.get(service);
    const pid = role === "main" ? record?.pid : record?.stopPid;
    if (pid === undefined) throw new Error(`${service} has no ${role} process`);
    const decoded: ExitStatus = typeof status === "number" ? { kind: "exited", code: status } : status;
    this.send({ kind: "exited", service, role, pid, status: decoded });
  }

  /** Moves the clock, firing due timers in order. */
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.due <= target).sort((a, b) => a[1].due - b[1].due)[0];
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.now = due[1].due;
      this.send({ kind: "timer", service: due[1].service, timer: due[1].timer });
    }
    this.now = target;
  }

  state(service: string): string | undefined {
    return this.set.get(service)?.state;
  }

  spawnOrder(role: "main" | "stop" = "main"): string[] {
    return this.spawns.filter((s) => s.role === role).map((s) => s.service);
  }

  private perform(action: Action, queue: Event[]): void {
    switch (action.kind) {
      case "spawn": {
        const program = action.argv[0] ?? "";
        if (this.missingPrograms.has(program)) {
          queue.push({ kind: "spawn-failed", service: action.service, role: action.role, stage: "exec", error: `${program}: ENOENT` });
          return;
        }
        const pid = this.nextPid++;
        this.spawns.push({ service: action.service, role: action.role, argv: action.argv, pid, at: this.now });
        queue.push({ kind: "spawned", service: action.service, role: action.role, pid });
        return;
      }
      case "signal":
        this.signals.push({ service: action.service, pid: action.pid, signal: action.signal, at: this.now });
        return;
      case "arm-timer":
        this.timers.set(`${action.service}/${action.timer}`, { service: action.service, timer: action.timer, due: this.now + action.ms });
        return;
      case "cancel-timer":
        this.timers.delete(`${action.service}/${action.timer}`);
        return;
      case "status":
        this.statuses.push(`${action.ok ? "OK" : "FAILED"} ${action.text}`);
        return;
      case "log":
        this.logs.push(`${action.level}: ${action.text}`);
        return;
      case "state":
        return;
      case "read-pid-file":
        this.pidFileReads.push(action.path);
        return;
      case "kill-leftovers":
        this.leftovers.push({ service: action.service, pgid: action.pgid, graceMs: action.graceMs });
        return;
    }
  }
}
