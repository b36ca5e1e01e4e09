// What a service leaves behind when a reload or a removal forgets it: timers the core armed for
// it, and processes it still had (one killed at a failed start is reaped only later). Nothing of
// it may reach the core afterwards, neither as "event for unknown service" nor as an event for a
// new service that took the same name. Driven on the real Supervisor over a FakeMachine.
import { describe, expect, it } from "vitest";
import { defaultSpec, type ServiceSpec } from "../../src/base/service-spec.ts";
import type { Event } from "../../src/core/events.ts";
import { FakeRuntime } from "./fakes/fake-runtime.ts";

/** Loaded from a file, so a reload without it removes it. */
function fromFile(name: string, extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return { ...defaultSpec(name, "process", `/etc/tsinit.d/${name}`), command: [`/bin/${name}`], ...extra };
}

/** Never ready: its start-timeout (1 s) fails it, and the failure SIGKILLs its process. */
const hangs = (name: string, extra: Partial<ServiceSpec> = {}) => fromFile(name, { readyNotification: { kind: "pipefd", fd: 3 }, startTimeoutMs: 1_000, ...extra });

const KILLED = { kind: "signaled", signal: 9, core: false } as const;

/** The FakeRuntime, and every event that reaches the core. */
function watched(specs: ServiceSpec[]): { rt: FakeRuntime; events: Event[] } {
  const rt = new FakeRuntime(specs);
  return { rt, events: rt.events };
}

const reload = (rt: FakeRuntime, specs: ServiceSpec[]) => rt.supervisor.reload(new Map(specs.map((spec) => [spec.name, spec])), new Map(), new Set());

/** Lines about events the core got for a service it no longer has. */
const unknownLines = (rt: FakeRuntime) => rt.machine.lines.filter((line) => line.includes("unknown service"));

/** `a` is gone with no timer of it left, and a minute later nothing of it has reached the core. */
function goneForGood(rt: FakeRuntime, events: Event[]): void {
  expect(rt.set.get("a")).toBeUndefined();
  expect(rt.timers.size).toBe(0);
  const before = events.length;
  rt.advance(60_000);
  expect(events.slice(before)).toEqual([]);
  expect(unknownLines(rt)).toEqual([]);
}

describe("a process of a removed service", () => {
  it("is reaped without an event for a service the core no longer has", () => {
    const { rt, events } = watched([hangs("a")]);
    rt.start("a");
    const pid = rt.set.get("a")!.pid!;
    // Removed while starting: it goes once stopped, which the start-timeout brings about.
    expect(reload(rt, []).pending).toEqual(["a"]);
    rt.advance(1_000);
    expect(rt.signals).toContainEqual({ service: "a", pid, signal: 9, at: 1_000 });
    expect(rt.set.get("a")).toBeUndefined();
    // The SIGKILLed process is reaped after that.
    const before = events.length;
    rt.exitPid(pid, KILLED);
    expect(events.slice(before)).toEqual([]);
    expect(unknownLines(rt)).toEqual([]);
    // Said at debug level only (the fake's console shows debug lines).
    expect(rt.machine.lines.at(-1)).toBe(`tsinit: a: pid ${pid} killed by SIGKILL after the service was removed`);
  });

  it("ends in the event log, which saw it spawned", () => {
    const observed: string[] = [];
    const rt = new FakeRuntime([hangs("a")], { observe: (event) => observed.push(`${event.kind} ${"pid" in event ? event.pid : ""}`) });
    rt.start("a");
    const pid = rt.set.get("a")!.pid!;
    reload(rt, []);
    rt.advance(1_000);
    expect(rt.set.get("a")).toBeUndefined();
    rt.exitPid(pid, KILLED);
    expect(observed).toContain(`spawned ${pid}`);
    expect(observed).toContain(`exited ${pid}`);
  });

  it("never reaches a new service that took its name, whose process runs on", () => {
    const { rt, events } = watched([hangs("a")]);
    rt.start("a");
    const old = rt.set.get("a")!.pid!;
    reload(rt, []);
    rt.advance(1_000);
    expect(rt.set.get("a")).toBeUndefined();
    // A new `a`, started before the old process is reaped.
    reload(rt, [fromFile("a", { command: ["/bin/a", "--new"] })]);
    rt.start("a");
    const current = rt.set.get("a")!.pid!;
    expect(current).not.toBe(old);
    const before = events.length;
    rt.exitPid(old, KILLED);
    expect(events.slice(before)).toEqual([]);
    expect(rt.state("a")).toBe("started");
    expect(rt.set.get("a")!.pid).toBe(current);
    expect(unknownLines(rt)).toEqual([]);
    // Its own exit still reaches it.
    rt.exit("a", 1);
    expect(rt.state("a")).toBe("stopped");
  });

  it("started through the exec helper: neither its exec report nor its exit reaches the core", async () => {
    const { rt, events } = watched([hangs("a", { runAs: { user: "1000", group: "1000" } })]);
    rt.sys.execSucceeds = false;
    rt.start("a");
    const pid = rt.set.get("a")!.pid!;
    reload(rt, []);
    rt.advance(1_000);
    expect(rt.set.get("a")).toBeUndefined();
    const before = events.length;
    // Killed before it could exec: the helper's status pipe closes with nothing in it.
    await rt.confirmExec("a");
    rt.exitPid(pid, KILLED);
    expect(events.slice(before)).toEqual([]);
    expect(unknownLines(rt)).toEqual([]);
  });
});

