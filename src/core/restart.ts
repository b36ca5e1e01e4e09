// Restart policy: whether a service whose process ended is started again, and after how long.
// Pure: the caller passes the clock reading and a random source, so tests are exact.
import { describeExit, type ExitStatus } from "../base/process.ts";
import { SIGNALS } from "../base/signals.ts";
import type { ServiceSpec } from "../base/service-spec.ts";

/** What the supervisor remembers about a service's crashes between restarts. */
export interface CrashHistory {
  /** When each restart inside the current restart-limit-interval happened (monotonic ms). */
  restartTimes: number[];
  /** Restarts since the service last stayed up for a whole restart-limit-interval. */
  consecutive: number;
  /** Restarts since the service last ran for at least QUICK_CRASH_MS (the spin guard). */
  quick: number;
}

export function emptyCrashHistory(): CrashHistory {
  return { restartTimes: [], consecutive: 0, quick: 0 };
}

/** A run shorter than this is a quick crash: one more of them and the spin guard backs off. */
export const QUICK_CRASH_MS = 50;
/** Where the spin guard's doubling starts, after the first quick crash restarted at once. */
export const SPIN_FLOOR_MS = 10;
/** The spin guard's ceiling when restart-delay-max is lower (e.g. 0): never a spin. */
export const SPIN_CAP_MS = 1_000;

/**
 * The least delay before a restart after `quick` consecutive quick crashes: none for the first
 * (a crash restarts at once), then SPIN_FLOOR_MS doubling up to restart-delay-max (at least
 * SPIN_CAP_MS). So even `restart-delay = 0` with no restart limit cannot spin the CPU.
 */
export function spinFloorMs(spec: ServiceSpec, quick: number): number {
  if (quick === 0) return 0;
  return Math.min(SPIN_FLOOR_MS * 2 ** Math.min(quick - 1, 30), Math.max(spec.restartDelayMaxMs, SPIN_CAP_MS));
}

export type RestartDecision =
  | { restart: true; delayMs: number; history: CrashHistory }
  | { restart: false; reason: string; history: CrashHistory };

export function isFailure(status: ExitStatus): boolean {
  return status.kind === "signaled" || status.code !== 0;
}

/** Signals that dinit takes as a deliberate end, not a failure, for `restart = on-failure`. */
const DELIBERATE_SIGNALS: ReadonlySet<number> = new Set([SIGNALS.HUP, SIGNALS.INT, SIGNALS.USR1, SIGNALS.USR2, SIGNALS.TERM]);

/**
 * dinit's `on-failure`: a non-zero exit, or death by a signal other than SIGHUP, SIGINT,
 * SIGUSR1, SIGUSR2 and SIGTERM (those mean someone ended it on purpose).
 */
export function restartsOnFailure(status: ExitStatus): boolean {
  return status.kind === "signaled" ? !DELIBERATE_SIGNALS.has(status.signal) : status.code !== 0;
}

/**
 * Decide what follows an unexpected end of a started service.
 * - `restart = no` never restarts; `on-failure` restarts on a non-zero exit or a signal other
 *   than HUP, INT, USR1, USR2 and TERM (dinit's rule: those end a process on purpose).
 * - More than restart-limit-count restarts within restart-limit-interval gives up (0: no limit).
 * - The delay doubles with each consecutive crash up to restart-delay-max, with up to 25 %
 *   added jitter so that many services crashing together do not restart in lockstep; a
 *   service that stayed up for a whole restart-limit-interval starts again from restart-delay.
 * - Whatever restart-delay says, consecutive quick crashes (runs shorter than QUICK_CRASH_MS)
 *   wait at least `spinFloorMs`: the first restarts at once, the next after 10 ms, 20 ms, ...
 */
export function decideRestart(
  spec: ServiceSpec,
  status: ExitStatus,
  upForMs: number,
  previous: CrashHistory,
  now: number,
  random: () => number,
): RestartDecision {
  const stayedUp = upForMs >= spec.restartLimitIntervalMs;
  const recent = previous.restartTimes.filter((time) => now - time < spec.restartLimitIntervalMs);
  const quick = upForMs < QUICK_CRASH_MS ? previous.quick : 0;
  const history: CrashHistory = { restartTimes: recent, consecutive: stayedUp ? 0 : previous.consecutive, quick };

  if (spec.restart === "no") return { restart: false, reason: "restart = no", history };
  if (spec.restart === "on-failure" && !restartsOnFailure(status)) {
    const why = status.kind === "signaled" ? `${describeExit(status)}, a deliberate end,` : "exited 0";
    return { restart: false, reason: `${why} and restart = on-failure`, history };
  }
  if (spec.restartLimitCount > 0 && recent.length >= spec.restartLimitCount) {
    const seconds = spec.restartLimitIntervalMs / 1000;
    return { restart: false, reason: `restarted ${recent.length} times within ${seconds}s, giving up`, history };
  }

  const base = spec.restartDelayMs * 2 ** Math.min(history.consecutive, 30);
  const capped = Math.max(Math.min(base, Math.max(spec.restartDelayMaxMs, spec.restartDelayMs)), spinFloorMs(spec, quick));
  const jitter = history.consecutive === 0 ? 0 : capped * 0.25 * random();
  return {
    restart: true,
    delayMs: Math.round(capped + jitter),
    history: { restartTimes: [...recent, now], consecutive: history.consecutive + 1, quick: upForMs < QUICK_CRASH_MS ? quick + 1 : 0 },
  };
}
