import { describe, expect, it } from "vitest";
import { defaultSpec, type ServiceSpec, type ServiceType } from "../../src/base/service-spec.ts";
import { ServiceSet } from "../../src/core/service-set.ts";
import { FakeRuntime } from "./fakes/fake-runtime.ts";

function svc(name: string, type: ServiceType = "process", extra: Partial<ServiceSpec> = {}): ServiceSpec {
  const command = type === "internal" ? undefined : [`/bin/${name}`];
  return { ...defaultSpec(name, type), command, ...extra };
}

const SIGTERM = 15;
const SIGKILL = 9;

describe("process services", () => {
  it("spawns the command and reports started", () => {
    const rt = new FakeRuntime([svc("getty")]);
    rt.start("getty");
    expect(rt.spawns).toMatchObject([{ service: "getty", argv: ["/bin/getty"] }]);
    expect(rt.state("getty")).toBe("started");
    expect(rt.statuses).toEqual(["OK started getty"]);
  });

  it("reports an exec failure with its stage and stays stopped", () => {
    const rt = new FakeRuntime([svc("x", "process", { command: ["/missing"] })]);
    rt.start("x");
    expect(rt.state("x")).toBe("stopped");
    expect(rt.statuses).toEqual(["FAILED x: exec /missing: ENOENT"]);
    expect(rt.set.get("x")?.failed).toBe("exec /missing: ENOENT");
  });

  it("restarts a killed process after restart-delay", () => {
    const rt = new FakeRuntime([svc("getty", "process", { restart: "yes" })]);
    rt.start("getty");
    rt.exit("getty", { kind: "signaled", signal: SIGKILL, core: false });
    expect(rt.state("getty")).toBe("stopped");
    expect(rt.set.get("getty")?.restartPending).toBe(true);
    rt.advance(199);
    expect(rt.spawns).toHaveLength(1);
    rt.advance(1);
    expect(rt.spawns).toHaveLength(2);
    expect(rt.spawns[1]?.at).toBe(200);
    expect(rt.state("getty")).toBe("started");
  });

  it("does not restart with restart = no and reports a failed exit", () => {
    const rt = new FakeRuntime([svc("d")]);
    rt.start("d");
    rt.exit("d", 3);
    rt.advance(60_000);
    expect(rt.spawns).toHaveLength(1);
    expect(rt.state("d")).toBe("stopped");
    expect(rt.statuses.at(-1)).toBe("FAILED d: exited 3 (restart = no)");
    expect(rt.set.get("d")?.explicit).toBe(false);
  });

  it("on-failure restarts after a failure but not after exit 0", () => {
    const rt = new FakeRuntime([svc("d", "process", { restart: "on-failure" })]);
    rt.start("d");
    rt.exit("d", 1);
    rt.advance(200);
    expect(rt.spawns).toHaveLength(2);
    rt.exit("d", 0);
    rt.advance(60_000);
    expect(rt.spawns).toHaveLength(2);
  });

  it("gives up after restart-limit-count restarts within the interval", () => {
    const rt = new FakeRuntime([svc("loop", "process", { restart: "yes", restartDelayMs: 100 })]);
    rt.start("loop");
    for (let crash = 0; crash < 3; crash++) {
      rt.exit("loop", 1);
      rt.advance(2_000);
    }
    expect(rt.spawns).toHaveLength(4);
    rt.exit("loop", 1);
    rt.advance(60_000);
    expect(rt.spawns).toHaveLength(4);
    expect(rt.statuses.at(-1)).toMatch(/^FAILED loop: exited 1 \(restarted 3 times within 10s, giving up\)$/);
  });

  it("doubles the delay of consecutive crashes up to restart-delay-max, unlimited count", () => {
    const rt = new FakeRuntime([
      svc("loop", "process", { restart: "yes", restartDelayMs: 100, restartDelayMaxMs: 500, restartLimitCount: 0 }),
    ]);
    rt.start("loop");
    const delays: number[] = [];
    for (let crash = 0; crash < 5; crash++) {
      rt.exit("loop", 1);
      const crashedAt = rt.now;
      rt.advance(1_000);
      delays.push(rt.spawns.at(-1)!.at - crashedAt);
    }
    expect(delays).toEqual([100, 200, 400, 500, 500]);
  });

  it("starts from restart-delay again after the service stayed up for the interval", () => {
    const rt = new FakeRuntime([svc("s", "process", { restart: "yes", restartDelayMs: 100, restartLimitCount: 0 })]);
    rt.start("s");
    rt.exit("s", 1);
    rt.advance(100);
    rt.exit("s", 1);
    rt.advance(200);
    expect(rt.set.get("s")?.crashes.consecutive).toBe(2);
    rt.advance(10_000);
    rt.exit("s", 1);
    const crashedAt = rt.now;
    rt.advance(1_000);
    expect(rt.spawns.at(-1)!.at - crashedAt).toBe(100);
  });

  it("stops with term-signal, then SIGKILL after stop-timeout", () => {
    const rt = new FakeRuntime([svc("d", "process", { termSignal: 1, stopTimeoutMs: 5_000 })]);
    rt.start("d");
    const pid = rt.set.get("d")!.pid!;
    rt.stop("d");
    expect(rt.state("d")).toBe("stopping");
    expect(rt.signals).toEqual([{ service: "d", pid, signal: 1, at: 0 }]);
    rt.advance(5_000);
    expect(rt.signals.at(-1)).toEqual({ service: "d", pid, signal: SIGKILL, at: 5_000 });
    rt.exit("d", { kind: "signaled", signal: SIGKILL, core: false });
    expect(rt.state("d")).toBe("stopped");
    expect(rt.statuses.at(-1)).toBe("OK stopped d");
    // What the process left in its group and cgroup had the term signal, and gets
    // stop-timeout to exit before SIGKILL.
    expect(rt.leftovers).toEqual([{ service: "d", pgid: pid, graceMs: 5_000 }]);
  });

  it("does not restart a service that was stopped on purpose", () => {
    const rt = new FakeRuntime([svc("d", "process", { restart: "yes" })]);
    rt.start("d");
    rt.stop("d");
    rt.exit("d", { kind: "signaled", signal: SIGTERM, core: false });
    rt.advance(10_000);
    expect(rt.spawns).toHaveLength(1);
    expect(rt.state("d")).toBe("stopped");
  });

  it("fails a service that is not ready within start-timeout", () => {
    const rt = new FakeRuntime([svc("d", "process", { readyNotification: { kind: "pipefd", fd: 3 }, startTimeoutMs: 1_000 })]);
    rt.start("d");
    expect(rt.state("d")).toBe("starting");
    rt.advance(1_000);
    expect(rt.state("d")).toBe("stopped");
    expect(rt.signals.at(-1)?.signal).toBe(SIGKILL);
    expect(rt.statuses.at(-1)).toBe("FAILED d: not ready within 1s");
  });

  it("is started only when it reports ready", () => {
    const rt = new FakeRuntime([svc("d", "process", { readyNotification: { kind: "pipefd", fd: 3 } })]);
    rt.start("d");
    expect(rt.state("d")).toBe("starting");
    rt.send({ kind: "ready", service: "d" });
    expect(rt.state("d")).toBe("started");
    expect(rt.timers.size).toBe(0);
  });
});

