// The first runner (NodeOS's idea, SPEC 4): one program that decides what the machine is for. It
// runs once the early mounts are done and what it waits for has started, shares the console,
// and may add services through initctl. With `tsinit.exit=poweroff` (or BOOT=0 in init's
// environment) the machine goes down when it exits; its exit status ends the JSON boot report
// (`tsinit.report=ttyS1`, src/boot-report.ts) as the `done` line, which carries it out.
import type { ExitStatus } from "./base/process.ts";
import { defaultSpec, type ServiceSpec } from "./base/service-spec.ts";
import type { KernelCommandLine } from "./boot/cmdline.ts";
import type { Log } from "./log/log.ts";
import type { ShutdownKind } from "./shutdown/requests.ts";
import type { Supervisor } from "./supervisor/supervisor.ts";
import type { EventLog } from "./log/event-log.ts";
import type { Sys } from "./sys/sys.ts";

export const RUNNER_SERVICE = "runner";
/** The runner when the command line names none, if it exists. */
export const DEFAULT_RUNNER = "/etc/tsinit/rc";

export interface Runner {
  path: string;
  args: string[];
  /** Services started before it (waits-for: one that fails does not hold it back). */
  after: string[];
  /** What the machine does when it exits; undefined: boot goes on. */
  exit?: ShutdownKind;
}

const EXITS: readonly string[] = ["poweroff", "reboot", "halt"] satisfies ShutdownKind[];

/** What `tsinit.exit=` asks for; undefined when it is not one of poweroff, reboot or halt. */
export function exitKind(word: string | undefined): ShutdownKind | undefined {
  return word !== undefined && EXITS.includes(word) ? (word as ShutdownKind) : undefined;
}

/** The runner the command line (or /etc/tsinit/rc) names, or none. */
export function chooseRunner(sys: Sys, cmdline: KernelCommandLine, env: Readonly<Record<string, string>>): Runner | undefined {
  const exit = exitKind(cmdline.exit) ?? (env.BOOT === "0" ? "poweroff" : undefined);
  const path = cmdline.runner ?? (sys.exists(DEFAULT_RUNNER) ? DEFAULT_RUNNER : undefined);
  if (path === undefined) return undefined;
  return { path, args: cmdline.runnerArgs, after: cmdline.runnerAfter, exit };
}

function runnerSpec(runner: Runner): ServiceSpec {
  // `$` would be substituted at start: the runner's words are taken as they are.
  const literal = (word: string) => word.replaceAll("$", "$$$$");
  return {
    ...defaultSpec(RUNNER_SERVICE, "process"),
    command: [runner.path, ...runner.args].map(literal),
    waitsFor: runner.after,
    // No time limit: a runner is a test suite, a build, a shell.
    startTimeoutMs: 0,
    options: new Set(["shares-console"]),
  };
}

/** A shell's idea of an exit status: the code, or 128 + the signal; 127 when it never ran. */
export function statusNumber(exit: ExitStatus | undefined): number {
  if (exit === undefined) return 127;
  return exit.kind === "exited" ? exit.code : 128 + exit.signal;
}

export interface RunnerContext {
  events: EventLog;
  log: Log;
  supervisor: Supervisor;
  runner: Runner;
  /** The machine goes down; `status` is the runner's, for the report's `done` line. */
  shutdown(kind: ShutdownKind, status: number): void;
}

/** Starts the runner, waits for it to end, reports its status, and with `exit` takes the machine down. */
export async function runFirstRunner({ events, log, supervisor, runner, shutdown }: RunnerContext): Promise<number> {
  if (supervisor.service(RUNNER_SERVICE) !== undefined) {
    log.error(`a service file is named ${RUNNER_SERVICE}: the runner ${runner.path} is not started`);
    return finish(127);
  }
  supervisor.add(runnerSpec(runner));
  events.emit({ kind: "runner", argv: [runner.path, ...runner.args] });
  log.info(`runner: ${[runner.path, ...runner.args].join(" ")}${runner.after.length > 0 ? ` (after ${runner.after.join(", ")})` : ""}`);
  const outcome = await supervisor.command("start", RUNNER_SERVICE);
  if (outcome?.kind === "done") await supervisor.whenStopped(RUNNER_SERVICE);
  const record = supervisor.service(RUNNER_SERVICE);
  const status = outcome?.kind === "done" ? statusNumber(record?.lastExit) : 127;
  if (outcome?.kind !== "done") log.error(`runner ${runner.path} did not start: ${record?.failed ?? outcome?.reason ?? "unknown"}`);
  return finish(status);

  function finish(code: number): number {
    // The core has said how it ended ([FAILED] runner: exited 3); this is the status it makes.
    log.info(`runner: exit status ${code}`);
    events.emit({ kind: "runner-exit", status: code });
    if (runner.exit === undefined) return code;
    // The shutdown ends the report with a `done` line carrying this status, last of all.
    shutdown(runner.exit, code);
    return code;
  }
}
