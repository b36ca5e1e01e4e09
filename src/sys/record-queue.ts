// Records on their way to a device whose write can take long, such as /dev/kmsg: the kernel
// prints what is written there to every console in the writer's own time, so a slow serial
// line holds the write for as long as the line needs. Each record is one write, made off the
// event loop (the caller's `write` completes later), one at a time so order is kept. What
// waits is bounded; a record past the bound is dropped and counted, and once the device has
// caught up a note says how many were lost.

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

  constructor(
    private readonly write: StartWrite,
    private readonly retryLater: (ms: number, retry: () => void) => void,
    /** The record that says how many were dropped. */
    private readonly droppedNote: (count: number) => string,
    /** Called once when a write failed for good; the queue then takes nothing more. */
    private readonly onFailed: () => void = () => {},
    private readonly limit = RECORD_QUEUE_LIMIT,
  ) {}

  /** Queues `record` (one write of its UTF-8 bytes); false when it was dropped or the device failed. */
  push(record: string): boolean {
    if (this.closed) return false;
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
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.emptyWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
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
      this.queue.push(Buffer.from(this.droppedNote(this.dropped), "utf8"));
      this.dropped = 0;
    }
    this.writing = true;
    let called = false;
    this.write(this.queue[0]!, (result) => {
      if (called) return;
      called = true;
      this.writing = false;
      if (result === "failed") {
        // A device that cannot be written to must not keep memory, nor be tried forever.
        this.closed = true;
        this.queue.length = 0;
        this.dropped = 0;
        this.onFailed();
        this.wakeIfIdle();
        return;
      }
      if (result === "again") {
        this.writing = true;
        this.retryLater(RECORD_RETRY_MS, () => {
          this.writing = false;
          this.pump();
        });
        return;
      }
      // A record is one write: a short count still ends it (the kernel takes a record whole).
      this.queue.shift();
      this.pump();
    });
  }
}
