// The control API, version 1: every request and response body that crosses the control socket.
// The server (src/control/) and the client (src/cli/) both import this one file, so the two
// cannot drift apart. Pure types and constants; no imports from Bun or Node.
//
// Transport: HTTP/1.1 with JSON bodies over a unix stream socket. Every path starts with
// `/v1`; a later, incompatible version gets a new prefix and both can be served side by side.
import type { BootEntry } from "../boot/boot-record.ts";
import type { TsinitEvent } from "../log/event-log.ts";
import type { TimelineRow } from "../log/timeline.ts";
import type { ServiceType } from "../base/service-spec.ts";
import type { ReloadSummary, ServiceState } from "../core/service-set.ts";
import type { ShutdownKind } from "../shutdown/requests.ts";

export const API_VERSION = 1;
export const API_PREFIX = `/v${API_VERSION}`;

/** Where PID 1 listens; TSINIT_SOCKET overrides it for the server and the client. */
export const DEFAULT_SOCKET = "/run/tsinit.sock";
export const SOCKET_ENV = "TSINIT_SOCKET";

/** Request bodies larger than this are refused (413) without being read to the end. */
export const MAX_BODY_BYTES = 64 * 1024;

export type { ServiceState, ServiceType, ShutdownKind };

/**
 * The commands a service takes; each waits for its outcome unless `?wait=0`. `stop` (and
 * `restart` of a running service) refuses (409, with `dependents`) while active services
 * depend on it, unless `?force=1`.
 */
export type ServiceCommand = "start" | "stop" | "restart" | "release" | "trigger" | "untrigger" | "wake";
export const SERVICE_COMMANDS: readonly ServiceCommand[] = ["start", "stop", "restart", "release", "trigger", "untrigger", "wake"];

/** dinit's kinds of dependency: depends-on, depends-ms and waits-for. */
export type DependencyKind = "regular" | "milestone" | "waits-for";
export const DEPENDENCY_KINDS: readonly DependencyKind[] = ["regular", "milestone", "waits-for"];

/** One service as `list` and `status` show it. Times are relative (ms) and absolute (ISO 8601). */
export interface ServiceStatus {
  name: string;
  type: ServiceType;
  state: ServiceState;
  /** Where the service is headed: "started" while it is wanted, else "stopped". */
  target: "started" | "stopped";
  /** Started by a command or as the boot target (not only held by a dependent). */
  explicit: boolean;
  /** How many wanted dependents hold it. */
  requiredBy: number;
  pid?: number;
  /** Why the last start or run failed, until the next launch. */
  failed?: string;
  /** `failed` is a run that ended (the process exited or was killed while started), not a failed start. */
  terminated?: true;
  /** A `triggered` service only: whether its trigger is set (`initctl trigger`). */
  triggered?: boolean;
  /** A `triggered` service that is starting and waits for its trigger: it is started once triggered. */
  waitingForTrigger?: true;
  /** Why it cannot start: the dependency cycle it is on (until a change breaks it), or a waits-for dependency that did not load. */
  blocked?: string;
  /** How the main process last ended: "exited 1", "killed by SIGKILL". */
  lastExit?: string;
  /** Restarts since the service last stayed up for a whole restart-limit-interval. */
  crashes: number;
  /** Restarts within the current restart-limit-interval, and the limit that applies. */
  restartsInInterval: number;
  restartLimit: { count: number; intervalMs: number };
  restartPending: boolean;
  /** When a restart is due: in how many ms, and the wall-clock time. */
  nextRestartInMs?: number;
  nextRestartAt?: string;
  /** Since when it has been started, while it is. */
  uptimeMs?: number;
  startedAt?: string;
  /** The last STATUS= the service sent through NOTIFY_SOCKET. */
  notifyStatus?: string;
  /** Its description file; absent for a service added at run time. */
  file?: string;
  command?: string[];
  restart: "yes" | "no" | "on-failure";
  /** Present for services added with `run`: who added it (and whom it runs as, unless root). */
  runtime?: { ownerUid: number; ownerGid: number };
}

// ---- requests ---------------------------------------------------------------------------

