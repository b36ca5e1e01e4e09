// The reading half of the uevent listener (uevent-socket.ts): a Worker blocked in recv() on the
// kernel's NETLINK_KOBJECT_UEVENT socket, because Bun cannot watch a netlink socket. It posts
// each event's NUL-separated fields to the main thread. The main thread owns the descriptor.
//
// In a compiled executable this file must be an entry point of `bun build --compile`.
import { errno, libc, ptr } from "./libc.ts";

export interface UeventWorkerStart {
  fd: number;
  /** Int32 slot 0: 0 = run, 1 = stop. */
  stop: SharedArrayBuffer;
}

export type UeventWorkerReport = { kind: "event"; fields: string[] } | { kind: "lost" } | { kind: "failed"; message: string };

/** The kernel sends at most a few KiB per event (UEVENT_BUFFER_SIZE is 2 KiB of fields). */
const BUFFER_SIZE = 16384;
const EINTR = 4;
const EAGAIN = 11;
const ENOBUFS = 105;

function receiveLoop(fd: number, stop: Int32Array, post: (report: UeventWorkerReport) => void): void {
  const buffer = new Uint8Array(BUFFER_SIZE);
  const decoder = new TextDecoder();
  while (Atomics.load(stop, 0) === 0) {
    const received = Number(libc.recv(fd, ptr(buffer), BUFFER_SIZE, 0));
    if (received < 0) {
      const code = errno();
      // EAGAIN: the receive timeout, there to look at the stop flag now and then.
      if (code === EINTR || code === EAGAIN) continue;
      // The kernel dropped events while this thread was slow: the caller must look again.
      if (code === ENOBUFS) {
        post({ kind: "lost" });
        continue;
      }
      post({ kind: "failed", message: `recv on the uevent socket failed: errno ${code}` });
      return;
    }
    if (received === 0) continue;
    const fields = decoder.decode(buffer.subarray(0, received)).split("\0").filter((field) => field !== "");
    post({ kind: "event", fields });
  }
}

declare const self: Worker;

self.onmessage = (event: MessageEvent<UeventWorkerStart>) => {
  const post = (report: UeventWorkerReport) => self.postMessage(report);
  try {
    receiveLoop(event.data.fd, new Int32Array(event.data.stop), post);
  } catch (error) {
    post({ kind: "failed", message: `uevent worker: ${error instanceof Error ? error.message : String(error)}` });
  }
};
