// Command outcomes as the core reports them: a command with an id gets exactly one `outcome`
// action once it reached its goal, failed, or was refused. Driven on the ServiceSet itself with
// a small loop that plays the runtime (spawn -> spawned), so only the core is under test.
import { describe, expect, it } from "vitest";
import { CoreDriver as Driver, svc } from "./core-driver.ts";

const DONE = [{ kind: "done" }];

describe("command outcomes", () => {
  it("start: done once started, and only once", () => {
    const d = new Driver([svc("db", "process", { readyNotification: { kind: "pipefd", fd: 3 } })]);
    const id = d.command("start", "db");
    expect(d.outcome(id)).toBeUndefined();
    d.send({ kind: "ready", service: "db" });
    expect(d.outcome(id)).toEqual(DONE);
    d.exit("db", 0);
    expect(d.outcome(id)).toEqual(DONE);
  });

  it("start: done at once for a service that is already started or starts at once", () => {
    const d = new Driver([svc("boot", "internal")]);
    expect(d.outcome(d.command("start", "boot"))).toEqual(DONE);
    expect(d.outcome(d.command("start", "boot"))).toEqual(DONE);
  });

  it("start: failed with the service's failure, or a dependency's", () => {
    const d = new Driver([svc("bad", "process", { command: ["/missing"] }), svc("app", "process", { dependsOn: ["bad"] })]);
    expect(d.outcome(d.command("start", "bad"))).toEqual([{ kind: "failed", reason: "exec /missing: ENOENT" }]);
    expect(d.outcome(d.command("start", "app"))).toEqual([{ kind: "failed", reason: "dependency bad failed" }]);
  });

  it("start: failed with the block of a cycle member, and when stopped before it started", () => {
    const d = new Driver([svc("a", "process", { dependsOn: ["b"] }), svc("b", "process", { dependsOn: ["a"] }), svc("s", "scripted")]);
    d.set.block("a", "dependency cycle: a -> b -> a");
    expect(d.outcome(d.command("start", "a"))).toEqual([{ kind: "failed", reason: "dependency cycle: a -> b -> a" }]);
    const start = d.command("start", "s");
    const stop = d.command("stop", "s");
    expect(d.outcome(start)).toBeUndefined();
    d.exit("s", 0);
    // The scripted start finished, then it was stopped: nothing to stop (no stop-command).
    expect(d.outcome(start)).toEqual([{ kind: "failed", reason: "it was stopped before it started" }]);
    expect(d.outcome(stop)).toEqual(DONE);
  });

  it("restart: done only after the service went through stopped and started again", () => {
    const d = new Driver([svc("app", "process", { dependsOn: ["db"] }), svc("db")]);
    d.command("start", "app");
    const id = d.command("restart", "db");
    expect(d.outcome(id)).toBeUndefined();
    d.exit("app", 0);
    expect(d.outcome(id)).toBeUndefined();
    d.exit("db", 0);
    expect(d.outcome(id)).toEqual(DONE);
    expect(d.set.get("app")?.state).toBe("started");
  });

  it("stop: done once stopped; failed if started again before it stopped", () => {
    const d = new Driver([svc("d"), svc("e")]);
    d.command("start", "d");
    const stop = d.command("stop", "d");
    expect(d.outcome(stop)).toBeUndefined();
    d.exit("d", 0);
    expect(d.outcome(stop)).toEqual(DONE);
    d.command("start", "e");
    const stopE = d.command("stop", "e");
    d.command("start", "e");
    expect(d.outcome(stopE)).toBeUndefined();
    d.exit("e", 0);
    expect(d.outcome(stopE)).toEqual([{ kind: "failed", reason: "it was started again before it stopped" }]);
  });

  it("release: done at once while a dependent holds it, else once it stopped", () => {
    const d = new Driver([svc("app", "process", { dependsOn: ["db"] }), svc("db"), svc("x")]);
    d.command("start", "db");
    d.command("start", "app");
    expect(d.outcome(d.command("release", "db"))).toEqual(DONE);
    d.command("start", "x");
    const release = d.command("release", "x");
    expect(d.outcome(release)).toBeUndefined();
    d.exit("x", 0);
    expect(d.outcome(release)).toEqual(DONE);
  });

  it("trigger and untrigger: done at once", () => {
    const d = new Driver([svc("net", "triggered")]);
    expect(d.outcome(d.command("trigger", "net"))).toEqual(DONE);
    expect(d.outcome(d.command("untrigger", "net"))).toEqual(DONE);
  });

  it("a command for an unknown service is refused", () => {
    const d = new Driver([]);
    expect(d.outcome(d.command("start", "ghost"))).toEqual([{ kind: "refused", reason: "no service named ghost" }]);
  });

  it("a command without an id gets no outcome", () => {
    const d = new Driver([svc("boot", "internal")]);
    d.send({ kind: "command", op: "start", service: "boot" });
    expect(d.outcomes.size).toBe(0);
  });

  it("many commands on one service each get their own outcome", () => {
    const d = new Driver([svc("db", "process", { readyNotification: { kind: "pipefd", fd: 3 } })]);
    const ids = [d.command("start", "db"), d.command("start", "db"), d.command("restart", "db")];
    d.send({ kind: "ready", service: "db" });
    // The restart asked while starting stops and starts db again: every start waits for it.
    expect(ids.map((id) => d.outcome(id))).toEqual([undefined, undefined, undefined]);
    expect(d.set.get("db")?.state).toBe("stopping");
    d.exit("db", 0);
    d.send({ kind: "ready", service: "db" });
    expect(ids.map((id) => d.outcome(id))).toEqual([DONE, DONE, DONE]);
  });
});
