// Container mode (SPEC 4): tsinit as a tiny init for one command, as tini is. It runs the
// command after `--` in its own session and terminal, forwards SIGTERM, SIGINT, SIGHUP,
// SIGQUIT, SIGUSR1 and SIGUSR2 to it, reaps every orphan (as a child subreaper when it is not
// PID 1), and exits with the command's status, 128+N when a signal ended it, as a shell does.
import { Log } from "./log/log.ts";
import { installNeverDie } from "./never-die.ts";
import { SIGNALS, signalName, type SignalName } from "./base/signals.ts";
import { consoleSink } from "./sys/log-sink.ts";
import { ProcessTable } from "./supervisor/process-table.ts";
import type { Sys } from "./sys/sys.ts";
import type { ExitStatus } from "./base/process.ts";

export const FORWARDED_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;

const REAP_SAFETY_NET_MS = 10_000;

/** A shell's exit status for how a command ended. */
export function exitCodeOf(status: ExitStatus): number {
  return status.kind === "exited" ? status.code : 128 + status.signal;
}

export function runContainer(sys: Sys, command: string[]): void {
  const log = new Log(consoleSink({ kmsg: false, fd: 2 }), { consoleThreshold: 4, kernelConsoleLevel: 0 });
  installNeverDie(log);
  if (command.length === 0) {
    log.error("container mode: no command after --");
    process.exit(2);
  }
  if (sys.getpid() !== 1) {
    const error = sys.setChildSubreaper();
    if (error !== undefined) log.warn(`orphans will not be reaped here: ${error.message}`);
  }
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;

  const processes = new ProcessTable<"command">(
    sys,
    (_, __, status) => {
      if (status.kind === "signaled") log.info(`${command[0]}: killed by ${signalName(status.signal)}`);
      process.exit(exitCodeOf(status));
    },
    () => {}, // orphans: reaped, nothing more to do
  );
  const spawned = processes.spawn("command", {
    argv: command,
    env,
    stdin: { kind: "inherit" },
    stdout: { kind: "inherit" },
    newSession: false,
  });
  if (!spawned.ok) {
    log.error(`${spawned.stage} ${spawned.error.message}`);
    // As a shell does: 127 when the command is not there, 126 when it cannot be run.
    process.exit(spawned.error.code === "ENOENT" ? 127 : 126);
  }
  for (const signal of FORWARDED_SIGNALS) {
    process.on(signal, () => {
      const error = sys.kill(spawned.pid, SIGNALS[signal.slice(3) as SignalName]);
      if (error !== undefined && error.code !== "ESRCH") log.warn(`forwarding ${signal}: ${error.message}`);
    });
  }
  process.on("SIGCHLD", () => processes.reap());
  setInterval(() => processes.reap(), REAP_SAFETY_NET_MS);
  processes.reap();
}