describe("chain-to, skippable, start-interruptible, triggered", () => {
  it("chains to the next service when a service ends cleanly of its own accord", () => {
    const rt = new FakeRuntime([svc("stage1", "process", { chainTo: "stage2" }), svc("stage2")]);
    rt.start("stage1");
    rt.exit("stage1", 0);
    expect(rt.spawnOrder()).toEqual(["stage1", "stage2"]);
    expect(rt.set.get("stage2")?.explicit).toBe(true);
  });

  it("does not chain after a failure (unless always-chain), a stop, or a restart", () => {
    const rt = new FakeRuntime([
      svc("failing", "process", { chainTo: "next" }),
      svc("stopped", "process", { chainTo: "next" }),
      svc("restarting", "process", { chainTo: "next", restart: "yes" }),
      svc("always", "process", { chainTo: "next2", options: new Set(["always-chain"]) }),
      svc("next"),
      svc("next2"),
    ]);
    for (const name of ["failing", "stopped", "restarting", "always"]) rt.start(name);
    rt.exit("failing", 1);
    rt.stop("stopped");
    rt.exit("stopped", 0);
    rt.exit("restarting", 0);
    rt.exit("always", 3);
    expect(rt.spawnOrder()).not.toContain("next");
    expect(rt.spawnOrder()).toContain("next2");
  });

  it("a chain that loops back on itself is held to the restart limit", () => {
    const rt = new FakeRuntime([svc("loop", "process", { chainTo: "loop", options: new Set(["always-chain"]) })]);
    rt.start("loop");
    for (let i = 0; i < 10; i++) {
      // Each run ends at once, so the spin guard holds the chain back a little more each time.
      if (rt.set.get("loop")?.pid === undefined) rt.advance(1_000);
      if (rt.set.get("loop")?.pid === undefined) break;
      rt.exit("loop", 1);
    }
    expect(rt.spawns).toHaveLength(4); // the first start and 3 chained ones (restart-limit-count)
    expect(rt.logs.at(-1)).toBe("error: loop: chain-to loop: started 3 times within 10s by chains; not again");
  });

  it("skippable: a scripted start ended by SIGINT counts as started", () => {
    const rt = new FakeRuntime([svc("fsck", "scripted", { options: new Set(["skippable"]) }), svc("other", "scripted")]);
    rt.start("fsck");
    rt.start("other");
    rt.exit("fsck", { kind: "signaled", signal: 2, core: false });
    rt.exit("other", { kind: "signaled", signal: 2, core: false });
    expect(rt.state("fsck")).toBe("started");
    expect(rt.state("other")).toBe("stopped");
  });

  it("start-interruptible: an unwanted start is cancelled with SIGINT and ends stopped", () => {
    const rt = new FakeRuntime([svc("slow", "scripted", { options: new Set(["start-interruptible", "skippable"]) })]);
    rt.start("slow");
    const pid = rt.set.get("slow")!.pid!;
    rt.stop("slow");
    expect(rt.signals).toEqual([{ service: "slow", pid, signal: 2, at: 0 }]);
    rt.exit("slow", { kind: "signaled", signal: 2, core: false });
    expect(rt.state("slow")).toBe("stopped");
  });

  it("a triggered service starts only when triggered", () => {
    const rt = new FakeRuntime([svc("net-up", "triggered"), svc("app", "process", { dependsOn: ["net-up"] })]);
    rt.start("app");
    expect(rt.state("net-up")).toBe("starting");
    expect(rt.spawns).toHaveLength(0);
    rt.send({ kind: "command", op: "trigger", service: "net-up" });
    expect(rt.state("net-up")).toBe("started");
    expect(rt.spawnOrder()).toEqual(["app"]);
  });
});

