// socket-listen's socket against the real kernel, as root: the mode and owner reach the socket
// node tsinit bound, and never a file a user puts in its place. The user's move is made inside
// the window itself (between bind and listen, through the libc binding), so the race is
// deterministic. Run with `bun test test/sys` (as root here).
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { linkSync, lstatSync, mkdtempSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listenUnix } from "../../src/sys/activation-socket.ts";
import { libc } from "../../src/sys/libc.ts";
import { SysError } from "../../src/sys/sys.ts";

const dir = mkdtempSync(join(tmpdir(), "tsinit-activation-"));
const realListen = libc.listen;
/** The binding's listen, replaceable here (the FFI symbols are plain writable properties). */
const bindings = libc as unknown as { listen: (fd: number, backlog: number) => number };
const opened: number[] = [];
let serial = 0;

afterEach(() => {
  bindings.listen = realListen;
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
});
