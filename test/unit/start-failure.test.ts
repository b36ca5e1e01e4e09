// What the entry does when starting a mode throws (issue 9: a crash at load ended supervisor
// mode with status 0, which a parent reads as a clean stop).
import { describe, expect, it } from "vitest";
import { startFailure } from "../../src/start-failure.ts";
import { UsageError } from "../../src/supervisor-args.ts";

const USAGE = "usage: tsinit ...";

describe("startFailure", () => {
  it("a crash while a supervisor loads exits 1 with the stack, never 0", () => {
    const crash = new TypeError("Cannot read properties of undefined (reading 'name')");
    const failure = startFailure(crash, false, USAGE);
    expect(failure).toEqual({ kind: "exit", exitCode: 1, lines: `tsinit: could not start: ${crash.stack}\n` });
    expect(failure.lines).toContain("TypeError: Cannot read properties of undefined");
  });

  it("something thrown that is not an Error is said as it is", () => {
    expect(startFailure("a string", false, USAGE)).toEqual({ kind: "exit", exitCode: 1, lines: "tsinit: could not start: a string\n" });
  });

  it("a bad argument exits 2 with the usage", () => {
    expect(startFailure(new UsageError("--ready-fd: not a number: x"), false, USAGE)).toEqual({
      kind: "exit",
      exitCode: 2,
      lines: `tsinit: --ready-fd: not a number: x\n${USAGE}\n`,
    });
  });

  it("the PID 1 of a machine never exits, whatever was thrown: it says why and reaps orphans", () => {
    for (const error of [new TypeError("boom"), new UsageError("bad"), 42]) {
      const failure = startFailure(error, true, USAGE);
      expect(failure.kind).toBe("reap-orphans");
      expect(failure.lines).toMatch(/^tsinit: could not start the services: .*\ntsinit: reaping orphans only\n$/s);
    }
  });
});
