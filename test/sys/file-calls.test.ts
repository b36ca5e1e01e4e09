// src/sys/file-calls.ts (files through libc) against the real kernel, with node:fs as the
// oracle: the same answers, and failures as SysErrors named by their errno. Run with
// `bun test test/sys`.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dlopen, FFIType } from "bun:ffi";
import { decodeDeviceNumber, encodeDeviceNumber } from "../../src/base/device-number.ts";
import * as calls from "../../src/sys/file-calls.ts";
import { fsError } from "../../src/sys/call-errors.ts";
import { writeOffThread } from "../../src/sys/aio-write.ts";
import { consoleSink } from "../../src/sys/log-sink.ts";
import { SysError } from "../../src/sys/sys.ts";
import { refuseBlockingWrites } from "../unit/fakes/node-sink-files.ts";

const dir = fs.mkdtempSync(join(tmpdir(), "tsinit-file-calls-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function thrown(call: () => unknown): SysError {
  try {
    call();
  } catch (error) {
    if (error instanceof SysError) return error;
    throw new Error(`threw something else than a SysError: ${String(error)}`);
  }
  throw new Error("did not throw");
}

const fields = (stat: { dev: number; ino: number; mode: number; nlink: number; uid: number; gid: number; size: number }) => ({
  dev: stat.dev,
  ino: stat.ino,
  mode: stat.mode,
  nlink: stat.nlink,
  uid: stat.uid,
  gid: stat.gid,
  size: stat.size,
});
const kinds = (stat: calls.FileStat | fs.Stats) =>
  [stat.isFile(), stat.isDirectory(), stat.isSymbolicLink(), stat.isSocket(), stat.isFIFO(), stat.isCharacterDevice(), stat.isBlockDevice()];

describe("stat", () => {
  fs.writeFileSync(join(dir, "file"), "twelve bytes");
  fs.linkSync(join(dir, "file"), join(dir, "hard"));
  fs.symlinkSync("file", join(dir, "link"));
  execFileSync("mkfifo", [join(dir, "fifo")]);

  test("statSync, lstatSync and fstatSync give node:fs's fields and kinds", () => {
    for (const path of [join(dir, "file"), join(dir, "link"), join(dir, "fifo"), dir, "/dev/null", "/proc/self/stat"]) {
      expect([path, fields(calls.statSync(path)), kinds(calls.statSync(path))]).toEqual([path, fields(fs.statSync(path)), kinds(fs.statSync(path))]);
      expect([path, fields(calls.lstatSync(path)), kinds(calls.lstatSync(path))]).toEqual([path, fields(fs.lstatSync(path)), kinds(fs.lstatSync(path))]);
    }
    const fd = fs.openSync(join(dir, "file"), "r");
    expect(fields(calls.fstatSync(fd))).toEqual(fields(fs.fstatSync(fd)));
    fs.closeSync(fd);
    expect(calls.statSync(join(dir, "file")).nlink).toBe(2);
  });

  test("fstatSync of an O_PATH descriptor of a link is the link", () => {
    const fd = calls.openSync(join(dir, "link"), calls.constants.O_PATH | calls.constants.O_NOFOLLOW | calls.constants.O_CLOEXEC);
    expect(calls.fstatSync(fd).isSymbolicLink()).toBe(true);
    calls.closeSync(fd);
  });

  test("a missing file is ENOENT, with the call and the path", () => {
    const error = thrown(() => calls.lstatSync(join(dir, "missing")));
    expect([error.call, error.errno, error.code, error.path]).toEqual(["lstat", 2, "ENOENT", join(dir, "missing")]);
    expect(fsError("lstat", "x", error).message).toBe("lstat x: ENOENT");
  });
});

describe("device numbers", () => {
  // glibc's own makedev(), major() and minor() (exported as gnu_dev_*), the oracle for the one
  // layout src/base/device-number.ts writes out.
  const glibc = dlopen("libc.so.6", {
    gnu_dev_makedev: { args: [FFIType.u32, FFIType.u32], returns: FFIType.u64 },
    gnu_dev_major: { args: [FFIType.u64], returns: FFIType.u32 },
    gnu_dev_minor: { args: [FFIType.u64], returns: FFIType.u32 },
  }).symbols;
  const pairs = [[1, 3], [8, 1], [259, 0], [4095, 1048575], [511, 1048575], [0, 1048577], [4096, 1], [4096, 0], [65535, 255], [2 ** 21 - 1, 2 ** 32 - 1]] as const;

  test("encodeDeviceNumber and decodeDeviceNumber are glibc's makedev, major and minor", () => {
    for (const [major, minor] of pairs) {
      const dev = Number(glibc.gnu_dev_makedev(major, minor));
      expect([major, minor, encodeDeviceNumber(major, minor)]).toEqual([major, minor, dev]);
      expect(decodeDeviceNumber(dev)).toEqual({ major: glibc.gnu_dev_major(BigInt(dev)), minor: glibc.gnu_dev_minor(BigInt(dev)) });
    }
  });

  test("a statx's stx_dev_major and stx_dev_minor become the dev glibc's makedev gives", () => {
    for (const [major, minor] of pairs) {
      const bytes = new Uint8Array(256);
      const view = new DataView(bytes.buffer);
      view.setUint32(136, major, true);
      view.setUint32(140, minor, true);
      expect([major, minor, calls.fileStatOfStatx(bytes).dev]).toEqual([major, minor, Number(glibc.gnu_dev_makedev(major, minor))]);
    }
  });

  test("every mounted filesystem's dev is node:fs's, and its MAJOR:MINOR is /proc/self/mountinfo's", () => {
    // The last mount at a path is the one stat sees. btrfs gives each subvolume an anonymous
    // device of its own, which mountinfo does not show, so only its dev is compared.
    const mounts = new Map<string, { majorMinor: string; fstype: string }>();
    for (const line of fs.readFileSync("/proc/self/mountinfo", "utf8").trim().split("\n")) {
      const fields = line.split(" ");
      const fstype = fields[fields.indexOf("-") + 1]!;
      mounts.set(fields[4]!.replace(/\\040/g, " "), { majorMinor: fields[2]!, fstype });
    }
    let compared = 0;
    for (const [point, { majorMinor, fstype }] of mounts) {
      let stat: calls.FileStat;
      try {
        stat = calls.statSync(point);
      } catch {
        continue; // a mount point this process may not reach
      }
      expect([point, stat.dev]).toEqual([point, fs.statSync(point).dev]);
      if (fstype === "btrfs") continue;
      const { major, minor } = decodeDeviceNumber(stat.dev);
      expect([point, `${major}:${minor}`]).toEqual([point, majorMinor]);
      compared++;
    }
    expect(compared).toBeGreaterThan(0);
  });
});


test("the open flags that differ between architectures are the platform's", () => {
  const ours: Record<string, number> = calls.constants;
  for (const name of ["O_NOFOLLOW", "O_DIRECTORY", "O_APPEND", "O_NONBLOCK", "O_CREAT", "O_EXCL", "O_NOCTTY", "O_TRUNC", "X_OK", "R_OK"] as const) {
    expect([name, ours[name]]).toEqual([name, fs.constants[name]]);
  }
});

test("open, write, pwrite, read, pread, ftruncate and close", () => {
  const path = join(dir, "rw");
  const { O_RDWR, O_CREAT, O_EXCL, O_CLOEXEC } = calls.constants;
  const fd = calls.openSync(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600);
  expect(calls.writeSync(fd, "héllo wörld")).toBe(13);
  expect(calls.writeSync(fd, new TextEncoder().encode("HELLO"), 0, 5, 0)).toBe(5);
  expect(calls.writeSync(fd, new TextEncoder().encode("xx!"), 2)).toBe(1);
  const buffer = Buffer.alloc(32);
  expect(calls.readSync(fd, buffer, 0, 32, 0)).toBe(14);
  expect(buffer.toString("utf8", 0, 14)).toBe("HELLOo wörld!"); // HELLO over "héll": é is two bytes
  expect(calls.readSync(fd, buffer, 4, 3, 7)).toBe(3);
  expect(buffer.toString("utf8", 4, 7)).toBe("wö");
  expect(calls.readSync(fd, buffer)).toBe(0); // at the end after the writes
  calls.ftruncateSync(fd, 5);
  calls.fchmodSync(fd, 0o640);
  expect(fs.statSync(path).mode & 0o777).toBe(0o640);
  expect(fs.readFileSync(path, "utf8")).toBe("HELLO");
  calls.closeSync(fd);
  expect(thrown(() => calls.closeSync(fd)).code).toBe("EBADF");
  expect(thrown(() => calls.openSync(path, O_RDWR | O_CREAT | O_EXCL)).code).toBe("EEXIST");
});

test("readFileSync reads files that tell no size, writeFileSync replaces", () => {
  expect(calls.readFileSync("/proc/self/stat", "latin1")).toMatch(/^\d+ \(/);
  const big = "x".repeat(200_000);
  calls.writeFileSync(join(dir, "big"), big);
  expect(calls.readFileSync(join(dir, "big"), "utf8")).toBe(big);
  calls.writeFileSync(join(dir, "big"), new TextEncoder().encode("ü"));
  expect(calls.readFileSync(join(dir, "big"), "utf8")).toBe("ü");
  expect(thrown(() => calls.readFileSync(dir, "utf8")).code).toBe("EISDIR");
});

test("readdirSync lists what node:fs lists, past one getdents64 buffer", () => {
  const many = join(dir, "many");
  fs.mkdirSync(many);
  for (let i = 0; i < 600; i++) fs.writeFileSync(join(many, `entry-${i}-${"n".repeat(60)}`), "");
  fs.writeFileSync(join(many, "ünïcode"), "");
  expect(calls.readdirSync(many).sort()).toEqual(fs.readdirSync(many).sort());
  expect(calls.readdirSync(many)).toHaveLength(601);
  expect(thrown(() => calls.readdirSync(join(many, "ünïcode"))).code).toBe("ENOTDIR");
});

test("mkdirSync makes the way, leaves a directory, refuses a file", () => {
  calls.mkdirSync(join(dir, "a/b/c"), { mode: 0o750, recursive: true });
  expect(fs.statSync(join(dir, "a/b/c")).isDirectory()).toBe(true);
  expect(fs.statSync(join(dir, "a/b")).mode & 0o777).toBe(0o750 & ~process.umask());
  calls.mkdirSync(join(dir, "a/b/c"), { recursive: true });
  calls.mkdirSync(join(dir, "a/b/"), { recursive: true });
  expect(thrown(() => calls.mkdirSync(join(dir, "file"), { recursive: true })).code).toBe("EEXIST");
  expect(thrown(() => calls.mkdirSync(join(dir, "file/sub"), { recursive: true })).code).toBe("ENOTDIR");
});

test("links, rename, unlink, access, chmod, chown", () => {
  calls.symlinkSync("../target", join(dir, "sym"));
  expect(calls.readlinkSync(join(dir, "sym"))).toBe("../target");
  expect(thrown(() => calls.readlinkSync(join(dir, "file"))).code).toBe("EINVAL");
  expect(calls.existsSync(join(dir, "sym"))).toBe(false); // followed: ../target is missing
  calls.renameSync(join(dir, "sym"), join(dir, "sym2"));
  expect(fs.readlinkSync(join(dir, "sym2"))).toBe("../target");
  calls.unlinkSync(join(dir, "sym2"));
  expect(thrown(() => calls.unlinkSync(join(dir, "sym2"))).code).toBe("ENOENT");
  calls.writeFileSync(join(dir, "mode"), "");
  calls.chmodSync(join(dir, "mode"), 0o700);
  expect(() => calls.accessSync(join(dir, "mode"), calls.constants.X_OK)).not.toThrow();
  calls.chmodSync(join(dir, "mode"), 0o600);
  expect(fs.statSync(join(dir, "mode")).mode & 0o7777).toBe(0o600);
  expect(calls.existsSync(join(dir, "mode"))).toBe(true);
  const { uid, gid } = fs.statSync(join(dir, "mode"));
  calls.chownSync(join(dir, "mode"), -1, -1);
  const fd = calls.openSync(join(dir, "mode"), calls.constants.O_RDONLY);
  calls.fchownSync(fd, uid, gid);
  calls.closeSync(fd);
  expect(fields(fs.statSync(join(dir, "mode")))).toMatchObject({ uid, gid });
  if (process.getuid?.() !== 0) expect(thrown(() => calls.chownSync(join(dir, "mode"), 0, 0)).code).toBe("EPERM");
});

test("the console sink on libc's calls: a pipe nobody reads never blocks it", () => {
  execFileSync("mkfifo", [join(dir, "console")]);
  const reader = fs.openSync(join(dir, "console"), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const writer = fs.openSync(join(dir, "console"), fs.constants.O_WRONLY);
  const retries: (() => void)[] = [];
  const files = { openSync: calls.openSync, writeSync: calls.writeSync, closeSync: calls.closeSync, fstatSync: calls.fstatSync, writeLater: writeOffThread };
  const watched = refuseBlockingWrites(files);
  const sink = consoleSink({ kmsg: false, fd: writer, files: watched.files, retryLater: (_ms, retry) => void retries.push(retry) });
  const lines = 5_000;
  for (let i = 0; i < lines; i++) sink.console(`line ${i} ${"x".repeat(60)}`);
  // Every write went to a non-blocking description libc opened, none to the blocking one, and
  // at most one a line.
  expect(watched.counts.blocking).toBe(0);
  expect(watched.counts.nonBlocking).toBeGreaterThan(0);
  expect(watched.counts.nonBlocking).toBeLessThanOrEqual(lines);
  let read = "";
  const buffer = Buffer.alloc(1 << 16);
  for (let round = 0; round < 100 && !read.includes("dropped"); round++) {
    for (let n; (n = (() => { try { return fs.readSync(reader, buffer); } catch { return 0; } })()) > 0; ) read += buffer.toString("utf8", 0, n);
    retries.splice(0).forEach((retry) => retry());
  }
  expect(read).toMatch(/tsinit: \d+ log lines dropped: the console did not take them\n/);
  fs.closeSync(reader);
  fs.closeSync(writer);
});
