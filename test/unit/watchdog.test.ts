// The hardware watchdogs: the syntax of /etc/tsinit.conf and tsinit.watchdog=, the ioctl
// numbers, and the policy (open, timeout, pet on the clock, let go at shutdown) on a FakeSys
// and a FakeClock.
import { describe, expect, it } from "vitest";
import { parseCommandLine } from "../../src/boot/cmdline.ts";
import { mergeWatchdogRequests, petIntervalMs, Watchdogs } from "../../src/boot/watchdog.ts";
import { formatDiagnostic } from "../../src/config/diagnostic.ts";
import { parseInitConf, parseWatchdogList } from "../../src/config/init-conf.ts";
import { Log } from "../../src/log/log.ts";
import { WDIOC } from "../../src/sys/ioctl.ts";
import { FakeClock } from "./fakes/fake-clock.ts";
import { FakeSys, FakeWatchdogDriver, SysError } from "./fakes/fake-sys.ts";

describe("the watchdog list (tsinit.watchdog= and the watchdog setting)", () => {
  it("takes DEVICE[:SECONDS], comma separated, a bare name meaning /dev/NAME", () => {
    expect(parseWatchdogList("/dev/watchdog0:30,watchdog1, /dev/watchdog:5", "x")).toEqual({
      watchdogs: [
        { device: "/dev/watchdog0", timeoutSeconds: 30, from: "x" },
        { device: "/dev/watchdog1", from: "x" },
        { device: "/dev/watchdog", timeoutSeconds: 5, from: "x" },
      ],
      problems: [],
    });
  });

  it("names each bad item and keeps the good ones", () => {
    const { watchdogs, problems } = parseWatchdogList("/dev/watchdog0:0,/etc/passwd,/dev/w:abc,/dev/../etc/x,/dev/w1:65536,/dev/ok:65535", "x");
    expect(watchdogs).toEqual([{ device: "/dev/ok", timeoutSeconds: 65535, from: "x" }]);
    expect(problems).toEqual([
      '"/dev/watchdog0:0": the timeout must be whole seconds from 1 to 65535, not "0"',
      '"/etc/passwd": the device must be a path under /dev (such as /dev/watchdog0) or a name there',
      '"/dev/w:abc": the timeout must be whole seconds from 1 to 65535, not "abc"',
      '"/dev/../etc/x": the device must be a path under /dev (such as /dev/watchdog0) or a name there',
      '"/dev/w1:65536": the timeout must be whole seconds from 1 to 65535, not "65536"',
    ]);
  });

  it("says an empty value names no device", () => {
    expect(parseWatchdogList("", "x").problems).toEqual(["names no device: give DEVICE[:SECONDS], e.g. /dev/watchdog0:30"]);
  });

  it("is read from the kernel command line, each tsinit.watchdog= kept", () => {
    expect(parseCommandLine("quiet tsinit.watchdog=/dev/watchdog0:10 tsinit.watchdog=watchdog1 tsinit.watchdog").watchdog).toEqual(["/dev/watchdog0:10", "watchdog1", ""]);
    expect(parseCommandLine("quiet").watchdog).toEqual([]);
  });
});

