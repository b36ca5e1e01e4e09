// Exec confirmation: a service started through tsinit's exec helper (run-as, rlimits,
// socket-listen) is starting until the helper exec'd the program. A failure the helper reports
// fails the service (no restart), and the helper's own exit afterwards is no crash. Driven on the
// real Supervisor over a FakeMachine: the helper's report comes through its status pipe.
import { describe, expect, it } from "vitest";
import { defaultSpec, type ServiceSpec, type ServiceType } from "../../src/base/service-spec.ts";
import { FakeRuntime } from "./fakes/fake-runtime.ts";

function svc(name: string, type: ServiceType = "process", extra: Partial<ServiceSpec> = {}): ServiceSpec {
  const command = type === "internal" ? undefined : [`/bin/${name}`];
  return { ...defaultSpec(name, type, `/etc/tsinit.d/${name}`), command, ...extra };
}

const failure = (pid: number) => ({ kind: "spawn-failed", service: "x", role: "main", stage: "run-as", error: "setuid(1000): EPERM", pid }) as const;

/** `x` runs as another user, so it starts through the exec helper; the test answers its report. */
function helperRuntime(extra: Partial<ServiceSpec> = {}, more: ServiceSpec[] = []): FakeRuntime {
  const rt = new FakeRuntime([svc("x", "process", { restart: "yes", runAs: { user: "1000", group: "1000" }, ...extra }), ...more]);
  rt.sys.execSucceeds = false;
  return rt;
}

const failExec = (rt: FakeRuntime) => rt.failExec("x", "run-as", "setuid(1000): EPERM");

describe("exec confirmation", () => {
  it("a process service is started only when its exec is done", async () => {
    const rt = helperRuntime();
    const id = rt.command("start", "x");
    expect(rt.sys.spawns[0]?.execStatusFd).toBeDefined();
    expect(rt.state("x")).toBe("starting");
    expect(rt.outcome(id)).toBeUndefined();
    expect(rt.set.isQuiet()).toBe(false);
    await rt.confirmExec("x");
    expect(rt.state("x")).toBe("started");
    expect(rt.statuses).toEqual(["OK started x"]);
    expect(rt.outcome(id)).toEqual([{ kind: "done" }]);
    expect(rt.answers.get(id)).toEqual({ kind: "done" });
    expect(rt.set.isQuiet()).toBe(true);
  });

  it("an exec-done for another pid changes nothing", () => {
    const rt = helperRuntime();
    rt.command("start", "x");
    rt.send({ kind: "exec-done", service: "x", role: "main", pid: 9999 });
    expect(rt.state("x")).toBe("starting");
  });

  it("a failure the helper reports fails the start, without a restart, and its exit is no crash", async () => {
    const rt = helperRuntime({}, [svc("app", "process", { dependsOn: ["x"] })]);
    const id = rt.command("start", "app");
    const pid = rt.set.get("x")!.pid!;
    await failExec(rt);
    expect(rt.state("x")).toBe("stopped");
    expect(rt.set.get("x")?.failed).toBe("run-as: setuid(1000): EPERM");
    expect(rt.statuses).toEqual(["FAILED x: run-as: setuid(1000): EPERM", "FAILED app: dependency x failed"]);
    expect(rt.outcome(id)).toEqual([{ kind: "failed", reason: "dependency x failed" }]);
    expect(rt.answers.get(id)).toEqual({ kind: "failed", reason: "dependency x failed" });
    rt.exitPid(pid, 127);
    rt.advance(60_000);
    expect(rt.spawnCount("x")).toBe(1);
    expect(rt.spawnCount("app")).toBe(0);
    expect(rt.statuses).toHaveLength(2);
    expect(rt.set.get("x")?.restartPending).toBe(false);
    expect(rt.set.isQuiet()).toBe(true);
  });

  it("a helper-reported failure for a pid that is not the service's is ignored", () => {
    const rt = helperRuntime();
    rt.command("start", "x");
    rt.send(failure(9999));
    expect(rt.state("x")).toBe("starting");
    expect(rt.statuses).toEqual([]);
  });

  it("with readiness configured, started needs readiness as well as the exec", async () => {
    const rt = helperRuntime({ readyNotification: { kind: "pipefd", fd: 3 } });
    rt.command("start", "x");
    await rt.confirmExec("x");
    expect(rt.state("x")).toBe("starting");
    rt.send({ kind: "ready", service: "x" });
    expect(rt.state("x")).toBe("started");
  });

  it("an exec failure on a restart after a crash fails the service instead of looping", async () => {
    const rt = helperRuntime();
    rt.command("start", "x");
    await rt.confirmExec("x");
    rt.exit("x", 1);
    rt.advance(200);
    expect(rt.spawnCount("x")).toBe(2);
    const pid = rt.set.get("x")!.pid!;
    expect(rt.state("x")).toBe("starting");
    await failExec(rt);
    rt.exitPid(pid, 127);
    rt.advance(60_000);
    expect(rt.state("x")).toBe("stopped");
    expect(rt.spawnCount("x")).toBe(2);
    expect(rt.statuses.at(-1)).toBe("FAILED x: run-as: setuid(1000): EPERM");
  });

  it("with smooth-recovery, an exec failure of the new process fails the started service", async () => {
    const rt = helperRuntime({ smoothRecovery: true }, [svc("app", "process", { dependsOn: ["x"] })]);
    rt.command("start", "app");
    await rt.confirmExec("x");
    expect(rt.state("app")).toBe("started");
    rt.exit("x", 1);
    rt.advance(200);
    const pid = rt.set.get("x")!.pid!;
    expect(rt.spawnCount("x")).toBe(2);
    expect(rt.state("x")).toBe("started");
    await failExec(rt);
    rt.exitPid(pid, 127);
    rt.advance(60_000);
    expect(rt.state("x")).toBe("stopped");
    expect(rt.set.get("x")?.failed).toBe("run-as: setuid(1000): EPERM");
    expect(rt.spawnCount("x")).toBe(2);
    // Its dependents go down with it.
    expect(rt.state("app")).toBe("stopping");
  });

  it("a stop while the exec is pending ends stopped when the helper reports a failure", async () => {
    const rt = helperRuntime();
    rt.command("start", "x");
    const pid = rt.set.get("x")!.pid!;
    rt.command("stop", "x");
    await failExec(rt);
    rt.exitPid(pid, 127);
    rt.advance(60_000);
    expect(rt.state("x")).toBe("stopped");
    expect(rt.spawnCount("x")).toBe(1);
  });

  it("a stop while the exec is pending ends stopped when the exec is confirmed and the process exits", async () => {
    const rt = helperRuntime();
    rt.command("start", "x");
    const stop = rt.command("stop", "x");
    await rt.confirmExec("x");
    expect(rt.outcome(stop)).toBeUndefined();
    rt.exit("x", 0);
    rt.advance(60_000);
    expect(rt.state("x")).toBe("stopped");
    expect(rt.outcome(stop)).toEqual([{ kind: "done" }]);
    expect(rt.spawnCount("x")).toBe(1);
  });
});
