import { describe, expect, it } from "vitest";
import { formatDuration, formatServiceDetail, formatServiceTable, quoteWord, serviceNote } from "../../../src/cli/format.ts";
import { renderAnswer } from "../../../src/cli/output.ts";
import type { ServiceStatus } from "../../../src/control/api.ts";

function status(extra: Partial<ServiceStatus> = {}): ServiceStatus {
  return {
    name: "web",
    type: "process",
    state: "started",
    target: "started",
    explicit: true,
    requiredBy: 0,
    crashes: 0,
    restartsInInterval: 0,
    restartLimit: { count: 3, intervalMs: 10_000 },
    restartPending: false,
    restart: "no",
    ...extra,
  };
}

const crashing = status({
  name: "flaky",
  state: "stopped",
  lastExit: "exited 3",
  crashes: 2,
  restartsInInterval: 2,
  restartPending: true,
  nextRestartInMs: 1600,
  nextRestartAt: "2030-01-01T00:00:01.600Z",
  restart: "yes",
  file: "/etc/tsinit.d/flaky",
  command: ["/bin/sh", "-c", "exit 3"],
});

describe("formatting", () => {
  it("writes durations short", () => {
    expect([0, 950, 9_999, 12_300, 302_000, 11_100_000, 2 * 86_400_000 + 3 * 3_600_000].map(formatDuration)).toEqual([
      "0.0s",
      "0.9s",
      "9.9s",
      "12s",
      "5m02s",
      "3h05m",
      "2d03h",
    ]);
  });

  it("draws the service table with a note for each row", () => {
    const text = formatServiceTable([
      status({ pid: 42, uptimeMs: 65_000 }),
      crashing,
      status({ name: "bad", state: "stopped", target: "stopped", failed: "executing /x: ENOENT" }),
      status({ name: "db", notifyStatus: "serving 3 clients", pid: 7, uptimeMs: 1000 }),
    ]);
    expect(text).toBe(
      [
        "NAME   STATE    TARGET   PID  UPTIME  CRASHES  NOTE",
        "web    started  started  42   1m05s   0",
        "flaky  stopped  started  -    -       2        exited 3; restart in 1.6s",
        "bad    stopped  stopped  -    -       0        failed: executing /x: ENOENT",
        "db     started  started  7    1.0s    0        serving 3 clients",
      ].join("\n"),
    );
    expect(formatServiceTable([])).toBe("no services");
  });

  it("shows crash count, last exit and the next restart in detail", () => {
    expect(formatServiceDetail(crashing)).toBe(
      [
        "flaky",
        "  type:         process",
        "  state:        stopped (target started)",
        "  command:      /bin/sh -c 'exit 3'",
        "  file:         /etc/tsinit.d/flaky",
        "  restart:      yes",
        "  wanted:       explicitly",
        "  last exit:    exited 3",
        "  crashes:      2 in a row (2 restarts in the last 10s; limit 3)",
        "  next restart: in 1.6s (at 2030-01-01T00:00:01.600Z)",
      ].join("\n"),
    );
  });

  it("names the owner of a runtime service", () => {
    expect(formatServiceDetail(status({ runtime: { ownerUid: 65534, ownerGid: 65534 }, requiredBy: 2, explicit: false }))).toContain(
      "  added by: uid 65534 (with initctl run)",
    );
  });

  it("prefers the most useful note", () => {
    expect(serviceNote(status({ blocked: "dependency cycle: a -> b -> a", failed: "x" }))).toBe("dependency cycle: a -> b -> a");
    expect(serviceNote(status({ restartPending: true }))).toBe("restart pending");
    expect(serviceNote(status())).toBe("");
  });

  it("quotes words for the shell only when needed", () => {
    expect(["sleep", "60", "a b", "", "it's", "$HOME"].map(quoteWord)).toEqual(["sleep", "60", "'a b'", "''", `'it'\\''s'`, "'$HOME'"]);
  });
});

