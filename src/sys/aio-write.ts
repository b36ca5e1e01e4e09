// One write made by another thread, for a device whose write(2) can take long and which ignores
// O_NONBLOCK: /dev/kmsg, whose write returns only once the kernel has printed the record on
// every console. glibc's POSIX AIO (aio_write(3)) hands the write to a helper thread of its own,
// which blocks every signal and falls back to write(2) where pwrite(2) cannot seek. Its end is
// seen without a completion signal: on the next turn of the event loop tsinit waits for it at
// most SUSPEND_US in aio_suspend(3) (which also lets the AIO thread run on a machine with one
// CPU, where a write the consoles do not echo ends within microseconds), then asks aio_error(3)
// on a timer that backs off from 1 ms (a record the kernel prints on a slow serial console). node:fs's asynchronous write does the same on Bun's thread pool, but
// loading node:fs costs PID 1 1.3 MiB of Rss and the image 0.6 MB (docs/bench.md).
import { ptr } from "bun:ffi";
import { errno, libc } from "./libc.ts";
import type { WriteResult } from "./record-queue.ts";

// struct aiocb of glibc on LP64 (x86_64 and aarch64 alike): 168 bytes.
const AIOCB_SIZE = 168;
const AIO_FILDES = 0;
const AIO_BUF = 16;
const AIO_NBYTES = 24;
const AIO_SIGEV_NOTIFY = 44;
const SIGEV_NONE = 1;

const EINTR = 4;
const EAGAIN = 11;
const EINPROGRESS = 115;
const POLL_FIRST_MS = 1;
const POLL_LAST_MS = 50;
/** The longest the event loop waits for a write to end, once per write. */
const SUSPEND_US = 200;

const resultOf = (code: number): WriteResult => (code === EAGAIN || code === EINTR ? "again" : "failed");

/**
 * Starts writing `bytes` to `fd` on glibc's AIO thread; `done` is called once, later, from the
 * event loop. For a device, a pipe or a file opened to append: elsewhere glibc writes at offset 0.
 */
export function writeOffThread(fd: number, bytes: Uint8Array, done: (result: WriteResult) => void): void {
  if (bytes.length === 0) return void setTimeout(() => done(0), 0);
  // Both stay referenced (by `check`) until the write has ended: the other thread reads them.
  const data = new Uint8Array(bytes);
  const control = new Uint8Array(AIOCB_SIZE);
  const fields = new DataView(control.buffer);
  fields.setInt32(AIO_FILDES, fd, true);
  fields.setBigUint64(AIO_BUF, BigInt(ptr(data)), true);
  fields.setBigUint64(AIO_NBYTES, BigInt(data.length), true);
  fields.setInt32(AIO_SIGEV_NOTIFY, SIGEV_NONE, true);
  if (libc.aio_write(control) !== 0) {
    const code = errno();
    return void setTimeout(() => done(resultOf(code)), 0);
  }
  let delay = POLL_FIRST_MS;
  const check = () => {
    let result: WriteResult;
    try {
      const state = libc.aio_error(control);
      if (state === EINPROGRESS) {
        setTimeout(check, delay);
        delay = Math.min(delay * 2, POLL_LAST_MS);
        return;
      }
      const code = state === -1 ? errno() : state;
      const written = Number(libc.aio_return(control));
      result = state === 0 && written >= 0 ? written : resultOf(code);
    } catch {
      result = "failed";
    }
    void data;
    done(result);
  };
  setImmediate(() => {
    // aio_suspend's list: one pointer to the control block; and the bound as a timespec.
    const list = new BigUint64Array([BigInt(ptr(control))]);
    const bound = new BigInt64Array([0n, BigInt(SUSPEND_US * 1000)]);
    libc.aio_suspend(list, 1, bound);
    check();
  });
}
