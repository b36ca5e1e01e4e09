// tsinit as a service manager that is not a machine's PID 1 (as dinit runs in user mode):
// loads the given directories (for a user with none given, $XDG_CONFIG_HOME/tsinit.d or
// ~/.config/tsinit.d), starts the target, reaps as a child subreaper (or as the PID 1 of a PID
// namespace), and on SIGTERM/SIGINT, or once no service is active with --exit-when-idle, stops
// every service in reverse dependency order and exits 0. --ready-fd N tells whoever started it
// when the control socket answers, as dinit's does. It never mounts and never calls reboot(2).
import { SOCKET_ENV } from "./control/api.ts";
import { serveControlSocket } from "./control/serve.ts";
import { Log } from "./log/log.ts";
import { childEnvironment, protectFromOomKiller, superviseChildren } from "./process-setup.ts";
import { serviceFiles } from "./service-files.ts";
import { ServiceDirectories } from "./service-loading.ts";
import { serviceCgroupRoot } from "./supervisor/cgroups.ts";
import { Supervisor } from "./supervisor/supervisor.ts";
import { notifySocketNames, removeAbandonedNotifySockets } from "./supervisor/notify.ts";
import { basename, dirname } from "./base/paths.ts";
import { unguessable } from "./supervisor/unguessable.ts";
import type { Runtime } from "./sys/sys.ts";
import type { SupervisorArgs } from "./supervisor-args.ts";

/** Beside the control socket when there is one, else in the runtime or temporary directory. */
function notifyPath(runtime: Runtime, args: SupervisorArgs): string {
  if (args.socket !== undefined) return `${args.socket}.notify`;
  // Random too: as the PID 1 of a namespace every supervisor's pid is 1.
  const unique = unguessable(runtime.sys);
  return `${notifyDirectory(runtime, args)}/tsinit-${runtime.sys.getpid()}-${unique}.notify`;
}

function notifyDirectory(runtime: Runtime, args: SupervisorArgs): string {
  return args.socket !== undefined ? dirname(args.socket) : (runtime.env.XDG_RUNTIME_DIR ?? "/tmp");
}

export function runSupervisor(runtime: Runtime, args: SupervisorArgs): void {
  const { sys } = runtime;
  const log = new Log(runtime.sink, { consoleThreshold: args.debug ? 7 : args.quiet ? 3 : 6, kernelConsoleLevel: 0 });
  runtime.neverDie((what) => log.error(what));
  // So that initctl run by a service talks to this supervisor.
  const env = childEnvironment(runtime, args.socket === undefined ? {} : { [SOCKET_ENV]: args.socket });

  const childOomScoreAdj = protectFromOomKiller(runtime, log);
  // What a supervisor killed by SIGKILL left: its sockets' files, which nothing else removes.
  removeAbandonedNotifySockets(sys, log, notifyDirectory(runtime, args), notifySocketNames(args.socket === undefined ? undefined : basename(args.socket)));
  // As dinit loads: the target and what it reaches now, anything else when it is named.
  const directories = new ServiceDirectories(sys, log, args.servicesDirs);
  const { services, blocked, cycles, missing } = directories.loadInitial(args.target === "none" ? [] : [args.target]);
  // The --cgroup folder is removed at a clean exit only if this supervisor made it.
  const cgroupMade = args.cgroup !== undefined && !sys.isDirectory(args.cgroup);
  const cgroupRoot = args.cgroup === undefined ? undefined : serviceCgroupRoot(sys, log, args.cgroup);
  const supervisor = new Supervisor(services.values(), {
    runtime,
    log,
    env,
    notifyPath: notifyPath(runtime, args),
    cgroupRoot,
    blocked,
    cycles,
    childOomScoreAdj,
  });
  const safetyNet = superviseChildren(runtime, log, () => supervisor.reap());

  directories.attach(supervisor);
  const reload = () => directories.reload();
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
    await supervisor.close();
    if (cgroupMade && cgroupRoot !== undefined) {
      const error = sys.rmdir(cgroupRoot);
      // Not empty: a service cgroup left in place (said above), or what others put there.
      if (error !== undefined && error.code !== "ENOENT") log.info(`cgroup ${cgroupRoot} left in place: ${error.message}`);
    }
    safetyNet.cancel();
    log.info("all services stopped");
    runtime.exit(0);
  };
  /** Readiness, as dinit's: the socket path once it answers; closed unwritten if it never will. */
  const ready = (listening = true) => {
    if (args.readyFd === undefined) return;
    const error = listening ? sys.writeFd(args.readyFd, `${args.socket ?? ""}\n`) : undefined;
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
          load: (name) => directories.ensure(name),
          hasServiceFile: (name) => directories.hasFile(name),
          files: serviceFiles(sys, () => args.servicesDirs),
          onListening: (listening) => ready(listening),
        });
  runtime.onSignal("SIGTERM", () => void shutdown());
  runtime.onSignal("SIGINT", () => void shutdown());
  runtime.onSignal("SIGHUP", () => (stopping ? log.warn("SIGHUP ignored: shutting down") : void reload()));

  // Without a control socket there is nothing to wait for: ready once the services are loaded.
  if (control === undefined) ready();
  if (args.target !== "none") {
    if (services.has(args.target)) supervisor.start(args.target);
    else log.error(missing.has(args.target) ? `no service named ${args.target}; nothing started` : `${args.target} did not load; nothing started`);
  }
  if (args.exitWhenIdle) {
    void supervisor.whenIdle().then(() => {
      if (stopping) return;
      log.info("no service is active; exiting (--exit-when-idle)");
      void shutdown();
    });
  }
}
