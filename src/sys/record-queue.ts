// Records on their way to a device whose write can take long, such as /dev/kmsg: the kernel
// prints what is written there to every console in the writer's own time, so a slow serial
// line holds the write for as long as the line needs. Each record is one write, made off the
// event loop (the caller's `write` completes later), one at a time so order is kept. What
// waits is bounded; a record past the bound is dropped and counted, and a note says how many
// were lost: once the device has caught up, or, under a load that never lets it, once a whole
// queue's worth has been written since the first record lost.

/** How one write ended: bytes taken, "again" to try the same record later, "failed" for good. */
export type WriteResult = number | "again" | "failed";

/** Starts writing `bytes` and calls `done` once, later, with how it went. */
export type StartWrite = (bytes: Uint8Array, done: (result: WriteResult) => void) => void;

/** At most this many records wait for the device. */
export const RECORD_QUEUE_LIMIT = 256;
/** How often a device that said "not now" is tried again. */
export const RECORD_RETRY_MS = 100;

export class RecordQueue {
  private readonly queue: Uint8Array[] = [];
  private writing = false;
  private dropped = 0;
  private closed = false;
  private emptyWaiters: (() => void)[] = [];
  /** Records written since the last note (or since the start). */
  private writtenSinceNote = 0;

  constructor(
    private readonly write: StartWrite,
    private readonly retryLater: (ms: number, retry: () => void) => void,
    /** The record that says how many were dropped. */
    private readonly droppedNote: (count: number) => string,
    /**
     * Called once when a write failed for good, with how many records were lost with it (those
     * waiting, the one being written, and those dropped and not yet said); the queue then takes
     * nothing more.
     */
    private readonly onFailed: (discarded: number) => void = () => {},
    private readonly limit = RECORD_QUEUE_LIMIT,
  ) {}

  /** Queues `record` (one write of its UTF-8 bytes); false when it was dropped or the device failed. */
  push(record: string): boolean {
    if (this.closed) return false;
    // Under a load that never lets the queue empty, the count is said once a whole queue's
    // worth went out since the last note, taking the first free place.
    if (this.dropped > 0 && this.writtenSinceNote >= this.limit && this.queue.length < this.limit) this.queueNote();
    if (this.queue.length >= this.limit) {
      this.dropped += 1;
      return false;
    }
    this.queue.push(Buffer.from(record, "utf8"));
    this.pump();
    return true;
  }

  /** Resolves true once nothing waits (the device took or failed everything), false after `timeoutMs`. */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.idle()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        // A waiter that gave up is not kept (nor called) once the queue empties.
        this.emptyWaiters = this.emptyWaiters.filter((other) => other !== waiter);
        resolve(false);
      }, timeoutMs);
      this.emptyWaiters.push(waiter);
    });
  }

  /** Waiters of drained() still waiting. */
  get waiting(): number {
    return this.emptyWaiters.length;
  }

  private queueNote(): void {
    this.queue.push(Buffer.from(this.droppedNote(this.dropped), "utf8"));
    this.dropped = 0;
    this.writtenSinceNote = 0;
  }

  private idle(): boolean {
    return this.closed || (this.queue.length === 0 && this.dropped === 0 && !this.writing);
  }

  private wakeIfIdle(): void {
    if (this.idle()) for (const waiter of this.emptyWaiters.splice(0)) waiter();
  }

  /** Records waiting (the one being written included), and records dropped since the queue last emptied. */
  get backlog(): { records: number; dropped: number } {
    return { records: this.queue.length, dropped: this.dropped };
  }

  private pump(): void {
    if (this.writing || this.closed) return;
    if (this.queue.length === 0) {
      if (this.dropped === 0) return this.wakeIfIdle();
      // Said once the device has caught up, in order with what it did get.
      this.queueNote();
    }
    this.writing = true;
    let called = false;
    const done = (result: WriteResult) => {
      if (called) return;
      called = true;
      this.writing = false;
      if (result === "failed") return this.fail();
      if (result === "again") {
        this.writing = true;
        try {
          this.retryLater(RECORD_RETRY_MS, () => {
            this.writing = false;
            this.pump();
          });
        } catch {
          // No way to try again later: a queue that waits for a retry that never comes is stuck.
          this.writing = false;
          this.fail();
        }
        return;
      }
      // A record is one write: a short count still ends it (the kernel takes a record whole).
      this.queue.shift();
      this.writtenSinceNote += 1;
      this.pump();
    };
    try {
      this.write(this.queue[0]!, done);
    } catch {
      // A write that throws instead of calling back would leave `writing` set for good.
      done("failed");
    }
  }

  /** A device that cannot be written to must not keep memory, nor be tried forever. */
  private fail(): void {
    if (this.closed) return;
    const discarded = this.queue.length + this.dropped;
    this.closed = true;
    this.queue.length = 0;
    this.dropped = 0;
    try {
      this.onFailed(discarded);
    } catch {
      // The caller's handler failed; the queue is closed either way.
    }
    this.wakeIfIdle();
  }
}
