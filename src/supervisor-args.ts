// Supervisor mode's command line, to SupervisorArgs: the directories (a user's default is
// $XDG_CONFIG_HOME/tsinit.d, else ~/.config/tsinit.d, as dinit's user instance has its own),
// the socket, the target, and dinit's --quiet, --ready-fd and an opt-in --exit-when-idle.
// Pure: a bad argument is a UsageError naming it.
import { defaultServicesDir } from "./config/default-dirs.ts";

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

