// Command outcomes as the core reports them: a command with an id gets exactly one `outcome`
// action once it reached its goal, failed, or was refused. Driven on the real Supervisor over a
// FakeMachine: commands go through Supervisor.command, and the FakeRuntime keeps the outcome
// actions the core returned by command id.
import { describe, expect, it } from "vitest";
import { defaultSpec, type ServiceSpec, type ServiceType } from "../../src/base/service-spec.ts";
import { FakeRuntime } from "./fakes/fake-runtime.ts";

function svc(name: string, type: ServiceType = "process", extra: Partial<ServiceSpec> = {}): ServiceSpec {
  const command = type === "internal" ? undefined : [`/bin/${name}`];
  return { ...defaultSpec(name, type, `/etc/tsinit.d/${name}`), command, ...extra };
}

const DONE = [{ kind: "done" }];

describe("command outcomes", () => {
  it("start: done once started, and only once", async () => {
    const rt = new FakeRuntime([svc("db", "process", { readyNotification: { kind: "pipefd", fd: 3 } })]);
    const id = rt.command("start", "db");
    expect(rt.outcome(id)).toBeUndefined();
    rt.send({ kind: "ready", service: "db" });
    expect(rt.outcome(id)).toEqual(DONE);
    rt.exit("db", 0);
    expect(rt.outcome(id)).toEqual(DONE);
    // Supervisor.command answers with that same outcome.
    await new Promise((resolve) => setImmediate(resolve));
    expect(rt.answers.get(id)).toEqual(DONE[0]);
  });

  it("start: done at once for a service that is already started or starts at once", () => {
    const rt = new FakeRuntime([svc("boot", "internal")]);
    expect(rt.outcome(rt.command("start", "boot"))).toEqual(DONE);
    expect(rt.outcome(rt.command("start", "boot"))).toEqual(DONE);
  });

  it("start: failed with the service's failure, or a dependency's", () => {
    const rt = new FakeRuntime([svc("bad", "process", { command: ["/missing"] }), svc("app", "process", { dependsOn: ["bad"] })]);
    expect(rt.outcome(rt.command("start", "bad"))).toEqual([{ kind: "failed", reason: "exec /missing: ENOENT" }]);
    expect(rt.outcome(rt.command("start", "app"))).toEqual([{ kind: "failed", reason: "dependency bad failed" }]);
  });

  it("start: failed with the block of a cycle member, and when stopped before it started", () => {
    const rt = new FakeRuntime([svc("a", "process", { dependsOn: ["b"] }), svc("b", "process", { dependsOn: ["a"] }), svc("s", "scripted")]);
    rt.set.block("a", "dependency cycle: a -> b -> a");
    expect(rt.outcome(rt.command("start", "a"))).toEqual([{ kind: "failed", reason: "dependency cycle: a -> b -> a" }]);
    const start = rt.command("start", "s");
    const stop = rt.command("stop", "s");
    expect(rt.outcome(start)).toBeUndefined();
    rt.exit("s", 0);
    // The scripted start finished, then it was stopped: nothing to stop (no stop-command).
    expect(rt.outcome(start)).toEqual([{ kind: "failed", reason: "it was stopped before it started" }]);
    expect(rt.outcome(stop)).toEqual(DONE);
  });

  it("restart: done only after the service went through stopped and started again", () => {
    const rt = new FakeRuntime([svc("app", "process", { dependsOn: ["db"] }), svc("db")]);
    rt.command("start", "app");
    const id = rt.command("restart", "db");
    expect(rt.outcome(id)).toBeUndefined();
    rt.exit("app", 0);
    expect(rt.outcome(id)).toBeUndefined();
    rt.exit("db", 0);
    expect(rt.outcome(id)).toEqual(DONE);
    expect(rt.set.get("app")?.state).toBe("started");
  });

  it("stop: done once stopped; failed if started again before it stopped", () => {
    const rt = new FakeRuntime([svc("d"), svc("e")]);
    rt.command("start", "d");
    const stop = rt.command("stop", "d");
    expect(rt.outcome(stop)).toBeUndefined();
    rt.exit("d", 0);
    expect(rt.outcome(stop)).toEqual(DONE);
    rt.command("start", "e");
    const stopE = rt.command("stop", "e");
    rt.command("start", "e");
    expect(rt.outcome(stopE)).toBeUndefined();
    rt.exit("e", 0);
    expect(rt.outcome(stopE)).toEqual([{ kind: "failed", reason: "it was started again before it stopped" }]);
  });

  it("release: done at once while a dependent holds it, else once it stopped", () => {
    const rt = new FakeRuntime([svc("app", "process", { dependsOn: ["db"] }), svc("db"), svc("x")]);
    rt.command("start", "db");
    rt.command("start", "app");
    expect(rt.outcome(rt.command("release", "db"))).toEqual(DONE);
    rt.command("start", "x");
    const release = rt.command("release", "x");
    expect(rt.outcome(release)).toBeUndefined();
    rt.exit("x", 0);
    expect(rt.outcome(release)).toEqual(DONE);
  });

  it("trigger and untrigger: done at once", () => {
    const rt = new FakeRuntime([svc("net", "triggered")]);
    expect(rt.outcome(rt.command("trigger", "net"))).toEqual(DONE);
    expect(rt.outcome(rt.command("untrigger", "net"))).toEqual(DONE);
  });

  it("trigger and untrigger of a service that is not triggered: refused, as dinit does", () => {
    const rt = new FakeRuntime([svc("web")]);
    const reason = "it is a process service; only a triggered service has a trigger";
    expect(rt.outcome(rt.command("trigger", "web"))).toEqual([{ kind: "refused", reason }]);
    expect(rt.outcome(rt.command("untrigger", "web"))).toEqual([{ kind: "refused", reason }]);
    expect(rt.set.get("web")!.triggered).toBe(false);
  });

  it("a command for an unknown service is refused", () => {
    const rt = new FakeRuntime([]);
    expect(rt.outcome(rt.command("start", "ghost"))).toEqual([{ kind: "refused", reason: "no service named ghost" }]);
  });

  it("a command without an id gets no outcome", () => {
    const rt = new FakeRuntime([svc("boot", "internal")]);
    rt.send({ kind: "command", op: "start", service: "boot" });
    expect(rt.outcomes.size).toBe(0);
  });

  it("many commands on one service each get their own outcome", () => {
    const rt = new FakeRuntime([svc("db", "process", { readyNotification: { kind: "pipefd", fd: 3 } })]);
    const ids = [rt.command("start", "db"), rt.command("start", "db"), rt.command("restart", "db")];
    rt.send({ kind: "ready", service: "db" });
    // The restart asked while starting stops and starts db again: every start waits for it.
    expect(ids.map((id) => rt.outcome(id))).toEqual([undefined, undefined, undefined]);
    expect(rt.set.get("db")?.state).toBe("stopping");
    rt.exit("db", 0);
    rt.send({ kind: "ready", service: "db" });
    expect(ids.map((id) => rt.outcome(id))).toEqual([DONE, DONE, DONE]);
  });
});
