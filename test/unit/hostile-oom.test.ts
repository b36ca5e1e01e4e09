// Issue 9: in a memory cgroup filled by its services, the OOM killer must never choose tsinit.
// tsinit makes itself -1000; each service process gets tsinit's old value back.
import { describe, expect, it } from "vitest";
import { defaultSpec, type ServiceSpec } from "../../src/base/service-spec.ts";
import { Log } from "../../src/log/log.ts";
import { protectFromOomKiller } from "../../src/process-setup.ts";
import { SysError } from "../../src/sys/sys.ts";
import { FakeMachine } from "./fakes/fake-machine.ts";
import { FakeRuntime } from "./fakes/fake-runtime.ts";

function svc(name: string, extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return { ...defaultSpec(name, "process", `/etc/tsinit.d/${name}`), command: [`/bin/${name}`], ...extra };
}

function machine(before: string): { machine: FakeMachine; log: Log } {
  const m = new FakeMachine();
  m.sys.files.set("/proc/self/oom_score_adj", before);
  return { machine: m, log: new Log(m.sink, { consoleThreshold: 7, kernelConsoleLevel: 0 }) };
}

describe("tsinit's own oom_score_adj", () => {
  it("is set to -1000, and the old value is what children get back", () => {
    const { machine: m, log } = machine("0\n");
    expect(protectFromOomKiller(m, log)).toBe("0");
    expect(m.sys.files.get("/proc/self/oom_score_adj")).toBe("-1000");
  });

  it("is a warning, not a failure, where tsinit may not lower it", () => {
    const { machine: m, log } = machine("200\n");
    m.sys.failWrite.set("/proc/self/oom_score_adj", new SysError("write", 13, "EACCES", "/proc/self/oom_score_adj"));
    expect(protectFromOomKiller(m, log)).toBeUndefined();
    expect(m.lines).toEqual(["tsinit: the OOM killer may choose tsinit: write /proc/self/oom_score_adj: EACCES"]);
  });
});

describe("a service's oom_score_adj", () => {
  it("is set back to tsinit's old value right after spawn, for main and stop processes", () => {
    const rt = new FakeRuntime([svc("web", { stopCommand: ["/bin/web-stop"] })], { childOomScoreAdj: "0" });
    rt.start("web");
    const pid = rt.set.get("web")!.pid!;
    expect(rt.sys.files.get(`/proc/${pid}/oom_score_adj`)).toBe("0");
    rt.stop("web");
    const stopPid = rt.set.get("web")!.stopPid!;
    expect(stopPid).toBeDefined();
    expect(rt.sys.files.get(`/proc/${stopPid}/oom_score_adj`)).toBe("0");
  });

  it("is left alone when tsinit could not protect itself", () => {
    const rt = new FakeRuntime([svc("web")]);
    rt.start("web");
    expect(rt.sys.files.has(`/proc/${rt.set.get("web")!.pid!}/oom_score_adj`)).toBe(false);
  });
});
