// Where init's messages physically go: the console (our stdout, which the kernel opened on
// /dev/console for PID 1; stderr in the other modes) and /dev/kmsg. Writing never throws and
// never blocks the event loop: a console that does not take a line now (a reader of our
// stderr that stopped reading, a slow serial line) gets it later from a bounded queue, and
// what does not fit is dropped, counted and reported once the console takes lines again.
// /dev/kmsg's records are written off the event loop (record-queue.ts), bounded the same way.
// A blocked PID 1 would reap nothing and answer nobody.
import type { LogSink } from "../base/logging.ts";
import { RecordQueue, type StartWrite, type WriteResult } from "./record-queue.ts";
import { SysError, type LineWriter } from "./sys.ts";

/**
 * The kernel rate-limits writes to /dev/kmsg per open file (10 records in 5 s); PID 1's status
 * lines are no flood to damp, and the console depends on the kernel echoing them, so a fresh
 * descriptor is opened before the limit would drop one.
 */
const KMSG_BURST = 10;
const KMSG_INTERVAL_MS = 5_000;

/** At most this many bytes wait for the console; lines beyond are dropped and counted. */
export const CONSOLE_QUEUE_BYTES = 64 * 1024;
/** How often a console that said "not now" is tried again. */
export const CONSOLE_RETRY_MS = 100;

/** One non-blocking write: bytes taken, "again" when none could be now, "failed" for good. */
export type TryWrite = (bytes: Uint8Array) => number | "again" | "failed";

/**
 * Lines on their way to a console that may not take them now. Every line goes through here;
 * while the queue is empty a line is written at once, so order is kept.
 */
export class ConsoleQueue {
  private readonly queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private dropped = 0;
  private retryArmed = false;
  private emptyWaiters: (() => void)[] = [];

  constructor(
    private readonly tryWrite: TryWrite,
    private readonly retryLater: (ms: number, retry: () => void) => void,
    private readonly limit = CONSOLE_QUEUE_BYTES,
    /** The line that says how many were dropped, once the device caught up. */
    private readonly droppedNote = (count: number) => `tsinit: ${count} log line${count === 1 ? "" : "s"} dropped: the console did not take them`,
  ) {}

  /** `mustKeep`: queued even past the limit (a report's last line). */
  push(line: string, mustKeep = false): void {
    if (mustKeep && this.dropped > 0) {
      // What was dropped is said before the last line, which stays the last.
      const note = Buffer.from(`${this.droppedNote(this.dropped)}\n`, "utf8");
      this.dropped = 0;
      this.queue.push(note);
      this.queuedBytes += note.length;
    }
    const bytes = Buffer.from(`${line}\n`, "utf8");
    if (this.queuedBytes + bytes.length > this.limit && !mustKeep) this.dropped += 1;
    else {
      this.queue.push(bytes);
      this.queuedBytes += bytes.length;
    }
    this.flush();
  }

  /** Called once, the next time nothing is waiting (at once if nothing is). */
  whenEmpty(callback: () => void): void {
    if (this.queue.length === 0) callback();
    else this.emptyWaiters.push(callback);
  }

