// What PID 1, supervisor mode and container mode set up alike, written once: reaping on
// SIGCHLD with a periodic safety net (a coalesced signal must not leave a zombie), becoming a
// child subreaper when not PID 1, and the environment children inherit.
import { DEFAULT_PATH } from "./base/process.ts";
import type { Log } from "./log/log.ts";
import type { Runtime, Timer } from "./sys/sys.ts";


/** How often the reaper runs without a SIGCHLD, in case one was coalesced or lost. */
const REAP_SAFETY_NET_MS = 10_000;

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
