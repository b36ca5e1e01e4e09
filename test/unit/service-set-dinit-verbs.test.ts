// dinitctl's verbs in the core, through the real Supervisor on the fakes: wake, the dependents
// a stop would take down, unload, add-dep/rm-dep, reload of one service, the activation
// environment, signal and the idle wait.
import { describe, expect, it } from "vitest";
import { defaultSpec, type ServiceSpec, type ServiceType } from "../../src/base/service-spec.ts";
import { FakeRuntime } from "./fakes/fake-runtime.ts";

function svc(name: string, type: ServiceType = "process", extra: Partial<ServiceSpec> = {}): ServiceSpec {
  const command = type === "internal" ? undefined : [`/bin/${name}`];
  return { ...defaultSpec(name, type, `/etc/tsinit.d/${name}`), command, ...extra };
}

/** A process being stopped exits on its SIGTERM. */
function exitStopping(rt: FakeRuntime): void {
  for (const record of rt.supervisor.serviceList()) {
    if (record.state === "stopping") rt.exit(record.spec.name, { kind: "signaled", signal: 15, core: false });
  }
}

describe("wake", () => {
  it("starts a service for the active dependents that name it, without marking it", () => {
    const rt = new FakeRuntime([svc("boot", "internal", { waitsFor: ["web"] }), svc("web")]);
    rt.start("boot");
    expect(rt.state("web")).toBe("started");
    const stop = rt.command("stop", "web");
    exitStopping(rt);
    expect(rt.outcome(stop)).toEqual([{ kind: "done" }]);
    expect(rt.state("web")).toBe("stopped");
    const wake = rt.command("wake", "web");
    expect(rt.outcome(wake)).toEqual([{ kind: "done" }]);
    expect(rt.state("web")).toBe("started");
    const web = rt.set.get("web")!;
    expect(web.explicit).toBe(false);
    expect(web.requiredBy).toBe(1);
    // Not marked: once boot lets go, web stops.
    rt.command("release", "boot");
    exitStopping(rt);
    expect(rt.state("web")).toBe("stopped");
  });

  it("is refused when no active service depends on it", () => {
    const rt = new FakeRuntime([svc("boot", "internal", { waitsFor: ["web"] }), svc("web")]);
    const wake = rt.command("wake", "web");
    expect(rt.outcome(wake)).toEqual([{ kind: "refused", reason: "no active service depends on it" }]);
    expect(rt.state("web")).toBe("stopped");
  });
});

describe("stop and the dependents it would take down", () => {
  it("names the direct hard dependents that hold the service, not soft ones", () => {
    const rt = new FakeRuntime([
      svc("db"),
      svc("api", "process", { dependsOn: ["db"] }),
      svc("report", "process", { waitsFor: ["db"] }),
      svc("front", "process", { dependsOn: ["api"] }),
    ]);
    rt.start("front");
    rt.start("report");
    expect(rt.supervisor.activeHardDependents("db")).toEqual(["api"]);
    expect(rt.supervisor.activeHardDependents("api")).toEqual(["front"]);
    expect(rt.supervisor.activeHardDependents("front")).toEqual([]);
    expect(rt.supervisor.dependentsOf("db")).toEqual([
      { name: "api", kind: "regular", holds: true },
      { name: "report", kind: "waits-for", holds: true },
    ]);
  });
});

describe("unload", () => {
  it("forgets a stopped service no loaded service names, and refuses otherwise with why", () => {
    const rt = new FakeRuntime([svc("db"), svc("api", "process", { dependsOn: ["db"] })]);
    rt.start("api");
    expect(rt.supervisor.unload("api")).toBe("api is started and wanted; stop it first");
    expect(rt.supervisor.unload("db")).toBe("db is started and wanted; stop it first");
    rt.command("stop", "api");
    exitStopping(rt);
    exitStopping(rt);
    expect(rt.supervisor.unload("db")).toBe("db has loaded dependents (api); unload them first");
    expect(rt.supervisor.unload("api")).toBeUndefined();
    expect(rt.supervisor.service("api")).toBeUndefined();
    expect(rt.supervisor.unload("db")).toBeUndefined();
    expect(rt.supervisor.serviceList()).toEqual([]);
    expect(rt.supervisor.unload("db")).toBe("no service named db");
  });
});

