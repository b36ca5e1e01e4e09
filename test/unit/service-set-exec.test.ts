// Exec confirmation: a service started through tsinit's exec helper (run-as, rlimits,
// socket-listen) is starting until the helper exec'd the program. A failure the helper reports
// fails the service (no restart), and the helper's own exit afterwards is no crash.
import { describe, expect, it } from "vitest";
import { CoreDriver, svc } from "./core-driver.ts";

const failure = (pid: number) => ({ kind: "spawn-failed", service: "x", role: "main", stage: "run-as", error: "setuid(1000): EPERM", pid }) as const;

function helperDriver(extra: Parameters<typeof svc>[2] = {}, more: ReturnType<typeof svc>[] = []): CoreDriver {
  const d = new CoreDriver([svc("x", "process", { restart: "yes", ...extra }), ...more]);
  d.execHelper.add("x");
  return d;
}

describe("exec confirmation", () => {
  it("a process service is started only when its exec is done", () => {
    const d = helperDriver();
    const id = d.command("start", "x");
    const pid = d.set.get("x")!.pid!;
    expect(d.state("x")).toBe("starting");
    expect(d.outcome(id)).toBeUndefined();
    expect(d.set.isQuiet()).toBe(false);
    d.send({ kind: "exec-done", service: "x", role: "main", pid });
    expect(d.state("x")).toBe("started");
    expect(d.statuses()).toEqual(["OK started x"]);
    expect(d.outcome(id)).toEqual([{ kind: "done" }]);
    expect(d.set.isQuiet()).toBe(true);
  });

  it("an exec-done for another pid changes nothing", () => {
    const d = helperDriver();
    d.command("start", "x");
    d.send({ kind: "exec-done", service: "x", role: "main", pid: 9999 });
    expect(d.state("x")).toBe("starting");
  });

  it("a failure the helper reports fails the start, without a restart, and its exit is no crash", () => {
    const d = helperDriver({}, [svc("app", "process", { dependsOn: ["x"] })]);
    const id = d.command("start", "app");
    const pid = d.set.get("x")!.pid!;
    d.send(failure(pid));
    expect(d.state("x")).toBe("stopped");
    expect(d.set.get("x")?.failed).toBe("run-as: setuid(1000): EPERM");
    expect(d.statuses()).toEqual(["FAILED x: run-as: setuid(1000): EPERM", "FAILED app: dependency x failed"]);
    expect(d.outcome(id)).toEqual([{ kind: "failed", reason: "dependency x failed" }]);
    d.exitPid("x", pid, 127);
    d.advance(60_000);
    expect(d.spawnCount("x")).toBe(1);
    expect(d.spawnCount("app")).toBe(0);
    expect(d.statuses()).toHaveLength(2);
    expect(d.set.get("x")?.restartPending).toBe(false);
    expect(d.set.isQuiet()).toBe(true);
  });

  it("a helper-reported failure for a pid that is not the service's is ignored", () => {
    const d = helperDriver();
    d.command("start", "x");
    d.send(failure(9999));
    expect(d.state("x")).toBe("starting");
    expect(d.statuses()).toEqual([]);
  });

  it("with readiness configured, started needs readiness as well as the exec", () => {
    const d = helperDriver({ readyNotification: { kind: "pipefd", fd: 3 } });
    d.command("start", "x");
    const pid = d.set.get("x")!.pid!;
    d.send({ kind: "exec-done", service: "x", role: "main", pid });
    expect(d.state("x")).toBe("starting");
    d.send({ kind: "ready", service: "x" });
    expect(d.state("x")).toBe("started");
  });

  it("an exec failure on a restart after a crash fails the service instead of looping", () => {
    const d = helperDriver();
    d.command("start", "x");
    d.send({ kind: "exec-done", service: "x", role: "main", pid: d.set.get("x")!.pid! });
    d.exit("x", 1);
    d.advance(200);
    expect(d.spawnCount("x")).toBe(2);
    const pid = d.set.get("x")!.pid!;
    expect(d.state("x")).toBe("starting");
    d.send(failure(pid));
    d.exitPid("x", pid, 127);
    d.advance(60_000);
    expect(d.state("x")).toBe("stopped");
    expect(d.spawnCount("x")).toBe(2);
    expect(d.statuses().at(-1)).toBe("FAILED x: run-as: setuid(1000): EPERM");
  });

  it("with smooth-recovery, an exec failure of the new process fails the started service", () => {
    const d = helperDriver({ smoothRecovery: true }, [svc("app", "process", { dependsOn: ["x"] })]);
    d.command("start", "app");
    d.send({ kind: "exec-done", service: "x", role: "main", pid: d.set.get("x")!.pid! });
    expect(d.state("app")).toBe("started");
    d.exit("x", 1);
    d.advance(200);
    const pid = d.set.get("x")!.pid!;
    expect(d.state("x")).toBe("started");
    d.send(failure(pid));
    d.exitPid("x", pid, 127);
    d.advance(60_000);
    expect(d.state("x")).toBe("stopped");
    expect(d.set.get("x")?.failed).toBe("run-as: setuid(1000): EPERM");
    expect(d.spawnCount("x")).toBe(2);
    // Its dependents go down with it.
    expect(d.state("app")).toBe("stopping");
  });

  it("a stop while the exec is pending ends stopped when the helper reports a failure", () => {
    const d = helperDriver();
    d.command("start", "x");
    const pid = d.set.get("x")!.pid!;
    d.command("stop", "x");
    d.send({ kind: "exec-done", service: "x", role: "main", pid });
    d.send(failure(pid));
    d.exitPid("x", pid, 127);
    d.advance(60_000);
    expect(d.state("x")).toBe("stopped");
    expect(d.spawnCount("x")).toBe(1);
  });
});
