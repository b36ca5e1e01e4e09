// tsinit as the PID 1 of a booted machine: early mounts, the kernel command line, hostname,
// ctrl-alt-del as SIGINT, signals, then the services of /etc/tsinit.d from the boot target.
import { parseCommandLine, type KernelCommandLine } from "./boot/cmdline.ts";
import { parseMounts } from "./base/mounts.ts";
import { earlyMountPlan, runPlan } from "./boot/early-mounts.ts";
import { DEFAULT_SOCKET, SOCKET_ENV } from "./control/api.ts";
import { serveControlSocket } from "./control/serve.ts";
import { Log } from "./log/log.ts";
import { installNeverDie } from "./never-die.ts";
import { loadServiceDirs, reloadServiceDirs } from "./service-loading.ts";
import { PID1_SIGNALS, signalRequest, type ShutdownKind } from "./shutdown/requests.ts";
import { shutdownMachine } from "./shutdown/shutdown.ts";
import { Supervisor } from "./supervisor/supervisor.ts";
import { consoleSink } from "./sys/log-sink.ts";
import { listenForNotifications } from "./sys/notify-socket.ts";
import type { Sys } from "./sys/sys.ts";

export const SERVICES_DIR = "/etc/tsinit.d";
const NOTIFY_SOCKET = "/run/tsinit.notify";
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const REAP_SAFETY_NET_MS = 10_000;

export function runInit(sys: Sys): void {
  const sink = consoleSink({ kmsg: true });
  const log = new Log(sink, { consoleThreshold: 6, kernelConsoleLevel: 0 });
  installNeverDie(log);

  runPlan(sys, earlyMountPlan(parseMounts(sys.readFile("/proc/mounts") ?? "").map((m) => m.target), hasCgroup2(sys)), (step, error) =>
    log.error(`${step.describe()}: ${error.message}`),
  );
  sink.openKmsg();

  const cmdline = parseCommandLine(sys.readFile("/proc/cmdline") ?? "");
  log.setOptions({
    consoleThreshold: cmdline.debug ? 7 : cmdline.quiet ? 4 : 6,
    kernelConsoleLevel: Number((sys.readFile("/proc/sys/kernel/printk") ?? "").trim().split(/\s+/)[0]) || 0,
  });
  log.info(`tsinit starting as PID ${sys.getpid()}`);
  setHostname(sys, log);
  const cadError = sys.reboot("cad-off");
  if (cadError !== undefined) log.warn(`ctrl-alt-del will reboot at once: ${cadError.message}`);

  const { services, blocked } = loadServiceDirs(sys, log, [SERVICES_DIR]);
  const supervisor = new Supervisor(services.values(), {
    sys,
    log,
    env: serviceEnvironment(cmdline),
    console: cmdline.console === undefined ? "/dev/console" : `/dev/${cmdline.console}`,
    notify: { path: NOTIFY_SOCKET, listen: listenForNotifications },
    cgroupRoot: serviceCgroupRoot(sys, log),
  });
  for (const [name, reason] of blocked) supervisor.services.block(name, reason);

  process.on("SIGCHLD", () => supervisor.reap());
  setInterval(() => supervisor.reap(), REAP_SAFETY_NET_MS);

  const reload = () => reloadServiceDirs(sys, log, [SERVICES_DIR], supervisor);
  let shuttingDown: ShutdownKind | undefined;
  const shutdown = (kind: ShutdownKind) => {
    if (shuttingDown !== undefined) return;
    shuttingDown = kind;
    void shutdownMachine(kind, { sys, log, supervisor });
  };
  for (const signal of PID1_SIGNALS) {
    process.on(signal, () => {
      // The live set: a reload may have added or removed ctrlaltdel.
      const request = signalRequest(signal, supervisor.services.get("ctrlaltdel") !== undefined);
      if (request.kind === "shutdown") shutdown(request.shutdown);
      else if (shuttingDown !== undefined) log.warn(`${signal} ignored: shutting down`);
      else if (request.kind === "ctrlaltdel") supervisor.start("ctrlaltdel");
      else void reload();
    });
  }
  supervisor.reap();
  // initctl's socket; without it boot goes on (the failure is logged).
  serveControlSocket({ path: process.env[SOCKET_ENV] || DEFAULT_SOCKET, supervisor, sys, log, mode: "init", shutdown: (kind) => shutdown(kind ?? "poweroff"), reload: () => reload() });

  const target = cmdline.single ? "single" : (cmdline.target ?? "boot");
  startTarget(supervisor, log, target, services.has("recovery"));
}

/**
 * Start the boot target. When it cannot start (a service it depends on failed), start the
 * `recovery` service (a root shell on the console) if there is one, else say so and go on.
 */
function startTarget(supervisor: Supervisor, log: Log, target: string, hasRecovery: boolean): void {
  const recover = (why: string) => {
    if (!hasRecovery) {
      log.error(`${why}; no recovery service, going on with what runs`);
      return;
    }
    log.error(`${why}; starting recovery`);
    supervisor.start("recovery");
  };
  if (supervisor.services.get(target) === undefined) {
    recover(`no service named ${target} in ${SERVICES_DIR}`);
    return;
  }
  const unsubscribe = supervisor.subscribe(() => {
    const record = supervisor.services.get(target);
    if (record?.state === "started") unsubscribe();
    else if (record?.failed !== undefined) {
      unsubscribe();
      recover(`${target} failed: ${record.failed}`);
    }
  });
  supervisor.start(target);
}

/** /sys/fs/cgroup/tsinit when cgroup2 is mounted there; services get cgroups below it. */
function serviceCgroupRoot(sys: Sys, log: Log): string | undefined {
  if (!sys.exists("/sys/fs/cgroup/cgroup.procs")) return undefined;
  const root = "/sys/fs/cgroup/tsinit";
  const error = sys.isDirectory(root) ? undefined : sys.mkdir(root, 0o755);
  if (error === undefined) return root;
  log.warn(`services get no cgroups: ${error.message}`);
  return undefined;
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

/** What services inherit: the kernel's environment for init, a PATH, and the console's name. */
function serviceEnvironment(cmdline: KernelCommandLine): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  env.PATH ??= DEFAULT_PATH;
  env.TSINIT_CONSOLE = cmdline.console ?? "console";
  return env;
}
