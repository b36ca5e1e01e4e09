// A service as described by its file: the parsed, validated and immutable input to the
// supervisor. The live state of a running service is a ServiceRecord (core/service.ts); keeping
// the two apart lets a reload compare old and new specs without touching running processes.

import type { CapabilitySets, IoPriorityClass } from "./capabilities.ts";

export type ServiceType = "process" | "bgprocess" | "scripted" | "internal" | "triggered";

export type RestartPolicy = "yes" | "no" | "on-failure";

export type LogType = "file" | "buffer" | "pipe" | "none";

/** dinit's `options` words that tsinit honours. */
export type ServiceOption =
  | "runs-on-console"
  | "starts-on-console"
  | "shares-console"
  | "starts-rwfs"
  | "starts-log"
  | "skippable"
  | "start-interruptible"
  | "no-sigterm"
  | "always-chain"
  | "kill-all-on-stop"
  | "no-new-privs"
  | "signal-process-only";

/**
 * How a service says it is ready: dinit's pipe (a line written to fd N, or to the fd named by
 * an environment variable), or systemd's NOTIFY_SOCKET with READY=1 (tsinit's `notify`).
 */
export type ReadyNotification =
  | { kind: "pipefd"; fd: number }
  | { kind: "pipevar"; variable: string }
  | { kind: "notify" };

/**
 * A resource limit; `undefined` on either side leaves that side as inherited, and `Infinity`
 * means no limit (RLIM_INFINITY).
 */
export interface RLimit {
  soft?: number;
  hard?: number;
}

/** Where a setting came from, so later checks (cycles, missing dependencies) can name file:line. */
export interface SettingOrigin {
  file: string;
  line: number;
}

export interface ServiceSpec {
  /** The service name: the file name, with `@argument` for an instance. */
  name: string;
  /** The description file it was read from ("" for services added at run time). */
  file: string;
  type: ServiceType;
  /** argv, already split and unquoted; `$VAR` references are substituted at start time. */
  command?: string[];
  stopCommand?: string[];
  workingDir?: string;
  /** User name or numeric uid, and optional group name or gid, resolved at start time. */
  runAs?: { user: string; group?: string };
  envFile?: string;

  dependsOn: string[];
  dependsMs: string[];
  waitsFor: string[];
  /** Ordering only: this service starts before those (they wait for it). */
  before: string[];
  /** Ordering only: this service starts after those. */
  after: string[];

  restart: RestartPolicy;
  restartDelayMs: number;
  /** tsinit extension: the escalating restart delay doubles up to this. */
  restartDelayMaxMs: number;
  restartLimitIntervalMs: number;
  restartLimitCount: number;
  smoothRecovery: boolean;
  /** 0 means no timeout. */
  startTimeoutMs: number;
  stopTimeoutMs: number;
  /** Signal number sent to stop the service (default SIGTERM); 0 (`none`) sends no signal. */
  termSignal: number;
  pidFile?: string;

  logType: LogType;
  logfile?: string;
  /** dinit's logfile-permissions: the new log file's mode (default 0o600). */
  logfilePermissions?: number;
  /** dinit's logfile-uid and logfile-gid: the log file's owner (default: the run-as user). */
  logfileUid?: number;
  logfileGid?: number;
  logBufferSize: number;

  readyNotification?: ReadyNotification;
  socketListen?: string;
  /** Octal mode for the listening socket (default 0o666). */
  socketPermissions: number;
  /** dinit's socket-uid / socket-gid: numbers, or names resolved when the socket is made. */
  socketUid?: number;
  socketUser?: string;
  socketGid?: number;
  socketGroup?: string;
  chainTo?: string;

  rlimitNofile?: RLimit;
  rlimitCore?: RLimit;
  rlimitData?: RLimit;
  rlimitAddrspace?: RLimit;

  /** dinit's nice: the CPU priority (the kernel clamps it to -20..19). */
  nice?: number;
  /** dinit's ioprio: I/O scheduling class and level (0-7; 0 for `none` and `idle`). */
  ioPriority?: { class: IoPriorityClass; level: number };
  /** dinit's oom-score-adj, -1000..1000. */
  oomScoreAdj?: number;
  /** dinit's run-in-cgroup, as written: absolute under /sys/fs/cgroup, or relative to tsinit's cgroup. */
  runInCgroup?: string;
  /** dinit's capabilities (libcap IAB text, `+=` joins with a comma), parsed. */
  capabilities?: CapabilitySets;
  capabilitiesText?: string;
  /** dinit's securebits, as the bits of prctl(PR_SET_SECUREBITS). */
  securebits?: number;
  /** dinit's inittab-id and inittab-line: the utmp entry of a process service. */
  inittabId?: string;
  inittabLine?: string;
  /** dinit's consumer-of: this service's stdin is the output pipe of that (log-type = pipe) service. */
  consumerOf?: string;
  /** logfile-uid / logfile-gid given as names, resolved at start from /etc/passwd and /etc/group. */
  logfileUser?: string;
  logfileGroup?: string;

  options: ReadonlySet<ServiceOption>;

  /** dinit's `load-options = export-passwd-vars`: USER, LOGNAME, HOME, SHELL of the run-as user. */
  exportPasswdVars?: boolean;
  /** dinit's `load-options = export-service-name`: DINIT_SERVICENAME is the service's name. */
  exportServiceName?: boolean;
  /** dinit's `@meta enable-via NAME`: the service that `enable` adds this one to. */
  enableVia?: string;

  /**
   * file:line of each dependency setting, keyed by the dependency's name, and of each setting,
   * keyed by NUL and its name (config/parse.ts settingKey), for error messages.
   */
  origins?: Record<string, SettingOrigin>;
}

/** dinit's defaults, which tsinit keeps so that dinit users are not surprised. */
export const SERVICE_DEFAULTS = {
  restart: "no" as RestartPolicy,
  restartDelayMs: 200,
  restartDelayMaxMs: 60_000,
  restartLimitIntervalMs: 10_000,
  restartLimitCount: 3,
  startTimeoutMs: 60_000,
  stopTimeoutMs: 10_000,
  termSignal: 15,
  logType: "none" as LogType,
  logBufferSize: 4096,
  socketPermissions: 0o666,
} as const;

/** A spec with every default filled in; the parser and run-time services both start from here. */
export function defaultSpec(name: string, type: ServiceType, file = ""): ServiceSpec {
  return {
    name,
    file,
    type,
    dependsOn: [],
    dependsMs: [],
    waitsFor: [],
    before: [],
    after: [],
    restart: SERVICE_DEFAULTS.restart,
    restartDelayMs: SERVICE_DEFAULTS.restartDelayMs,
    restartDelayMaxMs: SERVICE_DEFAULTS.restartDelayMaxMs,
    restartLimitIntervalMs: SERVICE_DEFAULTS.restartLimitIntervalMs,
    restartLimitCount: SERVICE_DEFAULTS.restartLimitCount,
    smoothRecovery: false,
    startTimeoutMs: SERVICE_DEFAULTS.startTimeoutMs,
    stopTimeoutMs: SERVICE_DEFAULTS.stopTimeoutMs,
    termSignal: SERVICE_DEFAULTS.termSignal,
    logType: SERVICE_DEFAULTS.logType,
    logBufferSize: SERVICE_DEFAULTS.logBufferSize,
    socketPermissions: SERVICE_DEFAULTS.socketPermissions,
    options: new Set(),
  };
}
