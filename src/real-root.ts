// The initramfs stage of PID 1 when `root=` is given: modules, rd.break, the root device,
// switch_root, and when the root cannot be found or mounted, a report, the `recovery` shell
// and then retry, reboot or poweroff. On success it never returns: the real init has
// replaced this process, still PID 1.
import { DEFAULT_PATH, type ExitStatus } from "./base/process.ts";
import { defaultSpec, type ServiceSpec } from "./base/service-spec.ts";
import { formatBlockDevices, parseRootSpec, type BlockDeviceInfo, type RootSpec } from "./boot/block-id.ts";
import { HANDOFF_ENV, HANDOFF_PATH, recordedSteps, serializeRecord, type BootRecord } from "./boot/boot-record.ts";
import type { KernelCommandLine } from "./boot/cmdline.ts";
import type { BootModules } from "./boot/module-loading.ts";
import { listBlockDevices, waitForRoot } from "./boot/root-device.ts";
import { runSwitchPlan, switchRootPlan, type SwitchRootRequest } from "./boot/switch-root.ts";
import type { Log } from "./log/log.ts";
import type { ShutdownKind } from "./shutdown/requests.ts";
import type { Supervisor } from "./supervisor/supervisor.ts";
import type { Runtime } from "./sys/sys.ts";

export interface RealRootContext {
  runtime: Runtime;
  log: Log;
  record: BootRecord;
  supervisor: Supervisor;
  cmdline: KernelCommandLine;
  modules: BootModules;
  /** argv after the program name, as the kernel gave it to tsinit: the real init gets it too. */
  initArgs: readonly string[];
  shutdown(kind: ShutdownKind): void;
}

/** The shells of this stage, used when the image has no service file of that name. */
const BREAK_SHELL = "rd.break";
const RECOVERY = "recovery";
const ROOT_PROMPT = "root-prompt";

// The choice after the recovery shell, as the prompt's exit status.
const RETRY = 10;
const REBOOT = 11;
const POWEROFF = 12;
const SHELL_AGAIN = 13;

// A service's command goes through `$VAR` substitution at start, so the shell's own `$` is
// written `$$`.
const PROMPT_SCRIPT = `while :; do
  printf '\\nThe root filesystem is not mounted. r) retry  s) shell  b) reboot  p) poweroff: '
  if ! read -r answer; then sleep 10; exit ${RETRY}; fi
  case "$$answer" in
    r*|R*) exit ${RETRY} ;; s*|S*) exit ${SHELL_AGAIN} ;;
    b*|B*) exit ${REBOOT} ;; p*|P*) exit ${POWEROFF} ;;
  esac
done`;

function consoleShell(name: string, command: string[]): ServiceSpec {
  return { ...defaultSpec(name, "process"), command, options: new Set(["runs-on-console"]) };
}

/** Adds the shell `name` unless the image has a service file of that name. */
function ensureService(supervisor: Supervisor, spec: ServiceSpec): void {
  if (supervisor.service(spec.name) === undefined) supervisor.add(spec);
}

/**
 * Resolves once what tsinit has said reached the console (at most CONSOLE_CATCH_UP_MS): kernel
 * log records are written off the event loop, so without this wait a shell's prompt can come
 * before the line that tells what the shell is for.
 */
export type ConsoleCaughtUp = () => Promise<unknown>;
export const CONSOLE_CATCH_UP_MS = 1_000;

/** The runtime's ConsoleCaughtUp: its log sink drained, within CONSOLE_CATCH_UP_MS. */
export function consoleCaughtUp(runtime: Runtime): ConsoleCaughtUp {
  return () => runtime.sink.drained?.(CONSOLE_CATCH_UP_MS) ?? Promise.resolve();
}

/**
 * Starts `name`, a shell on the console, and resolves when the user has left it: with its exit,
 * or undefined when it could not start (a shutdown has begun, or the shell is missing).
 */
async function runOnConsole(supervisor: Supervisor, name: string, caughtUp: ConsoleCaughtUp): Promise<ExitStatus | undefined> {
  await caughtUp();
  const outcome = await supervisor.command("start", name);
  if (outcome?.kind !== "done") return undefined;
  await supervisor.whenStopped(name);
  return supervisor.service(name)?.lastExit;
}

/** rd.break: a shell on the console before the switch (or before the boot target); leaving it goes on. */
export async function breakShell(supervisor: Supervisor, log: Log, caughtUp: ConsoleCaughtUp): Promise<void> {
  ensureService(supervisor, consoleShell(BREAK_SHELL, ["/bin/sh", "-l"]));
  log.info("rd.break: a shell in the initramfs before the boot goes on; leave it (exit) to continue");
  await runOnConsole(supervisor, BREAK_SHELL, caughtUp);
}

/** When a shell could not even start, the next try waits this long: never a loop without a pause. */
const SHELL_RETRY_MS = 5_000;

