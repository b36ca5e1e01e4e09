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
import { settleSocketNode } from "./activation-socket.ts";
import { embeddedWorker } from "./embedded-worker.ts";
import { cstr, errno, libc } from "./libc.ts";
import { lstatSync } from "./file-calls.ts";
import { errnoName } from "../base/errno.ts";
import { SysError, type NotifyListener as Listener, type NotifyMessage } from "./sys.ts";

export type { NotifyMessage };

export interface NotifyListener extends Listener {
  readonly path: string;
}
import type { NotifyWorkerReport, NotifyWorkerStart } from "./notify-worker.ts";
import { MAX_OUTSTANDING, WAKE_COMMAND } from "./notify-credit.ts";

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_PASSCRED = 16;
const SHUT_RDWR = 2;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const O_PATH = 0o10000000;
const MSG_NOSIGNAL = 0x4000;
const MSG_DONTWAIT = 0x40;
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
    // Services running as other users must be able to send; bind's mode obeys the umask. The
    // chmod goes through a descriptor of the node bound, checked to be that socket, so a link a
    // user put at the name (where the directory lets them) is not followed.
    if (!abstract) {
      const error = chmodBound(path, 0o777);
      if (error !== undefined) {
        libc.unlink(cstr(path));
        throw error;
      }
    }
    return { fd, abstract };
  } catch (error) {
    libc.close(fd);
    throw error;
  }
}

/** chmod of the socket just bound at `path`, through its directory's descriptor (settleSocketNode). */
function chmodBound(path: string, mode: number): SysError | undefined {
  const slash = path.lastIndexOf("/");
  const directory = slash === -1 ? "." : slash === 0 ? "/" : path.slice(0, slash);
  const fd = libc.open(cstr(directory), O_PATH | O_CLOEXEC, 0);
  if (fd === -1) return sysError("open (the socket's directory)", path);
  try {
    return settleSocketNode({ fd, name: path.slice(slash + 1) }, mode, undefined, (call, code = errno()) => sysError(call, path, code));
  } finally {
    libc.close(fd);
  }
}

/** One bound socket's receivers. */
interface Receiver {
  path: string;
  onMessage: (message: NotifyMessage) => void;
  onError: (error: Error) => void;
}

/**
 * The one worker that reads every notify socket, and what the main thread keeps of it. A
 * descriptor is closed only once the worker said it lets it go (or the worker is gone).
 */
interface Reader {
  worker: Worker;
  /** The command pipe: [read end (the worker's), write end (ours, non-blocking)]. */
  commands: [number, number];
  /** Commands the pipe did not take yet (it was full): sent before any new one. */
  pending: number[];
  receivers: Map<number, Receiver>;
  /** Closed listeners' descriptors, waiting for the worker to let them go. */
  retiring: Set<number>;
  /** The worker stopped (failed, or erred); it is being terminated. */
  stopped: boolean;
  /** The worker thread is gone: nothing reads these descriptors any more. */
  gone: boolean;
  /** Reports posted by the worker and not yet handled here (NotifyWorkerStart.outstanding). */
  outstanding: Int32Array;
}

let reader: Reader | undefined;

function report(receiver: Receiver, error: Error): void {
  try {
    receiver.onError(error);
  } catch {
    // The caller's handler failed; there is no one left to tell.
  }
}

/** Writes the waiting commands; those the full pipe does not take stay queued for the next call. */
function flush(current: Reader): void {
  while (current.pending.length > 0 && !current.stopped) {
    const written = Number(libc.write(current.commands[1], new Int32Array([current.pending[0]!]), 4));
    if (written !== 4) return;
    current.pending.shift();
  }
}

function command(current: Reader, value: number): void {
  current.pending.push(value);
  flush(current);
}

/** The worker ended: every descriptor it read is ours to close now, and the next listener starts a new one. */
function readerGone(current: Reader): void {
  if (reader === current) reader = undefined;
  current.gone = true;
  for (const fd of current.retiring) libc.close(fd);
  current.retiring.clear();
  libc.close(current.commands[0]);
  libc.close(current.commands[1]);
  // Listeners still open stay bound but unread; their close() closes their descriptor.
}

/** The error that says a socket is read no more (`stopped`, so that no rate limit hides it). */
function listenerStopped(path: string, why: string): Error & { stopped: true } {
  return Object.assign(new Error(`notify socket ${path}: listener stopped: ${why}`), { stopped: true as const });
}

function stopReader(current: Reader, message: string): void {
  if (current.stopped) return;
  current.stopped = true;
  if (reader === current) reader = undefined;
  for (const receiver of current.receivers.values()) report(receiver, listenerStopped(receiver.path, message));
  current.worker.terminate();
}

