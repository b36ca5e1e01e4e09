// The reading half of the notify sockets (notify-socket.ts): a Worker that blocks in poll()
// over every notify socket through bun:ffi, because Bun has no datagram sockets, and posts each
// datagram with its sender's credentials and the socket it came in on to the main thread. The
// main thread owns the descriptors: it makes and binds them and tells this worker, through a
// command pipe, which to watch and which to let go; it closes one only once this worker has
// said it no longer touches it, so a reused descriptor number is never read here.
//
// In a compiled executable this file must be a second entry point of `bun build --compile`.
import { readFileSync } from "./file-calls.ts";
import { errno, libc, ptr } from "./libc.ts";
import { MAX_OUTSTANDING, WAKE_COMMAND } from "./notify-credit.ts";

/** The largest datagram delivered; bigger ones are dropped (systemd also reads at most 4 KiB). */
export const MAX_PAYLOAD = 4096;

/**
 * The start message: the read end of the command pipe, and the outstanding-report counter. Each
 * command is one little-endian int32: a descriptor to watch (>= 0), -(fd + 1) to stop watching
 * fd, or WAKE_COMMAND. The main thread closing the write end ends the loop. `outstanding` is an
 * Int32Array(1) over a SharedArrayBuffer: the worker adds one for each datagram or drop report
 * it posts, the main thread takes one away for each it handles, and sends WAKE_COMMAND when it
 * brings the count down from MAX_OUTSTANDING.
 */
export interface NotifyWorkerStart {
  commands: number;
  outstanding: SharedArrayBuffer;
}

/** What the worker posts back; `fd` is the socket a datagram came in on. */
export type NotifyWorkerReport =
  | { kind: "datagram"; fd: number; pid: number; uid: number; gid: number; text: string; session?: number; cgroup?: string; gone: boolean }
  /** A datagram that was read and thrown away, with the reason in plain words. */
  | { kind: "dropped"; fd: number; pid: number; reason: string }
  /** The worker no longer touches `fd` (it was told to stop watching it, or recvmsg on it failed: `error`). */
  | { kind: "released"; fd: number; error?: string }
  /** The loop ended on its own (poll failed, or a bug); nothing more will come. */
  | { kind: "failed"; message: string };

const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const SCM_CREDENTIALS = 2;
const MSG_TRUNC = 0x20;
const MSG_DONTWAIT = 0x40;
const MSG_CMSG_CLOEXEC = 0x40000000;
const EINTR = 4;
const EAGAIN = 11;
const POLLIN = 0x1;
// struct pollfd: int fd, short events, short revents (8 bytes).
const POLLFD_SIZE = 8;
/** Datagrams read from one socket per wake-up, so one busy sender cannot starve the others. */
const BURST = 16;

// glibc layouts, the same on x86_64 and arm64. struct msghdr (56 bytes): msg_name @0,
// msg_namelen @8, msg_iov @16, msg_iovlen @24, msg_control @32, msg_controllen @40, msg_flags @48.
// struct iovec (16 bytes): iov_base @0, iov_len @8. struct cmsghdr (16 bytes): cmsg_len (size_t)
// @0, cmsg_level @8, cmsg_type @12, then the data; struct ucred: pid @0, uid @4, gid @8.
const MSGHDR_SIZE = 56;
const CMSGHDR_SIZE = 16;
const UCRED_SIZE = 12;
const align8 = (n: number) => (n + 7) & ~7;
// Room for exactly one SCM_CREDENTIALS message (CMSG_SPACE(sizeof(struct ucred)) = 32). The
// kernel writes the credentials first; descriptors a sender attaches (SCM_RIGHTS) then do not
// fit and the kernel discards them, so no descriptor ever lands in PID 1 through this socket.
const CONTROL_SIZE = CMSGHDR_SIZE + align8(UCRED_SIZE);

interface Credentials {
  pid: number;
  uid: number;
  gid: number;
}

