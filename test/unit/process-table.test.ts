import { describe, expect, it } from "vitest";
import { ProcessTable } from "../../src/supervisor/process-table.ts";
import type { ExitStatus, Reaped } from "../../src/base/process.ts";
import { FakeSys } from "./fakes/fake-sys.ts";

describe("process table", () => {
  it("hands each exit to the owner of the pid and reports unknown pids as orphans", () => {
    const sys = new FakeSys();
    const exits: [string, number, ExitStatus][] = [];
    const orphans: Reaped[] = [];
    const table = new ProcessTable<string>(sys, (owner, pid, status) => exits.push([owner, pid, status]), (r) => orphans.push(r));
    const spawned = table.spawn("getty", { argv: ["/sbin/getty"], env: {}, stdin: { kind: "null" }, stdout: { kind: "null" } });
    if (!spawned.ok) throw new Error("spawn failed");
    sys.pending.push({ pid: 4242, status: { kind: "exited", code: 0 } }, { pid: spawned.pid, status: { kind: "signaled", signal: 9, core: false } });
    table.reap();
    expect(exits).toEqual([["getty", spawned.pid, { kind: "signaled", signal: 9, core: false }]]);
    expect(orphans).toEqual([{ pid: 4242, status: { kind: "exited", code: 0 } }]);
    expect(table.tracked()).toBe(0);
    // A pid is forgotten once reaped: a second exit with the same number is an orphan's.
    sys.pending.push({ pid: spawned.pid, status: { kind: "exited", code: 0 } });
    table.reap();
    expect(orphans).toHaveLength(2);
  });
});

describe("container mode's exit status", () => {
  it("is the command's code, or 128+N for a signal, as a shell's", async () => {
    const { exitCodeOf } = await import("../../src/container.ts");
    expect(exitCodeOf({ kind: "exited", code: 3 })).toBe(3);
    expect(exitCodeOf({ kind: "signaled", signal: 15, core: false })).toBe(143);
  });
});
