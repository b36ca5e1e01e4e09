// Cycles that add-dep and `reload NAME` would make through before/after, chain-to targets loaded
// when the chain is taken, and the spin guard on chains that end at once.
import { describe, expect, it, vi } from "vitest";
import { defaultSpec, type ServiceSpec, type ServiceType } from "../../src/base/service-spec.ts";
import { Log } from "../../src/log/log.ts";
import { ServiceDirectories } from "../../src/service-loading.ts";
import { FakeRuntime } from "./fakes/fake-runtime.ts";

const D = "/etc/tsinit.d";

function svc(name: string, type: ServiceType = "process", extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return { ...defaultSpec(name, type, `${D}/${name}`), command: [`/bin/${name}`], ...extra };
}

describe("add-dep and reload NAME refuse cycles made through before and after", () => {
  it("add-dep: a regular dependency against a `before` names the cycle", () => {
    const rt = new FakeRuntime([svc("a", "process", { before: ["b"] }), svc("b")]);
    expect(rt.supervisor.addDependency("a", "regular", "b")).toBe(
      "b already starts after a (directly or not, counting before and after): that would be a dependency cycle: a -> b -> a",
    );
    expect(rt.set.get("a")?.spec.dependsOn).toEqual([]);
    // Nothing was changed, so a start goes through instead of waiting for ever.
    rt.start("a");
    expect(rt.state("a")).toBe("started");
  });

  it("add-dep: a cycle through an `after` two steps away", () => {
    const rt = new FakeRuntime([svc("a"), svc("b", "process", { after: ["c"] }), svc("c", "process", { dependsOn: ["a"] })]);
    expect(rt.supervisor.addDependency("a", "waits-for", "b")).toBe(
      "b already starts after a (directly or not, counting before and after): that would be a dependency cycle: a -> b -> c -> a",
    );
  });

  it("reload NAME: `after` against a dependent (repro B) is refused with the cycle", () => {
    const rt = new FakeRuntime([svc("a", "process", { dependsOn: ["b"] }), svc("b")]);
    expect(rt.supervisor.reloadService(svc("b", "process", { after: ["a"] }))).toBe(
      "a already depends on b (directly or not): that would be a dependency cycle: b -> a -> b",
    );
    expect(rt.set.get("b")?.spec.after).toEqual([]);
    rt.start("a");
    expect(rt.state("a")).toBe("started");
  });

  it("reload NAME: a pure ordering cycle (before against before) is refused; a waiter still starts", () => {
    const rt = new FakeRuntime([svc("a", "process", { before: ["b"] }), svc("b"), svc("c", "internal", { command: undefined, waitsFor: ["a", "b"] })]);
    expect(rt.supervisor.reloadService(svc("b", "process", { before: ["a"] }))).toBe(
      "b already starts after a (directly or not, counting before and after): that would be a dependency cycle: a -> b -> a",
    );
    rt.start("c");
    expect([rt.state("a"), rt.state("b"), rt.state("c")]).toEqual(["started", "started", "started"]);
  });

  it("reload NAME: ordering that agrees with the other side, or names itself", () => {
    const rt = new FakeRuntime([svc("a", "process", { before: ["b"] }), svc("b")]);
    expect(rt.supervisor.reloadService(svc("b", "process", { after: ["a"] }))).toBeUndefined();
    expect(rt.supervisor.reloadService(svc("b", "process", { before: ["b"] }))).toBe("b names itself in before: that would be a dependency cycle: b -> b");
    // The old description's `before` is replaced, not added to: dropping it closes nothing.
    expect(rt.supervisor.reloadService(svc("a", "process", { after: ["b"] }))).toBe(
      "b already starts after a (directly or not, counting before and after): that would be a dependency cycle: a -> b -> a",
    );
    expect(rt.supervisor.reloadService(svc("b"))).toBeUndefined();
    expect(rt.supervisor.reloadService(svc("a", "process", { after: ["b"] }))).toBeUndefined();
  });
});

