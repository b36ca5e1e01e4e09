// What PID 1, supervisor mode and container mode set up alike, written once: reaping on
// SIGCHLD with a periodic safety net (a coalesced signal must not leave a zombie), becoming a
// child subreaper when not PID 1, the environment children inherit, and tsinit's own
// protection from the OOM killer.
import { DEFAULT_PATH } from "./base/process.ts";
import type { Log } from "./log/log.ts";
import type { Runtime, Timer } from "./sys/sys.ts";


/** How often the reaper runs without a SIGCHLD, in case one was coalesced or lost. */
const REAP_SAFETY_NET_MS = 10_000;

/** The OOM killer's score adjustment of a process that must never be chosen. */
const OOM_NEVER = "-1000";

/**
 * Keep the OOM killer away from tsinit: a memory cgroup filled by its services must lose a
 * service, never the supervisor (as PID 1, that is a kernel panic). Returns the value tsinit
 * had, which each new service process gets back (children inherit -1000 otherwise), or
 * undefined when tsinit may not lower its own (no CAP_SYS_RESOURCE): then services inherit
 * tsinit's unchanged value and nothing needs resetting.
 */
export function protectFromOomKiller(runtime: Runtime, log: Log): string | undefined {
  const path = "/proc/self/oom_score_adj";
  const before = runtime.sys.readFile(path)?.trim();
  if (before === undefined) {
    log.warn(`the OOM killer may choose tsinit: ${path} cannot be read`);
    return undefined;
  }
  if (before === OOM_NEVER) return undefined;
  const error = runtime.sys.writeFile(path, OOM_NEVER);
  if (error === undefined) return before;
  log.warn(`the OOM killer may choose tsinit: ${error.message}`);
  return undefined;
}

/** tsinit's environment with a PATH, plus `extra`: what every child starts from. */
export function childEnvironment(runtime: Runtime, extra: Record<string, string> = {}): Record<string, string> {
  // Null prototype: names come from outside (the kernel command line, for PID 1).
  const env: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, runtime.env, extra);
  env.PATH = extra.PATH ?? runtime.env.PATH ?? DEFAULT_PATH;
  return env;
}

/**
 * Become the reaper of orphans, and call `reap` on every SIGCHLD, now and then, and once at
 * once. Returns the safety net's timer, to cancel before exiting.
 */
export function superviseChildren(runtime: Runtime, log: Log, reap: () => void): Timer {
  if (runtime.sys.getpid() !== 1) {
    const error = runtime.sys.setChildSubreaper();
    if (error !== undefined) log.warn(`orphans will not be reaped here: ${error.message}`);
  }
  runtime.onSignal("SIGCHLD", reap);
  const safetyNet = runtime.clock.setInterval(REAP_SAFETY_NET_MS, reap);
  reap();
  return safetyNet;
}