/** Walks the control messages; keeps the credentials and closes any descriptor received. */
function readControl(control: DataView, length: number): Credentials | undefined {
  let credentials: Credentials | undefined;
  let offset = 0;
  while (offset + CMSGHDR_SIZE <= length) {
    const cmsgLength = Number(control.getBigUint64(offset, true));
    if (cmsgLength < CMSGHDR_SIZE || offset + cmsgLength > length) break;
    const level = control.getInt32(offset + 8, true);
    const type = control.getInt32(offset + 12, true);
    const data = offset + CMSGHDR_SIZE;
    if (level === SOL_SOCKET && type === SCM_CREDENTIALS && cmsgLength >= CMSGHDR_SIZE + UCRED_SIZE) {
      credentials = {
        pid: control.getInt32(data, true),
        uid: control.getUint32(data + 4, true),
        gid: control.getUint32(data + 8, true),
      };
    } else if (level === SOL_SOCKET && type === SCM_RIGHTS) {
      for (let at = data; at + 4 <= offset + cmsgLength; at += 4) libc.close(control.getInt32(at, true));
    }
    offset += align8(cmsgLength);
  }
  return credentials;
}

/** Reads one datagram from `fd` without blocking and reports it: "empty" when none was waiting. */
type Receive = (fd: number, post: (report: NotifyWorkerReport) => void) => "read" | "empty" | { error: string };

function makeReceiver(): Receive {
  const payload = new Uint8Array(MAX_PAYLOAD);
  const control = new Uint8Array(CONTROL_SIZE);
  const controlView = new DataView(control.buffer);
  const iovec = new BigUint64Array([BigInt(ptr(payload)), BigInt(MAX_PAYLOAD)]);
  const header = new Uint8Array(MSGHDR_SIZE);
  const headerView = new DataView(header.buffer);
  const decoder = new TextDecoder("utf-8", { fatal: true });

  return (fd, post) => {
    // recvmsg writes msg_namelen, msg_controllen and msg_flags back: reset them every time.
    header.fill(0);
    headerView.setBigUint64(16, BigInt(ptr(iovec)), true);
    headerView.setBigUint64(24, 1n, true);
    headerView.setBigUint64(32, BigInt(ptr(control)), true);
    headerView.setBigUint64(40, BigInt(CONTROL_SIZE), true);
    control.fill(0);

    const received = Number(libc.recvmsg(fd, header, MSG_CMSG_CLOEXEC | MSG_DONTWAIT));
    if (received < 0) {
      const code = errno();
      if (code === EINTR || code === EAGAIN) return "empty";
      return { error: `recvmsg failed: errno ${code}` };
    }

    const flags = headerView.getInt32(48, true);
    const controlLength = Number(headerView.getBigUint64(40, true));
    const credentials = readControl(controlView, Math.min(controlLength, CONTROL_SIZE));
    // A socket shut down by close() reads 0 bytes with no credentials until it is let go.
    if (received === 0 && credentials === undefined) return "empty";
    const pid = credentials?.pid ?? 0;
    // The sender's session and cgroup, read at once: a sender such as systemd-notify exits right
    // after sending, and by the time the main thread looks, its /proc entry may be gone.
    const sender = senderOf(pid);
    if (credentials === undefined) {
      post({ kind: "dropped", fd, pid, reason: "no sender credentials came with it" });
      return "read";
    }
    if ((flags & MSG_TRUNC) !== 0) {
      post({ kind: "dropped", fd, pid, reason: `larger than ${MAX_PAYLOAD} bytes` });
      return "read";
    }
    // MSG_CTRUNC alone (a sender attached descriptors, which were discarded) keeps the text.
    const bytes = payload.subarray(0, received);
    if (bytes.includes(0)) {
      post({ kind: "dropped", fd, pid, reason: "it contains a NUL byte" });
      return "read";
    }
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      post({ kind: "dropped", fd, pid, reason: "it is not UTF-8" });
      return "read";
    }
    post({ kind: "datagram", fd, pid, uid: credentials.uid, gid: credentials.gid, text, ...sender });
    return "read";
  };
}

/**
 * Reads the commands waiting in the pipe into `watched`; false once the main thread closed the
 * pipe (the end of the loop).
 */
