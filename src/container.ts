// Container mode (SPEC 4): tsinit as a tiny init for one command, as tini is. It runs the
// command after `--` in its own session and terminal, forwards to it every signal tini forwards,
// reaps every orphan (as a child subreaper when it is not PID 1), keeps the OOM killer away
// from itself, and exits with the command's
// status, 128+N when a signal ended it, as a shell does. No signal ends or stops tsinit itself:
// each catchable one is forwarded, reaps, or is ignored.
import type { ExitStatus } from "./base/process.ts";
import { SIGNALS, signalName, type SignalName } from "./base/signals.ts";
import { Log } from "./log/log.ts";
import { childEnvironment, protectFromOomKiller, superviseChildren } from "./process-setup.ts";
import { ProcessTable } from "./supervisor/process-table.ts";
import type { Runtime } from "./sys/sys.ts";

/**
 * What tini forwards: every signal but SIGCHLD (which reaps) and the ones below. SIGSTKFLT and
 * SIGPWR are not here: Bun 1.4 never calls a `process.on` handler for them (SIGPWR is the
 * runtime's own and does not end it; SIGSTKFLT is ignored). Nor is SIGPIPE, unlike tini: the
 * kernel sends it to tsinit for tsinit's own write to a stderr whose reader went away, and
 * forwarded it would end the command for tsinit's message.
 */
export const FORWARDED_SIGNALS = [
  "HUP", "INT", "QUIT", "USR1", "USR2", "ALRM", "TERM", "CONT", "TSTP",
  "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO",
] as const satisfies readonly SignalName[];

/**
 * Ignored rather than forwarded. SIGTTIN and SIGTTOU, as tini does: tsinit may lose the
 * terminal's foreground to its command, and its own messages must not stop or block it. The
 * fault signals are sent by the kernel for tsinit's own faults, where a handler would loop; an
 * ignored one sent with kill(2) does nothing, a real fault still ends tsinit.
 */
export const IGNORED_SIGNALS = [
  "PIPE", "TTIN", "TTOU", "STKFLT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "SEGV", "SYS",
] as const satisfies readonly SignalName[];

/** A shell's exit status for how a command ended. */
export function exitCodeOf(status: ExitStatus): number {
  return status.kind === "exited" ? status.code : 128 + status.signal;
}

/** `ignoreSignal` sets a signal's disposition to SIG_IGN (src/sys/ignore-signal.ts). */
export function runContainer(runtime: Runtime, command: string[], ignoreSignal: (signal: number) => void): void {
  const { sys } = runtime;
  for (const name of IGNORED_SIGNALS) ignoreSignal(SIGNALS[name]);
  const log = new Log(runtime.sink, { consoleThreshold: 4, kernelConsoleLevel: 0 });
  runtime.neverDie((what) => log.error(what));
  if (command.length === 0) {
    log.error("container mode: no command after --");
    runtime.exit(2);
  }
  // The OOM killer must take the command, never its reaper: a PID 1 it ended would take the
  // whole namespace down without a status. The command gets tsinit's old value back.
  const oomScoreAdj = protectFromOomKiller(runtime, log);
  const processes = new ProcessTable<"command">(
    sys,
    (_, __, status) => {
      if (status.kind === "signaled") log.info(`${command[0]}: killed by ${signalName(status.signal)}`);
      runtime.exit(exitCodeOf(status));
    },
    () => {}, // orphans: reaped, nothing more to do
  );
  // Before the command runs, so that none of its orphans escapes.
  superviseChildren(runtime, log, () => processes.reap());
  // Before the command runs too, so that no signal ends tsinit meanwhile; one that comes before
  // there is a command has nothing to go to.
  let commandPid: number | undefined;
  for (const name of FORWARDED_SIGNALS) {
    runtime.onSignal(`SIG${name}`, () => {
      if (commandPid === undefined) return;
      const error = sys.kill(commandPid, SIGNALS[name]);
      if (error !== undefined && error.code !== "ESRCH") log.warn(`forwarding SIG${name}: ${error.message}`);
    });
  }
  const spawned = processes.spawn("command", {
    argv: command,
    env: childEnvironment(runtime),
    stdin: { kind: "inherit" },
    stdout: { kind: "inherit" },
    newSession: false,
  });
  if (!spawned.ok) {
    log.error(`${spawned.stage} ${spawned.error.message}`);
    // As a shell does: 127 when the command is not there, 126 when it cannot be run.
    runtime.exit(spawned.error.code === "ENOENT" ? 127 : 126);
  }
  commandPid = spawned.pid;
  if (oomScoreAdj !== undefined) {
    const error = sys.writeFile(`/proc/${spawned.pid}/oom_score_adj`, oomScoreAdj);
    if (error !== undefined && error.code !== "ENOENT" && error.code !== "ESRCH") log.warn(`${command[0]}: setting its oom_score_adj: ${error.message}`);
  }
}