export async function switchToRealRoot(context: RealRootContext): Promise<void> {
  const { runtime, log, supervisor, cmdline } = context;
  const { sys } = runtime;
  // A shutdown (poweroff in a shell, ctrl-alt-del) ends this stage wherever it is.
  const over = () => supervisor.shuttingDown;
  const caughtUp = consoleCaughtUp(runtime);

  ensureService(supervisor, consoleShell(RECOVERY, ["/bin/sh", "-l"]));
  ensureService(supervisor, consoleShell(ROOT_PROMPT, ["/bin/sh", "-c", PROMPT_SCRIPT]));

  if (cmdline.rdBreak) await breakShell(supervisor, log, caughtUp);

  const spec = parseRootSpec(cmdline.root ?? "");
  while (!over()) {
    const attempt = spec.kind === "invalid" ? { failure: spec.error, devices: listBlockDevices(sys) } : await tryRoot(context, spec, over);
    if (over()) return;
    log.error(`${attempt.failure}; the block devices there are:`);
    for (const line of formatBlockDevices(attempt.devices)) log.error(`  ${line}`);
    let choice: number | undefined = SHELL_AGAIN;
    while (choice === SHELL_AGAIN && !over()) {
      log.error("starting recovery: a shell on the console; leave it to retry, reboot or power off");
      const shell = await runOnConsole(supervisor, RECOVERY, caughtUp);
      const prompt = over() ? undefined : await runOnConsole(supervisor, ROOT_PROMPT, caughtUp);
      if (over()) return;
      if (shell === undefined || prompt === undefined) {
        log.error(`the recovery shell or the prompt could not start; looking for the root again in ${SHELL_RETRY_MS / 1000} s`);
        await new Promise<void>((resolve) => runtime.clock.setTimer(SHELL_RETRY_MS, resolve));
        choice = RETRY;
      } else {
        choice = prompt.kind === "exited" ? prompt.code : RETRY;
      }
    }
    if (over()) return;
    if (choice === REBOOT || choice === POWEROFF) {
      context.shutdown(choice === REBOOT ? "reboot" : "poweroff");
      return;
    }
    log.info("looking for the root device again");
  }
}

interface FailedAttempt {
  /** What was asked and what was tried, in one line. */
  failure: string;
  devices: BlockDeviceInfo[];
}

/** One attempt: wait for the device, mount it and switch. Returns only on failure, with what went wrong. */
async function tryRoot(context: RealRootContext, spec: RootSpec, over: () => boolean): Promise<FailedAttempt> {
  const { runtime, log, record, cmdline, modules } = context;
  const { sys, clock } = runtime;
  const seconds = cmdline.rootwaitSeconds ?? 30;
  const started = clock.sinceBoot();
  const result = await waitForRoot(runtime, log, spec, seconds * 1000, { modalias: (alias) => modules.loadForDevice(alias), coldplug: () => modules.coldplug() });
  record.stepDone(`wait for root=${cmdline.root} (rootwait ${seconds} s)`, started, result.found !== undefined);
  // A shutdown that began while this waited wins: no switch in the middle of it.
  if (over()) return { failure: "shutting down", devices: result.devices };
  if (result.found === undefined) {
    return { failure: `root=${cmdline.root}: no block device matched within ${seconds} s (rootwait=${seconds})`, devices: result.devices };
  }
  const device = result.found;
  const probed = device.fs?.type;
  const fstypes = cmdline.rootfstype !== undefined ? cmdline.rootfstype.split(",").filter(Boolean) : probed !== undefined ? [probed] : [];
  for (const type of fstypes) modules.loadFilesystem(type);
  log.info(`root=${cmdline.root} is ${device.path}${probed ? ` (${probed})` : ""}`);

  const request: SwitchRootRequest = {
    device: device.path,
    fstypes,
    readOnly: cmdline.readOnly,
    flags: cmdline.rootflags,
    init: cmdline.init,
    initArgs: context.initArgs,
    env: initEnvironment(runtime.env),
    console: "/dev/console",
  };
  const plan = switchRootPlan(request, {
    note: (text) => log.info(text),
    handOff: () => ({ path: HANDOFF_PATH, data: serializeRecord(record.entries()) }),
  });
  if (cmdline.debug) for (const step of plan) log.debug(`switch_root plan: ${step.describe()}${step.required ? "" : " (may fail)"}`);
  // The exec at the plan's end ends this process: what it said so far must reach the console
  // and the kernel's log first (their records are written off the event loop). Notes made by
  // the plan's own steps on the way still may not.
  await consoleCaughtUp(runtime)();
  if (over()) return { failure: "shutting down", devices: result.devices };
  const outcome = runSwitchPlan(sys, recordedSteps(record, plan), (step, error) => log.error(`switch_root: ${step.describe()}: ${error.message}`));
  if (outcome.kind === "stranded") {
    // Past the point of no return there is no initramfs to go back to: whatever shell the
    // new root has, from here.
    log.error(`switch_root failed after the initramfs was given up (${outcome.step}): ${outcome.error.message}`);
    await consoleCaughtUp(runtime)();
    const error = sys.exec("/bin/sh", ["/bin/sh"], { PATH: DEFAULT_PATH, HOME: "/" });
    log.error(`no shell either: ${error.message}; PID 1 goes on reaping`);
    return new Promise<FailedAttempt>(() => {});
  }
  const asked = `${cmdline.readOnly ? "ro" : "rw"}${cmdline.rootflags ? `,${cmdline.rootflags}` : ""}`;
  return { failure: `root=${cmdline.root} (${device.path}, -o ${asked}): ${outcome.error.message}`, devices: listBlockDevices(sys) };
}

/**
 * What the real init starts with: the kernel's environment for init, and where the initramfs
 * stage's record is. Not the stub's BUN_JSC_* tuning of PID 1's JavaScriptCore: a real init that
 * is not tsinit would hand it to every service.
 */
function initEnvironment(env: Readonly<Record<string, string>>): Record<string, string> {
  const result: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries(env)) if (key !== HANDOFF_ENV && !key.startsWith("BUN_JSC_")) result[key] = value;
  result[HANDOFF_ENV] = HANDOFF_PATH;
  return result;
}
