// linuxSys.spawn's log files against the real kernel, as root: a user who owns a directory on
// the way to a log file cannot make root open, truncate, chown or chmod a file elsewhere, and a
// link root put in its own directory is still followed. Run with `bun test test/sys` (as root).
import { afterAll, describe, expect, test } from "bun:test";
import { chownSync, closeSync, openSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { linuxSys } from "../../src/sys/linux-sys.ts";
import type { SpawnResult } from "../../src/sys/sys.ts";

const ALICE = 1000;
// Under /tmp (sticky, writable by all), but root's own directory there: only root could have
// put it, so the way to alice's directory is root's and only her directory is hers.
const shared = mkdtempSync(join(tmpdir(), "tsinit-logfile-"));
// Under /run (root's, 755): this one is root's alone all the way from /.
const rootOnly = mkdtempSync("/run/tsinit-logfile-");
afterAll(() => {
  rmSync(shared, { recursive: true, force: true });
  rmSync(rootOnly, { recursive: true, force: true });
});
let serial = 0;

async function reap(pid: number): Promise<void> {
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    if (linuxSys.reap().reaped.some((r) => r.pid === pid)) return;
    await Bun.sleep(delay);
  }
}

/** Runs `echo logged` with its output to `path` (owner uid/gid `owner`); the spawn's result. */
async function logTo(path: string, append: boolean, owner = ALICE): Promise<SpawnResult> {
  const result = linuxSys.spawn({
    argv: ["/bin/sh", "-c", "echo logged"],
    env: { PATH: "/usr/bin:/bin" },
    stdin: { kind: "null" },
    stdout: { kind: "file", path, append, uid: owner, gid: owner },
  });
  if (result.ok) await reap(result.pid);
  return result;
}

/** A root-only directory holding root's secret file, and alice's home beside it. */
function scene(): { secret: string; home: string } {
  const base = join(shared, `scene-${++serial}`);
  mkdirSync(join(base, "rootdir"), { recursive: true, mode: 0o700 });
  const secret = join(base, "rootdir/svc.log");
  writeFileSync(secret, "root's secret\n", { mode: 0o600 });
  const home = join(base, "home/alice");
  mkdirSync(home, { recursive: true, mode: 0o755 });
  chownSync(home, ALICE, ALICE);
  return { secret, home };
}

function expectUntouched(secret: string): void {
  const stat = statSync(secret);
  expect([stat.uid, stat.gid, stat.mode & 0o7777]).toEqual([0, 0, 0o600]);
  expect(readFileSync(secret, "utf8")).toBe("root's secret\n");
}

describe("a log file in a directory a user may change", () => {
  for (const append of [false, true]) {
    test(`a parent directory swapped for a link to a root-only one is not followed (append ${append})`, async () => {
      const { secret, home } = scene();
      // alice replaces her logs directory with a link to the root-only directory.
      symlinkSync(join(secret, ".."), join(home, "logs"));
      const result = await logTo(join(home, "logs/svc.log"), append);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(`${result.error}`).toMatch(/ELOOP/);
      expectUntouched(secret);
    });
  }

  test("a link alice put in the log file's place is not followed, with root's way to her directory", async () => {
    const { secret, home } = scene();
    symlinkSync(secret, join(home, "svc.log"));
    const result = await logTo(join(home, "svc.log"), false);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(`${result.error}`).toMatch(/ELOOP/);
    expectUntouched(secret);
  });

  test("a root file alice moved into her own directory is neither truncated nor given to her", async () => {
    const { secret, home } = scene();
    mkdirSync(join(home, "logs"));
    chownSync(join(home, "logs"), ALICE, ALICE);
    const moved = join(home, "logs/svc.log");
    writeFileSync(moved, "root's secret\n", { mode: 0o600 });
    const result = await logTo(moved, false);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(`${result.error}`).toMatch(/EPERM/);
    expectUntouched(moved);
    expectUntouched(secret);
  });

  test("alice's own log file is truncated and written; a new one is made hers", async () => {
    const { home } = scene();
    mkdirSync(join(home, "logs"));
    chownSync(join(home, "logs"), ALICE, ALICE);
    const own = join(home, "logs/own.log");
    writeFileSync(own, "old\n", { mode: 0o644 });
    chownSync(own, ALICE, ALICE);
    expect((await logTo(own, false)).ok).toBe(true);
    expect(readFileSync(own, "utf8")).toBe("logged\n");
    expect(statSync(own).mode & 0o7777).toBe(0o600);
    const fresh = join(home, "logs/new.log");
    expect((await logTo(fresh, true)).ok).toBe(true);
    const stat = statSync(fresh);
    expect([stat.uid, stat.gid, stat.mode & 0o7777]).toEqual([ALICE, ALICE, 0o600]);
  });
});

describe("a log file in root's own directories", () => {
  test("links root put there are followed, for the directory and for the file", async () => {
    mkdirSync(join(rootOnly, "real"));
    symlinkSync("real", join(rootOnly, "dirlink"));
    expect((await logTo(join(rootOnly, "dirlink/a.log"), true)).ok).toBe(true);
    expect(statSync(join(rootOnly, "real/a.log")).uid).toBe(ALICE);
    symlinkSync(join(rootOnly, "real/b.log"), join(rootOnly, "filelink.log"));
    writeFileSync(join(rootOnly, "real/b.log"), "");
    expect((await logTo(join(rootOnly, "filelink.log"), true)).ok).toBe(true);
    expect(readFileSync(join(rootOnly, "real/b.log"), "utf8")).toBe("logged\n");
  });

  test("/dev/fd/N, through /dev's and /proc's links and /proc's magic one, reaches the open file", async () => {
    const target = join(rootOnly, "fd-target.log");
    const fd = openSync(target, "w", 0o600);
    try {
      expect((await logTo(`/dev/fd/${fd}`, true)).ok).toBe(true);
      expect(readFileSync(target, "utf8")).toBe("logged\n");
    } finally {
      closeSync(fd);
    }
    expect((await logTo("/dev/null", false, 0)).ok).toBe(true);
  });
});
