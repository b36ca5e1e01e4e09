// tsinit as a service manager that is not a machine's PID 1 (as dinit runs in user mode):
// loads the given directories, starts the target, reaps as a child subreaper (or as the PID 1
// of a PID namespace), and on SIGTERM/SIGINT stops every service in reverse dependency
// order and exits 0. It never mounts and never calls reboot(2).
import { SOCKET_ENV } from "./control/api.ts";
import { serveControlSocket } from "./control/serve.ts";
import { Log } from "./log/log.ts";
import { childEnvironment, protectFromOomKiller, superviseChildren } from "./process-setup.ts";
import { loadServiceDirs, reloadServiceDirs } from "./service-loading.ts";
import { serviceCgroupRoot } from "./supervisor/cgroups.ts";
import { Supervisor } from "./supervisor/supervisor.ts";
import type { Runtime } from "./sys/sys.ts";

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

/** Beside the control socket when there is one, else in the runtime or temporary directory. */
function notifyPath(runtime: Runtime, args: SupervisorArgs): string {
  if (args.socket !== undefined) return `${args.socket}.notify`;
  // Random too: as the PID 1 of a namespace every supervisor's pid is 1.
  const unique = Math.random().toString(36).slice(2, 10);
  return `${runtime.env.XDG_RUNTIME_DIR ?? "/tmp"}/tsinit-${runtime.sys.getpid()}-${unique}.notify`;
}

export function runSupervisor(runtime: Runtime, args: SupervisorArgs): void {
  const { sys } = runtime;
  const log = new Log(runtime.sink, { consoleThreshold: args.debug ? 7 : 6, kernelConsoleLevel: 0 });
  runtime.neverDie((what) => log.error(what));
  // So that initctl run by a service talks to this supervisor.
  const env = childEnvironment(runtime, args.socket === undefined ? {} : { [SOCKET_ENV]: args.socket });

  const childOomScoreAdj = protectFromOomKiller(runtime, log);
  const { services, blocked } = loadServiceDirs(sys, log, args.servicesDirs);
  const supervisor = new Supervisor(services.values(), {
    runtime,
    log,
    env,
    notifyPath: notifyPath(runtime, args),
    cgroupRoot: args.cgroup === undefined ? undefined : serviceCgroupRoot(sys, log, args.cgroup),
    blocked,
    childOomScoreAdj,
  });
  const safetyNet = superviseChildren(runtime, log, () => supervisor.reap());

  const reload = () => reloadServiceDirs(sys, log, args.servicesDirs, supervisor);
  let stopping = false;
  const hurry = new AbortController();
  const shutdown = async () => {
    // A second SIGTERM or SIGINT: stop waiting, kill what is left.
    if (stopping) return hurry.abort();
    stopping = true;
    log.info("stopping all services");
    if (!(await supervisor.stopAll(hurry.signal))) log.warn("services did not all stop in time; killing what is left");
    supervisor.killEverything();
    await control?.close();
    supervisor.close();
    safetyNet.cancel();
    log.info("all services stopped");
    runtime.exit(0);
  };
  const control = args.socket === undefined ? undefined : serveControlSocket({ path: args.socket, supervisor, runtime, log, mode: "supervisor", shutdown: () => void shutdown(), reload: () => reload() });
  runtime.onSignal("SIGTERM", () => void shutdown());
  runtime.onSignal("SIGINT", () => void shutdown());
  runtime.onSignal("SIGHUP", () => (stopping ? log.warn("SIGHUP ignored: shutting down") : void reload()));

  if (args.target === "none") return;
  if (services.has(args.target)) supervisor.start(args.target);
  else log.error(`no service named ${args.target}; nothing started`);
}