describe("regressions found in review", () => {
  it("a depends-ms dependent that restarts takes its stopped dependency back", () => {
    const rt = new FakeRuntime([svc("a"), svc("b", "process", { dependsMs: ["a"], restart: "yes" })]);
    rt.start("b");
    rt.stop("a");
    rt.exit("a", { kind: "signaled", signal: SIGTERM, core: false });
    expect(rt.state("b")).toBe("started");
    rt.exit("b", 1);
    rt.advance(1_000);
    expect([rt.state("a"), rt.state("b")]).toEqual(["started", "started"]);
  });

  it("a restart asked while starting does not linger after the start failed", () => {
    const rt = new FakeRuntime([svc("s", "process", { readyNotification: { kind: "pipefd", fd: 3 } })]);
    rt.start("s");
    rt.send({ kind: "command", op: "restart", service: "s" });
    rt.exit("s", 1);
    rt.start("s");
    rt.send({ kind: "ready", service: "s" });
    expect(rt.state("s")).toBe("started");
  });

  it("a stop-command that cannot be spawned falls back to the term signal", () => {
    const rt = new FakeRuntime([svc("d", "process", { stopCommand: ["/missing"], stopTimeoutMs: 0 })]);
    rt.start("d");
    const pid = rt.set.get("d")!.pid!;
    rt.stop("d");
    expect(rt.signals).toEqual([{ service: "d", pid, signal: SIGTERM, at: 0 }]);
    rt.exit("d", { kind: "signaled", signal: SIGTERM, core: false });
    expect(rt.state("d")).toBe("stopped");
  });

  it("a bgprocess with smooth-recovery restarts through its launcher and pid file", () => {
    const rt = new FakeRuntime([svc("d", "bgprocess", { pidFile: "/run/d.pid", restart: "yes", smoothRecovery: true })]);
    rt.writePidFile("/run/d.pid", 500);
    rt.start("d");
    rt.exit("d", 0);
    expect(rt.set.get("d")?.pid).toBe(500);
    rt.exit("d", 1);
    rt.advance(200);
    rt.exit("d", 0);
    expect(rt.pidFileReads).toEqual(["/run/d.pid", "/run/d.pid"]);
    expect(rt.spawns).toHaveLength(2);
  });
});

