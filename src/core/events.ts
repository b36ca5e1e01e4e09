// The vocabulary between the pure core and the runtime: events go in, actions come out.
import type { LogLevel } from "../base/logging.ts";
import type { ExitStatus, SpawnStage, StdioSpec } from "../base/process.ts";

/** Which of a service's processes an event or a spawn is about. */
export type ProcessRole = "main" | "stop";

/**
 * What a user (or the boot) can ask of a service. `trigger` readies a `triggered` service;
 * `wake` starts it for the active dependents that name it, without marking it (dinit's wake).
 */
export type CommandOp = "start" | "stop" | "restart" | "release" | "trigger" | "untrigger" | "wake";

/** `chain`: a chain-to start held back by the spin guard (a service that keeps ending at once). */
export type TimerKind = "restart" | "start-timeout" | "stop-timeout" | "chain";

/** How a command ended: reported by the core once, for a command that carried an id. */
export type CommandOutcome =
  | { kind: "done" }
  /** The command was carried out but its goal was not reached (the start failed, ...). */
  | { kind: "failed"; reason: string }
  /** The command was not carried out at all (shutting down, unknown service). */
  | { kind: "refused"; reason: string };

export type Event =
  /** `id`, when present, asks for an `outcome` action once the command reached its goal. */
  | { kind: "command"; op: CommandOp; service: string; id?: number }
  /**
   * A process was created. `execPending`: it is tsinit's exec helper, which has yet to exec the
   * service's program; an `exec-done` or a `spawn-failed` with this pid follows.
   */
  | { kind: "spawned"; service: string; role: ProcessRole; pid: number; execPending?: boolean }
  /** The exec helper of `pid` executed the service's program. */
  | { kind: "exec-done"; service: string; role: ProcessRole; pid: number }
  /**
   * The start failed before or at exec. With `pid`, the exec helper reported it (that process
   * then exits; its exit is no crash); without, nothing was created.
   */
  | { kind: "spawn-failed"; service: string; role: ProcessRole; stage: SpawnStage; error: string; pid?: number }
  | { kind: "exited"; service: string; role: ProcessRole; pid: number; status: ExitStatus }
  | { kind: "ready"; service: string }
  /** A bgprocess's pid file was read after its launcher exited: the daemon's pid, or why not. */
  | { kind: "pid-file"; service: string; pid: number }
  | { kind: "pid-file-failed"; service: string; error: string }
  | { kind: "timer"; service: string; timer: TimerKind }
  /** kill-all-on-stop: every other process had TERM, then KILL; the stop goes on. */
  | { kind: "killed-all"; service: string }
  /**
   * The chain from `from` to `service`, which was not loaded when it was taken, now that the
   * runtime has loaded it (a `load-chained` action); `delayMs` is the spin guard's hold-back,
   * `quick` whether `from` ended within QUICK_CRASH_MS (counted if the chain is taken).
   */
  | { kind: "chain"; service: string; from: string; delayMs: number; quick: boolean };


/**
 * Where a service's output goes: a StdioSpec, into its buffer log (`log-type = buffer`), or into
 * the pipe its consumer reads (`log-type = pipe`).
 */
export type OutputSpec = StdioSpec | { kind: "buffer" } | { kind: "pipe" };

export type Action =
  | {
      kind: "spawn";
      service: string;
      role: ProcessRole;
      argv: readonly string[];
      cwd?: string;
      stdin: StdioSpec;
      stdout: OutputSpec;
    }
  /**
   * Signal a service: the process group of `pid`, `pid` itself (in case it left the group),
   * and every process in the service's cgroup where services get cgroups.
   */
  | { kind: "signal"; service: string; pid: number; signal: number }
  /**
   * The main process exited while stopping: whatever is left in its process group or cgroup
   * had the stop signal and gets `graceMs` to exit before SIGKILL (cut short by a restart).
   */
  | { kind: "kill-leftovers"; service: string; pgid: number; graceMs: number }
  | { kind: "read-pid-file"; service: string; path: string }
  /** kill-all-on-stop: TERM to every process but tsinit, a pause, KILL; then `killed-all`. */
  | { kind: "kill-all"; service: string }
  /**
   * `from` ended and its chain-to names `service`, which is not loaded: dinit loads a chain's
   * target only when the chain is taken. The runtime loads it, then hands back a `chain` event
   * with the same fields; a name that does not load is logged with why, and nothing else happens.
   */
  | { kind: "load-chained"; service: string; from: string; delayMs: number; quick: boolean }
  | { kind: "arm-timer"; service: string; timer: TimerKind; ms: number }
  | { kind: "cancel-timer"; service: string; timer: TimerKind }
  | { kind: "log"; level: LogLevel; text: string }
  /** A console status line: `[  OK  ] started getty` or `[FAILED] getty: exited 1`. */
  | { kind: "status"; service: string; ok: boolean; text: string }
  | { kind: "state"; service: string; from: string; to: string }
  /** The command with this id reached its goal, failed, or was refused. */
  | { kind: "outcome"; id: number; service: string; op: CommandOp; outcome: CommandOutcome }
  /**
   * The core let go of `service` (removed, unloaded, or replaced by a reload), perhaps in the
   * middle of an event, as when a stop completes a pending removal: what the runtime keeps by
   * its name (log pipes, buffer logs, the last STATUS=, cgroups) may go unless the name is loaded again.
   */
  | { kind: "forgotten"; service: string };
