// The first runner on a fake machine: which runner the command line names, how its end becomes a
// status (code, 128+signal, 127 when it never ran), and what tsinit.exit= does with it.
import { describe, expect, it } from "vitest";
import { parseCommandLine } from "../../src/boot/cmdline.ts";
import { Log } from "../../src/log/log.ts";
import { EventLog } from "../../src/log/event-log.ts";
import { chooseRunner, exitKind, runFirstRunner, statusNumber, type Runner } from "../../src/runner.ts";
import type { ShutdownKind } from "../../src/shutdown/requests.ts";
import { FakeRuntime } from "./fakes/fake-runtime.ts";

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

function start(runner: Runner) {
  const runtime = new FakeRuntime([]);
  const shutdowns: ShutdownKind[] = [];
  const statuses: number[] = [];
  let status: number | undefined;
  const log = new Log(runtime.machine.sink, { consoleThreshold: 7, kernelConsoleLevel: 0 });
  const events = new EventLog(() => runtime.machine.clock.sinceBoot());
  void runFirstRunner({ events, log, supervisor: runtime.supervisor, runner, shutdown: (kind, s) => {
    shutdowns.push(kind);
    statuses.push(s);
  } }).then((s) => (status = s));
  return { runtime, shutdowns, statuses, events, status: () => status };
}

describe("the first runner", () => {
  it("is what tsinit.runner= names, else /etc/tsinit/rc when it exists", () => {
    const runtime = new FakeRuntime([]);
    const sys = runtime.sys;
    expect(chooseRunner(sys, parseCommandLine("quiet"), {})).toBeUndefined();
    sys.files.set("/etc/tsinit/rc", "#!/bin/sh\n");
    expect(chooseRunner(sys, parseCommandLine("quiet"), {})).toEqual({ path: "/etc/tsinit/rc", args: [], after: [], exit: undefined });
    expect(chooseRunner(sys, parseCommandLine("tsinit.runner=/bin/t tsinit.runner.arg=-v tsinit.runner.arg=x tsinit.runner.after=early,net tsinit.exit=reboot"), {})).toEqual({
      path: "/bin/t",
      args: ["-v", "x"],
      after: ["early", "net"],
      exit: "reboot",
    });
    expect(chooseRunner(sys, parseCommandLine(""), { BOOT: "0" })?.exit).toBe("poweroff");
  });

  it("tsinit.exit= takes poweroff, reboot or halt, nothing else", () => {
    expect(exitKind("halt")).toBe("halt");
    expect(exitKind("shutdown")).toBeUndefined();
    expect(chooseRunner(new FakeRuntime([]).sys, parseCommandLine("tsinit.runner=/t tsinit.exit=bogus"), {})?.exit).toBeUndefined();
  });

  it("a status is the exit code, or 128 + the signal, or 127 when it never ran", () => {
    expect(statusNumber({ kind: "exited", code: 77 })).toBe(77);
    expect(statusNumber({ kind: "signaled", signal: 9, core: false })).toBe(137);
    expect(statusNumber(undefined)).toBe(127);
  });

  it("runs on the console with its words as given, and with tsinit.exit= powers off with its status", async () => {
    const { runtime, shutdowns, statuses, status, events } = start({ path: "/bin/t", args: ["$HOME", "a b"], after: [], exit: "poweroff" });
    await settle();
    const spawn = runtime.sys.spawns.at(-1)!;
    expect(spawn.request.argv).toEqual(["/bin/t", "$HOME", "a b"]);
    runtime.exit("runner", 3);
    await settle();
    expect(status()).toBe(3);
    expect(events.after(0).events.map((e) => e.kind).filter((k) => k.startsWith("runner"))).toEqual(["runner", "runner-exit"]);
    expect(events.after(0).events.at(-1)).toMatchObject({ kind: "runner-exit", status: 3 });
    expect(shutdowns).toEqual(["poweroff"]);
    expect(statuses).toEqual([3]);
    expect(runtime.machine.lines).toContain("tsinit: runner: exit status 3");
  });

  it("without tsinit.exit= the boot goes on", async () => {
    const { runtime, shutdowns, status, events } = start({ path: "/bin/t", args: [], after: [] });
    await settle();
    runtime.exit("runner", 0);
    await settle();
    expect(status()).toBe(0);
    expect(shutdowns).toEqual([]);
    expect(events.after(0).events.at(-1)).toMatchObject({ kind: "runner-exit", status: 0 });

    const second = start({ path: "/bin/t", args: [], after: [], exit: "halt" });
    await settle();
    second.runtime.exit("runner", { kind: "signaled", signal: 15, core: false });
    await settle();
    expect(second.status()).toBe(143);
    expect(second.shutdowns).toEqual(["halt"]);
  });

  it("a runner that cannot start is 127, and the machine still goes down", async () => {
    const runtime = new FakeRuntime([]);
    runtime.sys.missingPrograms.add("/no/runner");
    const shutdowns: ShutdownKind[] = [];
    const log = new Log(runtime.machine.sink, { consoleThreshold: 7, kernelConsoleLevel: 0 });
    const events = new EventLog(() => 0);
    const status = await runFirstRunner({ events, log, supervisor: runtime.supervisor, runner: { path: "/no/runner", args: [], after: [], exit: "poweroff" }, shutdown: (kind) => void shutdowns.push(kind) });
    expect(status).toBe(127);
    expect(events.after(0).events.at(-1)).toMatchObject({ kind: "runner-exit", status: 127 });
    expect(shutdowns).toEqual(["poweroff"]);
  });
});
