// tsinit as a service manager that is not a machine's PID 1 (as dinit runs in user mode):
// loads the given directories (for a user with none given, $XDG_CONFIG_HOME/tsinit.d or
// ~/.config/tsinit.d), starts the target, reaps as a child subreaper (or as the PID 1 of a PID
// namespace), and on SIGTERM/SIGINT, or once no service is active with --exit-when-idle, stops
// every service in reverse dependency order and exits 0. --ready-fd N tells whoever started it
// when the control socket answers, as dinit's does. It never mounts and never calls reboot(2).
import { defaultServicesDir } from "./config/default-dirs.ts";
import { SOCKET_ENV } from "./control/api.ts";
import { serveControlSocket } from "./control/serve.ts";
import { Log } from "./log/log.ts";
import { childEnvironment, protectFromOomKiller, superviseChildren } from "./process-setup.ts";
import { serviceFiles } from "./service-files.ts";
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
  /** dinit's --quiet: no status lines and no information on the console; errors still show. */
  quiet: boolean;
  /** dinit's --ready-fd: the control socket's path and a newline go there once it answers. */
  readyFd?: number;
  /** Stop and exit 0 once no service is active (dinit's user instance does so always). */
  exitWhenIdle: boolean;
}

/** Who runs the supervisor: a user without --services-dir gets the XDG default. */
export interface Invoker {
  uid: number;
  env: Readonly<Record<string, string | undefined>>;
}

export class UsageError extends Error {}

export function parseSupervisorArgs(args: readonly string[], invoker: Invoker): SupervisorArgs {
  const result: SupervisorArgs = { servicesDirs: [], target: "boot", debug: false, quiet: false, exitWhenIdle: false };
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
    else if (arg === "--quiet" || arg === "-q") result.quiet = true;
    else if (arg === "--exit-when-idle") result.exitWhenIdle = true;
    else if (arg === "--ready-fd") {
      const text = value();
      // 0-2 are the supervisor's own stdio; a readiness line there would mix into its output.
      if (!/^\d{1,9}$/.test(text) || Number(text) < 3) throw new UsageError(`--ready-fd needs a descriptor number of 3 or more, not ${JSON.stringify(text)}`);
      result.readyFd = Number(text);
    } else throw new UsageError(`unknown argument ${arg}`);
  }
  if (result.debug && result.quiet) throw new UsageError("--debug and --quiet contradict each other; give one");
  if (result.servicesDirs.length === 0) {
    const fallback = invoker.uid === 0 ? undefined : defaultServicesDir(invoker.uid, invoker.env);
    if (fallback === undefined) throw new UsageError(invoker.uid === 0 ? "--services-dir DIR is required when running as root" : "--services-dir DIR is required (neither XDG_CONFIG_HOME nor HOME is set)");
    result.servicesDirs.push(fallback);
  }
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
  const log = new Log(runtime.sink, { consoleThreshold: args.debug ? 7 : args.quiet ? 3 : 6, kernelConsoleLevel: 0 });
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
  const ready = () => {
    if (args.readyFd === undefined) return;
    const error = sys.writeFd(args.readyFd, `${args.socket ?? ""}\n`);
    if (error !== undefined) log.warn(`--ready-fd ${args.readyFd}: ${error.message}`);
    sys.close(args.readyFd);
  };
  const control =
    args.socket === undefined
      ? undefined
      : serveControlSocket({
          path: args.socket,
          supervisor,
          runtime,
          log,
          mode: "supervisor",
          shutdown: () => void shutdown(),
          reload: () => reload(),
          files: serviceFiles(sys, () => args.servicesDirs),
          onListening: ready,
        });
  runtime.onSignal("SIGTERM", () => void shutdown());
  runtime.onSignal("SIGINT", () => void shutdown());
  runtime.onSignal("SIGHUP", () => (stopping ? log.warn("SIGHUP ignored: shutting down") : void reload()));

  // Without a control socket there is nothing to wait for: ready once the services are loaded.
  if (control === undefined) ready();
  if (args.target !== "none") {
    if (services.has(args.target)) supervisor.start(args.target);
    else log.error(`no service named ${args.target}; nothing started`);
  }
  if (args.exitWhenIdle) {
    void supervisor.whenIdle().then(() => {
      if (stopping) return;
      log.info("no service is active; exiting (--exit-when-idle)");
      void shutdown();
    });
  }
}
