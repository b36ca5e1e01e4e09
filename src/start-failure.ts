// What the entry does when starting a mode throws (a bug, or a bad argument). Pure, so that the
// rule is tested: issue 9 found a crash at load ending supervisor mode with status 0, which a
// parent reads as a clean stop.
import { UsageError } from "./supervisor-args.ts";

export type StartFailure =
  /** Say `lines` on stderr, then exit with `exitCode`. */
  | { kind: "exit"; exitCode: 1 | 2; lines: string }
  /** The PID 1 of a machine must not exit (the kernel would panic): say why, then reap orphans. */
  | { kind: "reap-orphans"; lines: string };

export function startFailure(error: unknown, machinePid1: boolean, usage: string): StartFailure {
  if (error instanceof UsageError && !machinePid1) return { kind: "exit", exitCode: 2, lines: `tsinit: ${error.message}\n${usage}\n` };
  const why = error instanceof Error ? (error.stack ?? error.message) : String(error);
  // A supervisor that could not start must not look like one that stopped cleanly.
  if (!machinePid1) return { kind: "exit", exitCode: 1, lines: `tsinit: could not start: ${why}\n` };
  return { kind: "reap-orphans", lines: `tsinit: could not start the services: ${why}\ntsinit: reaping orphans only\n` };
}