describe("a removed service's timers", () => {
  it("a pending restart holds the removal back; stopped, the service goes with no timer left", () => {
    const { rt, events } = watched([fromFile("a", { restart: "yes", restartDelayMs: 1_000 })]);
    rt.start("a");
    rt.advance(5_000);
    rt.exit("a", 1);
    expect(rt.set.get("a")!.restartPending).toBe(true);
    // The restart is still to come: the removal waits for it, as for a running service.
    expect(reload(rt, [])).toMatchObject({ removed: ["a"], pending: ["a"] });
    expect(rt.supervisor.unload("a")).toBe("a is stopped and wanted with a restart pending; stop it first");
    rt.stop("a");
    goneForGood(rt, events);
    expect(rt.spawnCount("a")).toBe(1);
  });

  it("the old restart delay neither starts nor disturbs a new service of the same name", () => {
    const { rt } = watched([fromFile("a", { restart: "yes", restartDelayMs: 1_000 })]);
    rt.start("a");
    rt.advance(5_000);
    rt.exit("a", 1);
    reload(rt, []);
    rt.stop("a");
    expect(rt.set.get("a")).toBeUndefined();
    // A new `a`, loaded within the old restart delay and left stopped: nothing starts it.
    reload(rt, [fromFile("a", { command: ["/bin/a", "--new"], restart: "yes", restartDelayMs: 5_000 })]);
    rt.advance(2_000);
    expect(rt.state("a")).toBe("stopped");
    expect(rt.spawnCount("a")).toBe(1);
    // Started, it crashes: its own (longer) delay is the one that counts.
    rt.start("a");
    expect(rt.sys.calls.filter((call) => call.startsWith("spawn /bin/a"))).toEqual(["spawn /bin/a", "spawn /bin/a --new"]);
    rt.advance(5_000);
    rt.exit("a", 1);
    rt.advance(4_999);
    expect(rt.spawnCount("a")).toBe(2);
    rt.advance(1);
    expect(rt.spawnCount("a")).toBe(3);
    expect(unknownLines(rt)).toEqual([]);
  });

  it("a removal pending during a start or a stop takes effect with the start-timeout and stop-timeout gone", () => {
    const { rt, events } = watched([hangs("a"), fromFile("b", { stopTimeoutMs: 2_000 })]);
    rt.start("a");
    rt.start("b");
    rt.stop("b");
    expect(rt.state("b")).toBe("stopping");
    expect(reload(rt, []).pending.sort()).toEqual(["a", "b"]);
    // b ends within its stop-timeout, a fails at its start-timeout.
    rt.exit("b", 0);
    rt.advance(1_000);
    expect(rt.set.list()).toEqual([]);
    const before = events.length;
    rt.advance(60_000);
    expect(events.slice(before)).toEqual([]);
    expect(unknownLines(rt)).toEqual([]);
  });

  it("a held-back chain holds the removal back; stopped, the chain's timer goes too", () => {
    const { rt, events } = watched([fromFile("a", { chainTo: "a", restart: "no" })]);
    rt.start("a");
    // It ends at once, twice: the second chain is held back by the spin guard.
    rt.exit("a", 0);
    rt.exit("a", 0);
    expect(rt.set.get("a")!.chainPending).toBe("a");
    expect(reload(rt, []).pending).toEqual(["a"]);
    rt.stop("a");
    goneForGood(rt, events);
  });
});

describe("a command on a service whose removal is pending", () => {
  it("a stop succeeds: the service stops, then goes", () => {
    const { rt } = watched([fromFile("a", { stopTimeoutMs: 2_000 })]);
    rt.start("a");
    expect(reload(rt, []).pending).toEqual(["a"]);
    const id = rt.command("stop", "a");
    expect(rt.state("a")).toBe("stopping");
    rt.exit("a", 0);
    // Counted done before the removal forgets the service, as dinitctl stop of a service unloaded then.
    expect(rt.outcome(id)).toEqual([{ kind: "done" }]);
    expect(rt.set.get("a")).toBeUndefined();
    expect(rt.set.pendingCommands).toBe(0);
  });

  it("a stop of a service waiting for its restart succeeds, and the service goes", () => {
    const { rt } = watched([fromFile("a", { restart: "yes", restartDelayMs: 1_000 })]);
    rt.start("a");
    rt.advance(5_000);
    rt.exit("a", 1);
    expect(reload(rt, []).pending).toEqual(["a"]);
    const id = rt.command("stop", "a");
    expect(rt.outcome(id)).toEqual([{ kind: "done" }]);
    expect(rt.set.get("a")).toBeUndefined();
  });

  it("a start still on its way when the service goes fails with why", () => {
    const { rt } = watched([hangs("a")]);
    const start = rt.command("start", "a");
    expect(reload(rt, []).pending).toEqual(["a"]);
    rt.advance(1_000);
    expect(rt.set.get("a")).toBeUndefined();
    expect(rt.outcome(start)).toEqual([{ kind: "failed", reason: expect.stringContaining("not ready within") }]);
  });

  it("a start on its way and a stop get the outcomes they get when the service stays", () => {
    const run = (remove: boolean) => {
      const { rt } = watched([hangs("a")]);
      const start = rt.command("start", "a");
      if (remove) reload(rt, []);
      const stop = rt.command("stop", "a");
      rt.exit("a", 0);
      expect(rt.set.get("a") === undefined).toBe(remove);
      return [rt.outcome(stop), rt.outcome(start)];
    };
    const kept = run(false);
    expect(kept[0]).toEqual([{ kind: "done" }]);
    expect(kept[1]).toEqual([{ kind: "failed", reason: expect.any(String) }]);
    expect(run(true)).toEqual(kept);
  });
});