/** POST /v1/services: add a runtime service (no file) and start it. */
export interface RunRequest {
  /** Default: the base name of command[0], made unique with a "-N" suffix. */
  name?: string;
  command: string[];
  /** Restart it whenever it ends (restart = yes); default false (restart = no). */
  restart?: boolean;
  workingDir?: string;
}

/** POST /v1/shutdown. Supervisor mode stops every service and exits 0 whatever the kind. */
export interface ShutdownRequest {
  /** PID 1: what the machine does after the services stop; default poweroff. */
  kind?: ShutdownKind;
}

/**
 * POST /v1/debug/stall: block PID 1's event loop for `seconds` (1 to 3600), to see a hardware
 * watchdog reset a stalled init. Refused (403) unless the kernel command line has tsinit.debug.
 */
export interface DebugStallRequest {
  seconds: number;
}

/** The longest debug stall, in seconds. */
export const MAX_DEBUG_STALL_S = 3_600;

/** POST /v1/dependencies/add and /v1/dependencies/remove (dinit's add-dep and rm-dep). */
export interface DependencyRequest {
  kind: DependencyKind;
  from: string;
  to: string;
}

/**
 * POST /v1/services/NAME/enable and /disable: the waits-for.d link from `from` (default: the
 * service's `@meta enable-via`, else `boot`), and the runtime dependency with it.
 */
export interface EnableRequest {
  from?: string;
}

/** POST /v1/services/NAME/signal: a signal name (`HUP`, `SIGHUP`) or number. */
export interface SignalRequest {
  signal: string | number;
}

/** POST /v1/env: variables to set and to unset in the activation environment. */
export interface EnvRequest {
  set?: Record<string, string>;
  unset?: string[];
}

// ---- responses --------------------------------------------------------------------------

/**
 * POST /v1/services/NAME/enable and /disable. `changed` is false when the link was already (not)
 * there. `service` is absent when NAME is not loaded (disable of a service that was never
 * started, or whose file is gone: its link is still removed). `removed` is true when the
 * disable's stop made it go (its removal was pending: its file was removed and a reload came);
 * `service` is then its last status.
 */
export interface EnableResponse {
  service?: ServiceStatus;
  from: string;
  link: string;
  changed: boolean;
  removed?: true;
}

/** POST /v1/dependencies/{add,remove}: both services as they are now. */
export interface DependencyResponse {
  kind: DependencyKind;
  from: ServiceStatus;
  to: ServiceStatus;
}

/** POST /v1/services/NAME/signal. */
export interface SignalResponse {
  service: string;
  signal: number;
  pid: number;
}

/** GET /v1/services/NAME/dependents: the loaded services that name NAME as a dependency. */
export interface DependentsResponse {
  service: string;
  dependents: { name: string; kind: DependencyKind; holds: boolean; state: ServiceState }[];
}

/** POST /v1/services/NAME/reload: the service with its new description, and the file's warnings. */
export interface ServiceReloadResponse {
  service: ServiceStatus;
  warnings: string[];
}

/** GET and POST /v1/env: the activation environment services started from now on get. */
export interface EnvResponse {
  env: Record<string, string>;
}

/** GET /v1 */
export interface HelloResponse {
  api: number;
  mode: "init" | "supervisor";
  pid: number;
  /** What the server made of the caller's credentials. */
  you: { uid: number; gid: number; admin: boolean } | null;
}

/** GET /v1/services */
export interface ListResponse {
  services: ServiceStatus[];
}

/** GET /v1/services/NAME, DELETE /v1/services/NAME (the last status before removal). */
export interface StatusResponse {
  service: ServiceStatus;
}

/**
 * POST /v1/services/NAME/{start,stop,restart,release} and POST /v1/services (201).
 * `done` is false only with `?wait=0`, when the service has not got there yet. `removed` is
 * true when the service went with the command: its file was removed and a reload came while it
 * ran, so it was forgotten once stopped; `service` is then its last status.
 */
export interface CommandResponse {
  service: ServiceStatus;
  done: boolean;
  removed?: true;
}

/** POST /v1/shutdown (202): accepted; the services stop after the answer is sent. */
export interface ShutdownResponse {
  shutdown: ShutdownKind | "exit";
}

