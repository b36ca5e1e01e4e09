// socket-listen's socket against the real kernel, as root: the mode and owner reach the socket
// node tsinit bound, and never a file a user puts in its place. The user's move is made inside
// the window itself (between bind and listen, through the libc binding), so the race is
// deterministic. Run with `bun test test/sys` (as root here).
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { chownSync, fstatSync, linkSync, lstatSync, mkdirSync, mkdtempSync, renameSync, rmSync, readFileSync, statSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listenUnix } from "../../src/sys/activation-socket.ts";
import { libc } from "../../src/sys/libc.ts";
import { SysError } from "../../src/sys/sys.ts";

const dir = mkdtempSync(join(tmpdir(), "tsinit-activation-"));
const realListen = libc.listen;
const realBind = libc.bind;
/** The bindings' listen and bind, replaceable here (the FFI symbols are plain writable properties). */
const bindings = libc as unknown as {
  listen: (fd: number, backlog: number) => number;
  bind: (fd: number, address: Uint8Array, length: number) => number;
};
const opened: number[] = [];
let serial = 0;

afterEach(() => {
  bindings.listen = realListen;
  bindings.bind = realBind;
  for (const fd of opened.splice(0)) libc.close(fd);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `move` right after bind, before listen, as a user owning the directory could. */
function between(move: () => void): void {
  bindings.listen = (fd, backlog) => {
    move();
    return realListen(fd, backlog);
  };
}

/** A root-owned, root-only file the user must not get. */
function victim(): string {
  const path = join(dir, `victim-${++serial}`);
  writeFileSync(path, "root's\n", { mode: 0o600 });
  return path;
}

/** The file put in the socket's place is as it was: mode 0600, owned by UID. */
function expectOwnedBy(stat: { mode: number; uid: number }, uid: number): void {
  expect(stat.mode & 0o7777).toBe(0o600);
  expect(stat.uid).toBe(uid);
}

function listen(path: string, mode: number, owner?: { uid?: number; gid?: number }): number | SysError {
  const result = listenUnix(path, mode, owner);
  if (typeof result === "number") opened.push(result);
  return result;
}

describe("listenUnix", () => {
  test("the socket gets socket-permissions and socket-uid/gid", () => {
    const path = join(dir, `plain-${++serial}.sock`);
    expect(listen(path, 0o660, { uid: 1000, gid: 1001 })).toBeNumber();
    const stat = lstatSync(path);
    expect(stat.isSocket()).toBe(true);
    expect(stat.mode & 0o7777).toBe(0o660);
    expect([stat.uid, stat.gid]).toEqual([1000, 1001]);
  });

  test("a symbolic link put in the socket's place is not followed by the chmod or the chown", () => {
    const path = join(dir, `link-${++serial}.sock`);
    const target = victim();
    between(() => {
      unlinkSync(path);
      symlinkSync(target, path);
    });
    const result = listen(path, 0o666, { uid: 1000 });
    expect(result).toBeInstanceOf(SysError);
    expect(String(result)).toContain(path);
    expectOwnedBy(statSync(target), 0);
  });

  test("a hard link to another file put in the socket's place is left alone", () => {
    const path = join(dir, `hard-${++serial}.sock`);
    const target = victim();
    between(() => {
      unlinkSync(path);
      linkSync(target, path);
    });
    expect(listen(path, 0o666, { uid: 1000 })).toBeInstanceOf(SysError);
    expectOwnedBy(statSync(target), 0);
  });

  test("another socket, not the one bound, put in its place is left alone", () => {
    const path = join(dir, `other-${++serial}.sock`);
    const theirs = join(dir, `theirs-${serial}.sock`);
    // The user's own socket: made by root here, then given to the user as the user would own it.
    const fd = listen(theirs, 0o600, { uid: 1000 });
    expect(fd).toBeNumber();
    between(() => {
      unlinkSync(path);
      renameSync(theirs, path);
    });
    expect(listen(path, 0o666, { uid: 2000 })).toBeInstanceOf(SysError);
    expectOwnedBy(lstatSync(path), 1000);
  });

  /**
   * A directory of root's alone holding a socket of root's (as /run holds others' sockets), and a
   * directory of uid 65534's on the way to the service's socket: what that user can change.
   */
  function usersWay(): { rootOnly: string; rootsSocket: string; user: string; path: string } {
    const base = join(dir, `way-${++serial}`);
    const rootOnly = join(base, "root-only");
    const user = join(base, "user");
    mkdirSync(rootOnly, { recursive: true, mode: 0o700 });
    mkdirSync(join(user, "sub"), { recursive: true });
    chownSync(user, 65534, 65534);
    const rootsSocket = join(rootOnly, "app.sock");
    expect(listen(rootsSocket, 0o600)).toBeNumber();
    return { rootOnly, rootsSocket, user, path: join(user, "sub", "app.sock") };
  }

  test("a directory on the way that its user replaced with a link is not followed: root's socket there stays", () => {
    const { rootOnly, rootsSocket, user, path } = usersWay();
    const before = lstatSync(rootsSocket).ino;
    rmSync(join(user, "sub"), { recursive: true });
    symlinkSync(rootOnly, join(user, "sub"));
    const result = listen(path, 0o666, { uid: 65534 });
    expect(result).toBeInstanceOf(SysError);
    expect((result as SysError).code).toBe("ELOOP");
    expect(String(result)).toContain(path);
    // Not unlinked, not replaced, not given to the user.
    const stat = lstatSync(rootsSocket);
    expect([stat.ino, stat.uid, stat.mode & 0o777]).toEqual([before, 0, 0o600]);
  });

  test("a directory swapped for a link between the unlink and the bind: root's socket at the link's end stays, the start fails", () => {
    const { rootOnly, rootsSocket, user, path } = usersWay();
    const before = lstatSync(rootsSocket).ino;
    bindings.bind = (fd, address, length) => {
      renameSync(join(user, "sub"), join(user, "moved"));
      symlinkSync(rootOnly, join(user, "sub"));
      return realBind(fd, address, length);
    };
    const result = listen(path, 0o666, { uid: 65534 });
    expect(result).toBeInstanceOf(SysError);
    expect((result as SysError).code).toBe("EADDRINUSE");
    const stat = lstatSync(rootsSocket);
    expect([stat.ino, stat.uid, stat.mode & 0o777]).toEqual([before, 0, 0o600]);
  });

  test("a bind led out of the directory opened makes only a stray socket of root's, and the start fails", () => {
    const { rootOnly, user } = usersWay();
    bindings.bind = (fd, address, length) => {
      renameSync(join(user, "sub"), join(user, "moved"));
      symlinkSync(rootOnly, join(user, "sub"));
      return realBind(fd, address, length);
    };
    const result = listen(join(user, "sub", "other.sock"), 0o666, { uid: 65534 });
    expect(result).toBeInstanceOf(SysError);
    expect(String(result)).toContain("a stray socket may be left");
    // The stray: root's, the umask's mode, given to no one.
    const stray = lstatSync(join(rootOnly, "other.sock"));
    expect([stray.isSocket(), stray.uid, stray.mode & 0o666]).toEqual([true, 0, 0o644]);
    expect(() => lstatSync(join(user, "moved", "other.sock"))).toThrow();
  });

  test("the socket's address is the configured path (getsockname, /proc/net/unix), as sd_is_socket_unix compares it", () => {
    const path = join(dir, `address-${++serial}.sock`);
    const fd = listen(path, 0o600);
    expect(fd).toBeNumber();
    // /proc/net/unix lists each socket's inode (fstat of the socket) and its bound address.
    const inode = fstatSync(fd as number).ino;
    const line = readFileSync("/proc/net/unix", "utf8")
      .split("\n")
      .map((row) => row.trim().split(/\s+/))
      .find((fields) => fields[6] === String(inode));
    expect(line?.[7]).toBe(path);
  });

  test("a link on the way that only root could have put is followed", () => {
    const target = join(dir, `target-${++serial}`);
    mkdirSync(target, { mode: 0o755 });
    const link = join(dir, `via-${serial}`);
    symlinkSync(target, link);
    expect(listen(join(link, "app.sock"), 0o600)).toBeNumber();
    expect(lstatSync(join(target, "app.sock")).isSocket()).toBe(true);
  });

  test("a path that does not end in a name is refused", () => {
    expect(String(listen(`${dir}/`, 0o600))).toContain("the path must end in a file name");
  });
});
