// The core's timers (restart, start-timeout, stop-timeout, chain), one per service and kind, on the
// injected clock. Arming one again replaces it.
import type { TimerKind } from "../core/events.ts";
import type { Clock, Timer } from "../sys/sys.ts";

/** setTimeout fires at once past 2^31-1 ms; the parser refuses such settings and a doubled restart delay is capped here. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

export class ServiceTimers {
  private readonly timers = new Map<string, Timer>();

  constructor(
    private readonly clock: Clock,
    private readonly fired: (service: string, timer: TimerKind) => void,
  ) {}

  arm(service: string, timer: TimerKind, ms: number): void {
    const key = `${service}/${timer}`;
    this.timers.get(key)?.cancel();
    this.timers.set(
      key,
      this.clock.setTimer(Math.min(ms, LONGEST_TIMER_MS), () => {
        this.timers.delete(key);
        this.fired(service, timer);
      }),
    );
  }

  cancel(service: string, timer: TimerKind): void {
    const key = `${service}/${timer}`;
    this.timers.get(key)?.cancel();
    this.timers.delete(key);
  }
}