describe("reload", () => {
  const withFile = (spec: ServiceSpec): ServiceSpec => ({ ...spec, file: `/etc/tsinit.d/${spec.name}` });

  it("adds new services and changes stopped ones at once", () => {
    const rt = new FakeRuntime([withFile(svc("a")), withFile(svc("b"))]);
    const summary = rt.set.reload(new Map([
      ["a", withFile(svc("a", "process", { command: ["/bin/a2"] }))],
      ["b", withFile(svc("b"))],
      ["c", withFile(svc("c"))],
    ]));
    expect(summary).toEqual({ added: ["c"], changed: ["a"], removed: [], pending: [], shadowed: [], kept: [] });
    rt.start("a");
    expect(rt.spawns.at(-1)?.argv).toEqual(["/bin/a2"]);
  });

  it("keeps the description of a service whose file now has errors", () => {
    const rt = new FakeRuntime([withFile(svc("db")), withFile(svc("web", "process", { dependsOn: ["db"] }))]);
    rt.start("web");
    const summary = rt.set.reload(new Map(), new Set(["db", "web"]));
    expect(summary).toMatchObject({ removed: [], kept: ["db", "web"], pending: [] });
    expect([rt.state("db"), rt.state("web")]).toEqual(["started", "started"]);
  });

  it("changes or removes a running service once it is stopped and unwanted", () => {
    const rt = new FakeRuntime([withFile(svc("a")), withFile(svc("gone")), svc("runtime-added")]);
    rt.start("a");
    rt.start("gone");
    const summary = rt.set.reload(new Map([["a", withFile(svc("a", "process", { command: ["/bin/a2"] }))]]));
    expect(summary).toEqual({ added: [], changed: ["a"], removed: ["gone"], pending: ["a", "gone"], shadowed: [], kept: [] });
    expect(rt.set.get("a")?.spec.command).toEqual(["/bin/a"]);
    rt.stop("a");
    rt.exit("a", 0);
    rt.stop("gone");
    rt.exit("gone", 0);
    expect(rt.set.get("a")?.spec.command).toEqual(["/bin/a2"]);
    expect(rt.set.get("gone")).toBeUndefined();
    // A service added at run time has no file and is not touched by a reload, not even by a
    // file of the same name (that would hand whoever added it a system service).
    expect(rt.set.get("runtime-added")).toBeDefined();
    const again = rt.set.reload(new Map([["runtime-added", withFile(svc("runtime-added", "process", { command: ["/sbin/root-thing"] }))]]));
    expect(again.shadowed).toEqual(["runtime-added"]);
    expect(rt.set.get("runtime-added")?.spec.command).toEqual(["/bin/runtime-added"]);
  });
});

