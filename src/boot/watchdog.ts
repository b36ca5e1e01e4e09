// The hardware watchdogs PID 1 keeps (a device named in /etc/tsinit.conf or by
// `tsinit.watchdog=`): each opened at boot, its timeout set and read back, petted from the
// event loop at a third of the timeout it took, and let go at the end of an orderly shutdown.
// A PID 1 whose event loop stalls stops petting, and the watchdog resets the machine. Pure over
// Sys and Clock: the decisions are here, the ioctls in src/sys/watchdog-device.ts.
import type { WatchdogRequest } from "../config/init-conf.ts";
import type { Log } from "../log/log.ts";
import type { ShutdownKind } from "../shutdown/requests.ts";
import { SysError, type Clock, type Sys, type Timer, type WatchdogDevice } from "../sys/sys.ts";

/** How often a device whose timeout cannot be read is petted. */
export const UNKNOWN_TIMEOUT_PET_MS = 1_000;

/** Pets per timeout: a pet may come up to two thirds of the timeout late and still count. */
const PETS_PER_TIMEOUT = 3;

/**
 * The requests from /etc/tsinit.conf, then those of the command line: one per device, the
 * later naming winning (so the command line's timeout overrides the file's).
 */
export function mergeWatchdogRequests(...lists: readonly (readonly WatchdogRequest[])[]): WatchdogRequest[] {
  const byDevice = new Map<string, WatchdogRequest>();
  for (const request of lists.flat()) {
    byDevice.delete(request.device);
    byDevice.set(request.device, request);
  }
  return [...byDevice.values()];
}

/** The pet interval for a timeout the driver took (seconds), or for one it would not tell. */
export function petIntervalMs(timeoutSeconds: number | undefined): number {
  return timeoutSeconds === undefined ? UNKNOWN_TIMEOUT_PET_MS : Math.max(1, Math.floor((timeoutSeconds * 1000) / PETS_PER_TIMEOUT));
}

interface Kept {
  device: WatchdogDevice;
  timeoutSeconds?: number;
  intervalMs: number;
  timer: Timer;
  /** The last keepalive failed (said once, until one succeeds again). */
  failing: boolean;
}

export interface OpenWatchdog {
  device: string;
  timeoutSeconds?: number;
  intervalMs: number;
}

export class Watchdogs {
  private readonly kept: Kept[] = [];

  private constructor(
    private readonly clock: Clock,
    private readonly log: Pick<Log, "info" | "warn" | "error">,
  ) {}

  /**
   * Opens each device, sets its timeout, pets it once and then on the clock. A device that
   * cannot be opened is reported on one line (device and errno) and left; one that does not
   * take the timeout is reported and kept with the driver's timeout (it is running now).
   */
  static open(requests: readonly WatchdogRequest[], sys: Pick<Sys, "openWatchdog">, clock: Clock, log: Pick<Log, "info" | "warn" | "error">): Watchdogs {
    const watchdogs = new Watchdogs(clock, log);
    for (const request of requests) watchdogs.add(request, sys);
    return watchdogs;
  }

  /** The devices being petted. */
  list(): OpenWatchdog[] {
    return this.kept.map(({ device, timeoutSeconds, intervalMs }) => ({ device: device.path, intervalMs, ...(timeoutSeconds !== undefined && { timeoutSeconds }) }));
  }

  /**
   * The last step before reboot(2). Poweroff and halt disarm every device with the magic close,
   * so a machine that halts is not reset. A reboot pets each once more and keeps it armed, as
   * systemd does: the kernel's restart needs no disarming, and a restart that hangs is reset.
   */
  beforeFinalReboot(kind: ShutdownKind): void {
    if (kind === "reboot") {
      for (const { device } of this.kept) {
        const error = device.keepAlive();
        if (error !== undefined) this.log.warn(`watchdog ${device.path}: ${error.message}`);
      }
      return;
    }
    for (const { device, timer } of this.kept.splice(0)) {
      timer.cancel();
      const error = device.close(true);
      if (error === undefined) this.log.info(`watchdog ${device.path}: disarmed (magic close) for the ${kind}`);
      else this.log.error(`watchdog ${device.path}: the magic close failed, it may still reset the machine: ${error.message}`);
    }
  }

  private add(request: WatchdogRequest, sys: Pick<Sys, "openWatchdog">): void {
    const { device: path, timeoutSeconds: wanted } = request;
    if (this.kept.some((k) => k.device.path === path)) return;
    const device = sys.openWatchdog(path);
    if (device instanceof SysError) {
      this.log.error(`watchdog ${path} (${request.from}): ${device.call}: ${device.reason}; not watched`);
      return;
    }
    let timeout: number | SysError;
    if (wanted === undefined) {
      timeout = device.getTimeoutSeconds();
      if (timeout instanceof SysError) this.log.warn(`watchdog ${path}: ${timeout.call}: ${timeout.reason}; its timeout is unknown, petting every ${UNKNOWN_TIMEOUT_PET_MS} ms`);
    } else {
      timeout = device.setTimeoutSeconds(wanted);
      if (timeout instanceof SysError) {
        // Open means armed: keep petting it at whatever timeout it has.
        this.log.error(`watchdog ${path} (${request.from}): ${timeout.call} ${wanted} s: ${timeout.reason}; keeping the driver's timeout`);
        timeout = device.getTimeoutSeconds();
      } else if (timeout !== wanted) this.log.warn(`watchdog ${path}: asked for ${wanted} s, the driver took ${timeout} s`);
    }
    const timeoutSeconds = timeout instanceof SysError || timeout <= 0 ? undefined : timeout;
    const intervalMs = petIntervalMs(timeoutSeconds);
    const kept: Kept = { device, intervalMs, failing: false, timer: { cancel: () => {} }, ...(timeoutSeconds !== undefined && { timeoutSeconds }) };
    this.petAndRearm(kept);
    this.kept.push(kept);
    this.log.info(`watchdog ${path}: timeout ${timeoutSeconds === undefined ? "unknown" : `${timeoutSeconds} s`}, petted every ${intervalMs} ms`);
  }

  /** A pet now and a timer for the next: a stalled event loop runs neither. */
  private petAndRearm(kept: Kept): void {
    this.pet(kept);
    kept.timer = this.clock.setTimer(kept.intervalMs, () => this.petAndRearm(kept));
  }

  private pet(kept: Kept): void {
    const error = kept.device.keepAlive();
    if (error === undefined) {
      if (kept.failing) this.log.info(`watchdog ${kept.device.path}: keepalive works again`);
      kept.failing = false;
    } else if (!kept.failing) {
      kept.failing = true;
      this.log.error(`watchdog ${kept.device.path}: ${error.call}: ${error.reason}; the machine may be reset`);
    }
  }
}
