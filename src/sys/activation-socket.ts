// socket-listen: a listening unix stream socket that tsinit makes before the service starts
// and passes as fd 3 with LISTEN_FDS=1 (systemd's activation protocol, as dinit does it).
import { lchownSync } from "node:fs";
import { errnoName } from "../base/errno.ts";
import { cstr, errno, libc } from "./libc.ts";
import { socketAddress } from "./notify-socket.ts";
import { SysError } from "./sys.ts";

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const ENOENT = 2;
const BACKLOG = 128;

/**
 * socket(), bind() (replacing a stale socket file), listen(), chmod(mode); the fd. Listening
 * before the chmod means no client that may connect ever finds the socket refusing: until the
 * chmod, the umask's mode (022 for init) lets only root connect.
 */
export function listenUnix(path: string, mode: number, owner?: { uid?: number; gid?: number }): number | SysError {
  const fail = (call: string, code = errno()) => new SysError(call, code, errnoName(code), path);
  let address: ReturnType<typeof socketAddress>;
  try {
    address = socketAddress(path);
  } catch (error) {
    return error instanceof SysError ? error : fail("bind");
  }
  const fd = libc.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd === -1) return fail("socket");
  const error = (() => {
    if (!address.abstract && libc.unlink(cstr(path)) === -1 && errno() !== ENOENT) return fail("unlink");
    if (libc.bind(fd, address.address, address.length) === -1) return fail("bind");
    if (libc.listen(fd, BACKLOG) === -1) return fail("listen");
    // socket-uid / socket-gid: lchown, so a link put in the socket's place is not followed.
    if (!address.abstract && owner !== undefined && (owner.uid !== undefined || owner.gid !== undefined)) {
      try {
        lchownSync(path, owner.uid ?? -1, owner.gid ?? -1);
      } catch (caught) {
        return fail("chown", -((caught as { errno?: number }).errno ?? -1));
      }
    }
    if (!address.abstract && libc.chmod(cstr(path), mode) === -1) return fail("chmod");
    return undefined;
  })();
  if (error === undefined) return fd;
  libc.close(fd);
  return error;
}