function startReader(): Reader {
  const pipe = new Int32Array(2);
  if (libc.pipe2(pipe, O_CLOEXEC | O_NONBLOCK) === -1) throw sysError("pipe2", "(the notify command pipe)");
  let worker: Worker;
  try {
    worker = new Worker(embeddedWorker("notify-worker"));
  } catch (error) {
    libc.close(pipe[0]!);
    libc.close(pipe[1]!);
    throw error;
  }
  const outstanding = new SharedArrayBuffer(4);
  const current: Reader = {
    worker,
    commands: [pipe[0]!, pipe[1]!],
    pending: [],
    receivers: new Map(),
    retiring: new Set(),
    stopped: false,
    gone: false,
    outstanding: new Int32Array(outstanding),
  };

  worker.onmessage = (event: MessageEvent<NotifyWorkerReport>) => {
    const data = event.data;
    // The worker stops reading at MAX_OUTSTANDING; the one that brings the count below it wakes it.
    if ((data.kind === "datagram" || data.kind === "dropped") && Atomics.sub(current.outstanding, 0, 1) >= MAX_OUTSTANDING) command(current, WAKE_COMMAND);
    flush(current);
    switch (data.kind) {
      case "datagram": {
        const receiver = current.receivers.get(data.fd);
        if (receiver === undefined) return;
        try {
          receiver.onMessage({ pid: data.pid, uid: data.uid, session: data.session, cgroup: data.cgroup, senderGone: data.gone, fields: parseNotifyPayload(data.text) });
        } catch (error) {
          report(receiver, error instanceof Error ? error : new Error(String(error)));
        }
        return;
      }
      case "dropped": {
        const receiver = current.receivers.get(data.fd);
        if (receiver !== undefined) report(receiver, new Error(`notify socket ${receiver.path}: dropped a datagram from pid ${data.pid}: ${data.reason}`));
        return;
      }
      case "released": {
        const receiver = current.receivers.get(data.fd);
        if (receiver !== undefined) {
          // recvmsg failed on a socket still open: it is read no more; close() closes it.
          report(receiver, listenerStopped(receiver.path, data.error ?? "released"));
          current.receivers.delete(data.fd);
          return;
        }
        if (current.retiring.delete(data.fd)) libc.close(data.fd);
        return;
      }
      case "failed":
        stopReader(current, data.message);
        return;
    }
  };
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    stopReader(current, `worker error: ${event.message}`);
  };
  // Descriptors are closed only once the worker thread is gone, so no number the worker may
  // still pass to recvmsg is reused by another open().
  worker.addEventListener("close", () => {
    stopReader(current, "worker exited");
    readerGone(current);
  });
  // The listeners alone do not keep the process alive.
  worker.unref();
  worker.postMessage({ commands: current.commands[0], outstanding } satisfies NotifyWorkerStart);
  return current;
}

/** Reports the reader posted and the main thread has not handled yet (at most MAX_OUTSTANDING); undefined with no reader. */
export function notifyReportsOutstanding(): number | undefined {
  return reader === undefined ? undefined : Atomics.load(reader.outstanding, 0);
}

/**
 * Listens on `path` for sd_notify datagrams until close(). Throws a SysError when the socket
 * cannot be made or bound (and an Error when, in a compiled executable, the worker was not
 * embedded); after that, never throws: a datagram that is too big (> 4 KiB), not UTF-8, or has
 * a NUL byte is dropped and reported to `onError`, and so is the reading stopping (that error's
 * message says the listener stopped). Every listener is read by one shared worker, so each
 * service can have a socket of its own: the socket a datagram arrives on says whose it is, even
 * when its sender is gone by then.
 */
export function listenForNotifications(
  path: string,
  onMessage: (message: NotifyMessage) => void,
  onError: (error: Error) => void = () => {},
): NotifyListener {
  const { fd, abstract } = bindSocket(path);
  let current: Reader;
  try {
    current = reader ??= startReader();
  } catch (error) {
    libc.close(fd);
    if (!abstract) libc.unlink(cstr(path));
    throw error;
  }
  current.receivers.set(fd, { path, onMessage, onError });
  command(current, fd);
  let closed = false;

  return {
    path,
    close() {
      if (closed) return;
      closed = true;
      if (!abstract) libc.unlink(cstr(path));
      const watching = current.receivers.delete(fd);
      if (current.gone) {
        libc.close(fd);
      } else if (current.stopped) {
        // The worker is winding down: the descriptor is closed with the rest once it is gone.
        current.retiring.add(fd);
      } else if (!watching) {
        // recvmsg on it failed and the worker let it go already.
        libc.close(fd);
      } else {
        // Senders are refused from now on (EPIPE), not only once the worker lets it go.
        libc.shutdown(fd, SHUT_RDWR);
        current.retiring.add(fd);
        command(current, -fd - 1);
      }
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
    // Never waits: a full receive queue (a reader that does not keep up) answers EAGAIN.
    const sent = Number(libc.sendto(fd, buffer, bytes.length, MSG_NOSIGNAL | MSG_DONTWAIT, address.address, address.length));
    return sent === -1 ? sysError("sendto", path) : undefined;
  } finally {
    libc.close(fd);
  }
}

const ECONNREFUSED = 111;

/**
 * Whether `path` is a datagram socket file of this process's user that no process has bound
 * any more: what a supervisor killed before it could unlink its NOTIFY_SOCKETs leaves. lstat
 * first, so a symbolic link is never taken for one; then a connect(), which the kernel refuses
 * (ECONNREFUSED) only when nothing listens at that node. A live supervisor's socket connects and
 * is left alone; it gets no datagram.
 */
export function abandonedSocket(path: string): boolean {
  let status;
  try {
    status = lstatSync(path);
  } catch {
    return false;
  }
  if (!status.isSocket() || status.uid !== (process.getuid?.() ?? 0)) return false;
  let address: Uint8Array;
  let length: number;
  try {
    ({ address, length } = socketAddress(path));
  } catch {
    return false;
  }
  const fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd === -1) return false;
  const refused = libc.connect(fd, address, length) === -1 && errno() === ECONNREFUSED;
  libc.close(fd);
  return refused;
}