function readCommands(commands: number, watched: Set<number>, post: (report: NotifyWorkerReport) => void): boolean {
  const buffer = new Int32Array(256);
  for (;;) {
    const got = Number(libc.read(commands, buffer, buffer.byteLength));
    if (got === 0) return false;
    if (got < 0) {
      const code = errno();
      if (code === EINTR) continue;
      if (code === EAGAIN) return true;
      throw new Error(`read from the command pipe failed: errno ${code}`);
    }
    // Each command is 4 bytes and a pipe write of 4 bytes is atomic, so reads end on a command.
    for (const command of buffer.subarray(0, got / 4)) {
      if (command === WAKE_COMMAND) continue;
      if (command >= 0) {
        watched.add(command);
      } else if (watched.delete(-command - 1)) {
        // Once per watch: a fd let go already (recvmsg failed) was reported then, and a second
        // report could reach the main thread after the number was reused by a new listener.
        post({ kind: "released", fd: -command - 1 });
      }
    }
  }
}

function receiveLoop(commands: number, outstanding: Int32Array, post: (report: NotifyWorkerReport) => void): void {
  const receive = makeReceiver();
  const watched = new Set<number>();
  const full = () => Atomics.load(outstanding, 0) >= MAX_OUTSTANDING;
  for (;;) {
    // With no credit left, only the command pipe is polled: the main thread's WAKE_COMMAND (or a
    // watch or release) ends the wait, and the datagrams wait in their sockets meanwhile.
    const fds = full() ? [commands] : [commands, ...watched];
    const pollfds = new Uint8Array(POLLFD_SIZE * fds.length);
    const view = new DataView(pollfds.buffer);
    fds.forEach((fd, index) => {
      view.setInt32(index * POLLFD_SIZE, fd, true);
      view.setInt16(index * POLLFD_SIZE + 4, POLLIN, true);
    });
    if (libc.poll(pollfds, fds.length, -1) < 0) {
      const code = errno();
      if (code === EINTR) continue;
      post({ kind: "failed", message: `poll on the notify sockets failed: errno ${code}` });
      return;
    }
    // Commands first: a socket let go now is not read again (its datagrams are for no one).
    if (view.getInt16(6, true) !== 0 && !readCommands(commands, watched, post)) return;
    for (let index = 1; index < fds.length; index++) {
      const fd = fds[index]!;
      if (view.getInt16(index * POLLFD_SIZE + 6, true) === 0 || !watched.has(fd)) continue;
      for (let count = 0; count < BURST && !full(); count++) {
        const result = receive(fd, post);
        if (result === "read") continue;
        if (result !== "empty") {
          // Never poll it again (a broken socket would wake every poll); the main thread closes it.
          watched.delete(fd);
          post({ kind: "released", fd, error: result.error });
        }
        break;
      }
    }
  }
}

/**
 * The sender's session (field 6 of /proc/PID/stat, counted after the command name, which may
 * hold spaces) and cgroup2 path (/proc/PID/cgroup's "0::" line); `gone` when its /proc entry
 * could not be read at all (it exited, or its pid is not visible in this namespace).
 */
function senderOf(pid: number): { session?: number; cgroup?: string; gone: boolean } {
  if (pid <= 0) return { gone: true };
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return { gone: true };
  }
  const number = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
  const session = Number.isInteger(number) && number > 0 ? number : undefined;
  let cgroup: string | undefined;
  try {
    cgroup = /^0::(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, "latin1"))?.[1];
  } catch {
    // Gone between the two reads: the session read is still its own.
  }
  return { session, cgroup, gone: false };
}

declare const self: Worker;

self.onmessage = (event: MessageEvent<NotifyWorkerStart>) => {
  const outstanding = new Int32Array(event.data.outstanding);
  const post = (report: NotifyWorkerReport) => {
    // Counted before it is posted, so the main thread never takes away what was not added.
    if (report.kind === "datagram" || report.kind === "dropped") Atomics.add(outstanding, 0, 1);
    self.postMessage(report);
  };
  try {
    receiveLoop(event.data.commands, outstanding, post);
  } catch (error) {
    post({ kind: "failed", message: `notify worker: ${error instanceof Error ? error.message : String(error)}` });
  }
};
