import { describe, expect, it } from "vitest";
import { defaultSpec } from "../../src/base/service-spec.ts";
import type { LogSink } from "../../src/base/logging.ts";
import { Log } from "../../src/log/log.ts";
import { Supervisor } from "../../src/supervisor/supervisor.ts";
import { FakeSys } from "./fakes/fake-sys.ts";

class Lines implements LogSink {
  readonly lines: string[] = [];
  console(line: string): void {
    this.lines.push(line);
  }
  kmsg(): boolean {
    return false;
  }
}

describe("supervisor loop", () => {
  it("logs an event that throws and goes on with the next one", () => {
    const sink = new Lines();
    const sys = new FakeSys();
    const spec = { ...defaultSpec("a", "process"), command: ["/bin/a"] };
    const supervisor = new Supervisor([spec, { ...spec, name: "b", command: ["/bin/b"] }], {
      sys,
      log: new Log(sink, { consoleThreshold: 6, kernelConsoleLevel: 0 }),
      env: {},
    });
    const handle = supervisor.services.handle.bind(supervisor.services);
    let thrown = false;
    supervisor.services.handle = (event) => {
      if (!thrown) {
        thrown = true;
        throw new Error("boom");
      }
      return handle(event);
    };
    supervisor.start("a");
    supervisor.start("b");
    expect(sink.lines).toContain("tsinit: handling command for a: Error: boom");
    expect(supervisor.services.get("b")?.state).toBe("started");
    expect(sys.calls).toContain("spawn /bin/b");
  });

  it("routes a child's exit to its service and reaps orphans quietly", () => {
    const sink = new Lines();
    const sys = new FakeSys();
    const supervisor = new Supervisor([{ ...defaultSpec("a", "process"), command: ["/bin/a"], restart: "no" }], {
      sys,
      log: new Log(sink, { consoleThreshold: 6, kernelConsoleLevel: 0 }),
      env: {},
    });
    supervisor.start("a");
    const pid = supervisor.services.get("a")!.pid!;
    sys.pending.push({ pid: 9999, status: { kind: "exited", code: 0 } }, { pid, status: { kind: "exited", code: 4 } });
    supervisor.reap();
    expect(supervisor.services.get("a")?.state).toBe("stopped");
    expect(sink.lines).toContain("[FAILED] a: exited 4 (restart = no)");
  });
});
