// The real watchdog calls, on what the host has: /dev/null (no watchdog driver: the ioctls fail
// with ENOTTY, reported by name) and a plain file (the magic close's "V" is what gets written).
// The real device is exercised in qemu with softdog (test/boot/watchdog.test.ts).
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { linuxSys } from "../../src/sys/linux-sys.ts";
import { SysError } from "../../src/sys/sys.ts";

test("a device without a watchdog driver refuses the ioctls with ENOTTY, named", () => {
  const device = linuxSys.openWatchdog("/dev/null");
  if (device instanceof SysError) throw device;
  const set = device.setTimeoutSeconds(30);
  expect(set).toBeInstanceOf(SysError);
  expect((set as SysError).message).toBe("ioctl(WDIOC_SETTIMEOUT) /dev/null: ENOTTY");
  expect((device.getTimeoutSeconds() as SysError).code).toBe("ENOTTY");
  expect(device.keepAlive()?.message).toBe("ioctl(WDIOC_KEEPALIVE) /dev/null: ENOTTY");
  expect(device.close(true)).toBeUndefined();
  expect(device.keepAlive()?.code).toBe("EBADF");
});

test("a missing device is an open error with its errno", () => {
  const error = linuxSys.openWatchdog("/dev/no-such-watchdog");
  expect(error).toBeInstanceOf(SysError);
  expect((error as SysError).message).toBe("open /dev/no-such-watchdog: ENOENT");
});

test("the magic close writes V before closing; a plain close writes nothing", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsinit-watchdog-"));
  try {
    for (const disarm of [true, false]) {
      const file = join(dir, `dev-${disarm}`);
      writeFileSync(file, "");
      const device = linuxSys.openWatchdog(file);
      if (device instanceof SysError) throw device;
      expect(device.close(disarm)).toBeUndefined();
      expect(device.close(disarm)).toBeUndefined();
      expect(readFileSync(file, "utf8")).toBe(disarm ? "V" : "");
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("stall blocks the event loop: a due timer waits until it is over", async () => {
  const started = performance.now();
  let firedAt = 0;
  const fired = new Promise<void>((resolve) =>
    setTimeout(() => {
      firedAt = performance.now();
      resolve();
    }, 0),
  );
  linuxSys.stall(300);
  await fired;
  expect(firedAt - started).toBeGreaterThanOrEqual(299);
});
