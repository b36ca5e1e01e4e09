// The control API's behaviour, independent of HTTP: a request (method, path, query, body text,
// the caller's credentials) in, a status and a JSON body out. The server in server.ts only
// moves bytes; everything a client can get wrong or be refused is decided here, so the whole
// API runs in unit tests against a real Supervisor over a fake Sys. Nothing here may throw:
// `handle` turns any exception into a 500 and logs it.
import type { BootEntry } from "../boot/boot-record.ts";
import type { EventLog } from "../log/event-log.ts";
import type { BootTimeline } from "../log/timeline.ts";
import type { CommandOutcome } from "../core/events.ts";
import type { ReloadSummary, ServiceRecord } from "../core/service-set.ts";
import type { Log } from "../log/log.ts";
import type { ShutdownKind } from "../shutdown/requests.ts";
import type { Supervisor } from "../supervisor/supervisor.ts";
import {
  API_VERSION,
  ERROR_STATUS,
  type CommandResponse,
  type ErrorCode,
  type ErrorResponse,
  type HelloResponse,
  type ListResponse,
  type ReloadResponse,
  type BootResponse,
  type EventsResponse,
  type AnalyzeResponse,
  type DebugStallResponse,
  EVENTS_PER_ANSWER,
  type LogResponse,
  type ServiceCommand,
  type ServiceStatus,
  type ShutdownResponse,
  type StatusResponse,
} from "./api.ts";
import { isAdmin, refusal, type Operation, type Peer } from "./auth.ts";
import { checkDebugStallRequest, checkEmptyBody, checkForce, checkRunRequest, checkServiceName, checkShutdownRequest, checkWait, defaultRunName, parseJsonBody } from "./requests.ts";
import { route, type Endpoint } from "./router.ts";
import { MAX_RUNTIME_SERVICES_PER_USER, RuntimeServices, runtimeSpec } from "./runtime-services.ts";
import { serviceStatus, type Clock } from "./status.ts";
import type { Clock as RuntimeClock } from "../sys/sys.ts";
import * as verbs from "./verbs.ts";
import type { ServiceFiles } from "./verbs.ts";

/** What the API needs of the supervisor (a fake in some tests). */
/**
 * What control may do with the supervisor: read services, add and remove runtime services,
 * and carry out commands whose outcome the core reports. It never changes the core directly.
 */
export type ControlledSupervisor = Pick<
  Supervisor,
  | "service" | "serviceList" | "wanted" | "notifyStatus" | "add" | "remove" | "command" | "bufferLog" | "shuttingDown"
  | "unload" | "addDependency" | "removeDependency" | "reloadService" | "activeHardDependents" | "dependentsOf"
  | "activationEnvironment" | "changeEnvironment" | "signalService" | "whenStopped" | "stoppedWithin"
>;

export interface ControlOptions {
  supervisor: ControlledSupervisor;
  log: Pick<Log, "debug" | "info" | "warn" | "error">;
  mode: "init" | "supervisor";
  pid: number;
  clock: Clock;
  /** uids that may do everything: root, and the user the supervisor runs as. */
  admins: ReadonlySet<number>;
  /** Carries out a shutdown request (after the answer is sent); absent: 501. */
  shutdown?: (kind: ShutdownKind | undefined) => void;
  /** Re-reads the service directories; absent: 501. */
  reload?: () => ReloadSummary;
  /**
   * Loads a named service that is not loaded yet, with what it reaches, as dinit does for a
   * name a client gives; absent: only loaded services are known.
   */
  load?: (name: string) => { kind: "loaded" } | { kind: "missing" } | { kind: "failed"; message: string };
  /**
   * Whether a service file for `name` exists, looked at without loading it (a user's `run
   * --name` must not make PID 1 load anything); absent: no file is known.
   */
  hasServiceFile?: (name: string) => boolean;
  /** The boot record (PID 1 only); absent: 501. */
  bootRecord?: () => BootEntry[];
  /** The event log and the boot timeline kept from it; absent: 501. */
  events?: EventLog;
  timeline?: BootTimeline;
  /**
   * Debug requests (PID 1 only; absent: 501): `enabled` when the kernel command line has
   * tsinit.debug, else they are refused; `stall` blocks the event loop.
   */
  debug?: { enabled: boolean; stall: (ms: number) => void };
  /** The services directories (reload NAME, enable, disable); absent: those answer 501. */
  files?: ServiceFiles;
  /**
   * The timers of a long poll's limit (log -f, events): the Runtime's clock in tsinit, as for
   * the server's connection timers, so a test drives them with a FakeClock.
   */
  timers: Pick<RuntimeClock, "setTimer">;
}

