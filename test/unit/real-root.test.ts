// The initramfs stage's recovery loop on a fake machine with the real Supervisor: a root= that
// cannot be found gives the report and the recovery shell, then the prompt, whose answer
// decides; a shutdown begun meanwhile ends the loop at once instead of spinning.
import { describe, expect, it } from "vitest";
import { BootRecord } from "../../src/boot/boot-record.ts";
import { parseCommandLine } from "../../src/boot/cmdline.ts";
import { BootModules } from "../../src/boot/module-loading.ts";
import { Log } from "../../src/log/log.ts";
import { switchToRealRoot } from "../../src/real-root.ts";
import type { ShutdownKind } from "../../src/shutdown/requests.ts";
import { FakeRuntime } from "./fakes/fake-runtime.ts";

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

function stage(commandLine: string, missingShell = false) {
  const runtime = new FakeRuntime([]);
  if (missingShell) runtime.sys.missingPrograms.add("/bin/sh");
  const log = new Log(runtime.machine.sink, { consoleThreshold: 7, kernelConsoleLevel: 0 });
  const record = new BootRecord("initramfs", () => runtime.machine.clock.sinceBoot());
  const shutdowns: ShutdownKind[] = [];
  let ended = false;
  void switchToRealRoot({
    runtime: runtime.machine,
    log,
    record,
    supervisor: runtime.supervisor,
    cmdline: parseCommandLine(commandLine),
    modules: BootModules.open(runtime.machine.sys, log, record),
    initArgs: [],
    shutdown: (kind) => shutdowns.push(kind),
  }).then(() => (ended = true));
  const spawned = (service: string) => runtime.spawns.filter((s) => s.service === service).length;
  return { runtime, shutdowns, spawned, ended: () => ended };
}

describe("the recovery loop of the initramfs stage", () => {
  it("a root that never appears: the report, the recovery shell, the prompt, and poweroff as answered", async () => {
    const { runtime, shutdowns, spawned, ended } = stage("root=LABEL=nowhere rootwait=2");
    await settle();
    runtime.machine.clock.advance(2_000);
    await settle();
    expect(runtime.machine.lines.some((l) => l.includes("root=LABEL=nowhere: no block device matched within 2 s (rootwait=2)"))).toBe(true);
    expect(spawned("recovery")).toBe(1);
    runtime.exit("recovery", 0);
    await settle();
    expect(spawned("root-prompt")).toBe(1);
    runtime.exit("root-prompt", 12); // p) poweroff
    await settle();
    expect(shutdowns).toEqual(["poweroff"]);
    expect(ended()).toBe(true);
  });

  it("s) gives the shell again, r) looks for the root again", async () => {
    const { runtime, spawned } = stage("root=LABEL=nowhere rootwait=1");
    await settle();
    runtime.machine.clock.advance(1_000);
    await settle();
    runtime.exit("recovery", 0);
    await settle();
    runtime.exit("root-prompt", 13); // s) shell
    await settle();
    expect(spawned("recovery")).toBe(2);
    runtime.exit("recovery", 0);
    await settle();
    runtime.exit("root-prompt", 10); // r) retry
    await settle();
    expect(runtime.machine.lines.filter((l) => l.includes("looking for the root device again"))).toHaveLength(1);
    runtime.machine.clock.advance(1_000);
    await settle();
    expect(spawned("recovery")).toBe(3);
  });

  it("an invalid root= goes straight to recovery, and a shutdown there ends the loop", async () => {
    const { runtime, spawned, ended } = stage("root=BOGUS=1");
    await settle();
    expect(runtime.machine.lines.some((l) => l.includes("root=BOGUS=1:"))).toBe(true);
    expect(spawned("recovery")).toBe(1);
    // `poweroff` typed in the recovery shell: the shutdown stops the shell.
    void runtime.supervisor.stopAll();
    await settle();
    runtime.exit("recovery", { kind: "signaled", signal: 15, core: false });
    await settle();
    expect(ended()).toBe(true);
    expect(spawned("root-prompt")).toBe(0);
    expect(spawned("recovery")).toBe(1);
  });

  it("a recovery shell that cannot start is tried again after a pause, never in a tight loop", async () => {
    const { runtime } = stage("root=BOGUS=1", true);
    const tries = () => runtime.sys.spawns.length;
    await settle();
    const first = tries();
    expect(first).toBeGreaterThan(0);
    await settle();
    expect(tries()).toBe(first);
    runtime.machine.clock.advance(5_000);
    await settle();
    expect(tries()).toBeGreaterThan(first);
    expect(runtime.machine.lines.some((l) => l.includes("the recovery shell or the prompt could not start; looking for the root again in 5 s"))).toBe(true);
  });
});
