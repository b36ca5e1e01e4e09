// The template limits on an on-demand load count what the running supervisor has from a tally
// kept up to date as services come and go, not by counting every loaded service again on each
// load (20,000 loads one by one spent 11.1 s of 13.5 s doing that). The limits and their
// messages are what counting them all gives, after unload, add-dep and reload too.
import { describe, expect, it } from "vitest";
import { Log } from "../../src/log/log.ts";
import { ServiceDirectories } from "../../src/service-loading.ts";
import { TEMPLATE_LIMITS } from "../../src/config/template-limits.ts";
import { FakeRuntime } from "./fakes/fake-runtime.ts";

const D = "/etc/tsinit.d";

function setUp(files: Record<string, string>): { rt: FakeRuntime; dirs: ServiceDirectories; steps: () => number; reset: () => void } {
  const rt = new FakeRuntime([]);
  rt.sys.dirs.add(D);
  for (const [name, text] of Object.entries(files)) rt.sys.files.set(`${D}/${name}`, text);
  let steps = 0;
  const dirs = new ServiceDirectories(rt.sys, new Log(rt.machine.sink, { consoleThreshold: 7, kernelConsoleLevel: 0 }), [D], () => void steps++);
  dirs.attach(rt.supervisor);
  return { rt, dirs, steps: () => steps, reset: () => void (steps = 0) };
}

describe("the template tally of on-demand loads", () => {
  it("the k-th on-demand load costs steps for what it loads, not for all that is loaded", () => {
    // 3,000 plain services and 900 instances, loaded one by one as `initctl start` would. Each
    // load adds one service that reaches nothing: a few steps (the cycle search, the tally).
    // Counting every loaded service on each load took k steps at the k-th.
    const n = 3000;
    const files: Record<string, string> = { "t@": "type = internal\n" };
    for (let i = 0; i < n; i++) files[`s${i}`] = "type = internal\n";
    const { rt, dirs, steps, reset } = setUp(files);
    let most = 0;
    for (let i = 0; i < n; i++) {
      for (const name of i % 10 < 3 ? [`s${i}`, `t@${i}`] : [`s${i}`]) {
        reset();
        expect(dirs.ensure(name)).toEqual({ kind: "loaded" });
        most = Math.max(most, steps());
      }
    }
    expect(rt.set.list()).toHaveLength(n + 900);
    expect(most).toBeLessThanOrEqual(10);
  });

  it("the instance limit and its message are as before, and an unloaded instance frees its place", () => {
    const { rt, dirs } = setUp({ "t@": "type = internal\n" });
    for (let i = 0; i < TEMPLATE_LIMITS.instances; i++) expect(dirs.ensure(`t@${i}`)).toEqual({ kind: "loaded" });
    const refused = dirs.ensure("t@last");
    expect(refused.kind).toBe("failed");
    expect(JSON.stringify(refused)).toContain(`the template ${D}/t@ has 1000 instances loaded (the limit is 1000)`);
    expect(rt.supervisor.unload("t@7")).toBeUndefined();
    expect(dirs.ensure("t@last")).toEqual({ kind: "loaded" });
    expect(dirs.ensure("t@one-more").kind).toBe("failed");
  });

  it("names added with add-dep, dropped with rm-dep and changed by reload count as counting every service would", () => {
    // Each instance names 20 services: 500 instances name the limit of 10,000.
    const names = Array.from({ length: 20 }, (_, i) => `waits-for = p${i}\n`).join("");
    const files: Record<string, string> = { "t@": `type = internal\n${names}` };
    for (let i = 0; i <= 20; i++) files[`p${i}`] = "type = internal\n";
    const { rt, dirs } = setUp(files);
    const refusal = (name: string): string => JSON.stringify(dirs.ensure(name));
    const atNames = (n: number): string => `the instances of the template ${D}/t@ name ${n} services between them (the limit is 10000)`;
    for (let i = 0; i < 500; i++) expect(dirs.ensure(`t@${i}`)).toEqual({ kind: "loaded" });
    expect(refusal("t@x")).toContain(atNames(10_000));
    expect(rt.supervisor.removeDependency("t@0", "waits-for", "p0")).toBeUndefined();
    expect(dirs.ensure("t@x")).toEqual({ kind: "loaded" });
    expect(refusal("t@y")).toContain(atNames(10_019));
    expect(rt.supervisor.unload("t@x")).toBeUndefined();
    expect(dirs.ensure("p20")).toEqual({ kind: "loaded" });
    expect(rt.supervisor.addDependency("t@1", "waits-for", "p20")).toBeUndefined();
    expect(refusal("t@y")).toContain(atNames(10_000));
    // A full reload reads the files again: t@0 names p0 again, t@1 no longer names p20.
    dirs.reload();
    expect(rt.set.get("t@0")?.spec.waitsFor).toContain("p0");
    expect(rt.set.get("t@1")?.spec.waitsFor).not.toContain("p20");
    expect(refusal("t@y")).toContain(atNames(10_000));
    expect(rt.supervisor.unload("t@2")).toBeUndefined();
    expect(dirs.ensure("t@y")).toEqual({ kind: "loaded" });
  });
});
