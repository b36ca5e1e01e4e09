import { describe, expect, it } from "vitest";
import { defaultSpec } from "../../src/base/service-spec.ts";
import { FakeRuntime } from "./fakes/fake-runtime.ts";

describe("supervisor loop", () => {
  it("logs an event that throws and goes on with the next one", () => {
    const spec = { ...defaultSpec("a", "process"), command: ["/bin/a"] };
    const rt = new FakeRuntime([spec, { ...spec, name: "b", command: ["/bin/b"] }]);
    const handle = rt.set.handle.bind(rt.set);
    let thrown = false;
    rt.set.handle = (event) => {
      if (!thrown) {
        thrown = true;
        throw new Error("boom");
      }
      return handle(event);
    };
    rt.start("a");
    rt.start("b");
    expect(rt.machine.lines).toContain("tsinit: handling command for a: Error: boom");
    expect(rt.state("b")).toBe("started");
    expect(rt.sys.calls).toContain("spawn /bin/b");
  });

  it("answers a command whose handling throws, so no client waits for ever", async () => {
    const rt = new FakeRuntime([{ ...defaultSpec("a", "process"), command: ["/bin/a"] }]);
    rt.set.handle = () => {
      throw new Error("boom");
    };
    expect(await rt.supervisor.command("start", "a")).toEqual({ kind: "failed", reason: "internal error: Error: boom" });
  });

  it("removes only a stopped service that nothing holds", () => {
    const rt = new FakeRuntime([
      { ...defaultSpec("db", "process"), command: ["/bin/db"] },
      { ...defaultSpec("app", "process"), command: ["/bin/app"], dependsOn: ["db"] },
    ]);
    rt.start("app");
    expect(rt.supervisor.remove("db")).toBe(false);
    rt.stop("db");
    rt.exit("app", 0);
    rt.exit("db", 0);
    expect(rt.state("db")).toBe("stopped");
    expect(rt.supervisor.remove("db")).toBe(true);
    expect(rt.supervisor.service("db")).toBeUndefined();
    expect(rt.supervisor.serviceList().map((r) => r.spec.name)).toEqual(["app"]);
  });

  it("routes a child's exit to its service and reaps orphans quietly", () => {
    const rt = new FakeRuntime([{ ...defaultSpec("a", "process"), command: ["/bin/a"], restart: "no" }]);
    rt.start("a");
    const pid = rt.set.get("a")!.pid!;
    rt.sys.pending.push({ pid: 9999, status: { kind: "exited", code: 0 } }, { pid, status: { kind: "exited", code: 4 } });
    rt.supervisor.reap();
    expect(rt.state("a")).toBe("stopped");
    expect(rt.machine.lines).toContain("[FAILED] a: exited 4 (restart = no)");
  });
});