describe("a service from a file and one added at run time", () => {
  const withFile = (spec: ServiceSpec): ServiceSpec => ({ ...spec, file: `/etc/tsinit.d/${spec.name}` });
  // As src/control/runtime-services.ts makes it for uid 65534.
  const usersService = (name: string): ServiceSpec => ({ ...svc(name), runAs: { user: "65534", group: "65534" } });

  it("a reload never binds a file's service to a user's run-time service of its dependency's name", () => {
    const rt = new FakeRuntime([]);
    // A user runs `later` before root adds the files `later` and `app` (depends-on = later).
    rt.set.add(usersService("later"));
    rt.start("later");
    const summary = rt.set.reload(new Map([
      ["later", withFile(svc("later", "process", { command: ["/sbin/root-later"] }))],
      ["app", withFile(svc("app", "process", { dependsOn: ["later"] }))],
    ]));
    expect(summary).toMatchObject({ added: ["app"], shadowed: ["later"] });
    rt.start("app");
    expect(rt.state("app")).toBe("stopped");
    expect(rt.set.get("app")?.failed).toBe("depends on later, which is a service added with initctl run by uid 65534");
    // app holds nothing of the user's service, so the user's stop does not reach it.
    expect(rt.set.get("later")?.requiredBy).toBe(0);
    rt.stop("later");
    rt.exit("later", 0);
    expect(rt.spawns.map((s) => s.argv[0])).toEqual(["/bin/later"]);
  });

  it("nor does app hold (and so start) a user's service named in its waits-for", () => {
    const rt = new FakeRuntime([]);
    rt.set.add(usersService("helper"));
    rt.set.reload(new Map([["app", withFile(svc("app", "process", { waitsFor: ["helper"] }))]]));
    rt.start("app");
    expect(rt.state("app")).toBe("started");
    expect(rt.state("helper")).toBe("stopped");
    expect(rt.set.get("helper")?.requiredBy).toBe(0);
  });
});

describe("removing", () => {
  it("removes only a stopped service that nothing wants", () => {
    const rt = new FakeRuntime([svc("a")]);
    rt.start("a");
    expect(rt.set.remove("a")).toBe(false);
    rt.stop("a");
    rt.exit("a", 0);
    expect(rt.set.remove("a")).toBe(true);
    expect(rt.set.get("a")).toBeUndefined();
  });
});

describe("the console", () => {
  const onConsole = (name: string, option: "runs-on-console" | "starts-on-console" | "shares-console", extra: Partial<ServiceSpec> = {}) =>
    svc(name, "process", { options: new Set([option]), ...extra });

  it("gives runs-on-console services the console one at a time", () => {
    const rt = new FakeRuntime([svc("boot", "internal", { waitsFor: ["a", "b"] }), onConsole("a", "runs-on-console"), onConsole("b", "runs-on-console")]);
    rt.start("boot");
    expect(rt.spawnOrder()).toEqual(["a"]);
    expect(rt.set.consoleHolder()).toBe("a");
    rt.exit("a", 0);
    expect(rt.spawnOrder()).toEqual(["a", "b"]);
    expect(rt.set.consoleHolder()).toBe("b");
  });

  it("a starts-on-console service gives the console back once started", () => {
    const rt = new FakeRuntime([
      svc("boot", "internal", { waitsFor: ["fsck", "shell"] }),
      onConsole("fsck", "starts-on-console", { readyNotification: { kind: "pipefd", fd: 3 } }),
      onConsole("shell", "runs-on-console", { after: [] }),
    ]);
    rt.start("boot");
    expect(rt.spawnOrder()).toEqual(["fsck"]);
    rt.send({ kind: "ready", service: "fsck" });
    expect(rt.spawnOrder()).toEqual(["fsck", "shell"]);
  });

  it("connects console services to the terminal and shares-console ones without waiting", () => {
    const rt = new FakeRuntime([svc("boot", "internal", { waitsFor: ["a", "s"] }), onConsole("a", "runs-on-console"), onConsole("s", "shares-console")]);
    rt.start("boot");
    expect(rt.spawnOrder().sort()).toEqual(["a", "s"]);
  });
});

describe("bgprocess services", () => {
  it("reads the pid file when the launcher exits 0, then supervises the daemon", () => {
    const rt = new FakeRuntime([svc("d", "bgprocess", { pidFile: "/run/d.pid", restart: "yes" })]);
    rt.writePidFile("/run/d.pid", 777);
    rt.start("d");
    expect(rt.state("d")).toBe("starting");
    rt.exit("d", 0);
    expect(rt.pidFileReads).toEqual(["/run/d.pid"]);
    expect(rt.state("d")).toBe("started");
    expect(rt.set.get("d")?.pid).toBe(777);
    rt.exit("d", { kind: "signaled", signal: SIGKILL, core: false });
    rt.advance(200);
    expect(rt.spawns).toHaveLength(2);
  });

  it("fails when the launcher fails or the pid file is bad", () => {
    const rt = new FakeRuntime([svc("a", "bgprocess", { pidFile: "/a.pid" }), svc("b", "bgprocess", { pidFile: "/b.pid" })]);
    rt.start("a");
    rt.exit("a", 1);
    expect(rt.statuses.at(-1)).toBe("FAILED a: exited 1 before it was ready");
    rt.sys.files.set("/b.pid", "not a pid\n");
    rt.start("b");
    rt.exit("b", 0);
    expect(rt.statuses.at(-1)).toBe("FAILED b: pid-file /b.pid holds no pid");
  });
});

