// tsinit as a service manager that is not a machine's PID 1 (as dinit runs in user mode):
// loads the given directories, starts the target, reaps as a child subreaper (or as the PID 1
// of a PID namespace), and on SIGTERM/SIGINT stops every service in reverse dependency
// order and exits 0. It never mounts and never calls reboot(2).
import { SOCKET_ENV } from "./control/api.ts";
import { serveControlSocket } from "./control/serve.ts";
import { Log } from "./log/log.ts";
import { installNeverDie } from "./never-die.ts";
import { loadServiceDirs, reloadServiceDirs } from "./service-loading.ts";
import { Supervisor } from "./supervisor/supervisor.ts";
import { consoleSink } from "./sys/log-sink.ts";
import { listenForNotifications } from "./sys/notify-socket.ts";
import type { Sys } from "./sys/sys.ts";

export interface SupervisorArgs {
  servicesDirs: string[];
  socket?: string;
  target: string;
  debug: boolean;
  /** A cgroup2 directory for the services' cgroups (none by default). */
  cgroup?: string;
}

export class UsageError extends Error {}

export function parseSupervisorArgs(args: readonly string[]): SupervisorArgs {
  const result: SupervisorArgs = { servicesDirs: [], target: "boot", debug: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = () => {
      const next = args[++i];
      if (next === undefined) throw new UsageError(`${arg} needs a value`);
      return next;
    };
    if (arg === "--services-dir") result.servicesDirs.push(value());
    else if (arg === "--socket") result.socket = value();
    else if (arg === "--target") result.target = value();
    else if (arg === "--debug") result.debug = true;
    else if (arg === "--cgroup") result.cgroup = value();
    else throw new UsageError(`unknown argument ${arg}`);
  }
  if (result.servicesDirs.length === 0) throw new UsageError("--services-dir DIR is required");
  return result;
}

const REAP_SAFETY_NET_MS = 10_000;
/** How much longer than the longest stop-timeout an exit may take before what is left is killed. */
const STOP_GRACE_MS = 5_000;

/** Beside the control socket when there is one, else in the runtime or temporary directory. */
function notifyPath(args: SupervisorArgs, pid: number): string {
  if (args.socket !== undefined) return `${args.socket}.notify`;
  // Random too: as the PID 1 of a namespace every supervisor's pid is 1.
  const unique = Math.random().toString(36).slice(2, 10);
  return `${process.env.XDG_RUNTIME_DIR ?? "/tmp"}/tsinit-${pid}-${unique}.notify`;
}

export function runSupervisor(sys: Sys, args: SupervisorArgs): void {
  const log = new Log(consoleSink({ kmsg: false, fd: 2 }), { consoleThreshold: args.debug ? 7 : 6, kernelConsoleLevel: 0 });
  installNeverDie(log);
  if (sys.getpid() !== 1) {
    const error = sys.setChildSubreaper();
    if (error !== undefined) log.warn(`orphans will not be reaped here: ${error.message}`);
  }
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  // So that initctl run by a service talks to this supervisor.
  if (args.socket !== undefined) env[SOCKET_ENV] = args.socket;

  const { services, blocked } = loadServiceDirs(sys, log, args.servicesDirs);
  const notify = { path: notifyPath(args, sys.getpid()), listen: listenForNotifications };
  if (args.cgroup !== undefined && !sys.isDirectory(args.cgroup)) {
    const error = sys.mkdir(args.cgroup, 0o755);
    if (error !== undefined) log.warn(`services get no cgroups: ${error.message}`);
  }
  const supervisor = new Supervisor(services.values(), { sys, log, env, notify, cgroupRoot: args.cgroup });
  for (const [name, reason] of blocked) supervisor.services.block(name, reason);
  process.on("SIGCHLD", () => supervisor.reap());
  const keepAlive = setInterval(() => supervisor.reap(), REAP_SAFETY_NET_MS);

  const reload = () => reloadServiceDirs(sys, log, args.servicesDirs, supervisor);
  let stopping = false;
  let hurry = () => {};
  const shutdown = async () => {
    // A second SIGTERM or SIGINT: stop waiting, kill what is left.
    if (stopping) return hurry();
    stopping = true;
    log.info("stopping all services");
    const longestStop = Math.max(0, ...supervisor.services.list().map((r) => r.spec.stopTimeoutMs));
    const inTime = await Promise.race([
      supervisor.stopAll().then(() => true),
      new Promise<boolean>((resolve) => {
        hurry = () => resolve(false);
        setTimeout(hurry, longestStop + STOP_GRACE_MS);
      }),
    ]);
    if (!inTime) log.warn("services did not all stop in time; killing what is left");
    supervisor.killEverything();
    await control?.close();
    supervisor.close();
    clearInterval(keepAlive);
    log.info("all services stopped");
    process.exit(0);
  };
  const control = args.socket === undefined ? undefined : serveControlSocket({ path: args.socket, supervisor, sys, log, mode: "supervisor", shutdown: () => void shutdown(), reload: () => reload() });
  process.on("SIGTERM", () => void shutdown());
  process.on("SIGINT", () => void shutdown());
  process.on("SIGHUP", () => (stopping ? log.warn("SIGHUP ignored: shutting down") : void reload()));
  supervisor.reap();

  if (args.target === "none") return;
  if (services.has(args.target)) supervisor.start(args.target);
  else log.error(`no service named ${args.target}; nothing started`);
}
