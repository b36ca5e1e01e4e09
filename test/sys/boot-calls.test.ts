// The system calls of the switch to the real root, for real: pread of a file, lstat, statfs,
// and the kernel's uevents (a write to a device's `uevent` file makes the kernel send one).
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, symlinkSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { linuxSys } from "../../src/sys/linux-sys.ts";
import { listenUevents } from "../../src/sys/uevent-socket.ts";
import { SysError, type Uevent } from "../../src/sys/sys.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "tsinit-boot-calls-"));
  dirs.push(dir);
  return dir;
}

test("readAt reads a range, and fewer bytes at the end", () => {
  const file = join(scratch(), "disk");
  writeFileSync(file, Buffer.from("0123456789"));
  expect(Buffer.from(linuxSys.readAt(file, 2, 3) as Uint8Array).toString()).toBe("234");
  expect(Buffer.from(linuxSys.readAt(file, 8, 10) as Uint8Array).toString()).toBe("89");
  const missing = linuxSys.readAt(join(scratch(), "none"), 0, 1);
  expect(missing).toBeInstanceOf(SysError);
  expect((missing as SysError).code).toBe("ENOENT");
});

test("lstat tells files, directories and links apart, with their device", () => {
  const dir = scratch();
  writeFileSync(join(dir, "f"), "abc");
  mkdirSync(join(dir, "d"));
  symlinkSync("f", join(dir, "l"));
  const file = linuxSys.lstat(join(dir, "f"));
  expect(file).toMatchObject({ kind: "file", size: 3 });
  expect(linuxSys.lstat(join(dir, "d"))).toMatchObject({ kind: "directory" });
  expect(linuxSys.lstat(join(dir, "l"))).toMatchObject({ kind: "symlink" });
  expect((linuxSys.lstat("/proc/self") as { device: number }).device).not.toBe((file as { device: number }).device);
  expect(linuxSys.unlink(join(dir, "l"))).toBeUndefined();
  expect(linuxSys.rmdir(join(dir, "d"))).toBeUndefined();
  expect((linuxSys.rmdir(join(dir, "d")) as SysError).code).toBe("ENOENT");
});

test("filesystemType is statfs's f_type", () => {
  expect(linuxSys.filesystemType("/proc")).toBe(0x9fa0); // PROC_SUPER_MAGIC
  expect(linuxSys.filesystemType("/sys")).toBe(0x62656572); // SYSFS_MAGIC
  expect((linuxSys.filesystemType("/no/such/path") as SysError).code).toBe("ENOENT");
});

test("loadModule of a file that is not a module fails with the kernel's errno", () => {
  const file = join(scratch(), "not-a-module.ko");
  writeFileSync(file, "not an ELF file");
  const error = linuxSys.loadModule(file, "");
  expect(error).toBeInstanceOf(SysError);
  // ENOEXEC for a bad image as root; EPERM without CAP_SYS_MODULE; ENOSYS from a kernel built
  // without modules (this project's CI machines). Real loads are in the qemu boot tests.
  expect(["ENOEXEC", "EPERM", "EINVAL", "ENOSYS"]).toContain((error as SysError).code);
});

test("a uevent written to a device's uevent file arrives with its fields", async () => {
  const trigger = "/sys/class/mem/null/uevent";
  if (process.getuid?.() !== 0 || !existsSync(trigger)) throw new Error("needs root and /sys (make test runs as root)");
  const events: Uevent[] = [];
  let wake = () => {};
  const listener = listenUevents(
    (event) => {
      events.push(event);
      wake();
    },
    (error) => {
      throw error;
    },
    () => {},
  );
  try {
    const seen = new Promise<void>((resolve) => {
      wake = () => {
        if (events.some((e) => e.DEVNAME === "null" && e.ACTION === "change")) resolve();
      };
    });
    // The worker binds before it reads, but the socket is bound already: nothing is missed.
    writeFileSync(trigger, "change");
    await seen;
    const event = events.find((e) => e.DEVNAME === "null")!;
    expect(event.SUBSYSTEM).toBe("mem");
    expect(event.DEVPATH).toBe("/devices/virtual/mem/null");
  } finally {
    listener.close();
  }
});