describe("add-dep and rm-dep", () => {
  it("adds a waits-for dependency without starting it, and enable's acquire starts it", () => {
    const rt = new FakeRuntime([svc("boot", "internal"), svc("web"), svc("cron")]);
    rt.start("boot");
    expect(rt.supervisor.addDependency("boot", "waits-for", "web")).toBeUndefined();
    expect(rt.set.get("boot")!.spec.waitsFor).toEqual(["web"]);
    expect(rt.state("web")).toBe("stopped");
    expect(rt.supervisor.addDependency("boot", "waits-for", "cron", { acquire: true })).toBeUndefined();
    expect(rt.state("cron")).toBe("started");
    expect(rt.set.get("cron")!.explicit).toBe(false);
    expect(rt.supervisor.dependentsOf("cron")).toEqual([{ name: "boot", kind: "waits-for", holds: true }]);
    // rm-dep lets go: cron stops, nothing else wants it.
    expect(rt.supervisor.removeDependency("boot", "waits-for", "cron")).toBeUndefined();
    exitStopping(rt);
    expect(rt.state("cron")).toBe("stopped");
    expect(rt.supervisor.dependentsOf("cron")).toEqual([]);
  });

  it("holds a new regular or milestone dependency of a wanted service", () => {
    const rt = new FakeRuntime([svc("app"), svc("db"), svc("mount", "scripted")]);
    rt.start("app");
    rt.start("db");
    expect(rt.supervisor.addDependency("app", "regular", "db")).toBeUndefined();
    rt.command("release", "db");
    expect(rt.state("db")).toBe("started");
    expect(rt.set.get("db")!.requiredBy).toBe(1);
    // A stop of db now takes app down with it.
    expect(rt.supervisor.activeHardDependents("db")).toEqual(["app"]);
    expect(rt.supervisor.addDependency("app", "milestone", "mount")).toBeUndefined();
    expect(rt.state("mount")).toBe("starting");
  });

  it("refuses what dinit refuses: unknown services, duplicates, cycles, a regular dependency that is not started", () => {
    const rt = new FakeRuntime([svc("a", "process", { dependsOn: ["b"] }), svc("b"), svc("c")]);
    expect(rt.supervisor.addDependency("a", "regular", "x")).toBe("no service named x");
    expect(rt.supervisor.addDependency("a", "regular", "b")).toBe("a already has a regular dependency on b");
    expect(rt.supervisor.addDependency("b", "waits-for", "a")).toBe("a already depends on b (directly or not): that would be a dependency cycle: b -> a -> b");
    expect(rt.supervisor.addDependency("a", "regular", "a")).toBe("a cannot depend on itself");
    rt.start("a");
    expect(rt.supervisor.addDependency("a", "regular", "c")).toBe("a is started, so c must be started before it can be a regular dependency (it is stopped)");
    expect(rt.supervisor.removeDependency("a", "waits-for", "b")).toBe("a has no waits-for dependency on b");
  });
});

describe("a reload of the files after enable", () => {
  it("is no change when the files now list what enable added, in another order", () => {
    const rt = new FakeRuntime([svc("boot", "internal", { waitsFor: ["a"] }), svc("a"), svc("web")]);
    rt.start("boot");
    expect(rt.supervisor.addDependency("boot", "waits-for", "web", { acquire: true })).toBeUndefined();
    const files = new Map([
      ["boot", svc("boot", "internal", { waitsFor: ["web", "a"] })],
      ["a", svc("a")],
      ["web", svc("web")],
    ]);
    const summary = rt.supervisor.reload(files, new Map(), new Set());
    expect(summary).toMatchObject({ added: [], changed: [], removed: [], pending: [] });
    expect(rt.state("web")).toBe("started");
  });
});