/** A FakeRuntime whose supervisor loads on demand from service files in D, as tsinit's modes wire it. */
function withFiles(specs: ServiceSpec[], files: Record<string, string>): { rt: FakeRuntime; dirs: ServiceDirectories } {
  const rt = new FakeRuntime(specs);
  rt.sys.dirs.add(D);
  for (const [name, text] of Object.entries(files)) rt.sys.files.set(`${D}/${name}`, text);
  const log = new Log(rt.machine.sink, { consoleThreshold: 7, kernelConsoleLevel: 0 });
  const dirs = new ServiceDirectories(rt.sys, log, [D]);
  dirs.attach(rt.supervisor);
  return { rt, dirs };
}

describe("chain-to loads its target when the chain is taken", () => {
  it("a target that is not loaded is loaded, then started", () => {
    const { rt } = withFiles([svc("a", "process", { chainTo: "b" })], { b: "type = process\ncommand = /bin/b\n" });
    rt.start("a");
    expect(rt.set.get("b")).toBeUndefined();
    rt.exit("a", 0);
    expect(rt.spawnOrder()).toEqual(["a", "b"]);
    expect(rt.state("b")).toBe("started");
    expect(rt.set.get("b")?.explicit).toBe(true);
  });

  it("a target that fails to load is logged with its file and line; nothing else happens", () => {
    const { rt } = withFiles([svc("a", "process", { chainTo: "b" })], { b: "type = process\ncommand = /bin/b\nrestart = sometimes\n" });
    rt.start("a");
    rt.exit("a", 0);
    expect(rt.set.get("b")).toBeUndefined();
    expect(rt.machine.lines.filter((line) => line.includes("chain-to b"))).toEqual([
      expect.stringMatching(/a: chain-to b: b failed to load: \/etc\/tsinit\.d\/b:3: restart/),
    ]);
    expect(rt.state("a")).toBe("stopped");
    expect(rt.set.get("a")?.failed).toBeUndefined();
    expect(rt.spawnOrder()).toEqual(["a"]);
  });

  it("a target with no file is `no such service`", () => {
    const { rt } = withFiles([svc("a", "process", { chainTo: "b" })], {});
    rt.start("a");
    rt.exit("a", 0);
    expect(rt.machine.lines.filter((line) => line.includes("chain-to b"))).toEqual([expect.stringContaining("a: chain-to b: no such service")]);
  });
});

describe("a chain that ends at once again and again is held back as a restart would be", () => {
  /**
   * Runs for `ms` of fake time, ending every run of `a` at once; how many spawns. At most 1,000
   * exits: a chain that spins does them all without the clock moving.
   */
  function spinFor(rt: FakeRuntime, ms: number): number {
    rt.start("a");
    for (let exits = 0; rt.now < ms && exits < 1_000; ) {
      if (rt.set.get("a")?.pid === undefined) rt.advance(1);
      else {
        rt.exit("a", 0);
        exits++;
      }
    }
    return rt.spawnCount("a");
  }

  it("chain-to itself with restart-limit-interval = 0 and no restart delay spawns at most once a second", () => {
    const rt = new FakeRuntime([svc("a", "process", { chainTo: "a", restartLimitIntervalMs: 0, restartDelayMs: 0, restartDelayMaxMs: 0 })]);
    const spawns = spinFor(rt, 60_000);
    // 0, 10, 20, ... 640 ms, then one a second (SPIN_CAP_MS): 8 + 59.
    expect(spawns).toBeGreaterThan(50);
    expect(spawns).toBeLessThanOrEqual(70);
    expect(rt.logs).toContain("info: a ended again at once; starting a in 1000 ms (chain-to)");
  });

  it("with the default restart-delay-max the back-off keeps doubling", () => {
    const rt = new FakeRuntime([svc("a", "process", { chainTo: "a", restartLimitIntervalMs: 0 })]);
    expect(spinFor(rt, 60_000)).toBeLessThanOrEqual(16);
  });

  it("a stop cancels a held-back chain", () => {
    const rt = new FakeRuntime([svc("a", "process", { chainTo: "a", restartLimitIntervalMs: 0 })]);
    rt.start("a");
    rt.exit("a", 0);
    rt.exit("a", 0);
    expect(rt.set.get("a")?.chainPending).toBe("a");
    expect(rt.set.isQuiet()).toBe(false);
    rt.stop("a");
    expect(rt.set.get("a")?.chainPending).toBeUndefined();
    rt.advance(10_000);
    expect(rt.spawnCount("a")).toBe(2);
    expect(rt.set.isQuiet()).toBe(true);
  });
});

