// Issue 9 with the compiled tsinit as PID 1 of a PID namespace: service files and pid files
// that are hostile (a FIFO, a link to /dev/zero, a link to nothing, a link loop, settings named
// after Object.prototype's members) are reported and never stop, block or bloat PID 1.
import { afterEach, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Control, Namespace, rssKb, servicesDir, waitFor } from "./harness.ts";

let ns: Namespace | undefined;
afterEach(() => {
  ns?.kill();
  ns = undefined;
});

const SLEEPER = "type = process\ncommand = /bin/sleep 1000\n";

/** PID 1's resident memory, in kB, from the host's /proc. */

test("hostile service files are reported with their paths; the rest start and the socket answers; new files load when named", async () => {
  const { dir, work } = servicesDir({
    // Every file is named, so every one is loaded (tsinit loads on demand, as dinit does); the
    // ones that cannot be read fail when started, and boot starts without them.
    boot: "type = internal\nwaits-for = good\n" + ["proto", "getter", "long", "fifo", "zero", "dangling", "loop"].map((n) => `waits-for = ${n}\n`).join(""),
    good: SLEEPER,
    proto: `${SLEEPER}__proto__ = x\n`,
    getter: `${SLEEPER}__defineGetter__ = x\n__defineSetter__ = y\nconstructor = z\n`,
    long: `${SLEEPER}command = /bin/echo ${"x".repeat(100_000)}\n`,
  });
  execFileSync("mkfifo", [join(dir, "fifo")]);
  symlinkSync("/dev/zero", join(dir, "zero"));
  symlinkSync(join(dir, "nowhere"), join(dir, "dangling"));
  symlinkSync(join(dir, "loop"), join(dir, "loop"));
  const socket = join(work, "ctl.sock");
  ns = await Namespace.start(["--services-dir", dir, "--socket", socket]);
  const control = new Control(socket);
  await control.ready(() => ns?.log() ?? "");
  await waitFor("good to start", () => ns?.log().includes("started good"));

  const log = ns.log();
  expect(log).toContain(`${dir}/fifo: cannot be read: not a regular file (a FIFO)`);
  expect(log).toContain(`${dir}/zero: cannot be read: not a regular file (a character device)`);
  expect(log).toContain(`${dir}/dangling: cannot be read: a dangling symbolic link`);
  expect(log).toContain(`${dir}/loop: cannot be read: ELOOP`);
  expect(log).toContain(`${dir}/proto:3: __proto__: unknown setting; ignored`);
  expect(log).toContain(`${dir}/getter:3: __defineGetter__: unknown setting; ignored`);
  expect(log).toContain(`${dir}/getter:5: constructor: unknown setting; ignored`);
  expect(log).toContain(`${dir}/long:3: the line is longer than 65536 characters`);
  expect(rssKb(ns.pid1)).toBeLessThan(150_000);

  writeFileSync(join(dir, "added"), SLEEPER);
  writeFileSync(join(dir, "proto2"), `${SLEEPER}__proto__ = y\n`);
  const reload = await control.ctl("reload");
  expect(reload.code).toBe(0);
  expect((await control.status("added")).service?.name).toBe("added");
  expect((await control.status("proto2")).service?.name).toBe("proto2");

  // A loaded file changed to carry those names, and boot changed to wait for a new file: the
  // reload answers 0, says file:line of each, and the new file loads with them (before, such a
  // file made the reload answer 500 and kept every new file out).
  writeFileSync(join(dir, "good"), `${SLEEPER}__proto__ = x
__defineSetter__ = y
`);
  writeFileSync(join(dir, "fresh"), SLEEPER);
  writeFileSync(join(dir, "boot"), "type = internal\nwaits-for = good\nwaits-for = fresh\n");
  const again = await control.ctl("reload");
  expect(again.code, again.stdout + again.stderr).toBe(0);
  const listed = await control.ctl("--json", "list");
  expect((JSON.parse(listed.stdout) as { services: { name: string }[] }).services.map((s) => s.name)).toContain("fresh");
  expect(ns.log()).toContain(`${dir}/good:3: __proto__: unknown setting; ignored`);
  expect(ns.log()).toContain(`${dir}/good:4: __defineSetter__: unknown setting; ignored`);
  expect((await control.status("good")).service?.state).toBe("started");
}, 60_000);

test("a pid file replaced by a FIFO or a link to /dev/zero fails the service and PID 1 goes on", async () => {
  const daemon = (name: string, make: string) =>
    `type = bgprocess\npid-file = $WORK/${name}.pid\ncommand = /bin/sh -c "${make} $WORK/${name}.pid; /bin/sleep 1000 </dev/null >/dev/null 2>&1 &"\n`;
  const { dir, work } = servicesDir({
    boot: "type = internal\nwaits-for = fifo\nwaits-for = zero\nwaits-for = good\n",
    fifo: daemon("fifo", "mkfifo"),
    zero: daemon("zero", "ln -s /dev/zero"),
    good: SLEEPER,
  });
  process.env.WORK = work;
  const socket = join(work, "ctl.sock");
  ns = await Namespace.start(["--services-dir", dir, "--socket", socket]);
  const control = new Control(socket);
  await control.ready(() => ns?.log() ?? "");
  await waitFor("both daemons to fail", () => {
    const log = ns?.log() ?? "";
    return log.includes(`pid-file ${work}/fifo.pid cannot be read: not a regular file (a FIFO)`) &&
      log.includes(`pid-file ${work}/zero.pid cannot be read: not a regular file (a character device)`);
  }, 30_000).catch((e) => {
    throw new Error(`${e}\n${ns?.log()}`);
  });
  expect((await control.status("good")).service?.state).toBe("started");
  expect(rssKb(ns.pid1)).toBeLessThan(150_000);
}, 60_000);

test("a boot made up from boot.d/ with no boot file: a reload takes a new entry, never calls boot shadowed", async () => {
  const { dir, work } = servicesDir({ a: SLEEPER, b: SLEEPER, "boot.d/a": "" });
  const socket = join(work, "ctl.sock");
  ns = await Namespace.start(["--services-dir", dir, "--socket", socket]);
  const control = new Control(socket);
  await control.ready(() => ns?.log() ?? "");
  await waitFor("a to start", () => /started a$/m.test(ns?.log() ?? ""));
  expect((await control.status("boot")).service?.file).toBe(`${dir}/boot.d`);

  // Before, boot was taken for a service added at run time: "shadowed", and b never loaded.
  writeFileSync(join(dir, "boot.d", "b"), "");
  const reload = await control.ctl("--json", "reload");
  expect(reload.code, reload.stdout + reload.stderr).toBe(0);
  expect(JSON.parse(reload.stdout).reload).toEqual({ added: ["b"], changed: ["boot"], removed: [], pending: ["boot"], shadowed: [], kept: [] });
  // As any running service that changed, boot takes its new description once stopped: started
  // again, it waits for b too.
  expect((await control.ctl("stop", "boot")).code).toBe(0);
  expect((await control.ctl("start", "boot")).code).toBe(0);
  expect((await control.status("b")).service?.state).toBe("started");
  expect((await control.ctl("dependents", "b")).stdout).toContain("boot");
}, 60_000);