describe("reload of one service", () => {
  it("takes a stopped service's new description at once", () => {
    const rt = new FakeRuntime([svc("web")]);
    expect(rt.supervisor.reloadService(svc("web", "process", { command: ["/bin/new"] }))).toBeUndefined();
    rt.start("web");
    expect(rt.spawns.at(-1)!.argv).toEqual(["/bin/new"]);
  });

  it("keeps a running service's utmp entry: inittab-id and inittab-line wait until it is stopped", () => {
    const rt = new FakeRuntime([svc("getty", "process", { inittabId: "1", inittabLine: "tty1" })]);
    rt.start("getty");
    expect(rt.supervisor.reloadService(svc("getty", "process", { inittabId: "2", inittabLine: "tty1" }))).toBe("getty is started: its inittab-id cannot change until it is stopped");
    expect(rt.supervisor.reloadService(svc("getty", "process", { inittabId: "1" }))).toBe("getty is started: its inittab-line cannot change until it is stopped");
    expect(rt.supervisor.reloadService(svc("getty", "process", { inittabId: "1", inittabLine: "tty1", command: ["/bin/getty2"] }))).toBeUndefined();
    rt.command("stop", "getty");
    exitStopping(rt);
    expect(rt.supervisor.reloadService(svc("getty", "process", { inittabId: "2", inittabLine: "tty2" }))).toBeUndefined();
  });

  it("loads a service that was not loaded", () => {
    const rt = new FakeRuntime([]);
    expect(rt.supervisor.reloadService(svc("web"))).toBeUndefined();
    rt.start("web");
    expect(rt.state("web")).toBe("started");
  });

  it("changes a running service within dinit's limits; the new command applies from its next start", () => {
    const rt = new FakeRuntime([svc("web"), svc("db"), svc("cache")]);
    rt.start("web");
    expect(rt.supervisor.reloadService(svc("web", "scripted"))).toBe("web is started: its type (process) cannot change until it is stopped");
    expect(rt.supervisor.reloadService(svc("web", "process", { dependsOn: ["db"] }))).toBe("web is started: its new hard dependency db must be started first");
    expect(rt.supervisor.reloadService(svc("web", "process", { dependsOn: ["nope"] }))).toBe("it names nope as a dependency, which is not loaded");
    // A new waits-for is acquired (started) at once; the new command waits for a restart.
    expect(rt.supervisor.reloadService(svc("web", "process", { command: ["/bin/web2"], waitsFor: ["cache"] }))).toBeUndefined();
    expect(rt.state("cache")).toBe("started");
    expect(rt.spawns.filter((s) => s.service === "web").map((s) => s.argv)).toEqual([["/bin/web"]]);
    rt.command("restart", "web");
    rt.exit("web", { kind: "signaled", signal: 15, core: false });
    expect(rt.spawns.filter((s) => s.service === "web").map((s) => s.argv)).toEqual([["/bin/web"], ["/bin/web2"]]);
    // Dropping the waits-for lets cache go.
    expect(rt.supervisor.reloadService(svc("web", "process", { command: ["/bin/web2"] }))).toBeUndefined();
    exitStopping(rt);
    expect(rt.state("cache")).toBe("stopped");
  });
});

describe("the activation environment", () => {
  it("gives services started afterwards what setenv set and not what unsetenv removed", () => {
    const rt = new FakeRuntime([svc("a"), svc("b")]);
    rt.supervisor.changeEnvironment({ GREETING: "hi", TZ: "UTC" }, []);
    rt.start("a");
    rt.supervisor.changeEnvironment({}, ["TZ"]);
    rt.start("b");
    const envOf = (service: string) => rt.sys.spawns.find((s) => s.request.argv[0] === `/bin/${service}`)!.request.env;
    expect(envOf("a")).toMatchObject({ GREETING: "hi", TZ: "UTC", PATH: "/bin" });
    expect(envOf("b")).toMatchObject({ GREETING: "hi" });
    expect(envOf("b").TZ).toBeUndefined();
    expect(rt.supervisor.activationEnvironment()).toEqual({ PATH: "/bin", GREETING: "hi" });
  });
});

describe("signal and idle", () => {
  it("signals a service's process, and refuses one without a process", () => {
    const rt = new FakeRuntime([svc("web"), svc("job")]);
    rt.start("web");
    const pid = rt.supervisor.service("web")!.pid!;
    expect(rt.supervisor.signalService("web", 1)).toBeUndefined();
    expect(rt.sys.calls).toContain(`kill -${pid} 1`);
    expect(rt.supervisor.signalService("job", 1)).toBe("job has no process (it is stopped)");
  });

  it("resolves whenIdle once every service is stopped and unwanted", async () => {
    const rt = new FakeRuntime([svc("web")]);
    rt.start("web");
    let idle = false;
    void rt.supervisor.whenIdle().then(() => (idle = true));
    await Promise.resolve();
    expect(idle).toBe(false);
    rt.exit("web", 0);
    await Promise.resolve();
    expect(idle).toBe(true);
  });
});
