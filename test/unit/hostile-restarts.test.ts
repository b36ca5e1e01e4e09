// Issue 9: a crash loop must never spin the CPU, even with restart-delay = 0 and no limit.
// The first restart after a crash is still immediate; consecutive quick crashes back off.
import { describe, expect, it } from "vitest";
import { defaultSpec, type ServiceSpec } from "../../src/base/service-spec.ts";
import { decideRestart, emptyCrashHistory, QUICK_CRASH_MS, type CrashHistory } from "../../src/core/restart.ts";
import { FakeRuntime } from "./fakes/fake-runtime.ts";

function spec(extra: Partial<ServiceSpec>): ServiceSpec {
  return { ...defaultSpec("loop", "process", "/etc/tsinit.d/loop"), command: ["/bin/loop"], restart: "yes", ...extra };
}

const crashed = { kind: "exited", code: 1 } as const;

describe("restart back-off from restart-delay = 0", () => {
  it("restarts at once after the first quick crash, then doubles from a floor up to restart-delay-max", () => {
    const s = spec({ restartDelayMs: 0, restartDelayMaxMs: 1_000, restartLimitCount: 0 });
    let history: CrashHistory = emptyCrashHistory();
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const decision = decideRestart(s, crashed, 1, history, i * 10, () => 0);
      expect(decision.restart).toBe(true);
      if (!decision.restart) return;
      delays.push(decision.delayMs);
      history = decision.history;
    }
    expect(delays).toEqual([0, 10, 20, 40, 80, 160, 320, 640, 1_000, 1_000]);
  });

  it("never spins with restart-delay-max = 0 too: the floor's cap is at least 1 s", () => {
    const s = spec({ restartDelayMs: 0, restartDelayMaxMs: 0, restartLimitCount: 0 });
    let history: CrashHistory = emptyCrashHistory();
    let last = 0;
    for (let i = 0; i < 20; i++) {
      const decision = decideRestart(s, crashed, 0, history, i, () => 0);
      if (!decision.restart) throw new Error("gave up");
      last = decision.delayMs;
      history = decision.history;
    }
    expect(last).toBe(1_000);
  });

  it("keeps restarting at once a service that ran longer than a quick crash (the crash benchmark's case)", () => {
    const s = spec({ restartDelayMs: 0, restartLimitCount: 0 });
    let history: CrashHistory = emptyCrashHistory();
    for (let i = 0; i < 20; i++) {
      const decision = decideRestart(s, crashed, QUICK_CRASH_MS, history, i * 100, () => 0.5);
      if (!decision.restart) throw new Error("gave up");
      expect(decision.delayMs).toBe(0);
      history = decision.history;
    }
  });

  it("a service that exits at once, restart-delay 0 and no limit, is spawned a bounded number of times a minute", () => {
    const rt = new FakeRuntime([spec({ restartDelayMs: 0, restartLimitCount: 0 })]);
    rt.start("loop");
    for (let step = 0; step < 2_000 && rt.now < 60_000; step++) {
      if (rt.state("loop") === "started") rt.exit("loop", 1);
      rt.advance(Math.max(1, (rt.set.get("loop")?.nextRestartAt ?? 0) - rt.now));
    }
    // 0, 10, 20, ... 40.96 s: 14 spawns in the first minute, not 60,000.
    expect(rt.spawnCount("loop")).toBeLessThan(20);
  });
});
