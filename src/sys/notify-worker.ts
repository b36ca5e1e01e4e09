// The reading half of the notify socket (notify-socket.ts): a Worker that blocks in recvmsg()
// through bun:ffi, because Bun has no datagram sockets, and posts each datagram with its
// sender's credentials to the main thread. The main thread owns the descriptor: it makes and
// binds it, hands its number over in the start message, and closes it once this worker is gone.
//
// In a compiled executable this file must be a second entry point of `bun build --compile`.
import { readFileSync } from "node:fs";
import { errno, libc, ptr } from "./libc.ts";

/** The largest datagram delivered; bigger ones are dropped (systemd also reads at most 4 KiB). */
export const MAX_PAYLOAD = 4096;

/** The start message: the bound socket and a flag the main thread raises to stop the loop. */
export interface NotifyWorkerStart {
  fd: number;
  /** Int32 slot 0: 0 = run, 1 = stop. */
  stop: SharedArrayBuffer;
}

/** What the worker posts back. */
export type NotifyWorkerReport =
  | { kind: "datagram"; pid: number; uid: number; gid: number; text: string; session?: number }
  /** A datagram that was read and thrown away, with the reason in plain words. */
  | { kind: "dropped"; pid: number; reason: string }
  /** The loop ended on its own (recvmsg failed, or a bug); nothing more will come. */
  | { kind: "failed"; message: string };

const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const SCM_CREDENTIALS = 2;
const MSG_TRUNC = 0x20;
const MSG_CMSG_CLOEXEC = 0x40000000;
const EINTR = 4;

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

function receiveLoop(fd: number, stop: Int32Array, post: (report: NotifyWorkerReport) => void): void {
  const payload = new Uint8Array(MAX_PAYLOAD);
  const control = new Uint8Array(CONTROL_SIZE);
  const controlView = new DataView(control.buffer);
  const iovec = new BigUint64Array([BigInt(ptr(payload)), BigInt(MAX_PAYLOAD)]);
  const header = new Uint8Array(MSGHDR_SIZE);
  const headerView = new DataView(header.buffer);
  const decoder = new TextDecoder("utf-8", { fatal: true });

  while (Atomics.load(stop, 0) === 0) {
    // recvmsg writes msg_namelen, msg_controllen and msg_flags back: reset them every time.
    header.fill(0);
    headerView.setBigUint64(16, BigInt(ptr(iovec)), true);
    headerView.setBigUint64(24, 1n, true);
    headerView.setBigUint64(32, BigInt(ptr(control)), true);
    headerView.setBigUint64(40, BigInt(CONTROL_SIZE), true);
    control.fill(0);

    const received = Number(libc.recvmsg(fd, header, MSG_CMSG_CLOEXEC));
    if (received < 0) {
      const code = errno();
      if (code === EINTR) continue;
      if (Atomics.load(stop, 0) !== 0) return;
      post({ kind: "failed", message: `recvmsg on the notify socket failed: errno ${code}` });
      return;
    }
    // close() raises the flag and shuts the socket down, which makes recvmsg return 0 here.
    if (Atomics.load(stop, 0) !== 0) return;

    const flags = headerView.getInt32(48, true);
    const controlLength = Number(headerView.getBigUint64(40, true));
    const credentials = readControl(controlView, Math.min(controlLength, CONTROL_SIZE));
    const pid = credentials?.pid ?? 0;
    // The sender's session, read at once: a sender such as systemd-notify exits right after
    // sending, and by the time the main thread looks, its /proc entry may be gone.
    const session = sessionOf(pid);
    if (credentials === undefined) {
      post({ kind: "dropped", pid, reason: "no sender credentials came with it" });
      continue;
    }
    if ((flags & MSG_TRUNC) !== 0) {
      post({ kind: "dropped", pid, reason: `larger than ${MAX_PAYLOAD} bytes` });
      continue;
    }
    // MSG_CTRUNC alone (a sender attached descriptors, which were discarded) keeps the text.
    const bytes = payload.subarray(0, received);
    if (bytes.includes(0)) {
      post({ kind: "dropped", pid, reason: "it contains a NUL byte" });
      continue;
    }
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      post({ kind: "dropped", pid, reason: "it is not UTF-8" });
      continue;
    }
    post({ kind: "datagram", pid, uid: credentials.uid, gid: credentials.gid, text, session });
  }
}

/** Field 6 of /proc/PID/stat (counted after the command name, which may hold spaces). */
function sessionOf(pid: number): number | undefined {
  if (pid <= 0) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const session = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
    return Number.isInteger(session) && session > 0 ? session : undefined;
  } catch {
    return undefined;
  }
}

declare const self: Worker;

self.onmessage = (event: MessageEvent<NotifyWorkerStart>) => {
  const post = (report: NotifyWorkerReport) => self.postMessage(report);
  try {
    const { fd, stop } = event.data;
    receiveLoop(fd, new Int32Array(stop), post);
  } catch (error) {
    post({ kind: "failed", message: `notify worker: ${error instanceof Error ? error.message : String(error)}` });
  }
};
