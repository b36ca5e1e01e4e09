// socket-listen: a listening unix stream socket that tsinit makes before the service starts
// and passes as fd 3 with LISTEN_FDS=1 (systemd's activation protocol, as dinit does it).
import { chownSync, constants, fstatSync } from "./file-calls.ts";
import { errnoName } from "../base/errno.ts";
import { cstr, errno, libc } from "./libc.ts";
import { openConfinedDirectory } from "./confined-directory.ts";
import { socketAddress } from "./notify-socket.ts";
import { SysError } from "./sys.ts";

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const ENOENT = 2;
const EINVAL = 22;
const ELOOP = 40;
const EMLINK = 31;
const BACKLOG = 128;
const O_CLOEXEC = 0o2000000;
const O_PATH = 0o10000000;
/** 0o400000 on x86_64 but 0o100000 on arm64. */
const O_NOFOLLOW = constants.O_NOFOLLOW;

/**
 * socket(), bind() (replacing a stale socket file), listen(), then socket-uid/gid and
 * socket-permissions; the fd. Listening before the chown and chmod means no client that may
 * connect ever finds the socket refusing: until the chmod, the umask's mode (022 for init) lets
 * only root connect.
 *
 * A directory on the way may be a user's, who could swap a directory below it for a link and
 * lead root's unlink and bind elsewhere (to remove or take over a socket in a directory of
 * root's). So the socket's directory is opened a name at a time, following a link only where
 * only root could have put it (openConfinedDirectory), and the unlink and the check go through
 * that directory's descriptor (/proc/self/fd/N/NAME), never the path again. The bind alone takes
 * the path itself, because the name it binds is the socket's address (getsockname, a client's
 * getpeername, /proc/net/unix), which systemd's protocol has the service compare with the path
 * (sd_is_socket_unix). A bind led elsewhere by a swapped directory cannot replace anything (bind
 * makes a new node or fails with EADDRINUSE); it leaves a stray socket of root's, mode 0755 by
 * the umask, that nobody listens on once the start failed, and the check, which looks in the
 * directory opened, finds nothing of root's at the name and fails the start.
 */
export function listenUnix(path: string, mode: number, owner?: { uid?: number; gid?: number }): number | SysError {
  const fail = (call: string, code = errno()) => new SysError(call, code, errnoName(code), path);
  let address: ReturnType<typeof socketAddress>;
  try {
    address = socketAddress(path);
  } catch (error) {
    return error instanceof SysError ? error : fail("bind");
  }
  if (address.abstract) return listenAt(address, undefined, mode, owner, fail);
  const slash = path.lastIndexOf("/");
  const name = path.slice(slash + 1);
  if (name === "" || name === "." || name === "..") return fail("bind (the path must end in a file name)", EINVAL);
  const directory = openConfinedDirectory(slash === -1 ? "." : slash === 0 ? "/" : path.slice(0, slash));
  if (directory instanceof SysError) return new SysError(`${directory.call} (the socket's directory)`, directory.errno, directory.code, path);
  try {
    return listenAt(address, { fd: directory.fd, name, inDirectory: `/proc/self/fd/${directory.fd}/${name}` }, mode, owner, fail);
  } finally {
    libc.close(directory.fd);
  }
}

/** The socket, bound at `address` (in `directory`, for a file), listening and settled. */
function listenAt(
  address: ReturnType<typeof socketAddress>,
  directory: { fd: number; name: string; inDirectory: string } | undefined,
  mode: number,
  owner: { uid?: number; gid?: number } | undefined,
  fail: (call: string, code?: number) => SysError,
): number | SysError {
  const fd = libc.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd === -1) return fail("socket");
  const error = (() => {
    if (directory !== undefined && libc.unlink(cstr(directory.inDirectory)) === -1 && errno() !== ENOENT) return fail("unlink");
    if (libc.bind(fd, address.address, address.length) === -1) return fail("bind");
    if (libc.listen(fd, BACKLOG) === -1) return fail("listen");
    return directory === undefined ? undefined : settleSocketNode(directory, mode, owner, fail);
  })();
  if (error === undefined) return fd;
  libc.close(fd);
  return error;
}

/**
 * The socket's directory may be a user's, who may put anything at `path` once bind has made
 * the socket: a link to /etc/shadow, a hard link to it, a socket of their own. So the node is
 * opened without following a link (O_PATH, which needs no permission on it and reaches a
 * socket), checked to be what bind makes (a socket, root's, with one link) and changed through
 * that descriptor (/proc/self/fd: Linux has no fchmod for an O_PATH descriptor), never by name.
 * Also the NOTIFY_SOCKET's chmod (notify-socket.ts).
 */
export function settleSocketNode(
  directory: { fd: number; name: string },
  mode: number,
  owner: { uid?: number; gid?: number } | undefined,
  fail: (call: string, code?: number) => SysError,
): SysError | undefined {
  const node = libc.openat(directory.fd, cstr(directory.name), O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
  if (node === -1) {
    const code = errno();
    // The path led the bind out of the directory opened (a directory on the way was swapped):
    // the socket made there is not removed by path, which would let the same swap lead the unlink.
    if (code === ENOENT) return fail("bind (the path led out of the socket's directory, which changed on the way; a stray socket may be left where it led)", code);
    return fail("open (the bound socket)", code);
  }
  try {
    const stat = fstatSync(node);
    if (stat.isSymbolicLink()) return fail("chmod (a symbolic link in the socket's place)", ELOOP);
    if (!stat.isSocket()) return fail("chmod (not a socket: something else in the socket's place)", EINVAL);
    if (stat.nlink !== 1) return fail(`chmod (a socket with ${stat.nlink} links)`, EMLINK);
    if (stat.uid !== process.geteuid?.()) return fail(`chmod (a socket of uid ${stat.uid}, not the one bound)`, EINVAL);
    const self = `/proc/self/fd/${node}`;
    if (owner !== undefined && (owner.uid !== undefined || owner.gid !== undefined)) {
      try {
        chownSync(self, owner.uid ?? -1, owner.gid ?? -1);
      } catch (caught) {
        return fail("chown", caught instanceof SysError ? caught.errno : undefined);
      }
    }
    if (libc.chmod(cstr(self), mode) === -1) return fail("chmod");
    return undefined;
  } catch (caught) {
    return fail("fstat (the bound socket)", caught instanceof SysError ? caught.errno : undefined);
  } finally {
    libc.close(node);
  }
}
