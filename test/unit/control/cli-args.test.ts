import { describe, expect, it } from "vitest";
import { parseArgs, type ParsedArgs } from "../../../src/cli/args.ts";
import { planRequest } from "../../../src/cli/plan.ts";

const parse = (line: string, env: Record<string, string> = {}): ParsedArgs => parseArgs(line === "" ? [] : line.split(" "), env);
const command = (line: string) => {
  const parsed = parse(line);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.command;
};
const usageError = (line: string) => {
  const parsed = parse(line);
  if (parsed.ok) throw new Error(`${line} parsed`);
  return parsed.message;
};

describe("initctl arguments", () => {
  it("parses every command", () => {
    expect(command("list")).toEqual({ kind: "list" });
    expect(command("status")).toEqual({ kind: "status" });
    expect(command("status sshd")).toEqual({ kind: "status", name: "sshd" });
    expect(command("start sshd")).toEqual({ kind: "service", command: "start", name: "sshd", wait: true });
    expect(command("stop --no-wait sshd")).toEqual({ kind: "service", command: "stop", name: "sshd", wait: false });
    expect(command("restart getty@tty1 --no-wait")).toEqual({ kind: "service", command: "restart", name: "getty@tty1", wait: false });
    expect(command("release sshd")).toEqual({ kind: "service", command: "release", name: "sshd", wait: true });
    expect(command("trigger net-up")).toEqual({ kind: "service", command: "trigger", name: "net-up", wait: true });
    expect(command("remove job")).toEqual({ kind: "remove", name: "job" });
    expect(command("shutdown")).toEqual({ kind: "shutdown" });
    expect(command("poweroff")).toEqual({ kind: "shutdown", shutdown: "poweroff" });
    expect(command("reboot")).toEqual({ kind: "shutdown", shutdown: "reboot" });
    expect(command("halt")).toEqual({ kind: "shutdown", shutdown: "halt" });
    expect(command("help")).toEqual({ kind: "help" });
    expect(command("debug stall 30")).toEqual({ kind: "debug-stall", seconds: 30 });
    expect(planRequest({ kind: "debug-stall", seconds: 30 })).toEqual({ method: "POST", path: "/v1/debug/stall", body: { seconds: 30 } });
  });

  it("says what debug needs", () => {
    expect(usageError("debug")).toBe("debug needs a request: debug stall SECONDS");
    expect(usageError("debug hang 3")).toBe("debug: unknown request hang (there is: stall)");
    for (const line of ["debug stall", "debug stall 0", "debug stall 3601", "debug stall x", "debug stall 3 4"]) {
      expect(usageError(line)).toBe("debug stall needs one number of seconds, from 1 to 3600");
    }
  });

  it("parses run with its options and the command after --", () => {
    expect(command("run -- sleep 60")).toEqual({ kind: "run", restart: false, command: ["sleep", "60"], wait: true });
    expect(command("run --name job --restart --cwd /srv --no-wait -- sh -c --json")).toEqual({
      kind: "run",
      name: "job",
      restart: true,
      workingDir: "/srv",
      command: ["sh", "-c", "--json"],
      wait: false,
    });
    expect(usageError("run")).toBe("run needs a command after --");
    expect(usageError("run --")).toBe("run needs a command after --");
    expect(usageError("run sleep 60")).toBe("run: put the command after --, as in: initctl run -- sleep 60");
    expect(usageError("run --name")).toBe("run: --name needs a value");
    expect(usageError("run --bogus -- x")).toBe("run: unknown option --bogus");
  });

  it("takes global options anywhere before --", () => {
    const parsed = parse("--json status --socket /tmp/s sshd");
    expect(parsed).toEqual({ ok: true, options: { socket: "/tmp/s", json: true }, command: { kind: "status", name: "sshd" } });
    expect(parse("list --socket=/x")).toMatchObject({ ok: true, options: { socket: "/x" } });
    expect(parse("list --socket")).toEqual({ ok: false, message: "--socket needs a path" });
  });

  it("picks the socket from --socket, then TSINIT_SOCKET, then /run/tsinit.sock", () => {
    expect(parse("list")).toMatchObject({ options: { socket: "/run/tsinit.sock" } });
    expect(parse("list", { TSINIT_SOCKET: "/env.sock" })).toMatchObject({ options: { socket: "/env.sock" } });
    expect(parse("list", { TSINIT_SOCKET: "" })).toMatchObject({ options: { socket: "/run/tsinit.sock" } });
    expect(parse("--socket /opt.sock list", { TSINIT_SOCKET: "/env.sock" })).toMatchObject({ options: { socket: "/opt.sock" } });
  });

  it("reserves the commands that are not built yet", () => {
    expect(command("log -f sshd")).toEqual({ kind: "log", name: "sshd", follow: true });
    expect(command("log sshd")).toEqual({ kind: "log", name: "sshd", follow: false });
    expect(command("wake sshd")).toEqual({ kind: "unimplemented", command: "wake", name: "sshd" });
    expect(command("enable sshd")).toEqual({ kind: "unimplemented", command: "enable", name: "sshd" });
    expect(command("disable sshd")).toEqual({ kind: "unimplemented", command: "disable", name: "sshd" });
    expect(command("reload")).toEqual({ kind: "reload" });
    expect(command("analyze --svg")).toEqual({ kind: "analyze", svg: true });
    expect(command("analyze")).toEqual({ kind: "analyze", svg: false });
    expect(command("events")).toEqual({ kind: "events", follow: true, after: 0, wait: false });
    expect(command("events --no-follow")).toEqual({ kind: "events", follow: false, after: 0, wait: false });
    expect(command("boot")).toEqual({ kind: "boot" });
  });

  it("reports bad usage", () => {
    expect(usageError("")).toBe("no command given");
    expect(usageError("frobnicate")).toBe("unknown command frobnicate");
    expect(usageError("start")).toBe("start needs a service name");
    expect(usageError("stop a b")).toBe("stop takes one service name");
    expect(usageError("start --now x")).toBe("start: unknown option --now");
    expect(usageError("status a b")).toBe("status takes at most one service name");
    expect(usageError("list x")).toBe("list takes no arguments");
    expect(usageError("shutdown now")).toBe("shutdown takes no arguments");
    expect(usageError("stop x -- y")).toBe("stop takes no arguments after --");
    expect(usageError("remove")).toBe("remove needs a service name");
  });

  it("-h and --help ask for the usage text", () => {
    expect(command("--help")).toEqual({ kind: "help" });
    expect(command("start -h")).toEqual({ kind: "help" });
  });
});