describe("/etc/tsinit.conf", () => {
  it("reads watchdog settings, comments and blank lines", () => {
    const conf = parseInitConf("# PID 1's settings\n\nwatchdog = /dev/watchdog0:30   # the board's\nwatchdog = watchdog1, watchdog2:7\n");
    expect(conf.diagnostics).toEqual([]);
    expect(conf.watchdogs).toEqual([
      { device: "/dev/watchdog0", timeoutSeconds: 30, from: "/etc/tsinit.conf:3" },
      { device: "/dev/watchdog1", from: "/etc/tsinit.conf:4" },
      { device: "/dev/watchdog2", timeoutSeconds: 7, from: "/etc/tsinit.conf:4" },
    ]);
  });

  it("reports a bad line with file:line and setting, as a warning, and goes on", () => {
    const conf = parseInitConf('watchdg = /dev/watchdog0\nwatchdog = /dev/watchdog0:forever\nwatchdog = "unclosed\nwatchdog = /dev/watchdog1:9\n');
    expect(conf.watchdogs).toEqual([{ device: "/dev/watchdog1", timeoutSeconds: 9, from: "/etc/tsinit.conf:4" }]);
    expect(conf.diagnostics.every((d) => d.severity === "warning")).toBe(true);
    const lines = conf.diagnostics.map(formatDiagnostic);
    expect(lines[0]).toBe("/etc/tsinit.conf:1: watchdg: unknown setting (/etc/tsinit.conf knows: watchdog)");
    expect(lines[1]).toBe('/etc/tsinit.conf:2: watchdog: "/dev/watchdog0:forever": the timeout must be whole seconds from 1 to 65535, not "forever"');
    expect(lines[2]).toMatch(/^\/etc\/tsinit\.conf:3: /);
    expect(lines).toHaveLength(3);
  });

  it("lets the command line override the file's timeout for the same device", () => {
    const file = parseInitConf("watchdog = /dev/watchdog0:30, /dev/watchdog1:20").watchdogs;
    const cmdline = parseWatchdogList("/dev/watchdog0:5", "tsinit.watchdog=").watchdogs;
    expect(mergeWatchdogRequests(file, cmdline)).toEqual([
      { device: "/dev/watchdog1", timeoutSeconds: 20, from: "/etc/tsinit.conf:1" },
      { device: "/dev/watchdog0", timeoutSeconds: 5, from: "tsinit.watchdog=" },
    ]);
  });
});

describe("the watchdog ioctl numbers", () => {
  // include/uapi/linux/watchdog.h through asm-generic's _IOR/_IOWR (x86_64 and arm64 alike).
  it("are asm-generic's _IOR('W', 5|7, int) and _IOWR('W', 6, int)", () => {
    expect(WDIOC.KEEPALIVE).toBe(0x80045705);
    expect(WDIOC.SETTIMEOUT).toBe(0xc0045706);
    expect(WDIOC.GETTIMEOUT).toBe(0x80045707);
  });
});

function machine(devices: Record<string, FakeWatchdogDriver>) {
  const sys = new FakeSys();
  for (const [path, driver] of Object.entries(devices)) sys.watchdogs.set(path, driver);
  const clock = new FakeClock();
  const lines: string[] = [];
  const log = new Log({ console: (line) => void lines.push(line), kmsg: () => false }, { consoleThreshold: 7, kernelConsoleLevel: 0 });
  const pets = (path: string) => sys.calls.filter((call) => call === `watchdog ${path} keepalive`).length;
  return { sys, clock, lines, log, pets };
}