describe("review fixes: cycles that reached the run-time check unseen", () => {
  it("reload NAME of a name not loaded yet is checked for cycles (a loaded service is ordered after it)", () => {
    const rt = new FakeRuntime([svc("a", "process", { after: ["x"] })]);
    expect(rt.supervisor.reloadService(svc("x", "process", { dependsOn: ["a"] }))).toBe(
      "a already starts after x (directly or not, counting before and after): that would be a dependency cycle: x -> a -> x",
    );
    expect(rt.set.get("x")).toBeUndefined();
    // Without the cycle x loads and starts.
    expect(rt.supervisor.reloadService(svc("x"))).toBeUndefined();
    rt.start("x");
    expect(rt.state("x")).toBe("started");
  });

  it("add-dep counts a description a full reload keeps pending while its service runs", () => {
    const files = { a: "type = process\ncommand = /bin/a\n", b: "type = process\ncommand = /bin/b\n" };
    const { rt, dirs } = withFiles([], files);
    dirs.ensure("a");
    dirs.ensure("b");
    rt.start("a");
    rt.sys.files.set(`${D}/a`, "type = process\ncommand = /bin/a\nafter = b\n");
    expect(dirs.reload().pending).toEqual(["a"]);
    expect(rt.supervisor.addDependency("b", "regular", "a")).toBe(
      "a already starts after b (directly or not, counting before and after): that would be a dependency cycle: b -> a -> b",
    );
    // So once a stops and its new description applies, b still starts.
    rt.stop("a");
    rt.exit("a", 0);
    expect(rt.set.get("a")?.spec.after).toEqual(["b"]);
    rt.start("b");
    expect(rt.state("b")).toBe("started");
  });

  it("a pending `before` counts too", () => {
    const { rt, dirs } = withFiles([], { a: "type = process\ncommand = /bin/a\n", b: "type = process\ncommand = /bin/b\n" });
    dirs.ensure("a");
    dirs.ensure("b");
    rt.start("b");
    rt.sys.files.set(`${D}/b`, "type = process\ncommand = /bin/b\nbefore = a\n");
    expect(dirs.reload().pending).toEqual(["b"]);
    expect(rt.supervisor.addDependency("b", "waits-for", "a")).toMatch(/that would be a dependency cycle: b -> a -> b$/);
  });

  it("a full reload counts the edges add-dep gave a service added with initctl run", () => {
    const { rt, dirs } = withFiles([], { a: "type = process\ncommand = /bin/a\n" });
    dirs.ensure("a");
    rt.supervisor.add({ ...defaultSpec("r", "process", ""), command: ["/bin/r"] });
    expect(rt.supervisor.addDependency("r", "regular", "a")).toBeUndefined();
    rt.sys.files.set(`${D}/a`, "type = process\ncommand = /bin/a\nafter = r\n");
    dirs.reload();
    expect(rt.set.get("a")?.blocked).toBe("dependency cycle: a -> r -> a");
    expect(rt.set.get("r")?.blocked).toBe("dependency cycle: a -> r -> a");
  });

  it("reload NAME that adds no edge is not refused, even where the edges it keeps are on a cycle", () => {
    // A cycle the files made (blocked at load time) stays blocked; a reload of one of its
    // members that changes its command only is not what made it.
    const rt = new FakeRuntime([svc("a", "process", { after: ["b"] }), svc("b", "process", { after: ["a"] })]);
    expect(rt.supervisor.reloadService(svc("a", "process", { after: ["b"], command: ["/bin/a2"] }))).toBeUndefined();
    expect(rt.set.get("a")?.spec.command).toEqual(["/bin/a2"]);
    // A new edge that closes a cycle is still refused.
    expect(rt.supervisor.reloadService(svc("a", "process", { after: ["b"], before: ["b"] }))).toMatch(/that would be a dependency cycle/);
  });
});

