// A ControlApi over a real Supervisor and a fake Sys: requests go in as values, answers come
// out as values, and process exits are scripted, so the whole API runs without a socket.
import { EventLog } from "../../../src/log/event-log.ts";
import { BootTimeline } from "../../../src/log/timeline.ts";
import { ControlApi, type ControlReply } from "../../../src/control/handlers.ts";
import type { Peer } from "../../../src/control/auth.ts";
import { defaultSpec, type ServiceSpec, type ServiceType } from "../../../src/base/service-spec.ts";
import { Log } from "../../../src/log/log.ts";
import type { ShutdownKind } from "../../../src/shutdown/requests.ts";
import { ServiceDirectories } from "../../../src/service-loading.ts";
import { Supervisor } from "../../../src/supervisor/supervisor.ts";
import type { SpawnRequest, SpawnResult } from "../../../src/sys/sys.ts";
import { FakeMachine } from "../fakes/fake-machine.ts";
import { FakeSys, SysError } from "../fakes/fake-sys.ts";

export const ROOT: Peer = { pid: 10, uid: 0, gid: 0 };
export const NOBODY: Peer = { pid: 11, uid: 65534, gid: 65534 };
export const OTHER: Peer = { pid: 12, uid: 1000, gid: 1000 };

/** A FakeSys whose spawns of /missing fail as posix_spawn reports a missing program. */
class ScriptedSys extends FakeSys {
  readonly requests: SpawnRequest[] = [];
  override spawn(request: SpawnRequest): SpawnResult {
    this.requests.push(request);
    if (request.argv[0] === "/missing") return { ok: false, stage: "exec", error: new SysError("execve", 2, "ENOENT", "/missing") };
    return super.spawn(request);
  }
}

export function svc(name: string, type: ServiceType = "process", extra: Partial<ServiceSpec> = {}): ServiceSpec {
  const command = type === "internal" ? undefined : [`/bin/${name}`];
  return { ...defaultSpec(name, type, `/etc/tsinit.d/${name}`), command, ...extra };
}

export class ApiHarness {
  readonly sys = new ScriptedSys();
  readonly machine = new FakeMachine(this.sys);
  readonly logs: string[] = [];
  readonly shutdowns: (ShutdownKind | undefined)[] = [];
  /** Each debug stall carried out, in ms. */
  readonly stalls: number[] = [];
  readonly supervisor: Supervisor;
  readonly api: ControlApi;

  /** With `events`, the event log and the boot timeline of PID 1 (GET /v1/events, /v1/analyze). */
  readonly events?: EventLog;

  /**
   * With `files` (path -> text), those files are /etc/tsinit.d's on the fake machine and a name
   * the API is given that is not loaded yet is loaded from there (dinit's on-demand loading).
   */
  constructor(specs: ServiceSpec[], options: { mode?: "init" | "supervisor"; shutdown?: boolean; events?: boolean; debug?: boolean; files?: Record<string, string> } = {}) {
    const log = new Log({ console: (line) => this.logs.push(line), kmsg: () => false }, { consoleThreshold: 7, kernelConsoleLevel: 0 });
    const events = options.events ? new EventLog(() => this.machine.clock.sinceBoot()) : undefined;
    const timeline = events === undefined ? undefined : new BootTimeline();
    if (events !== undefined) events.subscribe((event) => timeline!.add(event));
    this.events = events;
    this.supervisor = new Supervisor(specs, { runtime: this.machine, log, env: {}, observe: events === undefined ? undefined : (event) => void events.emit(event) });
    let directories: ServiceDirectories | undefined;
    if (options.files !== undefined) {
      for (const [path, text] of Object.entries(options.files)) this.machine.sys.files.set(path, text);
      directories = new ServiceDirectories(this.machine.sys, log, ["/etc/tsinit.d"]);
      directories.attach(this.supervisor);
    }
    this.api = new ControlApi({
      ...(directories !== undefined && { load: (name: string) => directories.ensure(name), hasServiceFile: (name: string) => directories.hasFile(name) }),
      supervisor: this.supervisor,
      log,
      mode: options.mode ?? "supervisor",
      pid: 1,
      clock: { monotonic: () => this.machine.clock.now(), wall: () => this.machine.clock.wallTime() },
      timers: this.machine.clock,
      admins: new Set([0]),
      shutdown: options.shutdown === false ? undefined : (kind) => this.shutdowns.push(kind),
      events,
      timeline,
      debug: options.debug === undefined ? undefined : { enabled: options.debug, stall: (ms) => void this.stalls.push(ms) },
    });
  }

  call(method: string, pathAndQuery: string, options: { body?: unknown; peer?: Peer | null; signal?: AbortSignal } = {}): Promise<ControlReply> {
    const question = pathAndQuery.indexOf("?");
    const body = options.body === undefined ? "" : typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    return this.api.handle({
      method,
      path: question === -1 ? pathAndQuery : pathAndQuery.slice(0, question),
      query: new URLSearchParams(question === -1 ? "" : pathAndQuery.slice(question + 1)),
      body,
      peer: options.peer === null ? undefined : (options.peer ?? ROOT),
      signal: options.signal,
    });
  }

  /** The main process of `name` ends with `code` (or a signal), as SIGCHLD would report it. */
  exit(name: string, status: { code: number } | { signal: number }): void {
    const pid = this.supervisor.services.get(name)?.pid;
    if (pid === undefined) throw new Error(`${name} has no process`);
    this.sys.pending.push({ pid, status: "code" in status ? { kind: "exited", code: status.code } : { kind: "signaled", signal: status.signal, core: false } });
    this.supervisor.reap();
  }

  state(name: string): string | undefined {
    return this.supervisor.services.get(name)?.state;
  }
}

/** Lets pending promise callbacks run (an answer that is not waiting resolves within this). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
