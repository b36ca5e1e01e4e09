// Plays the runtime around a bare ServiceSet: spawns get pids (or, for /missing, fail as
// posix_spawn does), and the outcome actions are kept by command id. `execHelper` services are
// spawned as through tsinit's exec helper: their spawned event says the exec is still pending,
// and the test sends exec-done or spawn-failed itself. For core semantics the FakeRuntime does
// not reach (it confirms every spawn at once).
import { defaultSpec, type ServiceSpec, type ServiceType } from "../../src/base/service-spec.ts";
import type { Action, CommandOp, CommandOutcome, Event } from "../../src/core/events.ts";
import { ServiceSet } from "../../src/core/service-set.ts";

export function svc(name: string, type: ServiceType = "process", extra: Partial<ServiceSpec> = {}): ServiceSpec {
  const command = type === "internal" ? undefined : [`/bin/${name}`];
  return { ...defaultSpec(name, type), command, ...extra };
}

export class CoreDriver {
  now = 0;
  readonly set: ServiceSet;
  readonly outcomes = new Map<number, CommandOutcome[]>();
  readonly actions: Action[] = [];
  /** Services spawned as through the exec helper. */
  readonly execHelper = new Set<string>();
  readonly timers = new Map<string, { service: string; timer: "restart" | "start-timeout" | "stop-timeout"; due: number }>();
  private nextId = 1;
  private nextPid = 100;

  constructor(specs: ServiceSpec[]) {
    this.set = new ServiceSet(specs, { now: () => this.now, random: () => 0 });
  }

  send(first: Event): void {
    const queue = [first];
    for (let event = queue.shift(); event !== undefined; event = queue.shift()) {
      for (const action of this.set.handle(event)) {
        this.actions.push(action);
        if (action.kind === "spawn") {
          if (action.argv[0] === "/missing") queue.push({ kind: "spawn-failed", service: action.service, role: action.role, stage: "exec", error: "/missing: ENOENT" });
          else queue.push({ kind: "spawned", service: action.service, role: action.role, pid: this.nextPid++, execPending: this.execHelper.has(action.service) || undefined });
        } else if (action.kind === "outcome") {
          this.outcomes.set(action.id, [...(this.outcomes.get(action.id) ?? []), action.outcome]);
        } else if (action.kind === "arm-timer") {
          this.timers.set(`${action.service}/${action.timer}`, { service: action.service, timer: action.timer, due: this.now + action.ms });
        } else if (action.kind === "cancel-timer") {
          this.timers.delete(`${action.service}/${action.timer}`);
        }
      }
    }
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

  /** Sends the command with a fresh id and returns that id. */
  command(op: CommandOp, service: string): number {
    const id = this.nextId++;
    this.send({ kind: "command", op, service, id });
    return id;
  }

  exit(service: string, code: number, role: "main" | "stop" = "main"): void {
    const record = this.set.get(service)!;
    const pid = role === "main" ? record.pid! : record.stopPid!;
    this.exitPid(service, pid, code, role);
  }

  exitPid(service: string, pid: number, code: number, role: "main" | "stop" = "main"): void {
    this.send({ kind: "exited", service, role, pid, status: { kind: "exited", code } });
  }

  outcome(id: number): CommandOutcome[] | undefined {
    return this.outcomes.get(id);
  }

  state(service: string): string | undefined {
    return this.set.get(service)?.state;
  }

  spawnCount(service: string): number {
    return this.actions.filter((a) => a.kind === "spawn" && a.service === service && a.role === "main").length;
  }

  statuses(): string[] {
    return this.actions.flatMap((a) => (a.kind === "status" ? [`${a.ok ? "OK" : "FAILED"} ${a.text}`] : []));
  }
}