describe("scripted and internal services", () => {
  it("a scripted service is started when its command exits 0 and stopped by stop-command", () => {
    const rt = new FakeRuntime([svc("early", "scripted", { stopCommand: ["/bin/early-stop"] })]);
    rt.start("early");
    expect(rt.state("early")).toBe("starting");
    rt.exit("early", 0);
    expect(rt.state("early")).toBe("started");
    rt.stop("early");
    expect(rt.spawnOrder("stop")).toEqual(["early"]);
    expect(rt.state("early")).toBe("stopping");
    rt.exit("early", 0, "stop");
    expect(rt.state("early")).toBe("stopped");
  });

  it("a scripted service whose command fails is failed", () => {
    const rt = new FakeRuntime([svc("early", "scripted")]);
    rt.start("early");
    rt.exit("early", 2);
    expect(rt.state("early")).toBe("stopped");
    expect(rt.statuses.at(-1)).toBe("FAILED early: exited 2 before it was ready");
  });

  it("an internal service starts at once", () => {
    const rt = new FakeRuntime([svc("boot", "internal")]);
    rt.start("boot");
    expect(rt.state("boot")).toBe("started");
    expect(rt.spawns).toHaveLength(0);
  });
});

describe("dependencies", () => {
  it("starts depends-on dependencies first, and stops them after their dependents", () => {
    const rt = new FakeRuntime([svc("app", "process", { dependsOn: ["db"] }), svc("db")]);
    rt.start("app");
    expect(rt.spawnOrder()).toEqual(["db", "app"]);
    rt.stop("db");
    expect(rt.state("app")).toBe("stopping");
    expect(rt.state("db")).toBe("started");
    rt.exit("app", { kind: "signaled", signal: SIGTERM, core: false });
    expect(rt.state("db")).toBe("stopping");
    rt.exit("db", 0);
    expect([rt.state("app"), rt.state("db")]).toEqual(["stopped", "stopped"]);
  });

  it("waits for a dependency that is not ready yet", () => {
    const rt = new FakeRuntime([svc("app", "process", { dependsOn: ["db"] }), svc("db", "process", { readyNotification: { kind: "pipefd", fd: 3 } })]);
    rt.start("app");
    expect(rt.spawnOrder()).toEqual(["db"]);
    rt.send({ kind: "ready", service: "db" });
    expect(rt.spawnOrder()).toEqual(["db", "app"]);
  });

  it("fails dependents when a depends-on dependency fails", () => {
    const rt = new FakeRuntime([svc("app", "process", { dependsOn: ["db"] }), svc("db", "process", { command: ["/missing"] })]);
    rt.start("app");
    expect(rt.spawns).toHaveLength(0);
    expect(rt.statuses).toEqual(["FAILED db: exec /missing: ENOENT", "FAILED app: dependency db failed"]);
    expect(rt.state("app")).toBe("stopped");
  });

  it("starts a waits-for dependent even when the dependency fails", () => {
    const rt = new FakeRuntime([svc("boot", "internal", { waitsFor: ["a", "b"] }), svc("a", "process", { command: ["/missing"] }), svc("b")]);
    rt.start("boot");
    expect(rt.state("boot")).toBe("started");
    expect(rt.state("b")).toBe("started");
  });

  it("a waits-for target waits until its dependencies settle", () => {
    const rt = new FakeRuntime([svc("boot", "internal", { waitsFor: ["early"] }), svc("early", "scripted")]);
    rt.start("boot");
    expect(rt.state("boot")).toBe("stopped");
    rt.exit("early", 0);
    expect(rt.state("boot")).toBe("started");
  });

  it("fails a service whose hard dependency is not loaded", () => {
    const rt = new FakeRuntime([svc("app", "process", { dependsOn: ["ghost"] })]);
    rt.start("app");
    expect(rt.statuses).toEqual(["FAILED app: depends on ghost, which is not loaded"]);
  });

  it("starts independent services together and orders by after/before", () => {
    const rt = new FakeRuntime([
      svc("boot", "internal", { waitsFor: ["a", "b", "c"] }),
      svc("a", "scripted"),
      svc("b", "scripted", { after: ["a"] }),
      svc("c", "scripted", { before: ["a"] }),
    ]);
    rt.start("boot");
    expect(rt.spawnOrder()).toEqual(["c"]);
    rt.exit("c", 0);
    expect(rt.spawnOrder()).toEqual(["c", "a"]);
    rt.exit("a", 0);
    expect(rt.spawnOrder()).toEqual(["c", "a", "b"]);
  });

  it("parallel: services with no relation all spawn in one step", () => {
    const rt = new FakeRuntime([svc("boot", "internal", { waitsFor: ["a", "b", "c"] }), svc("a"), svc("b"), svc("c")]);
    rt.start("boot");
    expect(rt.spawnOrder().sort()).toEqual(["a", "b", "c"]);
    expect(rt.state("boot")).toBe("started");
  });

  it("stops a dependency nobody wants any more", () => {
    const rt = new FakeRuntime([svc("app", "process", { dependsOn: ["db"] }), svc("db")]);
    rt.start("app");
    rt.stop("app");
    rt.exit("app", 0);
    expect(rt.state("db")).toBe("stopping");
  });

  it("keeps an explicitly started dependency running when its dependent stops", () => {
    const rt = new FakeRuntime([svc("app", "process", { dependsOn: ["db"] }), svc("db")]);
    rt.start("db");
    rt.start("app");
    rt.stop("app");
    rt.exit("app", 0);
    expect(rt.state("db")).toBe("started");
  });

  it("restart stops dependents first, then starts everything again", () => {
    const rt = new FakeRuntime([svc("app", "process", { dependsOn: ["db"] }), svc("db")]);
    rt.start("app");
    rt.send({ kind: "command", op: "restart", service: "db" });
    expect(rt.state("app")).toBe("stopping");
    expect(rt.state("db")).toBe("started");
    rt.exit("app", 0);
    expect(rt.state("db")).toBe("stopping");
    rt.exit("db", 0);
    expect(rt.spawnOrder()).toEqual(["db", "app", "db", "app"]);
    expect([rt.state("app"), rt.state("db")]).toEqual(["started", "started"]);
  });

  it("a crashing dependency without smooth-recovery takes its dependents down and back up", () => {
    const rt = new FakeRuntime([svc("app", "process", { dependsOn: ["db"] }), svc("db", "process", { restart: "yes" })]);
    rt.start("app");
    rt.exit("db", 1);
    expect(rt.state("app")).toBe("stopping");
    rt.exit("app", 0);
    rt.advance(200);
    expect(rt.spawnOrder()).toEqual(["db", "app", "db", "app"]);
  });

  it("smooth-recovery restarts the process without touching dependents", () => {
    const rt = new FakeRuntime([svc("app", "process", { dependsOn: ["db"] }), svc("db", "process", { restart: "yes", smoothRecovery: true })]);
    rt.start("app");
    rt.exit("db", 1);
    expect(rt.state("app")).toBe("started");
    expect(rt.state("db")).toBe("started");
    rt.advance(200);
    expect(rt.spawnOrder()).toEqual(["db", "app", "db"]);
    expect(rt.signals).toEqual([]);
  });

  it("a dependency that exits for good stops its dependents", () => {
    const rt = new FakeRuntime([svc("app", "process", { dependsOn: ["db"] }), svc("db")]);
    rt.start("app");
    rt.exit("db", 0);
    expect(rt.state("app")).toBe("stopping");
    expect(rt.set.get("app")?.explicit).toBe(false);
  });

  it("does not start members of a dependency loop and does not spin", () => {
    const rt = new FakeRuntime([svc("a", "process", { dependsOn: ["b"] }), svc("b", "process", { dependsOn: ["a"] })]);
    rt.start("a");
    expect(rt.spawns).toHaveLength(0);
    expect(rt.logs.filter((l) => l.startsWith("error"))).toEqual([]);
  });

  it("fails a blocked cycle member and its dependents with the reason", () => {
    const rt = new FakeRuntime([svc("a", "process", { dependsOn: ["b"] }), svc("b", "process", { dependsOn: ["a"] }), svc("c", "process", { dependsOn: ["a"] })]);
    rt.set.block("a", "dependency cycle: a -> b -> a");
    rt.set.block("b", "dependency cycle: a -> b -> a");
    rt.start("c");
    expect(rt.spawns).toHaveLength(0);
    expect(rt.statuses).toContain("FAILED c: dependency a failed");
    expect(rt.statuses.some((s) => s.endsWith("dependency cycle: a -> b -> a"))).toBe(true);
    expect(rt.set.list().every((r) => !rt.set.wanted(r))).toBe(true);
  });

  it("handles a 200-service chain without recursion", () => {
    const specs = Array.from({ length: 200 }, (_, i) => svc(`s${i}`, "internal", { dependsOn: i === 0 ? [] : [`s${i - 1}`] }));
    const rt = new FakeRuntime(specs);
    rt.start("s199");
    expect(rt.set.list().every((r) => r.state === "started")).toBe(true);
  });
});

