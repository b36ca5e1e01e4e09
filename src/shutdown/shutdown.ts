// The machine's shutdown (SPEC 6): services in reverse dependency order, then every other
// process (TERM, wait until none is left or 5 s, KILL), sync, unmount, sync, reboot(2).
// Waiting is event driven: the reaper says when PID 1 has no children left.
import { parseMounts } from "../base/mounts.ts";
import { DEFAULT_PATH } from "../base/process.ts";
import { SIGNALS } from "../base/signals.ts";
import { runPlan } from "../boot/early-mounts.ts";
import type { Log } from "../log/log.ts";
import type { Supervisor } from "../supervisor/supervisor.ts";
import type { Sys } from "../sys/sys.ts";
import type { ShutdownKind } from "./requests.ts";
import { unmountPlan } from "./unmount-plan.ts";

const { KILL: SIGKILL, TERM: SIGTERM, CONT: SIGCONT } = SIGNALS;

const TERM_GRACE_MS = 5_000;
const KILL_GRACE_MS = 2_000;

export interface ShutdownContext {
  sys: Sys;
  log: Log;
  supervisor: Supervisor;
  /** Told of each step (the event log). */
  step?: (text: string) => void;
  /** Awaited just before reboot(2): what must get out of the machine first (the boot report). */
  beforeReboot?: () => Promise<unknown>;
  /**
   * Called last, just before reboot(2), once nothing else is awaited: the watchdogs are let go
   * (disarmed for poweroff and halt, petted once more for a reboot).
   */
  beforeFinalReboot?: (kind: ShutdownKind) => void;
}

export async function stopEverything({ sys, log, supervisor }: ShutdownContext): Promise<void> {
  if (!(await supervisor.stopAll())) log.warn("some services did not stop in time");

  sys.kill(-1, SIGTERM);
  sys.kill(-1, SIGCONT);
  if (!(await supervisor.whenChildless(TERM_GRACE_MS))) {
    log.warn("sending SIGKILL to the remaining processes");
    sys.kill(-1, SIGKILL);
    if (!(await supervisor.whenChildless(KILL_GRACE_MS))) log.warn("some processes did not exit after SIGKILL");
  }
}

export async function shutdownMachine(kind: ShutdownKind, context: ShutdownContext): Promise<void> {
  const { sys, log } = context;
  const step = context.step ?? (() => {});
  log.info(`system is going down for ${kind}`);
  await stopEverything(context);
  step("services stopped, then every other process (TERM, then KILL for what was left)");
  sys.sync();
  runPlan(sys, unmountPlan(parseMounts(sys.readFile("/proc/mounts") ?? "")), (failed, error) =>
    log.debug(`${failed.describe()}: ${error.message}`),
  );
  sys.sync();
  step(`filesystems unmounted or read-only, synced; ${kind}`);
  await context.beforeReboot?.();
  context.beforeFinalReboot?.(kind);
  finalReboot(kind, context);
}

/**
 * reboot(2) for halt and poweroff ends the calling process when the machine does not stop,
 * and PID 1 ending panics the kernel, so those run in a child (busybox's `-f` applets call
 * reboot(2) directly). A restart never returns, so PID 1 calls it itself.
 */
function finalReboot(kind: ShutdownKind, { sys, log }: ShutdownContext): void {
  if (kind !== "reboot") {
    const child = sys.spawn({ argv: ["busybox", kind, "-f"], env: { PATH: DEFAULT_PATH }, stdin: { kind: "null" }, stdout: { kind: "inherit" } });
    if (child.ok) return;
    log.warn(`running busybox ${kind} -f: ${child.error.message}; calling reboot(2) from PID 1`);
  }
  const error = sys.reboot(kind === "reboot" ? "restart" : kind);
  if (error !== undefined) log.error(error.message);
}