describe("answers and exit status", () => {
  it("prints successes on stdout with status 0", () => {
    expect(renderAnswer({ kind: "service", command: "start", name: "web", wait: true }, 200, { service: status({ pid: 9 }), done: true }, false)).toEqual({
      stdout: "started web (pid 9)\n",
      stderr: "",
      exitCode: 0,
    });
    expect(renderAnswer({ kind: "service", command: "stop", name: "web", wait: false }, 200, { service: status({ state: "stopping" }), done: false }, false).stdout).toBe(
      "web: stopping (stopping now)\n",
    );
    // A stop that the service's pending removal followed: it is gone, and the line says so.
    expect(renderAnswer({ kind: "service", command: "stop", name: "web", wait: true }, 200, { service: status({ state: "stopped" }), done: true, removed: true }, false)).toEqual({
      stdout: "stopped web; it is no longer loaded (its file was removed)\n",
      stderr: "",
      exitCode: 0,
    });
    expect(renderAnswer({ kind: "run", restart: false, command: ["x"], wait: true }, 201, { service: status({ name: "x", pid: 5 }), done: true }, false).stdout).toBe(
      "started x (pid 5)\n",
    );
    expect(renderAnswer({ kind: "remove", name: "x" }, 200, { service: status({ name: "x" }) }, false).stdout).toBe("removed x\n");
    expect(renderAnswer({ kind: "shutdown" }, 202, { shutdown: "exit" }, false).stdout).toBe("stopping every service; the supervisor will exit\n");
    expect(renderAnswer({ kind: "status", name: "flaky" }, 200, { service: crashing }, false).stdout).toContain("next restart: in 1.6s");
  });

  it("prints errors on stderr with status 1", () => {
    const refused = { error: { code: "forbidden", message: "uid 65534 may not stop web: only root may control services it did not start" } };
    expect(renderAnswer({ kind: "service", command: "stop", name: "web", wait: true }, 403, refused, false)).toEqual({
      stdout: "",
      stderr: "initctl: uid 65534 may not stop web: only root may control services it did not start\n",
      exitCode: 1,
    });
    const dependents = { error: { code: "conflict", message: "not stopping db: web, api depend on it; stop them first, or use --force to stop them too" }, dependents: ["api", "web"] };
    expect(renderAnswer({ kind: "service", command: "stop", name: "db", wait: true }, 409, dependents, false)).toEqual({
      stdout: "",
      stderr: "initctl: not stopping db: web, api depend on it; stop them first, or use --force to stop them too\n  api\n  web\n",
      exitCode: 1,
    });
    expect(renderAnswer({ kind: "log", name: "web", follow: false }, 200, { service: "web", text: "a\nb", next: 3, dropped: 0 }, false)).toEqual({ stdout: "a\nb", stderr: "", exitCode: 0 });
    expect(renderAnswer({ kind: "list" }, 502, "oops", false).stderr).toBe('initctl: unexpected answer (HTTP 502): "oops"\n');
  });

  it("answers is-started and is-failed with the state and the exit status, and keeps quiet when asked", () => {
    const status = (state: string, failed?: string) => ({ service: { name: "web", state, ...(failed === undefined ? {} : { failed }) } });
    expect(renderAnswer({ kind: "is", what: "started", name: "web" }, 200, status("started"), false)).toEqual({ stdout: "STARTED\n", stderr: "", exitCode: 0 });
    expect(renderAnswer({ kind: "is", what: "started", name: "web" }, 200, status("starting"), false)).toEqual({ stdout: "STARTING\n", stderr: "", exitCode: 1 });
    expect(renderAnswer({ kind: "is", what: "failed", name: "web" }, 200, status("stopped", "exited 1"), false)).toEqual({ stdout: "STOPPED\n", stderr: "", exitCode: 0 });
    expect(renderAnswer({ kind: "is", what: "failed", name: "web" }, 200, status("stopped"), false, true)).toEqual({ stdout: "", stderr: "", exitCode: 1 });
    // A run that ended is dinit's "terminated", not failed.
    const terminated = { service: { name: "web", state: "stopped", failed: "exited 1 (restart = no)", terminated: true } };
    expect(renderAnswer({ kind: "is", what: "failed", name: "web" }, 200, terminated, false)).toEqual({ stdout: "STOPPED\n", stderr: "", exitCode: 1 });
    expect(renderAnswer({ kind: "is", what: "failed", name: "x" }, 404, { error: { code: "unknown-service", message: "no service named x" } }, false).exitCode).toBe(1);
    const stopped = { service: { name: "web", state: "stopped", pid: undefined, target: "stopped" }, done: true };
    expect(renderAnswer({ kind: "service", command: "stop", name: "web", wait: true }, 200, stopped, false, true)).toEqual({ stdout: "", stderr: "", exitCode: 0 });
    expect(renderAnswer({ kind: "getallenv" }, 200, { env: { B: "2", A: "1" } }, false, true).stdout).toBe("A=1\nB=2\n");
    expect(renderAnswer({ kind: "setenv", set: { A: "1" } }, 200, { env: { A: "1" } }, false).stdout).toBe("");
    const dependents = { service: "db", dependents: [{ name: "web", kind: "regular", holds: true, state: "started" }, { name: "cron", kind: "waits-for", holds: false, state: "stopped" }] };
    expect(renderAnswer({ kind: "dependents", name: "db" }, 200, dependents, false).stdout).toBe("NAME  KIND       STATE    HOLDS\nweb   regular    started  yes\ncron  waits-for  stopped  no\n");
    expect(renderAnswer({ kind: "signal", name: "web", signal: "HUP" }, 200, { service: "web", signal: 1, pid: 42 }, false).stdout).toBe("sent SIGHUP to web (pid 42)\n");
  });

  it("prints the JSON answer as it came with --json, keeping the exit status", () => {
    const body = { error: { code: "unknown-service", message: "no service named x" } };
    const output = renderAnswer({ kind: "status", name: "x" }, 404, body, true);
    expect(JSON.parse(output.stdout)).toEqual(body);
    expect(output.exitCode).toBe(1);
    expect(renderAnswer({ kind: "list" }, 200, { services: [] }, true).exitCode).toBe(0);
  });

  it("does not crash on an answer of an unexpected shape", () => {
    expect(renderAnswer({ kind: "list" }, 200, { something: "else" }, false)).toMatchObject({ exitCode: 1 });
  });
});
