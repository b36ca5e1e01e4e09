// Container mode (SPEC 4): tsinit as a tiny init for one command, as tini is. It runs the
// command after `--` in its own session and terminal, forwards SIGTERM, SIGINT, SIGHUP,
// SIGQUIT, SIGUSR1 and SIGUSR2 to it, reaps every orphan (as a child subreaper when it is not
// PID 1), and exits with the command's status, 128+N when a signal ended it, as a shell does.
import type { ExitStatus } from "./base/process.ts";
import { SIGNALS, signalName, type SignalName } from "./base/signals.ts";
import { Log } from "./log/log.ts";
import { childEnvironment, superviseChildren } from "./process-setup.ts";
import { ProcessTable } from "./supervisor/process-table.ts";
import type { Runtime } from "./sys/sys.ts";

export const FORWARDED_SIGNALS = ["TERM", "INT", "HUP", "QUIT", "USR1", "USR2"] as const satisfies readonly SignalName[];

/** A shell's exit status for how a command ended. */
export function exitCodeOf(status: ExitStatus): number {
  return status.kind === "exited" ? status.code : 128 + status.signal;
}

export function runContainer(runtime: Runtime, command: string[]): void {
  const { sys } = runtime;
  const log = new Log(runtime.sink, { consoleThreshold: 4, kernelConsoleLevel: 0 });
  runtime.neverDie((what) => log.error(what));
  if (command.length === 0) {
    log.error("container mode: no command after --");
    runtime.exit(2);
  }
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
  for (const name of FORWARDED_SIGNALS) {
    runtime.onSignal(`SIG${name}`, () => {
      const error = sys.kill(spawned.pid, SIGNALS[name]);
      if (error !== undefined && error.code !== "ESRCH") log.warn(`forwarding SIG${name}: ${error.message}`);
    });
  }
}
