// Who is on the other end of a unix stream socket: SO_PEERCRED, read with getsockopt(2)
// through bun:ffi. The control server decides what a client may do from these credentials,
// which the kernel records at connect() and the client cannot forge.
import { errno, libc, ptr } from "./libc.ts";
import { errnoName } from "../base/errno.ts";
import { SysError } from "./sys.ts";

/** The peer's pid (0 when it is in a pid namespace this process cannot see), uid and gid. */
export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;
/** struct ucred: pid_t pid; uid_t uid; gid_t gid. */
const UCRED_SIZE = 12;

export function peerCredentials(fd: number): PeerCredentials | SysError {
  const ucred = new Int32Array(UCRED_SIZE / 4);
  const length = new Uint32Array([UCRED_SIZE]);
  if (libc.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, ptr(ucred), ptr(length)) === -1) {
    const code = errno();
    return new SysError("getsockopt SO_PEERCRED", code, errnoName(code));
  }
  // uid_t and gid_t are unsigned; >>> 0 keeps (uid_t)-1 from reading as -1.
  return { pid: ucred[0]!, uid: ucred[1]! >>> 0, gid: ucred[2]! >>> 0 };
}

const POLLHUP = 0x10;

/**
 * Whether the peer of a connected unix stream socket has closed it for good, as opposed to
 * only shutting down its writing side (shutdown(SHUT_WR)): both read as end of input, but only
 * the first makes poll(2) report POLLHUP. A failed poll counts as gone.
 */
export function peerHungUp(fd: number): boolean {
  // struct pollfd: int fd; short events; short revents.
  const pollfd = new Int32Array([fd, 0]);
  if (libc.poll(ptr(pollfd), 1, 0) === -1) return true;
  return ((pollfd[1]! >>> 16) & POLLHUP) !== 0;
}