/**
 * GET /v1/services/NAME/log[?after=N][&wait=1]: the buffer log after offset N (default 0);
 * with wait=1 and nothing new, the answer waits (up to 25 s) for output.
 */
export interface LogResponse {
  service: string;
  text: string;
  /** The offset to ask from next time. */
  next: number;
  /** Characters after `after` that the buffer no longer holds. */
  dropped: number;
}

/**
 * GET /v1/boot: init's log lines and timed boot steps, stage by stage (the initramfs's, carried
 * across switch_root, then the real root's), on one clock: milliseconds since the kernel started.
 */
export interface BootResponse {
  entries: BootEntry[];
}

/**
 * GET /v1/events?after=SEQ[&wait=1]: up to 500 events after SEQ (0: from the oldest kept), how
 * many after SEQ are no longer kept, and `next`: ask again with after = next - 1.
 */
/** Events in one answer to GET /v1/events; the client asks again from the last one. */
export const EVENTS_PER_ANSWER = 500;

export interface EventsResponse {
  events: TsinitEvent[];
  lost: number;
  next: number;
}

/** POST /v1/debug/stall (202): PID 1 stalls once the answer is sent. */
export interface DebugStallResponse {
  stall: { seconds: number };
}

/** GET /v1/analyze: the boot timeline, a row a service in the order they began starting. */
export interface AnalyzeResponse {
  rows: TimelineRow[];
}

/** POST /v1/reload: what re-reading the service directories changed (see ReloadSummary). */
export interface ReloadResponse {
  reload: ReloadSummary;
}

export type ErrorCode =
  | "bad-request"
  | "too-large"
  | "forbidden"
  | "not-found"
  | "unknown-service"
  | "method-not-allowed"
  | "conflict"
  | "failed"
  | "internal"
  | "not-implemented"
  /** The server holds as many unread answers for this client (or for all users) as it may. */
  | "busy";

/** The HTTP status of each error code; `satisfies` keeps the table complete. */
export const ERROR_STATUS = {
  "bad-request": 400,
  forbidden: 403,
  "not-found": 404,
  "unknown-service": 404,
  "method-not-allowed": 405,
  conflict: 409,
  /** The operation was carried out and the service failed (start failed, exited early). */
  failed: 409,
  "too-large": 413,
  internal: 500,
  "not-implemented": 501,
  busy: 503,
} as const satisfies Record<ErrorCode, number>;

/** Every error answer. `service` is set when a command failed, to show why. */
export interface ErrorResponse {
  error: { code: ErrorCode; message: string };
  service?: ServiceStatus;
  /** A stop refused without force: the active services that depend on it. */
  dependents?: string[];
}

export function isErrorResponse(body: unknown): body is ErrorResponse {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return typeof error === "object" && error !== null && typeof error.code === "string" && typeof error.message === "string";
}

/** Paths, built in one place for the client and matched by the server's router. */
export const paths = {
  hello: () => API_PREFIX,
  services: (wait = true) => `${API_PREFIX}/services${wait ? "" : "?wait=0"}`,
  service: (name: string) => `${API_PREFIX}/services/${encodeURIComponent(name)}`,
  serviceCommand: (name: string, command: string, wait = true, force = false) =>
    `${API_PREFIX}/services/${encodeURIComponent(name)}/${command}${query({ wait: wait ? undefined : "0", force: force ? "1" : undefined })}`,
  dependencies: (verb: "add" | "remove") => `${API_PREFIX}/dependencies/${verb}`,
  env: () => `${API_PREFIX}/env`,
  shutdown: () => `${API_PREFIX}/shutdown`,
  reload: () => `${API_PREFIX}/reload`,
  boot: () => `${API_PREFIX}/boot`,
  events: (after: number, wait: boolean) => `${API_PREFIX}/events?after=${after}${wait ? "&wait=1" : ""}`,
  analyze: () => `${API_PREFIX}/analyze`,
  debugStall: () => `${API_PREFIX}/debug/stall`,
};

function query(params: Record<string, string | undefined>): string {
  const pairs = Object.entries(params).filter(([, value]) => value !== undefined);
  return pairs.length === 0 ? "" : `?${pairs.map(([key, value]) => `${key}=${value}`).join("&")}`;
}
