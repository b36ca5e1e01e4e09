import { describe, expect, it } from "vitest";
import { parseArgs, usageErrorText, USAGE, type ParsedArgs } from "../../../src/cli/args.ts";
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
    expect(parsed).toEqual({ ok: true, options: { socket: "/tmp/s", json: true, quiet: false, offline: false, servicesDirs: [] }, command: { kind: "status", name: "sshd" } });
    expect(parse("list --socket=/x")).toMatchObject({ ok: true, options: { socket: "/x" } });
    expect(parse("list --socket")).toEqual({ ok: false, message: "--socket needs a path" });
  });

  it("picks the socket from --socket, then TSINIT_SOCKET, then /run/tsinit.sock", () => {
    expect(parse("list")).toMatchObject({ options: { socket: "/run/tsinit.sock" } });
    expect(parse("list", { TSINIT_SOCKET: "/env.sock" })).toMatchObject({ options: { socket: "/env.sock" } });
    expect(parse("list", { TSINIT_SOCKET: "" })).toMatchObject({ options: { socket: "/run/tsinit.sock" } });
    expect(parse("--socket /opt.sock list", { TSINIT_SOCKET: "/env.sock" })).toMatchObject({ options: { socket: "/opt.sock" } });
  });

  it("parses the other commands", () => {
    expect(command("log -f sshd")).toEqual({ kind: "log", name: "sshd", follow: true });
    expect(command("log sshd")).toEqual({ kind: "log", name: "sshd", follow: false });
    expect(command("reload")).toEqual({ kind: "reload" });
    expect(command("analyze --svg")).toEqual({ kind: "analyze", svg: true });
    expect(command("analyze")).toEqual({ kind: "analyze", svg: false });
    expect(command("events")).toEqual({ kind: "events", follow: true, after: 0, wait: false });
    expect(command("events --no-follow")).toEqual({ kind: "events", follow: false, after: 0, wait: false });
    expect(command("boot")).toEqual({ kind: "boot" });
  });

  it("parses dinitctl's verbs", () => {
    expect(command("wake --no-wait sshd")).toEqual({ kind: "service", command: "wake", name: "sshd", wait: false });
    expect(command("stop --force sshd")).toEqual({ kind: "service", command: "stop", name: "sshd", wait: true, force: true });
    expect(command("enable sshd")).toEqual({ kind: "link", verb: "enable", name: "sshd" });
    expect(command("disable --from net sshd")).toEqual({ kind: "link", verb: "disable", name: "sshd", from: "net" });
    expect(command("unload sshd")).toEqual({ kind: "unload", name: "sshd" });
    expect(command("reload sshd")).toEqual({ kind: "reload-service", name: "sshd" });
    expect(command("add-dep waits-for boot sshd")).toEqual({ kind: "dependency", verb: "add", dependency: "waits-for", from: "boot", to: "sshd" });
    expect(command("rm-dep regular web db")).toEqual({ kind: "dependency", verb: "remove", dependency: "regular", from: "web", to: "db" });
    expect(command("catlog --clear web")).toEqual({ kind: "catlog", name: "web", clear: true });
    expect(command("is-started web")).toEqual({ kind: "is", what: "started", name: "web" });
    // dinitctl renamed is-started to is-active; scripts written for either work.
    expect(command("is-active web")).toEqual({ kind: "is", what: "started", name: "web" });
    expect(command("is-failed web")).toEqual({ kind: "is", what: "failed", name: "web" });
    expect(command("signal HUP web")).toEqual({ kind: "signal", signal: "HUP", name: "web" });
    expect(command("signal -USR1 web")).toEqual({ kind: "signal", signal: "USR1", name: "web" });
    expect(command("signal --list")).toEqual({ kind: "signal-list" });
    expect(command("dependents db")).toEqual({ kind: "dependents", name: "db" });
    expect(command("getallenv")).toEqual({ kind: "getallenv" });
    expect(command("unsetenv A B")).toEqual({ kind: "unsetenv", names: ["A", "B"] });
    const setenv = parse("setenv A=1 HOME B=x=y", { HOME: "/root" });
    expect(setenv).toMatchObject({ ok: true, command: { kind: "setenv", set: { A: "1", HOME: "/root", B: "x=y" } } });
    expect(parse("--offline -d /srv/d enable x")).toMatchObject({ ok: true, options: { offline: true, servicesDirs: ["/srv/d"] }, command: { kind: "link" } });
    expect(parse("--quiet stop x")).toMatchObject({ ok: true, options: { quiet: true } });
    expect(usageError("setenv NOPE")).toBe("setenv: NOPE is not set in initctl's environment; give it as NOPE=VALUE");
    expect(usageError("add-dep hard a b")).toBe("add-dep: the kind must be one of regular, milestone, waits-for, not hard");
    expect(usageError("add-dep regular a")).toBe("add-dep takes a kind and two service names: add-dep KIND FROM TO");
    expect(usageError("--offline start x")).toBe("--offline: only enable and disable work without a running tsinit");
    expect(usageError("-d /x enable y")).toBe("-d/--services-dir is for --offline (a running tsinit has its own directories)");
    expect(usageError("start --force x")).toBe("start: unknown option --force");
    expect(usageError("enable --from")).toBe("enable: --from needs a service name");
    // --offline joins these to paths: a path must never get that far.
    expect(usageError("--offline disable ../../outside/victim")).toMatch(/^disable: invalid service name "\.\.\/\.\.\/outside\/victim"/);
    expect(usageError("--offline enable --from ../etc sshd")).toMatch(/^enable: invalid service name "\.\.\/etc"/);
    expect(usageError("signal web")).toBe("signal takes a signal and a service name: signal SIG NAME (or signal --list)");
    expect(usageError("unsetenv A=1")).toBe('unsetenv takes names, not "A=1"');
  });

  it("refuses a setenv name that is not a variable name, given with a value or not", () => {
    const refused = (args: string[], env: Record<string, string> = {}) => {
      const parsed = parseArgs(["setenv", ...args], env);
      return parsed.ok ? `parsed: ${JSON.stringify(parsed.command)}` : parsed.message;
    };
    const rule = "is not a variable name: use a letter or _, then letters, digits and _ (up to 256 characters)";
    expect(refused(["X Y=1"])).toBe(`setenv: "X Y" ${rule}`);
    expect(refused(["A=1", "1X=2"])).toBe(`setenv: "1X" ${rule}`);
    expect(refused(["MY-VAR=1"])).toBe(`setenv: "MY-VAR" ${rule}`);
    expect(refused(["X Y"], { "X Y": "1" })).toBe(`setenv: "X Y" ${rule}`);
    expect(refused([`${"V".repeat(257)}=1`])).toMatch(/^setenv: "V+" is not a variable name/);
    expect(refused(["_ok=1", `${"V".repeat(256)}=2`])).toMatch(/^parsed: /);
  });

  it("plans dinitctl's verbs as requests", () => {
    const plan = (line: string, env: Record<string, string> = {}) => {
      const parsed = parse(line, env);
      if (!parsed.ok || parsed.command.kind === "help" || parsed.command.kind === "signal-list") throw new Error(line);
      return planRequest(parsed.command);
    };
    expect(plan("stop --force db")).toEqual({ method: "POST", path: "/v1/services/db/stop?force=1" });
    expect(plan("stop --no-wait --force db")).toEqual({ method: "POST", path: "/v1/services/db/stop?wait=0&force=1" });
    expect(plan("wake db")).toEqual({ method: "POST", path: "/v1/services/db/wake" });
    expect(plan("enable --from net sshd")).toEqual({ method: "POST", path: "/v1/services/sshd/enable", body: { from: "net" } });
    expect(plan("add-dep milestone a b")).toEqual({ method: "POST", path: "/v1/dependencies/add", body: { kind: "milestone", from: "a", to: "b" } });
    expect(plan("catlog --clear web")).toEqual({ method: "DELETE", path: "/v1/services/web/log" });
    expect(plan("catlog web")).toEqual({ method: "GET", path: "/v1/services/web/log" });
    expect(plan("setenv A=1")).toEqual({ method: "POST", path: "/v1/env", body: { set: { A: "1" } } });
    expect(plan("unsetenv A")).toEqual({ method: "POST", path: "/v1/env", body: { unset: ["A"] } });
    expect(plan("signal 1 web")).toEqual({ method: "POST", path: "/v1/services/web/signal", body: { signal: "1" } });
    expect(plan("is-started web")).toEqual({ method: "GET", path: "/v1/services/web" });
    expect(plan("dependents db")).toEqual({ method: "GET", path: "/v1/services/db/dependents" });
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

  it("refuses an empty service name, which would make a path to another endpoint", () => {
    const usage = (args: string[]) => {
      const parsed = parseArgs(args, {});
      return parsed.ok ? `parsed: ${JSON.stringify(parsed.command)}` : parsed.message;
    };
    for (const verb of ["start", "stop", "restart", "wake", "release", "trigger", "untrigger", "unload", "reload", "dependents", "catlog", "is-started", "is-failed", "log", "remove", "enable", "disable"]) {
      expect(usage([verb, ""])).toBe(`${verb}: the service name is empty`);
    }
    expect(usage(["status", ""])).toBe("status: the service name is empty");
    expect(usage(["signal", "HUP", ""])).toBe("signal: the service name is empty");
    expect(usage(["add-dep", "regular", "", "db"])).toBe("add-dep: the service name is empty");
    expect(usage(["rm-dep", "regular", "web", ""])).toBe("rm-dep: the service name is empty");
  });

  it("prints a usage error as one line and where the usage is, not the whole text", () => {
    for (const line of ["frobnicate", "start", "stop a b", "setenv", "enable --from"]) {
      const parsed = parse(line);
      if (parsed.ok) throw new Error(`${line} parsed`);
      expect(usageErrorText(line.split(" "), parsed.message)).toBe(`initctl: ${parsed.message}\ninitctl --help for usage\n`);
    }
    expect(usageErrorText(["frobnicate"], "unknown command frobnicate").split("\n")).toEqual(["initctl: unknown command frobnicate", "initctl --help for usage", ""]);
    // Nothing at all to go on: the usage text, as dinitctl shows its help.
    expect(usageErrorText([], "no command given")).toBe(`initctl: no command given\n${USAGE}\n`);
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
