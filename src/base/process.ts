// What a process is, seen from every layer: how it ended, where its stdio comes from, who it
// runs as, and the stage at which a start failed. The ground floor: imports only src/base/.
import type { CapabilitySets } from "./capabilities.ts";
import { signalName } from "./signals.ts";

/** PATH for children when tsinit's own environment has none (the kernel gives init none). */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** How a child ended, decoded from waitpid's status word. */
export type ExitStatus =
  | { kind: "exited"; code: number }
  | { kind: "signaled"; signal: number; core: boolean };

export interface Reaped {
  pid: number;
  status: ExitStatus;
}

/** Where one of a child's standard descriptors comes from. */
export type StdioSpec =
  | { kind: "null" }
  | { kind: "inherit" }
  /**
   * A log file: created with `mode` (default 0o600), owned by `uid`/`gid` when given; never
   * opened through a symbolic link, and only if it is a regular file with one link (or a
   * character device such as /dev/null or a tty).
   */
  | { kind: "file"; path: string; append: boolean; mode?: number; uid?: number; gid?: number }
  /** A terminal: opened after setsid without O_NOCTTY, so it becomes the controlling tty. */
  | { kind: "tty"; path: string }
  /** A descriptor of this process (the write end of a log pipe); the caller closes it. */
  | { kind: "fd"; fd: number };

export type RLimitResource = "nofile" | "core" | "data" | "addrspace";

/**
 * What the exec helper sets between fork and exec besides ids and limits (dinit's nice, ioprio,
 * oom-score-adj, run-in-cgroup, capabilities, securebits and no-new-privs).
 */
export interface ProcessAttributes {
  nice?: number;
  /** ioprio_set(2)'s value: class << 13 | level. */
  ioprio?: number;
  oomScoreAdj?: number;
  /** The cgroup2 directory to join, absolute (/sys/fs/cgroup/...), or relative to the helper's own cgroup. */
  cgroup?: string;
  capabilities?: CapabilitySets;
  securebits?: number;
  noNewPrivs?: boolean;
}

export interface RLimitSetting {
  resource: RLimitResource;
  /** Infinity is RLIM_INFINITY; undefined keeps the inherited value. */
  soft?: number;
  hard?: number;
}

/** Who a child runs as: resolved numeric ids, supplementary groups included. */
export interface Credentials {
  uid: number;
  gid: number;
  groups: number[];
}

/**
 * The step at which starting a service's process failed, before or at exec: in tsinit while
 * preparing the spawn, in posix_spawn, or in the exec helper between fork and exec.
 */
export type SpawnStage =
  | "env-file" | "run-as" | "rlimits" | "readiness" | "socket-listen" | "output" | "working-dir" | "exec"
  | "run-in-cgroup" | "oom-score-adj" | "nice" | "ioprio" | "capabilities" | "securebits" | "no-new-privs" | "consumer-of";

/** How each stage leads the message: `run-as: setuid(1000): EPERM`, `exec /bin/x: ENOENT`. */
const SPAWN_STAGE_PREFIX = {
  "env-file": "env-file: ",
  "run-as": "run-as: ",
  rlimits: "rlimits: ",
  readiness: "readiness: ",
  "socket-listen": "socket-listen: ",
  output: "output: ",
  "working-dir": "working-dir: ",
  exec: "exec ",
  "run-in-cgroup": "run-in-cgroup: ",
  "oom-score-adj": "oom-score-adj: ",
  nice: "nice: ",
  ioprio: "ioprio: ",
  capabilities: "capabilities: ",
  securebits: "securebits: ",
  "no-new-privs": "no-new-privs: ",
  "consumer-of": "consumer-of: ",
} satisfies Record<SpawnStage, string>;

export const SPAWN_STAGES = Object.keys(SPAWN_STAGE_PREFIX) as SpawnStage[];

/** `detail` is the failing call and errno, e.g. `setuid(1000): EPERM` or `/bin/x: ENOENT`. */
export function describeSpawnFailure(stage: SpawnStage, detail: string): string {
  return SPAWN_STAGE_PREFIX[stage] + detail;
}

/** "exited 3" or "killed by SIGTERM". */
export function describeExit(status: ExitStatus): string {
  return status.kind === "exited" ? `exited ${status.code}` : `killed by ${signalName(status.signal)}`;
}
