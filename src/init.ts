// tsinit as the PID 1 of a booted machine: early mounts, the kernel command line, hostname,
// ctrl-alt-del as SIGINT, signals, then the services of /etc/tsinit.d from the boot target.
import { parseMounts } from "./base/mounts.ts";
import { parseCommandLine, type KernelCommandLine } from "./boot/cmdline.ts";
import { BootRecord, HANDOFF_ENV, HANDOFF_PATH, parseRecord, recordedSteps, type BootEntry } from "./boot/boot-record.ts";
import { earlyMountPlan, runPlan } from "./boot/early-mounts.ts";
import { checkIsInitramfs } from "./boot/initramfs-cleanup.ts";
import { BootModules } from "./boot/module-loading.ts";
import { memAvailableKiB } from "./boot/switch-root.ts";
import { parseEtcModules, parseModulesLoad } from "./boot/modules.ts";
import { mergeWatchdogRequests, Watchdogs } from "./boot/watchdog.ts";
import { formatDiagnostic } from "./config/diagnostic.ts";
import { INIT_CONF, parseInitConf, parseWatchdogList } from "./config/init-conf.ts";
import { DEFAULT_SOCKET, SOCKET_ENV } from "./control/api.ts";
import { serveControlSocket } from "./control/serve.ts";
import { Log } from "./log/log.ts";
import { childEnvironment, protectFromOomKiller, superviseChildren } from "./process-setup.ts";
import { serviceFiles } from "./service-files.ts";
import { ServiceDirectories } from "./service-loading.ts";
import { PID1_SIGNALS, signalRequest, type ShutdownKind } from "./shutdown/requests.ts";
import { shutdownMachine } from "./shutdown/shutdown.ts";
import { serviceCgroupRoot } from "./supervisor/cgroups.ts";
import { Supervisor } from "./supervisor/supervisor.ts";
import { reportDevice, startBootReport } from "./boot-report.ts";
import { EventLog } from "./log/event-log.ts";
import { BootTimeline } from "./log/timeline.ts";
import { breakShell, consoleCaughtUp, switchToRealRoot, type ConsoleCaughtUp } from "./real-root.ts";
import { chooseRunner, exitKind, runFirstRunner } from "./runner.ts";
import { SysError, type Runtime, type Sys } from "./sys/sys.ts";

export const SERVICES_DIR = "/etc/tsinit.d";
const NOTIFY_SOCKET = "/run/tsinit.notify";
/** How long a shutdown waits for queued console lines before reboot(2). */
const CONSOLE_DRAIN_MS = 1_000;