describe("the request each command sends", () => {
  it("maps commands to methods and paths", () => {
    expect(planRequest({ kind: "list" })).toEqual({ method: "GET", path: "/v1/services" });
    expect(planRequest({ kind: "status", name: "getty@tty1" })).toEqual({ method: "GET", path: "/v1/services/getty%40tty1" });
    expect(planRequest({ kind: "service", command: "stop", name: "sshd", wait: false })).toEqual({ method: "POST", path: "/v1/services/sshd/stop?wait=0" });
    expect(planRequest({ kind: "run", restart: true, command: ["sleep", "9"], wait: true, name: "s" })).toEqual({
      method: "POST",
      path: "/v1/services",
      body: { command: ["sleep", "9"], restart: true, name: "s" },
    });
    expect(planRequest({ kind: "remove", name: "s" })).toEqual({ method: "DELETE", path: "/v1/services/s" });
    expect(planRequest({ kind: "shutdown", shutdown: "halt" })).toEqual({ method: "POST", path: "/v1/shutdown", body: { kind: "halt" } });
    expect(planRequest({ kind: "log", name: "s", follow: false })).toEqual({ method: "GET", path: "/v1/services/s/log" });
    expect(planRequest({ kind: "log", name: "s", follow: true, after: 42 })).toEqual({ method: "GET", path: "/v1/services/s/log?after=42&wait=1" });
    expect(planRequest({ kind: "reload" })).toEqual({ method: "POST", path: "/v1/reload" });
  });
});