describe("a spawn asked for and not yet carried out (the runtime's queue)", () => {
  const scripted = svc("s", "scripted", { startTimeoutMs: 1_000, stopCommand: ["/bin/s-stop"], stopTimeoutMs: 2_000, options: new Set(["start-interruptible"]) });
  const kinds = (actions: { kind: string }[]) => actions.map((a) => a.kind);

  it("is awaited until its process exists; start-timeout is armed then, not before", () => {
    const set = new ServiceSet([scripted], { now: () => 0 });
    const started = set.handle({ kind: "command", op: "start", service: "s" });
    expect(kinds(started)).toContain("spawn");
    expect(started.filter((a) => a.kind === "arm-timer")).toEqual([]);
    expect(set.awaitsSpawn("s", "main")).toBe(true);
    const spawned = set.handle({ kind: "spawned", service: "s", role: "main", pid: 10 });
    expect(spawned.filter((a) => a.kind === "arm-timer")).toEqual([{ kind: "arm-timer", service: "s", timer: "start-timeout", ms: 1_000 }]);
    expect(set.awaitsSpawn("s", "main")).toBe(false);
  });

  it("goes straight to stopped on a stop, with no signal (start-interruptible or not), and is no longer awaited", () => {
    for (const options of [new Set(["start-interruptible"]), new Set<string>()]) {
      const set = new ServiceSet([{ ...scripted, options } as ServiceSpec], { now: () => 0 });
      set.handle({ kind: "command", op: "start", service: "s" });
      const stopped = set.handle({ kind: "command", op: "stop", service: "s" });
      expect(set.get("s")!.state).toBe("stopped");
      expect(kinds(stopped)).not.toContain("signal");
      expect(kinds(stopped)).not.toContain("spawn");
      expect(set.awaitsSpawn("s", "main")).toBe(false);
    }
  });

  it("arms stop-timeout when the stop-command is spawned, not when it is asked for", () => {
    const set = new ServiceSet([scripted], { now: () => 0 });
    set.handle({ kind: "command", op: "start", service: "s" });
    set.handle({ kind: "spawned", service: "s", role: "main", pid: 10 });
    set.handle({ kind: "exited", service: "s", role: "main", pid: 10, status: { kind: "exited", code: 0 } });
    expect(set.get("s")!.state).toBe("started");
    const stopping = set.handle({ kind: "command", op: "stop", service: "s" });
    expect(stopping.filter((a) => a.kind === "spawn")).toMatchObject([{ role: "stop", argv: ["/bin/s-stop"] }]);
    expect(stopping.filter((a) => a.kind === "arm-timer")).toEqual([]);
    expect(set.awaitsSpawn("s", "stop")).toBe(true);
    const spawned = set.handle({ kind: "spawned", service: "s", role: "stop", pid: 11 });
    expect(spawned.filter((a) => a.kind === "arm-timer")).toEqual([{ kind: "arm-timer", service: "s", timer: "stop-timeout", ms: 2_000 }]);
    expect(set.awaitsSpawn("s", "stop")).toBe(false);
  });
});