export function runInit(runtime: Runtime, initArgs: readonly string[] = []): void {
  const { sys } = runtime;
  const log = new Log(runtime.sink, { consoleThreshold: 6, kernelConsoleLevel: 0 });
  runtime.neverDie((what) => log.error(what));
  // Past switch_root, the initramfs stage's record is waiting in /run (moved along).
  const pastSwitch = runtime.env[HANDOFF_ENV] === HANDOFF_PATH;
  const events = new EventLog(() => runtime.clock.sinceBoot(), undefined, (error) => log.error(`event subscriber: ${String(error)}`));
  const bootTimeline = new BootTimeline();
  events.subscribe((event) => bootTimeline.add(event));
  const record = new BootRecord(pastSwitch ? "root" : "initramfs", () => runtime.clock.sinceBoot(), (entry) =>
    events.emit({ kind: "boot-step", stage: entry.stage, text: entry.text, ms: entry.ms ?? 0, ok: entry.ok ?? true }),
  );
  // Debug lines (every state change, and commands with their users' arguments) stay out: the
  // record is for anyone to read.
  log.observe((level, text) => level !== "debug" && record.log(level, text));

  runPlan(sys, recordedSteps(record, earlyMountPlan(parseMounts(sys.readFile("/proc/mounts") ?? "").map((m) => m.target), hasCgroup2(sys))), (step, error) =>
    log.error(`${step.describe()}: ${error.message}`),
  );
  runtime.openKmsg();
  if (pastSwitch) {
    record.prepend(takeHandOff(sys));
    // With the initramfs stage's record: how much memory the switch gave back, once the exec
    // unmapped the initramfs copy of tsinit.
    const available = memAvailableKiB(sys);
    if (available !== undefined) log.info(`MemAvailable ${(available / 1024).toFixed(1)} MiB after the switch to the real root`);
  }

  const cmdline = parseCommandLine(sys.readFile("/proc/cmdline") ?? "");
  // root= asks for the switch; the initramfs stage does it, the real root's tsinit does not,
  // nor does a tsinit whose root the kernel mounted itself.
  const inInitramfs = !pastSwitch && checkIsInitramfs(sys) === undefined;
  const switching = cmdline.root !== undefined && inInitramfs;
  log.setOptions({
    consoleThreshold: cmdline.debug ? 7 : cmdline.quiet ? 4 : 6,
    kernelConsoleLevel: Number((sys.readFile("/proc/sys/kernel/printk") ?? "").trim().split(/\s+/)[0]) || 0,
  });
  log.info(`tsinit starting as PID ${sys.getpid()}${pastSwitch ? " in the real root" : switching ? " in the initramfs" : ""}`);
  const childOomScoreAdj = protectFromOomKiller(runtime, log);
  setHostname(sys, log);
  const cadError = sys.reboot("cad-off");
  if (cadError !== undefined) log.warn(`ctrl-alt-del will reboot at once: ${cadError.message}`);

  const modules = BootModules.open(sys, log, record);
  modules.loadAtBoot(
    [...cmdline.modulesLoad.flatMap((name) => parseModulesLoad(name)), ...parseEtcModules(readOptional(sys, "/etc/modules"))],
    switching,
  );
  // After the modules: modules-load=softdog makes /dev/watchdog0.
  const watchdogs = openWatchdogs(runtime, log, cmdline);

  // As dinit loads: the boot target and what it reaches now, anything else when it is named.
  const target = cmdline.single ? "single" : (cmdline.target ?? "boot");
  const directories = new ServiceDirectories(sys, log, [SERVICES_DIR]);
  const { services, blocked, cycles } = directories.loadInitial(switching ? [] : [target]);
  const supervisor = new Supervisor(services.values(), {
    runtime,
    log,
    env: serviceEnvironment(runtime, cmdline),
    console: cmdline.console === undefined ? "/dev/console" : `/dev/${cmdline.console}`,
    notifyPath: NOTIFY_SOCKET,
    cgroupRoot: sys.exists("/sys/fs/cgroup/cgroup.procs") ? serviceCgroupRoot(sys, log, "/sys/fs/cgroup/tsinit") : undefined,
    blocked,
    cycles,
    childOomScoreAdj,
    observe: (event) => void events.emit(event),
    // dinit's starts-rwfs: the boot's wtmp record, and the control socket if it failed.
    startsRwfs: () => control?.retry(),
    // dinit's starts-log: the system log daemon runs; tsinit's messages go to /dev/log.
    startsLog: () => runtime.openSyslog?.(),
  });
  // Not during the initramfs stage of a switch: the real root's tsinit reports the whole boot.
  const reportTo = switching ? undefined : reportDevice(cmdline.report);
  if (cmdline.report !== undefined && reportDevice(cmdline.report) === undefined) log.warn(`tsinit.report=${cmdline.report}: not a device name under /dev (such as ttyS1); no boot report`);
  const report = reportTo === undefined ? undefined : startBootReport(runtime, log, events, reportTo);
  superviseChildren(runtime, log, () => supervisor.reap());

  directories.attach(supervisor);
  const reload = () => {
    const summary = directories.reload();
    events.emit({ kind: "reload", added: summary.added, changed: summary.changed, removed: summary.removed });
    return summary;
  };
  let shuttingDown: ShutdownKind | undefined;
  /** The first runner's status when its end takes the machine down: the report's last line. */
  let runnerStatus: number | undefined;
  const shutdown = (kind: ShutdownKind) => {
    if (shuttingDown !== undefined) return;
    shuttingDown = kind;
    events.emit({ kind: "shutdown", what: kind });
    void shutdownMachine(kind, {
      sys,
      log,
      supervisor,
      step: (text) => void events.emit({ kind: "shutdown-step", text }),
      beforeReboot: () => {
        if (runnerStatus !== undefined) events.emit({ kind: "done", status: runnerStatus });
        // The last lines reach the console and the report before the machine goes down, within
        // bounds: a console that takes nothing never holds the shutdown.
        return Promise.all([report?.drained(), runtime.sink.drained?.(CONSOLE_DRAIN_MS)]);
      },
      beforeFinalReboot: (what) => watchdogs?.beforeFinalReboot(what),
    });
  };
  for (const signal of PID1_SIGNALS) {
    runtime.onSignal(signal, () => {
      // The live set: a reload may have added or removed ctrlaltdel.
      // Loaded on demand: only ctrl-alt-del (SIGINT) asks for it.
      const request = signalRequest(signal, signal === "SIGINT" && shuttingDown === undefined && directories.ensure("ctrlaltdel").kind === "loaded");
      if (request.kind === "shutdown") shutdown(request.shutdown);
      else if (shuttingDown !== undefined) log.warn(`${signal} ignored: shutting down`);
      else if (request.kind === "ctrlaltdel") supervisor.start("ctrlaltdel");
      else void reload();
    });
  }
  // initctl's socket; without it boot goes on (the failure is logged).
  const control = serveControlSocket({ path: runtime.env[SOCKET_ENV] || DEFAULT_SOCKET, supervisor, runtime, log, mode: "init", shutdown: (kind) => shutdown(kind ?? "poweroff"), reload: () => reload(), load: (name) => directories.ensure(name), hasServiceFile: (name) => directories.hasFile(name), bootRecord: () => record.entries(), events, timeline: bootTimeline, debug: { enabled: cmdline.debug, stall: (ms) => sys.stall(ms) }, files: serviceFiles(sys, () => [SERVICES_DIR]) });

  if (switching) {
    void switchToRealRoot({ runtime, log, record, supervisor, cmdline, modules, initArgs, shutdown });
    return;
  }
  if (cmdline.exit !== undefined && exitKind(cmdline.exit) === undefined) log.warn(`tsinit.exit=${cmdline.exit}: give poweroff, reboot or halt; the machine stays up when the runner exits`);
  const runner = chooseRunner(sys, cmdline, runtime.env);
  const caughtUp = consoleCaughtUp(runtime);
  void (async () => {
    if (cmdline.rdBreak && !pastSwitch) await breakShell(supervisor, log, caughtUp);
    if (runner !== undefined) {
      const unknown = runner.after.filter((name) => directories.ensure(name).kind !== "loaded");
      if (unknown.length > 0) log.warn(`runner: no service named ${unknown.join(", ")} to wait for`);
      const after = runner.after.filter((name) => !unknown.includes(name));
      const endWith = (kind: ShutdownKind, status: number) => {
        runnerStatus = status;
        shutdown(kind);
      };
      void runFirstRunner({ events, log, supervisor, runner: { ...runner, after }, shutdown: endWith });
    }
    await startTarget(supervisor, log, target, () => directories.ensure("recovery").kind === "loaded", caughtUp);
    // The boot is over: what comes later is not the boot's.
    record.close();
  })();
}

