// systemd's readiness protocol (sd_notify(3), `systemd-notify --ready`): services send
// "KEY=value\n..." datagrams to the unix socket named by $NOTIFY_SOCKET. This module makes and
// binds that socket with SO_PASSCRED, so every datagram arrives with its sender's pid, uid and
// gid, and hands each one, parsed, to a callback. The sender's pid is how the supervisor maps a
// message to a service.
//
// Bun has no datagram sockets, so the reading is done by a Worker (notify-worker.ts) blocked in
// recvmsg() through bun:ffi. This runs inside PID 1: nothing here may throw once the listener is
// up; problems go to `onError` and the listener keeps going unless the message says it stopped.
// Descriptors that senders attach (FDSTORE=1, systemd-notify's BARRIER=1) are discarded by the
// kernel; the BARRIER=1 message itself is delivered like any other, for the caller to ignore.
import { embeddedWorker } from "./embedded-worker.ts";
import { cstr, errno, libc } from "./libc.ts";
import { errnoName } from "../base/errno.ts";
import { SysError, type NotifyListener as Listener, type NotifyMessage } from "./sys.ts";

export type { NotifyMessage };

export interface NotifyListener extends Listener {
  readonly path: string;
}
import type { NotifyWorkerReport, NotifyWorkerStart } from "./notify-worker.ts";

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_PASSCRED = 16;
const SHUT_RDWR = 2;
const MSG_NOSIGNAL = 0x4000;
const ENOENT = 2;
const EINVAL = 22;
const ENAMETOOLONG = 36;
// struct sockaddr_un: sa_family_t (2 bytes), then sun_path[108].
const SUN_PATH_OFFSET = 2;
const SUN_PATH_SIZE = 108;

/**
 * Parses one notification. Lines without "=" or with an empty key are ignored; when a key
 * repeats, the first value wins, as in systemd. The result has no prototype, so a key such as
 * "__proto__" is just a key.
 */
export function parseNotifyPayload(text: string): Record<string, string> {
  const fields: Record<string, string> = Object.create(null);
  for (const line of text.split("\n")) {
    const equals = line.indexOf("=");
    if (equals <= 0) continue;
    const key = line.slice(0, equals);
    if (!(key in fields)) fields[key] = line.slice(equals + 1);
  }
  return fields;
}

function sysError(call: string, path: string, code = errno()): SysError {
  return new SysError(call, code, errnoName(code), path);
}

/**
 * The sockaddr_un for `path`. A leading "@" names an abstract socket (sun_path[0] = NUL), as
 * sd_notify(3) allows: no file, so nothing to unlink or chmod, and the name's length is part of
 * the address.
 */
export function socketAddress(path: string): { address: Uint8Array; length: number; abstract: boolean } {
  const abstract = path.startsWith("@");
  const name = Buffer.from(abstract ? path.slice(1) : path, "utf8");
  // A filesystem path needs its terminating NUL inside sun_path; an abstract name does not.
  if (name.length === 0 && !abstract) throw new SysError("bind", EINVAL, errnoName(EINVAL), path);
  if (name.length + 1 > SUN_PATH_SIZE) throw new SysError("bind", ENAMETOOLONG, errnoName(ENAMETOOLONG), path);
  const address = new Uint8Array(SUN_PATH_OFFSET + SUN_PATH_SIZE);
  new DataView(address.buffer).setUint16(0, AF_UNIX, true);
  address.set(name, SUN_PATH_OFFSET + (abstract ? 1 : 0));
  const length = abstract ? SUN_PATH_OFFSET + 1 + name.length : SUN_PATH_OFFSET + name.length + 1;
  return { address, length, abstract };
}

/** socket(), SO_PASSCRED, bind() and chmod 0777; the descriptor, or a thrown SysError. */
function bindSocket(path: string): { fd: number; abstract: boolean } {
  const { address, length, abstract } = socketAddress(path);
  const fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd === -1) throw sysError("socket", path);
  try {
    const on = new Int32Array([1]);
    if (libc.setsockopt(fd, SOL_SOCKET, SO_PASSCRED, on, 4) === -1) throw sysError("setsockopt(SO_PASSCRED)", path);
    if (!abstract) {
      // A socket file left by an earlier run would make bind fail with EADDRINUSE.
      if (libc.unlink(cstr(path)) === -1 && errno() !== ENOENT) throw sysError("unlink", path);
    }
    if (libc.bind(fd, address, length) === -1) throw sysError("bind", path);
    // Services running as other users must be able to send; bind's mode obeys the umask.
    if (!abstract && libc.chmod(cstr(path), 0o777) === -1) {
      const error = sysError("chmod", path);
      libc.unlink(cstr(path));
      throw error;
    }
    return { fd, abstract };
  } catch (error) {
    libc.close(fd);
    throw error;
  }
}

