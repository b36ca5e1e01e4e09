// The template limits on an on-demand load count what the running supervisor has from a tally
// kept up to date as services come and go, not by counting every loaded service again on each
// load (20,000 loads one by one spent 11.1 s of 13.5 s doing that). The limits and their
// messages are what counting them all gives, after unload, add-dep and reload too.
import { describe, expect, it } from "vitest";
import { Log } from "../../src/log/log.ts";
import { ServiceDirectories } from "../../src/service-loading.ts";
import { isTemplateFile, referencedNames, TEMPLATE_LIMITS, type TemplateTally } from "../../src/config/template-limits.ts";
import { parseService } from "../../src/config/parse.ts";
import { FakeRuntime } from "./fakes/fake-runtime.ts";

const D = "/etc/tsinit.d";

function setUp(files: Record<string, string>): { rt: FakeRuntime; dirs: ServiceDirectories; steps: () => number; reset: () => void; bump: () => void } {
  const rt = new FakeRuntime([]);
  rt.sys.dirs.add(D);
  for (const [name, text] of Object.entries(files)) rt.sys.files.set(`${D}/${name}`, text);
  let steps = 0;
  const dirs = new ServiceDirectories(rt.sys, new Log(rt.machine.sink, { consoleThreshold: 7, kernelConsoleLevel: 0 }), [D], () => void steps++);
  dirs.attach(rt.supervisor);
  return { rt, dirs, steps: () => steps, reset: () => void (steps = 0), bump: () => void steps++ };
}

/**
 * Make every read of a loaded service's description count as a step: any work over all loaded
 * services (a recount of the template instances reads each one's name and file) registers,
 * whichever way it is done.
 */
function countSpecReads(rt: FakeRuntime, name: string, onRead: () => void): void {
  const record = rt.set.get(name) as { spec: unknown } | undefined;
  if (record === undefined) throw new Error(`${name} is not loaded`);
  let spec = record.spec;
  Object.defineProperty(record, "spec", {
    get: () => (onRead(), spec),
    set: (value: unknown) => void (spec = value),
    configurable: true,
    enumerable: true,
  });
}

/** The tally counted again from every loaded service, as the loader did before it kept one. */
function recount(rt: FakeRuntime): { total: number; byFile: Record<string, { instances: number; names: number }> } {
  const byFile: Record<string, { instances: number; names: number }> = {};
  let total = 0;
  for (const { spec } of rt.set.list()) {
    if (!isTemplateFile(spec.name, spec.file)) continue;
    const entry = (byFile[spec.file] ??= { instances: 0, names: 0 });
    entry.instances += 1;
    entry.names += referencedNames(spec).length;
    total += 1;
  }
  return { total, byFile };
}

/** The kept tally, in the recount's shape, for the template files the recount or `files` name. */
function kept(rt: FakeRuntime, dirs: ServiceDirectories, files: readonly string[]): ReturnType<typeof recount> {
  const tally = (dirs as unknown as { tally: TemplateTally }).tally;
  const byFile: Record<string, { instances: number; names: number }> = {};
  for (const file of new Set([...files, ...Object.keys(recount(rt).byFile)])) {
    const use = tally.get(file);
    if (use !== undefined) byFile[file] = { instances: use.instances, names: use.names };
  }
  return { total: tally.total, byFile };
}

describe("the template tally of on-demand loads", () => {
  it("the k-th on-demand load costs steps for what it loads, not for all that is loaded", () => {
    // 3,000 plain services and 900 instances, loaded one by one as `initctl start` would. Each
    // load adds one service that reaches nothing: a few steps (the cycle search, the tally, and
    // the descriptions it reads). Counting every loaded service on each load read k
    // descriptions at the k-th.
    const n = 3000;
    const files: Record<string, string> = { "t@": "type = internal\n" };
    for (let i = 0; i < n; i++) files[`s${i}`] = "type = internal\n";
    const { rt, dirs, steps, reset, bump } = setUp(files);
    let most = 0;
    for (let i = 0; i < n; i++) {
      for (const name of i % 10 < 3 ? [`s${i}`, `t@${i}`] : [`s${i}`]) {
        reset();
        expect(dirs.ensure(name)).toEqual({ kind: "loaded" });
        most = Math.max(most, steps());
        countSpecReads(rt, name, () => void bump());
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

describe("the kept tally equals counting every loaded service again", () => {
  it("after each load, reload NAME, unload, remove, full reload, waiting description and failed load", () => {
    const T = `${D}/t@`;
    const { rt, dirs } = setUp({ "t@": "type = process\ncommand = /bin/t\nwaits-for = p0\n", p0: "type = internal\n", p1: "type = internal\n" });
    const check = (): void => expect(kept(rt, dirs, [T])).toEqual(recount(rt));
    const write = (name: string, text: string): void => void rt.sys.files.set(`${D}/${name}`, text);
    for (const name of ["t@a", "t@b", "t@c", "p1"]) {
      expect(dirs.ensure(name)).toEqual({ kind: "loaded" });
      check();
    }
    expect(recount(rt).byFile[T]).toEqual({ instances: 3, names: 3 });
    // reload NAME: t@a names two services now.
    const spec = parseService("type = process\ncommand = /bin/t\nwaits-for = p0\nwaits-for = p1\n", { name: "t@a", file: T, argument: "a" }).spec;
    if (spec === undefined) throw new Error("did not parse");
    expect(rt.supervisor.reloadService(spec)).toBeUndefined();
    check();
    expect(recount(rt).byFile[T]).toEqual({ instances: 3, names: 4 });
    expect(rt.supervisor.unload("t@b")).toBeUndefined();
    check();
    expect(rt.supervisor.remove("t@c")).toBe(true);
    check();
    expect(recount(rt).byFile[T]).toEqual({ instances: 1, names: 2 });
    // A full reload while t@a runs: its new description (three names) waits until it stops.
    expect(rt.outcome(rt.command("start", "t@a"))).toEqual([{ kind: "done" }]);
    write("t@", "type = process\ncommand = /bin/t\nwaits-for = p0\nwaits-for = p1\nafter = p0\n");
    expect(dirs.reload().pending).toEqual(["t@a"]);
    check();
    expect(recount(rt).byFile[T]).toEqual({ instances: 1, names: 2 });
    rt.stop("t@a");
    rt.exit("t@a", 0);
    expect(rt.set.get("t@a")?.pendingSpec).toBeUndefined();
    check();
    expect(recount(rt).byFile[T]).toEqual({ instances: 1, names: 3 });
    // A load that fails (a bad setting in the template) counts nothing.
    write("t@", "type = nonsense\n");
    expect(dirs.ensure("t@d").kind).toBe("failed");
    check();
    expect(recount(rt).total).toBe(1);
  });
});