describe("Watchdogs", () => {
  it("sets the timeout, pets at once and then every third of the timeout the driver took", () => {
    const m = machine({ "/dev/watchdog0": new FakeWatchdogDriver(60) });
    const watchdogs = Watchdogs.open([{ device: "/dev/watchdog0", timeoutSeconds: 9, from: "x" }], m.sys, m.clock, m.log);
    expect(m.sys.calls).toEqual(["watchdog open /dev/watchdog0", "watchdog /dev/watchdog0 settimeout 9", "watchdog /dev/watchdog0 keepalive"]);
    expect(watchdogs.list()).toEqual([{ device: "/dev/watchdog0", timeoutSeconds: 9, intervalMs: 3000 }]);
    m.clock.advance(2999);
    expect(m.pets("/dev/watchdog0")).toBe(1);
    m.clock.advance(1);
    expect(m.pets("/dev/watchdog0")).toBe(2);
    m.clock.advance(27_000);
    expect(m.pets("/dev/watchdog0")).toBe(11);
    expect(m.lines.join("\n")).toContain("watchdog /dev/watchdog0: timeout 9 s, petted every 3000 ms");
  });

  it("pets at a third of the timeout the driver rounded to, and says so", () => {
    const m = machine({ "/dev/watchdog0": new FakeWatchdogDriver(60, 30) });
    const watchdogs = Watchdogs.open([{ device: "/dev/watchdog0", timeoutSeconds: 120, from: "x" }], m.sys, m.clock, m.log);
    expect(watchdogs.list()).toEqual([{ device: "/dev/watchdog0", timeoutSeconds: 30, intervalMs: 10_000 }]);
    expect(m.lines.join("\n")).toContain("watchdog /dev/watchdog0: asked for 120 s, the driver took 30 s");
  });

  it("keeps the driver's timeout when none is asked for", () => {
    const m = machine({ "/dev/watchdog": new FakeWatchdogDriver(60) });
    const watchdogs = Watchdogs.open([{ device: "/dev/watchdog", from: "x" }], m.sys, m.clock, m.log);
    expect(m.sys.calls.some((call) => call.includes("settimeout"))).toBe(false);
    expect(watchdogs.list()).toEqual([{ device: "/dev/watchdog", timeoutSeconds: 60, intervalMs: 20_000 }]);
  });

  it("reports a device that cannot be opened on one line with its errno, and opens the others", () => {
    const m = machine({ "/dev/watchdog1": new FakeWatchdogDriver() });
    m.sys.failOpenWatchdog.set("/dev/watchdog2", new SysError("open", 16, "EBUSY", "/dev/watchdog2"));
    const watchdogs = Watchdogs.open(
      [
        { device: "/dev/watchdog0", timeoutSeconds: 5, from: "tsinit.watchdog=" },
        { device: "/dev/watchdog2", from: "/etc/tsinit.conf:2" },
        { device: "/dev/watchdog1", timeoutSeconds: 5, from: "tsinit.watchdog=" },
      ],
      m.sys,
      m.clock,
      m.log,
    );
    expect(watchdogs.list().map((w) => w.device)).toEqual(["/dev/watchdog1"]);
    const errors = m.lines.filter((line) => line.includes("not watched"));
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain("watchdog /dev/watchdog0 (tsinit.watchdog=): open: ENOENT; not watched");
    expect(errors[1]).toContain("watchdog /dev/watchdog2 (/etc/tsinit.conf:2): open: EBUSY; not watched");
  });

  it("keeps petting a device that refuses the timeout, at the driver's own", () => {
    const driver = new FakeWatchdogDriver(60);
    driver.refuseTimeout = true;
    const m = machine({ "/dev/watchdog0": driver });
    const watchdogs = Watchdogs.open([{ device: "/dev/watchdog0", timeoutSeconds: 5, from: "x" }], m.sys, m.clock, m.log);
    expect(m.lines.join("\n")).toContain("watchdog /dev/watchdog0 (x): ioctl(WDIOC_SETTIMEOUT) 5 s: EINVAL; keeping the driver's timeout");
    expect(watchdogs.list()).toEqual([{ device: "/dev/watchdog0", timeoutSeconds: 60, intervalMs: 20_000 }]);
  });

  it("pets every second a device whose timeout cannot be read", () => {
    const driver = new FakeWatchdogDriver();
    driver.noGetTimeout = true;
    const m = machine({ "/dev/watchdog0": driver });
    expect(petIntervalMs(undefined)).toBe(1000);
    const watchdogs = Watchdogs.open([{ device: "/dev/watchdog0", from: "x" }], m.sys, m.clock, m.log);
    expect(watchdogs.list()).toEqual([{ device: "/dev/watchdog0", intervalMs: 1000 }]);
    m.clock.advance(5000);
    expect(m.pets("/dev/watchdog0")).toBe(6);
  });

  it("says once that keepalives fail, and again when they work", () => {
    const driver = new FakeWatchdogDriver(3);
    const m = machine({ "/dev/watchdog0": driver });
    Watchdogs.open([{ device: "/dev/watchdog0", timeoutSeconds: 3, from: "x" }], m.sys, m.clock, m.log);
    driver.failKeepAlive = new SysError("ioctl(WDIOC_KEEPALIVE)", 5, "EIO", "/dev/watchdog0");
    m.clock.advance(5000);
    expect(m.lines.filter((line) => line.includes("EIO"))).toHaveLength(1);
    driver.failKeepAlive = undefined;
    m.clock.advance(1000);
    expect(m.lines.filter((line) => line.includes("keepalive works again"))).toHaveLength(1);
  });

  it("opens a device named twice once", () => {
    const m = machine({ "/dev/watchdog0": new FakeWatchdogDriver() });
    Watchdogs.open([{ device: "/dev/watchdog0", timeoutSeconds: 5, from: "a" }, { device: "/dev/watchdog0", timeoutSeconds: 5, from: "b" }], m.sys, m.clock, m.log);
    expect(m.sys.calls.filter((call) => call.startsWith("watchdog open"))).toHaveLength(1);
  });

  for (const kind of ["poweroff", "halt"] as const) {
    it(`disarms every device with the magic close for a ${kind}, and pets no more`, () => {
      const first = new FakeWatchdogDriver();
      const second = new FakeWatchdogDriver();
      const m = machine({ "/dev/watchdog0": first, "/dev/watchdog1": second });
      const watchdogs = Watchdogs.open([{ device: "/dev/watchdog0", timeoutSeconds: 3, from: "x" }, { device: "/dev/watchdog1", from: "x" }], m.sys, m.clock, m.log);
      watchdogs.beforeFinalReboot(kind);
      expect(first).toMatchObject({ open: false, disarmed: true });
      expect(second).toMatchObject({ open: false, disarmed: true });
      expect(m.lines.join("\n")).toContain(`watchdog /dev/watchdog0: disarmed (magic close) for the ${kind}`);
      const calls = m.sys.calls.length;
      m.clock.advance(60_000);
      expect(m.sys.calls.length).toBe(calls);
      expect(watchdogs.list()).toEqual([]);
    });
  }

  it("keeps a device armed for a reboot, petted once more and then as before", () => {
    const driver = new FakeWatchdogDriver();
    const m = machine({ "/dev/watchdog0": driver });
    const watchdogs = Watchdogs.open([{ device: "/dev/watchdog0", timeoutSeconds: 3, from: "x" }], m.sys, m.clock, m.log);
    watchdogs.beforeFinalReboot("reboot");
    expect(driver).toMatchObject({ open: true, disarmed: false });
    expect(m.pets("/dev/watchdog0")).toBe(2);
    m.clock.advance(1000);
    expect(m.pets("/dev/watchdog0")).toBe(3);
  });
});