/**
 * Listens on `path` for sd_notify datagrams until close(). Throws a SysError when the socket
 * cannot be made or bound (and an Error when, in a compiled executable, the worker was not
 * embedded); after that, never throws: a datagram that is too big (> 4 KiB), not
 * UTF-8, or has a NUL byte is dropped and reported to `onError`, and so is the worker stopping
 * on its own (that error's message says the listener stopped).
 */
export function listenForNotifications(
  path: string,
  onMessage: (message: NotifyMessage) => void,
  onError: (error: Error) => void = () => {},
): NotifyListener {
  const { fd, abstract } = bindSocket(path);
  const stop = new SharedArrayBuffer(4);
  let closed = false;
  // The worker has stopped or failed and that was reported: say it once.
  let stopped = false;
  let fdClosed = false;

  const report = (error: Error) => {
    try {
      onError(error);
    } catch {
      // The caller's handler failed; there is no one left to tell.
    }
  };
  const closeFd = () => {
    if (fdClosed) return;
    fdClosed = true;
    libc.close(fd);
  };

  let worker: Worker;
  try {
    worker = new Worker(embeddedWorker("notify-worker"));
  } catch (error) {
    libc.close(fd);
    if (!abstract) libc.unlink(cstr(path));
    throw error;
  }

  worker.onmessage = (event: MessageEvent<NotifyWorkerReport>) => {
    if (closed) return;
    const data = event.data;
    try {
      switch (data.kind) {
        case "datagram":
          onMessage({ pid: data.pid, uid: data.uid, session: data.session, fields: parseNotifyPayload(data.text) });
          return;
        case "dropped":
          report(new Error(`notify socket ${path}: dropped a datagram from pid ${data.pid}: ${data.reason}`));
          return;
        case "failed":
          stopped = true;
          report(new Error(`notify socket ${path}: listener stopped: ${data.message}`));
          worker.terminate();
          return;
      }
    } catch (error) {
      report(error instanceof Error ? error : new Error(String(error)));
    }
  };
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    if (closed || stopped) return;
    stopped = true;
    report(new Error(`notify socket ${path}: listener stopped: worker error: ${event.message}`));
  };
  // The descriptor is closed only once the worker thread is gone, so its number cannot be
  // reused by another open() while the worker may still call recvmsg on it.
  worker.addEventListener("close", () => {
    closeFd();
    if (closed || stopped) return;
    stopped = true;
    report(new Error(`notify socket ${path}: listener stopped: worker exited`));
  });
  // The listener alone does not keep the process alive.
  worker.unref();
  worker.postMessage({ fd, stop } satisfies NotifyWorkerStart);

  return {
    path,
    close() {
      if (closed) return;
      closed = true;
      Atomics.store(new Int32Array(stop), 0, 1);
      // Wakes the worker's blocked recvmsg (it returns 0); the worker sees the flag and returns.
      libc.shutdown(fd, SHUT_RDWR);
      worker.terminate();
      if (!abstract) libc.unlink(cstr(path));
    },
  };
}

/**
 * Sends one notification datagram to `path` ("@name" for an abstract socket), as sd_notify(3)
 * does: for tests, and for passing readiness on to a supervisor above tsinit.
 */
export function sendNotification(path: string, payload: string | Uint8Array): SysError | undefined {
  let address: ReturnType<typeof socketAddress>;
  try {
    address = socketAddress(path);
  } catch (error) {
    return error as SysError;
  }
  const fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd === -1) return sysError("socket", path);
  try {
    const bytes = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
    // bun:ffi wants a non-empty buffer for a pointer; an empty datagram still sends 0 bytes.
    const buffer = bytes.length === 0 ? new Uint8Array(1) : bytes;
    const sent = Number(libc.sendto(fd, buffer, bytes.length, MSG_NOSIGNAL, address.address, address.length));
    return sent === -1 ? sysError("sendto", path) : undefined;
  } finally {
    libc.close(fd);
  }
}