describe("review fixes: chains", () => {
  it("no chain is taken once shutdown has begun, held back or not", () => {
    const rt = new FakeRuntime([svc("a", "process", { chainTo: "a", restartLimitIntervalMs: 0 }), svc("d", "process", { dependsOn: ["a"] })]);
    rt.start("a");
    rt.exit("a", 0);
    rt.start("d");
    void rt.supervisor.stopAll();
    rt.exit("a", 0);
    expect(rt.set.get("a")?.chainPending).toBeUndefined();
    rt.advance(10_000);
    expect(rt.state("a")).toBe("stopped");
    expect(rt.spawnCount("a")).toBe(2);
  });

  it("a held-back chain pending when shutdown begins is dropped", () => {
    const rt = new FakeRuntime([svc("a", "process", { chainTo: "a", restartLimitIntervalMs: 0 })]);
    rt.start("a");
    rt.exit("a", 0);
    rt.exit("a", 0);
    expect(rt.set.get("a")?.chainPending).toBe("a");
    void rt.supervisor.stopAll();
    rt.advance(10_000);
    expect(rt.spawnCount("a")).toBe(2);
    expect(rt.set.isQuiet()).toBe(true);
  });

  it("a loader that throws costs only its chain, not the rest of the event's actions", () => {
    const rt = new FakeRuntime([svc("a", "process", { chainTo: "zz", dependsOn: ["d"] }), svc("d")]);
    rt.supervisor.loader = () => {
      throw new Error("boom");
    };
    rt.start("a");
    rt.exit("a", 0);
    expect(rt.machine.lines.filter((line) => line.includes("boom"))).toEqual([expect.stringContaining("a: chain-to zz: Error: boom")]);
    // d's stop went on: TERM, and KILL once its stop-timeout was over.
    rt.advance(100_000);
    expect(rt.signals.filter((sent) => sent.service === "d").map((sent) => sent.signal)).toEqual([15, 9]);
  });

  it("a service from a file never starts a service added with initctl run by chaining to it", () => {
    const user = { ...defaultSpec("x", "process", ""), command: ["/bin/x"], runAs: { user: "65534", group: "65534" } };
    const rt = new FakeRuntime([svc("a", "process", { chainTo: "x" }), user]);
    rt.start("a");
    rt.exit("a", 0);
    expect(rt.state("x")).toBe("stopped");
    expect(rt.logs).toContain("error: a: chain-to x: x is a service added with initctl run by uid 65534; a service from a file does not start it");
  });

  it("release cancels a held-back chain; unload refuses while one is pending", () => {
    const rt = new FakeRuntime([svc("a", "process", { chainTo: "a", restartLimitIntervalMs: 0 })]);
    rt.start("a");
    rt.exit("a", 0);
    rt.exit("a", 0);
    expect(rt.supervisor.unload("a")).toBe("a is stopped with a chain-to start from a pending; stop it first");
    rt.send({ kind: "command", op: "release", service: "a" });
    rt.advance(10_000);
    expect(rt.state("a")).toBe("stopped");
    expect(rt.spawnCount("a")).toBe(2);
  });
});

describe("a cycle check with many descriptions waiting to be applied", () => {
  it("reads the waiting descriptions' before lists once per check, not at each step of the search", () => {
    // A full reload that changes 2,000 running services leaves 2,000 descriptions waiting; an
    // add-dep whose search walks all of them used to scan every waiting one at each step
    // (10,000 of them: 3.8 s of PID 1's loop).
    const names = Array.from({ length: 2_000 }, (_, i) => `s${i}`);
    const specs = [svc("boot", "internal", { waitsFor: names }), ...names.map((name) => svc(name)), svc("x")];
    const rt = new FakeRuntime(specs);
    rt.start("boot");
    const changed = new Map(specs.map((spec) => [spec.name, names.includes(spec.name) ? { ...spec, command: ["/bin/changed"], before: ["x"] } : spec] as const));
    expect(rt.set.reload(changed).pending).toHaveLength(2_000);
    const includes = vi.spyOn(Array.prototype, "includes");
    try {
      // The search goes from boot through every s (each to start before x once its new
      // description applies): no way back to x, so no cycle; and every step was looked at.
      expect(rt.supervisor.addDependency("x", "waits-for", "boot")).toBeUndefined();
      expect(includes.mock.calls.length).toBeLessThan(2_000);
    } finally {
      includes.mockRestore();
    }
  });
});