/**
 * The watchdogs of /etc/tsinit.conf and `tsinit.watchdog=`, opened and petted; undefined when
 * none is named. A bad setting is a warning: the boot goes on without that device.
 */
function openWatchdogs(runtime: Runtime, log: Log, cmdline: KernelCommandLine): Watchdogs | undefined {
  const { sys } = runtime;
  const text = sys.readRegularFile(INIT_CONF, 1 << 20);
  if (text instanceof SysError && text.code !== "ENOENT") log.warn(`${INIT_CONF}: ${text.reason}; its settings are not used`);
  const conf = parseInitConf(text instanceof SysError ? "" : text);
  for (const diagnostic of conf.diagnostics) log.warn(formatDiagnostic(diagnostic));
  const fromCmdline = cmdline.watchdog.flatMap((value) => {
    const parsed = parseWatchdogList(value, "tsinit.watchdog=");
    for (const problem of parsed.problems) log.warn(`tsinit.watchdog=${value}: ${problem}`);
    return parsed.watchdogs;
  });
  const requests = mergeWatchdogRequests(conf.watchdogs, fromCmdline);
  return requests.length === 0 ? undefined : Watchdogs.open(requests, sys, runtime.clock, log);
}

/** The initramfs stage's boot record, read once and removed. */
function takeHandOff(sys: Sys): BootEntry[] {
  const text = sys.readRegularFile(HANDOFF_PATH, 1 << 20);
  sys.unlink(HANDOFF_PATH);
  return text instanceof SysError ? [] : parseRecord(text);
}

function readOptional(sys: Sys, path: string): string {
  const text = sys.readRegularFile(path, 1 << 20);
  return text instanceof SysError ? "" : text;
}

/**
 * Start the boot target. When it cannot start (a service it depends on failed), start the
 * `recovery` service (a root shell on the console) if there is one, else say so and go on.
 */
async function startTarget(supervisor: Supervisor, log: Log, target: string, hasRecovery: () => boolean, caughtUp: ConsoleCaughtUp): Promise<void> {
  const recover = async (why: string) => {
    if (!hasRecovery()) {
      log.error(`${why}; no recovery service, going on with what runs`);
      return;
    }
    log.error(`${why}; starting recovery`);
    // Its shell's prompt after that line, not before it.
    await caughtUp();
    supervisor.start("recovery");
  };
  if (supervisor.service(target) === undefined) {
    await recover(`${target} is not loaded (no file for it in ${SERVICES_DIR}, or it has errors)`);
    return;
  }
  const outcome = await supervisor.command("start", target);
  // Only a failure: a target stopped by hand during boot needs no recovery shell.
  const record = supervisor.service(target);
  const why = record?.failed ?? record?.blocked;
  if (outcome?.kind === "failed" && why !== undefined) await recover(`${target} failed: ${why}`);
}

function hasCgroup2(sys: Sys): boolean {
  return /\tcgroup2$/m.test(sys.readFile("/proc/filesystems") ?? "");
}

function setHostname(sys: Sys, log: Log): void {
  const name = sys.readFile("/etc/hostname")?.trim();
  if (!name) return;
  const error = sys.sethostname(name);
  if (error !== undefined) log.warn(error.message);
}

/** What services inherit: the kernel's environment for init (less PID 1's BUN_JSC_* tuning), a PATH, and the console's name. */
function serviceEnvironment(runtime: Runtime, cmdline: KernelCommandLine): Record<string, string> {
  const env = childEnvironment(runtime, { TSINIT_CONSOLE: cmdline.console ?? "console" });
  delete env[HANDOFF_ENV];
  // BUN_JSC_* tune PID 1's own JavaScriptCore (set by /init or on the kernel command line).
  for (const name of Object.keys(env)) if (name.startsWith("BUN_JSC_")) delete env[name];
  return env;
}
