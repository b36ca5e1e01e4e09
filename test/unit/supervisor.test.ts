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
