// A clock that moves only when a test says so: `advance(ms)` fires due timers in order, each at
// its own time, so restart delays and TERM -> wait -> KILL run exactly and instantly.
import type { Clock, Timer } from "../../../src/sys/sys.ts";

interface Pending {
  due: number;
  seq: number;
  fire: () => void;
  every?: number;
}

export class FakeClock implements Clock {
  time = 0;
  private seq = 0;
  private readonly pending = new Set<Pending>();

  now(): number {
    return this.time;
  }

  /** The kernel started 2 s before the fake clock's zero. */
  sinceBoot(): number {
    return 2_000 + this.time;
  }

  wallTime(): number {
    return Date.UTC(2030, 0, 1) + this.time;
  }

  setTimer(ms: number, fire: () => void): Timer {
    return this.add({ due: this.time + ms, seq: this.seq++, fire });
  }

  setInterval(ms: number, fire: () => void): Timer {
    return this.add({ due: this.time + ms, seq: this.seq++, fire, every: Math.max(1, ms) });
  }

  /** Timers and intervals armed and not yet fired or cancelled. */
  get armed(): number {
    return [...this.pending].filter((p) => p.every === undefined).length;
  }

  /**
   * Moves the clock by `ms`, firing every timer that falls due on the way, in order. Time never
   * goes back: a test may have moved `time` on by hand (what a spawn costs), past a timer.
   */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      let next: Pending | undefined;
      for (const p of this.pending) if (p.due <= target && (next === undefined || p.due < next.due || (p.due === next.due && p.seq < next.seq))) next = p;
      if (next === undefined) break;
      this.time = Math.max(this.time, next.due);
      if (next.every === undefined) this.pending.delete(next);
      else next.due += next.every;
      next.fire();
    }
    this.time = Math.max(this.time, target);
  }

  private add(entry: Pending): Timer {
    this.pending.add(entry);
    return { cancel: () => void this.pending.delete(entry) };
  }
}