export interface ControlRequest {
  method: string;
  /** The URL path, without the query. */
  path: string;
  query: URLSearchParams;
  /** The raw body (the server has already capped its size). */
  body: string;
  /** From SO_PEERCRED; undefined when they could not be read. */
  peer: Peer | undefined;
  /** Aborted when the client goes away, so that a waiting command stops waiting. */
  signal?: AbortSignal;
}

export interface ControlReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Runs once the answer is sent: a shutdown must not cut off its own answer. */
  afterSend?: () => void;
}

export function errorReply(code: ErrorCode, message: string, service?: ServiceStatus, headers?: Record<string, string>): ControlReply {
  const body: ErrorResponse = { error: { code, message } };
  if (service !== undefined) body.service = service;
  return { status: ERROR_STATUS[code], body, headers };
}

const reply = (status: number, body: unknown): ControlReply => ({ status, body });

export class ControlApi {
  readonly runtime = new RuntimeServices();

  constructor(readonly options: ControlOptions) {}

  async handle(request: ControlRequest): Promise<ControlReply> {
    try {
      const routed = route(request.method, request.path);
      if (!routed.ok) return errorReply(routed.code, routed.message, undefined, routed.allow && { allow: routed.allow.join(", ") });
      return await this.endpoint(routed.endpoint, request);
    } catch (error) {
      this.options.log.error(`control: ${request.method} ${request.path.slice(0, 200)}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return errorReply("internal", `internal error: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async endpoint(endpoint: Endpoint, request: ControlRequest): Promise<ControlReply> {
    switch (endpoint.kind) {
      case "hello":
        return this.hello(request.peer);
      case "list":
        return reply(200, { services: this.sorted().map((record) => this.status(record)) } satisfies ListResponse);
      case "status": {
        // Reading is open to all, loading is not: a name not loaded is loaded for an admin
        // only; for anyone else it is simply not found.
        if (isAdmin(request.peer, this.options.admins)) {
          const notLoaded = this.loadOnDemand(endpoint.name);
          if (notLoaded !== undefined) return notLoaded;
        }
        const record = this.options.supervisor.service(endpoint.name);
        if (record === undefined) return unknownService(endpoint.name);
        return reply(200, { service: this.status(record) } satisfies StatusResponse);
      }
      case "command":
        return this.command(endpoint.name, endpoint.command, request);
      case "run":
        return this.run(request);
      case "remove":
        return this.remove(endpoint.name, request);
      case "shutdown":
        return this.shutdown(request);
      case "log":
        return this.log(endpoint.name, request);
      case "reload": {
        const refused = this.refuse({ kind: "admin", verb: "reload" }, request);
        if (refused !== undefined) return refused;
        if (this.options.reload === undefined) return errorReply("not-implemented", "reload is not available here");
        if (this.options.supervisor.shuttingDown) return errorReply("conflict", "not reloading: shutting down");
        return reply(200, { reload: this.options.reload() } satisfies ReloadResponse);
      }
      case "events":
        return this.events(request);
      case "analyze": {
        const { timeline, supervisor } = this.options;
        if (timeline === undefined) return errorReply("not-implemented", "there is no event log here: only the PID 1 of a machine keeps one");
        const dependencies = (name: string) => {
          const spec = supervisor.service(name)?.spec;
          return spec === undefined ? [] : [...new Set([...spec.dependsOn, ...spec.dependsMs, ...spec.waitsFor])];
        };
        return reply(200, { rows: timeline.list(dependencies) } satisfies AnalyzeResponse);
      }
      case "debug-stall":
        return this.debugStall(request);
      case "boot":
        if (this.options.bootRecord === undefined) return errorReply("not-implemented", "there is no boot record here: only the PID 1 of a machine keeps one");
        return reply(200, { entries: this.options.bootRecord() } satisfies BootResponse);
      case "clear-log":
        return verbs.clearLog(this, endpoint.name, request);
      case "unload":
        return verbs.unload(this, endpoint.name, request);
      case "reload-service":
        return verbs.reloadService(this, endpoint.name, request);
      case "signal":
        return verbs.signal(this, endpoint.name, request);
      case "dependents":
        return verbs.dependents(this, endpoint.name);
      case "link":
        return verbs.link(this, endpoint.name, endpoint.verb, request);
      case "dependency":
        return verbs.dependency(this, endpoint.verb, request);
      case "env":
        return verbs.environment(this, request, false);
      case "set-env":
        return verbs.environment(this, request, true);
    }
  }

  private hello(peer: Peer | undefined): ControlReply {
    const you = peer === undefined ? null : { uid: peer.uid, gid: peer.gid, admin: isAdmin(peer, this.options.admins) };
    return reply(200, { api: API_VERSION, mode: this.options.mode, pid: this.options.pid, you } satisfies HelloResponse);
  }

  private async command(name: string, command: ServiceCommand, request: ControlRequest): Promise<ControlReply> {
    const { supervisor } = this.options;
    // Who may act comes first: loading a file is an act of its own (a service not loaded has
    // no owner, so only an admin gets this far with one).
    const refused = this.refuse({ kind: "service", verb: command, service: name, ownerUid: this.ownerUid(name) }, request);
    if (refused !== undefined) return refused;
    const notLoaded = this.loadOnDemand(name);
    if (notLoaded !== undefined) return notLoaded;
    if (supervisor.service(name) === undefined) return unknownService(name);
    const body = this.body(request, checkEmptyBody);
    if (!body.ok) return body.reply;
    const wait = checkWait(request.query);
    if (!wait.ok) return errorReply("bad-request", wait.message);
    const force = checkForce(request.query);
    if (!force.ok) return errorReply("bad-request", force.message);

    if (supervisor.shuttingDown && command !== "stop" && command !== "release" && command !== "untrigger") {
      return errorReply("conflict", `not ${GERUND[command]} ${name}: shutting down`);
    }
    const running = supervisor.service(name)!.state !== "stopped";
    if ((command === "stop" || (command === "restart" && running)) && !force.value) {
      // dinit: a stop (or restart) that would take active dependents down is refused, naming them.
      const dependents = supervisor.activeHardDependents(name);
      if (dependents.length > 0) {
        const them = dependents.length === 1 ? "it" : "them";
        const what = command === "stop" ? `stop ${them} first, or use --force to stop ${them} too` : `use --force to restart ${them} too`;
        const refusal = errorReply("conflict", `not ${GERUND[command]} ${name}: ${dependents.join(", ")} depend${dependents.length === 1 ? "s" : ""} on it; ${what}`, this.status(supervisor.service(name)!));
        (refusal.body as ErrorResponse).dependents = dependents;
        return refusal;
      }
    }
    this.options.log.debug(`control: ${describePeer(request.peer)}: ${command} ${name}`);
    return this.answer(name, command, wait.value, request.signal, 200);
  }

  private async run(request: ControlRequest): Promise<ControlReply> {
    const { supervisor, log } = this.options;
    const refused = this.refuse({ kind: "run" }, request);
    if (supervisor.shuttingDown) return errorReply("conflict", "not running anything new: shutting down");
    if (refused !== undefined) return refused;
    const peer = request.peer!;
    const body = this.body(request, checkRunRequest);
    if (!body.ok) return body.reply;
    const wait = checkWait(request.query);
    if (!wait.ok) return errorReply("bad-request", wait.message);
    const run = body.value;
    const admin = isAdmin(peer, this.options.admins);
    if (!admin && this.runtime.countOwnedBy(peer.uid) >= MAX_RUNTIME_SERVICES_PER_USER) {
      return errorReply("conflict", `uid ${peer.uid} already has ${MAX_RUNTIME_SERVICES_PER_USER} runtime services; remove some first`);
    }
    // A name with a service file is taken even before that file is loaded (on demand): a
    // user's service must never stand in for one the system configured.
    // Only looked at, never loaded: a user's run must not make PID 1 load services.
    const hasFile = (candidate: string) => this.options.hasServiceFile !== undefined && checkServiceName(candidate).ok && this.options.hasServiceFile(candidate);
    const taken = (candidate: string) => supervisor.service(candidate) !== undefined || hasFile(candidate);
    const name = run.name ?? defaultRunName(run.command, taken);
    if (taken(name)) return errorReply("conflict", `a service named ${name} already exists; pick another name with --name`);
    const dependent = admin ? undefined : this.dependentOf(name);
    if (dependent !== undefined) {
      // A user's service must not stand in for a missing dependency of someone else's service
      // (stopping it would then force that service down).
      return errorReply("conflict", `${name} is named as a dependency of ${dependent}; pick another name with --name`);
    }

    supervisor.add(runtimeSpec(name, run, peer, !admin));
    this.runtime.add(name, { uid: peer.uid, gid: peer.gid, command: [...run.command] });
    log.debug(`control: ${describePeer(peer)}: run ${name}: ${run.command.join(" ")}`);
    return this.answer(name, "start", wait.value, request.signal, 201);
  }

  private remove(name: string, request: ControlRequest): ControlReply {
    const { supervisor } = this.options;
    const record = supervisor.service(name);
    if (record === undefined) return unknownService(name);
    const owner = this.runtime.owner(name);
    const refused = this.refuse({ kind: "service", verb: "remove", service: name, ownerUid: owner?.uid }, request);
    if (refused !== undefined) return refused;
    const body = this.body(request, checkEmptyBody);
    if (!body.ok) return body.reply;
    if (owner === undefined) {
      return errorReply("conflict", `${name} comes from ${record.spec.file || "the configuration"}; only services added with run can be removed`);
    }
    const last = this.status(record);
    if (!supervisor.remove(name)) {
      return errorReply("conflict", `${name} is ${record.state} (target ${last.target}); stop it before removing it`, last);
    }
    this.runtime.delete(name);
    supervisor.notifyStatus.delete(name);
    this.options.log.debug(`control: ${describePeer(request.peer)}: removed ${name}`);
    return reply(200, { service: last } satisfies StatusResponse);
  }

  private shutdown(request: ControlRequest): ControlReply {
    const { mode, shutdown, log } = this.options;
    const refused = this.refuse({ kind: "admin", verb: "shut down" }, request);
    if (refused !== undefined) return refused;
    const body = this.body(request, checkShutdownRequest);
    if (!body.ok) return body.reply;
    if (shutdown === undefined) return errorReply("not-implemented", "this server was started without a way to shut down");
    const kind = body.value.kind;
    const what = mode === "supervisor" ? "exit" : (kind ?? "poweroff");
    log.info(`control: ${describePeer(request.peer)} asked to ${what === "exit" ? "stop every service and exit" : what}`);
    return {
      status: 202,
      body: { shutdown: what } satisfies ShutdownResponse,
      afterSend: () => {
        try {
          shutdown(kind);
        } catch (error) {
          log.error(`control: shutdown: ${String(error)}`);
        }
      },
    };
  }

  /** Stalls PID 1 once the answer is out: nothing runs, not even the watchdogs' keepalives. */
  private debugStall(request: ControlRequest): ControlReply {
    const { debug, log } = this.options;
    const refused = this.refuse({ kind: "admin", verb: "stall PID 1" }, request);
    if (refused !== undefined) return refused;
    if (debug === undefined) return errorReply("not-implemented", "debug stall is only for the PID 1 of a machine");
    if (!debug.enabled) return errorReply("forbidden", "debug stall needs tsinit.debug on the kernel command line");
    const body = this.body(request, checkDebugStallRequest);
    if (!body.ok) return body.reply;
    const { seconds } = body.value;
    log.warn(`control: ${describePeer(request.peer)} asked PID 1 to stall for ${seconds} s (debug)`);
    return { status: 202, body: { stall: { seconds } } satisfies DebugStallResponse, afterSend: () => debug.stall(seconds * 1000) };
  }

  /**
   * Carries out the command and answers with its outcome as the core reports it: once it came
   * (`wait`), or as far as it got at once. Undefined: still on its way (or the client left).
   */
  async answer(name: string, command: ServiceCommand, wait: boolean, signal: AbortSignal | undefined, okStatus: number): Promise<ControlReply> {
    const { supervisor } = this.options;
    // Without waiting, the command is let go after the events it caused at once.
    const stopWaiting = wait ? undefined : new AbortController();
    // A service whose removal is pending (its file gone, a reload since) is forgotten as it
    // stops, in the step that gives the command its outcome: its last status is the answer.
    const before = supervisor.service(name);
    const pending = supervisor.command(command, name, stopWaiting?.signal ?? signal);
    const outcome = wait ? await pending : await outcomeSoFar(pending);
    stopWaiting?.abort();
    const record = supervisor.service(name);
    if (record === undefined) {
      if (outcome?.kind === "refused") return unknownService(name);
      if (outcome?.kind === "done" && before !== undefined) return reply(okStatus, { service: this.status(before), done: true, removed: true } satisfies CommandResponse);
      const removed = "the service was removed";
      return errorReply("failed", `${name}: ${outcome?.kind !== "failed" || outcome.reason === removed ? removed : `${outcome.reason}; the service was then removed`}`);
    }
    const status = this.status(record);
    if (outcome?.kind === "failed") return errorReply("failed", `${name}: ${outcome.reason}`, status);
    if (outcome?.kind === "refused") return errorReply("conflict", `not ${GERUND[command]} ${name}: ${outcome.reason}`, status);
    return reply(okStatus, { service: status, done: outcome?.kind === "done" } satisfies CommandResponse);
  }

  /**
   * A name that is not loaded is loaded now, if its file is there (dinit's on-demand loading);
   * the answer when that fails. Only a well-formed name is looked for on disk.
   */
  private loadOnDemand(name: string): ControlReply | undefined {
    const { load, supervisor } = this.options;
    if (load === undefined || supervisor.service(name) !== undefined || supervisor.shuttingDown || !checkServiceName(name).ok) return undefined;
    const answer = load(name);
    if (answer.kind === "missing") return unknownService(name);
    if (answer.kind === "failed") return errorReply("failed", answer.message);
    return undefined;
  }

  /** A loaded service that names `name` as a dependency or in its ordering, if any. */
  private dependentOf(name: string): string | undefined {
    for (const { spec } of this.options.supervisor.serviceList()) {
      const { dependsOn, dependsMs, waitsFor, before, after, chainTo } = spec;
      if ([...dependsOn, ...dependsMs, ...waitsFor, ...before, ...after].includes(name) || chainTo === name) return spec.name;
    }
    return undefined;
  }

  /** A service's buffer log; readable by root and by whoever added the service. */
  private async log(name: string, request: ControlRequest): Promise<ControlReply> {
    const { supervisor } = this.options;
    const record = supervisor.service(name);
    if (record === undefined) return unknownService(name);
    const refused = this.refuse({ kind: "service", verb: "read the log of", service: name, ownerUid: this.ownerUid(name) }, request);
    if (refused !== undefined) return refused;
    const { logType, logfile } = record.spec;
    if (logType !== "buffer") {
      const where = logType === "file" && logfile !== undefined ? `its output goes to ${logfile}` : "its output is not kept";
      return errorReply("conflict", `${name} has no buffer log (log-type = ${logType}): ${where}; set log-type = buffer to keep it`);
    }
    const afterText = request.query.get("after") ?? "0";
    const after = /^\d+$/.test(afterText) ? Number(afterText) : NaN;
    if (!Number.isSafeInteger(after)) return errorReply("bad-request", `after must be a whole number, not ${JSON.stringify(afterText.slice(0, 20))}`);
    // Unlike commands, a log request does not wait unless asked to.
    const wait = request.query.get("wait") === null ? { ok: true as const, value: false } : checkWait(request.query);
    if (!wait.ok) return errorReply("bad-request", wait.message);
    const log = supervisor.bufferLog(name);
    if (wait.value && log.end <= after) await waitForNext((wake) => log.subscribe(wake), LOG_WAIT_MS, request.signal, this.options.timers);
    return reply(200, { service: name, ...log.since(after) } satisfies LogResponse);
  }

  /** The events after `after`; with wait=1 and none yet, the answer waits up to 25 s for one. */
  private async events(request: ControlRequest): Promise<ControlReply> {
    const events = this.options.events;
    if (events === undefined) return errorReply("not-implemented", "there is no event log here: only the PID 1 of a machine keeps one");
    const afterText = request.query.get("after") ?? "0";
    const after = /^\d+$/.test(afterText) ? Number(afterText) : NaN;
    if (!Number.isSafeInteger(after)) return errorReply("bad-request", `after must be a whole number, not ${JSON.stringify(afterText.slice(0, 20))}`);
    const wait = request.query.get("wait") === null ? { ok: true as const, value: false } : checkWait(request.query);
    if (!wait.ok) return errorReply("bad-request", wait.message);
    if (wait.value && events.next <= after + 1) await waitForNext((wake) => events.subscribe(wake), LOG_WAIT_MS, request.signal, this.options.timers);
    // A page at a time: one answer never holds the whole replay.
    const { events: list, lost } = events.after(after, EVENTS_PER_ANSWER);
    const next = (list.at(-1)?.seq ?? Math.min(after, events.next - 1)) + 1;
    return reply(200, { events: list, lost, next } satisfies EventsResponse);
  }

  /** Who added a runtime service: only a service that still has no file can be theirs. */
  ownerUid(name: string): number | undefined {
    if (this.options.supervisor.service(name)?.spec.file !== "") return undefined;
    return this.runtime.owner(name)?.uid;
  }

  refuse(operation: Operation, request: ControlRequest): ControlReply | undefined {
    const reason = refusal(operation, request.peer, this.options.admins);
    if (reason === undefined) return undefined;
    this.options.log.debug(`control: refused ${describePeer(request.peer)}: ${reason}`);
    return errorReply("forbidden", reason);
  }

  body<T>(request: ControlRequest, check: (body: unknown) => { ok: true; value: T } | { ok: false; message: string }): { ok: true; value: T } | { ok: false; reply: ControlReply } {
    const parsed = parseJsonBody(request.body);
    if (!parsed.ok) return { ok: false, reply: errorReply("bad-request", parsed.message) };
    const checked = check(parsed.value);
    return checked.ok ? checked : { ok: false, reply: errorReply("bad-request", checked.message) };
  }

  private sorted(): Readonly<ServiceRecord>[] {
    return [...this.options.supervisor.serviceList()].sort((a, b) => (a.spec.name < b.spec.name ? -1 : a.spec.name > b.spec.name ? 1 : 0));
  }

  status(record: Readonly<ServiceRecord>): ServiceStatus {
    const { supervisor, clock } = this.options;
    return serviceStatus(record, {
      clock,
      wanted: (r) => supervisor.wanted(r),
      notifyStatus: (name) => supervisor.notifyStatus.get(name),
      owner: (name) => this.runtime.owner(name),
    });
  }
}

/**
 * The outcome if the command reached it in the events it caused at once (the supervisor drains
 * them before `command` returns, so the promise is already settled), else undefined.
 */
function outcomeSoFar(pending: Promise<CommandOutcome | undefined>): Promise<CommandOutcome | undefined> {
  // An already settled promise wins a race against one settled later.
  return Promise.race([pending, Promise.resolve(undefined)]);
}

export function unknownService(name: string): ControlReply {
  const checked = checkServiceName(name);
  const shown = checked.ok ? name : JSON.stringify(name.slice(0, 80));
  return errorReply("unknown-service", `no service named ${shown}`);
}

function describePeer(peer: Peer | undefined): string {
  if (peer === undefined) return "a client with unknown credentials";
  // pid 0: the client is in a pid namespace this one cannot see.
  return peer.pid > 0 ? `uid ${peer.uid} (pid ${peer.pid})` : `uid ${peer.uid}`;
}

const GERUND: Record<ServiceCommand, string> = {
  start: "starting",
  stop: "stopping",
  restart: "restarting",
  release: "releasing",
  trigger: "triggering",
  untrigger: "untriggering",
  wake: "waking",
};

/** How long a long poll (`log -f`, `events`) waits for something new before answering with nothing. */
export const LOG_WAIT_MS = 25_000;

/**
 * Resolves at the next thing `subscribe` reports (an append to a buffer log, an event), after
 * `timeoutMs` on `timers`, or when the client goes away.
 */
function waitForNext(subscribe: (wake: () => void) => () => void, timeoutMs: number, signal: AbortSignal | undefined, timers: Pick<RuntimeClock, "setTimer">): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      timer.cancel();
      unsubscribe();
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = timers.setTimer(timeoutMs, done);
    const unsubscribe = subscribe(done);
    signal?.addEventListener("abort", done);
  });
}