describe("the watchdogs in the shutdown", () => {
  async function shutDown(kind: "poweroff" | "halt" | "reboot") {
    const { FakeMachine } = await import("./fakes/fake-machine.ts");
    const { Supervisor } = await import("../../src/supervisor/supervisor.ts");
    const { shutdownMachine } = await import("../../src/shutdown/shutdown.ts");
    const runtime = new FakeMachine();
    runtime.sys.watchdogs.set("/dev/watchdog0", new FakeWatchdogDriver());
    const log = new Log(runtime.sink, { consoleThreshold: 7, kernelConsoleLevel: 0 });
    const supervisor = new Supervisor([], { runtime, log, env: {} });
    const watchdogs = Watchdogs.open([{ device: "/dev/watchdog0", timeoutSeconds: 3, from: "x" }], runtime.sys, runtime.clock, log);
    runtime.sys.files.set("/proc/mounts", "");
    let finished = false;
    const done = shutdownMachine(kind, { sys: runtime.sys, log, supervisor, beforeFinalReboot: (what) => watchdogs.beforeFinalReboot(what) }).then(() => {
      finished = true;
    });
    // The fake has no way to say "no children": the waits for them run out on the clock, and
    // the watchdog is petted all along.
    for (let i = 0; i < 30 && !finished; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      if (!finished) runtime.clock.advance(1000);
    }
    await done;
    return runtime.sys.calls;
  }

  it("pets through the whole shutdown and disarms just before the final poweroff", async () => {
    const calls = await shutDown("poweroff");
    const close = calls.indexOf("watchdog /dev/watchdog0 magic close");
    expect(close).toBeGreaterThan(calls.lastIndexOf("sync"));
    expect(calls[close + 1]).toBe("spawn busybox poweroff -f");
    expect(calls.filter((call) => call.endsWith("keepalive")).length).toBeGreaterThan(5);
  });

  it("keeps it armed for a reboot: one more keepalive just before reboot(2)", async () => {
    const calls = await shutDown("reboot");
    expect(calls.some((call) => call.includes("close"))).toBe(false);
    expect(calls.slice(-2)).toEqual(["watchdog /dev/watchdog0 keepalive", "reboot restart"]);
  });
});
