// The kernel's device events (uevents) on a netlink socket, as mdev and udev receive them: what
// appears (a disk, a partition, a PCI device with the modalias of the driver it needs). The
// reading is done by a Worker (uevent-worker.ts) blocked in recv(); events are handed, parsed,
// to a callback on the main thread.
import { errnoName } from "../base/errno.ts";
import { embeddedWorker } from "./embedded-worker.ts";
import { errno, libc } from "./libc.ts";
import { SysError, type Uevent, type UeventListener } from "./sys.ts";
import type { UeventWorkerReport, UeventWorkerStart } from "./uevent-worker.ts";

const AF_NETLINK = 16;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_KOBJECT_UEVENT = 15;
/** Group 1 is the kernel's own events (group 2 is udev's re-broadcast). */
const KERNEL_GROUP = 1;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const SO_RCVBUFFORCE = 33;
/** Room for a burst of events while modules load (udev asks for 128 MiB; 4 MiB is plenty here). */
const RECEIVE_BUFFER = 4 << 20;

/**
 * The fields of one event as an object: the header `ACTION@DEVPATH` is dropped (ACTION and
 * DEVPATH come as fields too). No prototype, so any key is just a key.
 */
export function parseUevent(fields: readonly string[]): Uevent {
  const event: Record<string, string> = Object.create(null);
  for (const field of fields) {
    const equals = field.indexOf("=");
    if (equals > 0) event[field.slice(0, equals)] = field.slice(equals + 1);
  }
  return event;
}

function sysError(call: string, code = errno()): SysError {
  return new SysError(call, code, errnoName(code), "uevent socket");
}

export function listenUevents(onEvent: (event: Uevent) => void, onError: (error: Error) => void, onLost: () => void): UeventListener {
  const fd = libc.socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
  if (fd === -1) throw sysError("socket");
  // struct sockaddr_nl: family (2), pad (2), pid (4, 0: the kernel picks), groups (4).
  const address = new Uint8Array(12);
  const view = new DataView(address.buffer);
  view.setUint16(0, AF_NETLINK, true);
  view.setUint32(8, KERNEL_GROUP, true);
  if (libc.bind(fd, address, address.length) === -1) {
    const error = sysError("bind");
    libc.close(fd);
    throw error;
  }
  const size = new Int32Array([RECEIVE_BUFFER]);
  libc.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, size, 4);
  // A blocked recv() cannot be woken by close(): it times out each second to see the stop flag.
  const timeout = new BigInt64Array([1n, 0n]);
  libc.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, 16);

  const stop = new SharedArrayBuffer(4);
  let closed = false;
  let worker: Worker;
  try {
    worker = new Worker(embeddedWorker("uevent-worker"));
  } catch (error) {
    libc.close(fd);
    throw error;
  }
  worker.onmessage = (message: MessageEvent<UeventWorkerReport>) => {
    if (closed) return;
    const data = message.data;
    try {
      if (data.kind === "event") onEvent(parseUevent(data.fields));
      else if (data.kind === "lost") onLost();
      else onError(new Error(`uevent listener stopped: ${data.message}`));
    } catch (error) {
      onError(error instanceof Error ? error : new Error(String(error)));
    }
  };
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    if (!closed) onError(new Error(`uevent listener stopped: ${event.message}`));
  };
  // The descriptor is closed once the worker is gone, so its number is not reused under it.
  worker.addEventListener("close", () => libc.close(fd));
  worker.unref();
  worker.postMessage({ fd, stop } satisfies UeventWorkerStart);
  return {
    close() {
      if (closed) return;
      closed = true;
      Atomics.store(new Int32Array(stop), 0, 1);
      worker.terminate();
    },
  };
}
