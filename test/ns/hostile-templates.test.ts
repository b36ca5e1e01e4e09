// A template that names two instances of itself (`waits-for = t@${1}a`, `waits-for = t@${1}b`)
// reaches twice as many names at each step. Before the template limits, loading it blocked PID 1
// (the socket stopped answering, SIGTERM did nothing) while it grew by 70 MB a second. Now the
// compiled tsinit, as PID 1 of a PID namespace and as `tsinit check`, ends it with an error at
// the template's line and goes on.
import { afterEach, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Control, Namespace, rssKb, run, servicesDir, TSINIT, waitFor } from "./harness.ts";

let ns: Namespace | undefined;
afterEach(() => {
  ns?.kill();
  ns = undefined;
});

const SLEEPER = "type = process\ncommand = /bin/sleep 1000\n";
const DOUBLING = "waits-for = t@${1}a\nwaits-for = t@${1}b\n";

/** The most resident memory PID 1 has had (VmHWM), in kB, from the host's /proc: a load's peak is over by the time it is asked. */
function peakKb(pid: number): number {
  const kb = /^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  if (kb === undefined) throw new Error(`no VmHWM for pid ${pid}`);
  return Number(kb);
}

const pastLimit = (dir: string) => new RegExp(`${dir}/t:[12]: waits-for: "t@x[ab]+" is not loaded: the template ${dir}/t has 1000 instances loaded \\(the limit is 1000\\); "t@x[ab]*" starts without it`);

test("initctl start of a doubling template: an error at its line, the socket answers, other services start, a reload too", async () => {
  const { dir, work } = servicesDir({ boot: "type = internal\nwaits-for = good\n", good: SLEEPER, t: DOUBLING, later: SLEEPER });
  const socket = join(work, "ctl.sock");
  ns = await Namespace.start(["--services-dir", dir, "--socket", socket]);
  const control = new Control(socket);
  await control.ready(() => ns?.log() ?? "");
  await waitFor("good to start", () => ns?.log().includes("started good"));

  const start = await control.ctl("start", "t@x");
  expect(start.code, start.stdout + start.stderr + ns.log()).toBe(0);
  expect(ns.log()).toMatch(pastLimit(dir));
  expect(ns.log()).toContain(`${dir}/t: 1000 more names of instances of this template past its limit are not shown`);
  expect((await control.status("t@x")).service?.state).toBe("started");

  // The template has its 1000 instances: another is refused with why, and a plain file still loads.
  const another = await control.ctl("start", "t@y");
  expect(another.code).not.toBe(0);
  expect(another.stdout + another.stderr).toContain(`"t@y" is not loaded: the template ${dir}/t has 1000 instances loaded (the limit is 1000)`);
  expect((await control.ctl("start", "later")).code).toBe(0);
  expect((await control.status("good")).service?.state).toBe("started");

  // A reload reads the 1000 instances again and stays at the limit.
  writeFileSync(join(dir, "fresh"), SLEEPER);
  writeFileSync(join(dir, "boot"), "type = internal\nwaits-for = good\nwaits-for = fresh\n");
  const reload = await control.ctl("reload");
  expect(reload.code, reload.stdout + reload.stderr).toBe(0);
  const listed = JSON.parse((await control.ctl("--json", "list")).stdout) as { services: { name: string }[] };
  expect(listed.services.filter((s) => s.name.startsWith("t@")).length).toBe(1000);
  expect(listed.services.map((s) => s.name)).toContain("fresh");
  // The 1000 instances cost PID 1 some 30 MB; without the limit it passed 800 MB in 10 s.
  expect(rssKb(ns.pid1)).toBeLessThan(200_000);
}, 60_000);

test("a boot that reaches a doubling template loads 1000 of it, says where, and starts the rest", async () => {
  const { dir, work } = servicesDir({ boot: "type = internal\nwaits-for = t@x\nwaits-for = good\n", good: SLEEPER, t: DOUBLING });
  const socket = join(work, "ctl.sock");
  ns = await Namespace.start(["--services-dir", dir, "--socket", socket]);
  const control = new Control(socket);
  await control.ready(() => ns?.log() ?? "");
  await waitFor("good to start", () => ns?.log().includes("started good"));
  expect(ns.log()).toMatch(pastLimit(dir));
  expect((await control.status("t@x")).service?.state).toBe("started");
  expect(rssKb(ns.pid1)).toBeLessThan(200_000);
}, 60_000);

test("a boot that loads a doubling template with a 60 KB command word stops at the byte budget with PID 1's peak well under 200 MB", async () => {
  // `after` loads t@x and what it reaches without starting them. The load is charged 60 KB for
  // each instance and stops at LIMITS.bytesPerLoad (280 instances). Measured: PID 1's VmHWM was
  // 779 MB when each instance read and parsed the template again (its 60,000-character word built
  // one character at a time and kept as a rope of 60,000 pieces, 280 times); 44 MB with the
  // template read and lexed once per load and the word shared by its instances.
  const big = `type = process\nwaits-for = t@\${1}a\nwaits-for = t@\${1}b\ncommand = /bin/true ${"y".repeat(60_000)}\n`;
  const { dir, work } = servicesDir({ boot: "type = internal\nwaits-for = good\nafter = t@x\n", good: SLEEPER, t: big });
  const socket = join(work, "ctl.sock");
  ns = await Namespace.start(["--services-dir", dir, "--socket", socket]);
  const control = new Control(socket);
  await control.ready(() => ns?.log() ?? "");
  await waitFor("good to start", () => ns?.log().includes("started good"));
  expect(ns.log()).toMatch(new RegExp(`${dir}/t:[23]: waits-for: "t@x[ab]+" is not loaded: this load has read \\d+ bytes of service descriptions \\(the limit is 16777216\\)`));
  expect(peakKb(ns.pid1)).toBeLessThan(200_000);
  const status = await control.status("t@x");
  expect(status.service?.state).toBe("stopped");
  expect(status.service?.command?.[1]?.length).toBe(60_000);
}, 60_000);

test("tsinit check on a doubling template exits 1 with the template's line and the limit", async () => {
  const { dir } = servicesDir({ t: DOUBLING });
  const result = await run([TSINIT, "check", "-d", dir, "t@x"]);
  expect(result.code).toBe(1);
  expect(result.stdout).toMatch(new RegExp(`^error: ${pastLimit(dir).source}$`, "m"));
  expect(result.stdout).toContain(`error: ${dir}/t: 1000 more names of instances of this template past its limit are not shown\n`);
  expect(result.stdout).toContain(`1000 services loaded from ${dir} (t@x): 2 errors, 0 warnings\n`);
});