  /** Resolves true once nothing is waiting, false after `timeoutMs` (before a reboot). */
  drained(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.whenEmpty(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /**
   * Tries the console again and again, sleeping between tries, until nothing waits or
   * `timeoutMs` passed. It blocks the thread: only for a process about to exit, whose last
   * lines (the command's end, why supervision stopped) would otherwise be lost.
   */
  flushBeforeExit(timeoutMs: number, now: () => number = () => performance.now()): boolean {
    const deadline = now() + timeoutMs;
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (;;) {
      this.flush();
      if (this.queue.length === 0) return true;
      if (now() >= deadline) return false;
      Atomics.wait(pause, 0, 0, Math.min(CONSOLE_RETRY_MS / 10, Math.max(1, deadline - now())));
    }
  }

  /** Lines waiting, and lines dropped since the console last took everything. */
  get backlog(): { lines: number; dropped: number } {
    return { lines: this.queue.length, dropped: this.dropped };
  }

  private flush(): void {
    for (;;) {
      if (this.queue.length === 0) {
        if (this.dropped === 0) {
          for (const waiter of this.emptyWaiters.splice(0)) waiter();
          return;
        }
        // Said once the console has caught up, in order with what it did get.
        const note = Buffer.from(`${this.droppedNote(this.dropped)}\n`, "utf8");
        this.dropped = 0;
        this.queue.push(note);
        this.queuedBytes += note.length;
      }
      const head = this.queue[0]!;
      const written = this.tryWrite(head);
      // No progress is as good as "again": never loop on a write that takes nothing.
      if (written === "again" || written === 0) return this.retry();
      if (written === "failed") {
        // A console that cannot be written to must not take init down, nor keep memory.
        this.queue.length = 0;
        this.queuedBytes = 0;
        this.dropped = 0;
        for (const waiter of this.emptyWaiters.splice(0)) waiter();
        return;
      }
      this.queuedBytes -= written;
      if (written >= head.length) this.queue.shift();
      else this.queue[0] = head.subarray(written);
    }
  }

  private retry(): void {
    if (this.retryArmed) return;
    this.retryArmed = true;
    this.retryLater(CONSOLE_RETRY_MS, () => {
      this.retryArmed = false;
      this.flush();
    });
  }
}

/**
 * The file calls the sink makes, given by its maker: file-calls.ts's (libc) in tsinit, node:fs's
 * in the unit tests, which run under Node, where bun:ffi is not. Each throws on failure an
 * error whose `code` is the errno's name.
 */
export interface SinkFiles {
  openSync(path: string, flags: number): number;
  /** One write; the bytes taken. */
  writeSync(fd: number, data: Uint8Array | string): number;
  closeSync(fd: number): void;
  fstatSync(fd: number): { isSocket(): boolean };
  /** One write made off the event loop (tsinit: glibc's AIO thread, aio-write.ts); `done` once, later. */
  writeLater(fd: number, bytes: Uint8Array, done: (result: WriteResult) => void): void;
}

export interface ConsoleSinkOptions {
  kmsg: boolean;
  files: SinkFiles;
  fd?: number;
  /**
   * A non-blocking send on a socket console (stderr to the journal, say), which cannot be
   * reopened through /proc: send(MSG_DONTWAIT) keeps the shared socket itself blocking.
   */
  sendNonBlocking?: (fd: number, bytes: Uint8Array) => number | "again" | "failed";
  /** Timers for the retry (the event loop's by default). */
  retryLater?: (ms: number, retry: () => void) => void;
  /** Where kernel log records go (/dev/kmsg; a test gives a FIFO). */
  kmsgPath?: string;
  /** How many kernel log records may wait (RECORD_QUEUE_LIMIT). */
  kmsgQueueLimit?: number;
}

// open(2) flags, the same on x86_64 and arm64.
const O_WRONLY = 1;
const O_NOCTTY = 0o400;
const O_APPEND = 0o2000;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

/**
 * A way to write `fd` without blocking and without changing what children and the parent
 * share: a fresh open file description of the same file (a tty, a pipe, a regular file in
 * append mode) through /proc/self/fd, made non-blocking; for a socket, send(MSG_DONTWAIT).
 * Opened on first use (PID 1 mounts /proc first); if neither works, blocking writes.
 */
function consoleWriter(files: SinkFiles, fd: number, sendNonBlocking: ConsoleSinkOptions["sendNonBlocking"]): TryWrite {
  let writer: TryWrite | undefined;
  const open = (): TryWrite => {
    try {
      if (files.fstatSync(fd).isSocket() && sendNonBlocking !== undefined) return (bytes) => sendNonBlocking(fd, bytes);
    } catch {}
    try {
      const own = files.openSync(`/proc/self/fd/${fd}`, O_WRONLY | O_APPEND | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
      return (bytes) => writeOnce(files, own, bytes);
    } catch {
      return (bytes) => writeOnce(files, fd, bytes);
    }
  };
  return (bytes) => (writer ??= open())(bytes);
}

function writeOnce(files: SinkFiles, fd: number, bytes: Uint8Array): number | "again" | "failed" {
  try {
    return files.writeSync(fd, bytes);
  } catch (error) {
    const code = (error as { code?: string }).code;
    return code === "EAGAIN" || code === "EWOULDBLOCK" || code === "EINTR" ? "again" : "failed";
  }
}

/**
 * Lines to a device such as a second serial port (the boot report on ttyS1), never blocking:
 * what the device does not take at once waits in a bounded queue, as console lines do.
 */
export function deviceLineWriter(path: string, files: SinkFiles, retryLater: (ms: number, retry: () => void) => void = (ms, retry) => void setTimeout(retry, ms)): LineWriter | SysError {
  let fd: number;
  try {
    fd = files.openSync(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  } catch (error) {
    // Not call-errors.ts's fsError: that module loads libc, which vitest (Node) cannot.
    const { code = "EIO", errno = -5 } = error as { code?: string; errno?: number };
    return new SysError("open", Math.abs(errno), code, path);
  }
  const queue = new ConsoleQueue((bytes) => writeOnce(files, fd, bytes), retryLater, REPORT_QUEUE_BYTES, (count) => JSON.stringify({ kind: "lost", count }));
  return {
    push: (line, mustKeep) => queue.push(line, mustKeep),
    drained: (timeoutMs) => queue.drained(timeoutMs),
  };
}

/** A report is worth more room than console lines: a boot's events, a few hundred kB at most. */
const REPORT_QUEUE_BYTES = 1 << 20;

/** `openKmsg()` once /dev is mounted; until then messages go to the console only. */
export function consoleSink(options: ConsoleSinkOptions): LogSink & {
  openKmsg(): void;
  flushBeforeExit(timeoutMs: number): boolean;
  useSyslog(send: ((record: string) => boolean) | undefined): void;
  /** Kernel log records waiting and dropped; undefined before /dev/kmsg is open. */
  kmsgBacklog(): { records: number; dropped: number } | undefined;
} {
  let syslogSend: ((record: string) => boolean) | undefined;
  const consoleFd = options.fd ?? 1;
  const { files } = options;
  const queue = new ConsoleQueue(consoleWriter(files, consoleFd, options.sendNonBlocking), options.retryLater ?? ((ms, retry) => void setTimeout(retry, ms)));
  let kmsgFd: number | undefined;
  let windowStart = 0;
  let writtenInWindow = 0;
  const close = () => {
    try {
      if (kmsgFd !== undefined) files.closeSync(kmsgFd);
    } catch {}
    kmsgFd = undefined;
  };
  const openFd = () => {
    try {
      // Never O_CREAT: before devtmpfs is mounted that would make a plain file in the rootfs.
      // No O_NONBLOCK: /dev/kmsg ignores it (a write returns once the consoles printed the
      // record), and the write is made off the event loop anyway.
      kmsgFd = files.openSync(options.kmsgPath ?? "/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
      windowStart = performance.now();
      writtenInWindow = 0;
    } catch {
      kmsgFd = undefined;
    }
  };
  const openKmsg = () => {
    if (!options.kmsg || kmsgFd !== undefined) return;
    openFd();
    if (kmsgFd !== undefined) kmsgQueue = newKmsgQueue();
  };
  // One record a write, made by another thread (files.writeLater): the kernel echoes a record
  // to the consoles within the write, so on a slow serial console a write takes as long as the
  // line needs, and PID 1's event loop must not wait for it.
  const startWrite: StartWrite = (bytes, done) => {
    if (performance.now() - windowStart >= KMSG_INTERVAL_MS) {
      windowStart = performance.now();
      writtenInWindow = 0;
    } else if (writtenInWindow >= KMSG_BURST) {
      // No write is in flight here: the queue starts one at a time.
      close();
      openFd();
    }
    const fd = kmsgFd;
    if (fd === undefined) return done("failed");
    writtenInWindow += 1;
    files.writeLater(fd, bytes, done);
  };
  const newKmsgQueue = () =>
    new RecordQueue(
      startWrite,
      options.retryLater ?? ((ms, retry) => void setTimeout(retry, ms)),
      (count) => `<4>tsinit: ${count} log record${count === 1 ? "" : "s"} dropped: /dev/kmsg did not take them in time\n`,
      (discarded) => {
        close();
        queue.push(`tsinit: /dev/kmsg failed; ${discarded} log record${discarded === 1 ? "" : "s"} waiting for it lost; log records go to the console only`);
      },
      options.kmsgQueueLimit,
    );
  let kmsgQueue: RecordQueue | undefined;
  return {
    openKmsg,
    useSyslog(send) {
      syslogSend = send;
    },
    syslog: (record) => syslogSend?.(record) ?? false,
    console(line) {
      queue.push(line);
    },
    // Before a reboot: the console's lines, and kmsg's records (those the kernel echoes to the
    // console are printed by no one else).
    drained: async (timeoutMs) => (await Promise.all([queue.drained(timeoutMs), kmsgQueue?.drained(timeoutMs) ?? true])).every(Boolean),
    flushBeforeExit: (timeoutMs) => queue.flushBeforeExit(timeoutMs),
    kmsg(record) {
      if (kmsgFd === undefined || kmsgQueue === undefined) return false;
      // The newline ends the record; without it the kernel holds the last one back.
      return kmsgQueue.push(`${record.slice(0, 1000)}\n`);
    },
    kmsgBacklog: () => kmsgQueue?.backlog,
  };
}
