import { describe, expect, it } from "vitest";
import { parseService, type ParsedService } from "../../../src/config/parse.ts";
import { formatDiagnostic } from "../../../src/config/diagnostic.ts";
import { SERVICE_DEFAULTS, type ServiceSpec } from "../../../src/base/service-spec.ts";

const F = "/etc/tsinit.d/sshd";

function parse(text: string, extra: { argument?: string; env?: Record<string, string> } = {}): ParsedService {
  return parseService(text, { name: "sshd", file: F, ...extra });
}

/** Parse a file that must load, returning its spec. */
function ok(text: string, extra: { argument?: string; env?: Record<string, string> } = {}): ServiceSpec {
  const result = parse(text, extra);
  expect(result.diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic)).toEqual([]);
  if (result.spec === undefined) throw new Error("no spec");
  return result.spec;
}

/** Parse a file that must fail, returning its rendered messages. */
function errors(text: string): string[] {
  const result = parse(text);
  expect(result.spec).toBeUndefined();
  return result.diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic);
}

function warnings(text: string): string[] {
  return parse(text).diagnostics.filter((d) => d.severity === "warning").map(formatDiagnostic);
}

const PROC = "type = process\ncommand = /bin/true\n";

describe("parseService: a complete file", () => {
  it("fills every field", () => {
    const spec = ok(
      [
        "type = bgprocess",
        'command = /usr/sbin/sshd -D -o "Banner none"',
        "stop-command = /bin/kill -TERM $MAINPID",
        "working-dir = /var/empty",
        "run-as = sshd:nogroup",
        "env-file = /etc/default/sshd",
        "depends-on = net",
        "depends-on: keys",
        "depends-ms = mounts",
        "waits-for = log",
        "before = login",
        "after = time-sync",
        "restart = on-failure",
        "restart-delay = 0.5",
        "restart-delay-max = 30",
        "restart-limit-interval = 20",
        "restart-limit-count = 5",
        "smooth-recovery = yes",
        "start-timeout = 1.25",
        "stop-timeout = 3",
        "term-signal = HUP",
        "pid-file = /run/sshd.pid",
        "logfile = /var/log/sshd.log",
        "log-buffer-size = 8192",
        "socket-listen = /run/sshd.sock",
        "socket-permissions = 600",
        "chain-to = recovery",
        "rlimit-nofile = 1024:4096",
        "rlimit-core = unlimited",
        "rlimit-data = 1000000",
        "options = starts-rwfs skippable",
        "options = no-sigterm",
      ].join("\n"),
    );
    expect(spec).toMatchObject({
      name: "sshd",
      file: F,
      type: "bgprocess",
      command: ["/usr/sbin/sshd", "-D", "-o", "Banner none"],
      stopCommand: ["/bin/kill", "-TERM", "$MAINPID"],
      workingDir: "/var/empty",
      runAs: { user: "sshd", group: "nogroup" },
      envFile: "/etc/default/sshd",
      dependsOn: ["net", "keys"],
      dependsMs: ["mounts"],
      waitsFor: ["log"],
      before: ["login"],
      after: ["time-sync"],
      restart: "on-failure",
      restartDelayMs: 500,
      restartDelayMaxMs: 30_000,
      restartLimitIntervalMs: 20_000,
      restartLimitCount: 5,
      smoothRecovery: true,
      startTimeoutMs: 1250,
      stopTimeoutMs: 3000,
      termSignal: 1,
      pidFile: "/run/sshd.pid",
      logfile: "/var/log/sshd.log",
      logType: "file",
      logBufferSize: 8192,
      socketListen: "/run/sshd.sock",
      socketPermissions: 0o600,
      chainTo: "recovery",
      rlimitNofile: { soft: 1024, hard: 4096 },
      rlimitCore: { soft: Infinity, hard: Infinity },
      rlimitData: { soft: 1_000_000, hard: 1_000_000 },
    });
    expect([...spec.options].sort()).toEqual(["no-sigterm", "skippable", "starts-rwfs"]);
    expect(spec.origins).toEqual({
      net: { file: F, line: 7 },
      keys: { file: F, line: 8 },
      mounts: { file: F, line: 9 },
      log: { file: F, line: 10 },
      login: { file: F, line: 11 },
      "time-sync": { file: F, line: 12 },
      // The lines tsinit check may point at, under keys no service name can be.
      "\0command": { file: F, line: 2 },
      "\0stop-command": { file: F, line: 3 },
      "\0working-dir": { file: F, line: 4 },
      "\0env-file": { file: F, line: 6 },
      "\0chain-to": { file: F, line: 27 },
    });
  });

  it("keeps dinit's defaults for everything not set", () => {
    const spec = ok(PROC);
    expect(spec).toMatchObject({
      type: "process",
      restart: SERVICE_DEFAULTS.restart,
      restartDelayMs: SERVICE_DEFAULTS.restartDelayMs,
      restartDelayMaxMs: SERVICE_DEFAULTS.restartDelayMaxMs,
      restartLimitIntervalMs: 10_000,
      restartLimitCount: 3,
      startTimeoutMs: 60_000,
      stopTimeoutMs: 10_000,
      termSignal: 15,
      logType: "none",
      logBufferSize: 4096,
      socketPermissions: 0o666,
      dependsOn: [],
      smoothRecovery: false,
    });
    expect(spec.options.size).toBe(0);
    expect(Object.keys(spec.origins ?? {})).toEqual(["\0command"]);
    expect(spec.workingDir).toBeUndefined();
  });

  it("defaults to an internal service, as dinit's loader does: an empty file is a milestone", () => {
    expect(ok("")).toMatchObject({ type: "internal" });
    expect(ok("waits-for = a\n")).toMatchObject({ type: "internal", waitsFor: ["a"] });
  });

  it("says why a command without a type is not run", () => {
    expect(warnings("command = /bin/true\n")).toEqual([
      `${F}:1: command: an internal service runs no command; ignored (no type is given, and dinit's default is internal; add type = process)`,
    ]);
  });

  it("warns about settings that do not apply to the type, at their line", () => {
    expect(warnings("type = scripted\ncommand = /bin/true\npid-file = /run/x.pid\nsmooth-recovery = yes\n")).toEqual([
      `${F}:3: pid-file: applies only to bgprocess services; ignored for a scripted service`,
      `${F}:4: smooth-recovery: applies only to process and bgprocess services; ignored for a scripted service`,
    ]);
    expect(warnings("type = internal\nrun-as = root\nlogfile = /tmp/x\n")).toEqual([
      `${F}:2: run-as: applies only to process, bgprocess and scripted services; ignored for an internal service`,
      `${F}:3: logfile: applies only to process, bgprocess and scripted services; ignored for an internal service`,
    ]);
  });

  it("refuses a run-as that starts with a digit but is not a number", () => {
    expect(errors(`${PROC}run-as = 9notanumber\n`)).toEqual([`${F}:3: run-as: "9notanumber" is not a numeric id (a name cannot start with a digit)`]);
    expect(errors(`${PROC}run-as = web:5x\n`)).toEqual([`${F}:3: run-as: "5x" is not a numeric id (a name cannot start with a digit)`]);
    expect(errors(`${PROC}run-as = 99999999999\n`)).toEqual([`${F}:3: run-as: 99999999999 is too large for an id`]);
    expect(ok(`${PROC}run-as = 1000:100\n`).runAs).toEqual({ user: "1000", group: "100" });
  });

  it("reads dinit's load-options", () => {
    expect(ok(`${PROC}load-options = export-passwd-vars export-service-name sub-vars\n`)).toMatchObject({ exportPasswdVars: true, exportServiceName: true });
    expect(errors(`${PROC}load-options = frob\n`)).toEqual([`${F}:3: load-options: unknown load option "frob" (export-passwd-vars, export-service-name, sub-vars)`]);
  });

  it("substitutes $1 and its forms in every setting, not only commands and names", () => {
    const text = "type = process\ncommand = /bin/agent\nrun-as = $1\nready-notification = pipevar:${1:-READY}_FD\nrestart = ${1:+yes}\n";
    expect(ok(text, { argument: "web" })).toMatchObject({ runAs: { user: "web" }, readyNotification: { kind: "pipevar", variable: "web_FD" }, restart: "yes" });
    expect(parse(text).needsArgument).toBe(true);
  });

  it("keeps @meta enable-via for enable and disable", () => {
    expect(ok(`@meta enable-via multi-user\n${PROC}`).enableVia).toBe("multi-user");
  });

  it("reads @include and @include-opt through the loader's files, reporting lines in the included file", () => {
    const files: Record<string, string> = { "/etc/tsinit.d/common": "restart = yes\nstop-timeout = x\n", "/etc/tsinit.d/inc/a": "term-signal = HUP\n" };
    const readInclude = (path: string) => files[path];
    const result = parseService(`${PROC}@include common\n@include-opt missing\n@include-opt inc/a\n@include /etc/nope\n`, { name: "sshd", file: F, readInclude });
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      `${F}:6: @include: "/etc/nope": no such file`,
      `/etc/tsinit.d/common:2: stop-timeout: "x" is not a number of seconds`,
    ]);
    const good = parseService(`${PROC}@include common\n@include-opt inc/a\n`, { name: "sshd", file: F, readInclude: (p) => (p.endsWith("common") ? "restart = yes\n" : readInclude(p)) });
    expect(good.spec).toMatchObject({ restart: "yes", termSignal: 1 });
  });

  it("refuses a file that includes itself", () => {
    const result = parseService(`${PROC}@include sshd\n`, { name: "sshd", file: F, readInclude: () => `@include sshd\n` });
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([`${F}:3: @include: "${F}" includes itself (${F} -> ${F})`]);
  });
});

describe("parseService: single settings", () => {
  it.each([
    ["process"],
    ["scripted"],
    ["internal"],
    ["triggered"],
  ])("type = %s", (type) => {
    expect(ok(`type = ${type}\ncommand = /bin/true\n`).type).toBe(type);
  });

  it("replaces the command on =, appends on +=", () => {
    expect(ok("command = /bin/a x\ncommand = /bin/b y\n").command).toEqual(["/bin/b", "y"]);
    expect(ok("command = /bin/a x\ncommand += y z\nstop-command = /bin/s\nstop-command += -q\n")).toMatchObject({
      command: ["/bin/a", "x", "y", "z"],
      stopCommand: ["/bin/s", "-q"],
    });
  });

  it("keeps $VAR references in commands and paths for start time", () => {
    const spec = ok('command = /bin/echo $HOME "${USER}" $/ARGS $$\nworking-dir = $HOME/work\n');
    expect(spec.command).toEqual(["/bin/echo", "$HOME", "${USER}", "$/ARGS", "$$"]);
    expect(spec.workingDir).toBe("$HOME/work");
  });

  it.each([
    ["alice", { user: "alice" }],
    ["1000", { user: "1000" }],
    ["alice:wheel", { user: "alice", group: "wheel" }],
    ["1000:100", { user: "1000", group: "100" }],
  ])("run-as = %s", (value, runAs) => {
    expect(ok(`${PROC}run-as = ${value}\n`).runAs).toEqual(runAs);
  });

  it.each([
    ["yes", "yes"],
    ["true", "yes"],
    ["no", "no"],
    ["false", "no"],
    ["on-failure", "on-failure"],
  ])("restart = %s", (value, restart) => {
    expect(ok(`${PROC}restart = ${value}\n`).restart).toBe(restart);
  });

  it.each([
    ["yes", true],
    ["true", true],
    ["no", false],
    ["false", false],
  ])("smooth-recovery = %s", (value, expected) => {
    expect(ok(`${PROC}smooth-recovery = ${value}\n`).smoothRecovery).toBe(expected);
  });

  it.each([
    ["10", 10_000],
    ["0", 0],
    ["0.2", 200],
    ["1,5", 1500],
    [".25", 250],
    ["2.", 2000],
    ["0.0004", 0],
  ])("durations: %s s -> %d ms", (value, ms) => {
    expect(ok(`${PROC}stop-timeout = ${value}\n`).stopTimeoutMs).toBe(ms);
  });

  it.each([
    ["TERM", 15],
    ["SIGTERM", 15],
    ["term", 15],
    ["HUP", 1],
    ["INT", 2],
    ["QUIT", 3],
    ["USR1", 10],
    ["USR2", 12],
    ["KILL", 9],
    ["SIGKILL", 9],
    ["CONT", 18],
    ["STOP", 19],
    ["none", 0],
    ["3", 3],
    ["64", 64],
  ])("term-signal = %s -> %d", (value, signal) => {
    expect(ok(`${PROC}term-signal = ${value}\n`).termSignal).toBe(signal);
  });

  it("accepts dinit's old spelling termsignal", () => {
    expect(ok(`${PROC}termsignal = INT\n`).termSignal).toBe(2);
  });

  it.each([
    ["pipefd:3", { kind: "pipefd", fd: 3 }],
    ["pipevar:READY_FD", { kind: "pipevar", variable: "READY_FD" }],
    ["notify", { kind: "notify" }],
  ])("ready-notification = %s", (value, expected) => {
    expect(ok(`${PROC}ready-notification = ${value}\n`).readyNotification).toEqual(expected);
  });

  it.each([
    ["file", "file"],
    ["buffer", "buffer"],
    ["none", "none"],
  ])("log-type = %s", (value, expected) => {
    expect(ok(`${PROC}logfile = /l\nlog-type = ${value}\n`).logType).toBe(expected);
  });

  it("lets logfile select file logging only when no log-type was chosen before it", () => {
    expect(ok(`${PROC}logfile = /l\n`).logType).toBe("file");
    expect(ok(`${PROC}log-type = buffer\nlogfile = /l\n`).logType).toBe("buffer");
  });

  it.each([
    ["666", 0o666],
    ["0600", 0o600],
    ["660", 0o660],
    ["0", 0],
  ])("socket-permissions = %s", (value, mode) => {
    expect(ok(`${PROC}socket-permissions = ${value}\n`).socketPermissions).toBe(mode);
  });

  it.each([
    ["1024", { soft: 1024, hard: 1024 }],
    ["1024:4096", { soft: 1024, hard: 4096 }],
    ["1024:", { soft: 1024 }],
    [":4096", { hard: 4096 }],
    ["-", { soft: Infinity, hard: Infinity }],
    ["unlimited", { soft: Infinity, hard: Infinity }],
    ["100:-", { soft: 100, hard: Infinity }],
    ["100:unlimited", { soft: 100, hard: Infinity }],
    ["0", { soft: 0, hard: 0 }],
  ])("rlimit-nofile = %s", (value, limit) => {
    expect(ok(`${PROC}rlimit-nofile = ${value}\n`).rlimitNofile).toEqual(limit);
  });

  it("accumulates dependency settings, once per name", () => {
    const spec = ok(`${PROC}depends-on = a\ndepends-on = b\ndepends-on = a\nwaits-for = c\nwaits-for: d\n`);
    expect(spec.dependsOn).toEqual(["a", "b"]);
    expect(spec.waitsFor).toEqual(["c", "d"]);
    expect(spec.origins?.["a"]).toEqual({ file: F, line: 3 });
  });

  it("returns dependency directories for the loader", () => {
    const result = parse(`${PROC}waits-for.d = boot.d\ndepends-on.d = /etc/deps\ndepends-ms.d = ms.d\n`);
    expect(result.dependencyDirs).toEqual([
      { kind: "waitsFor", path: "boot.d", setting: "waits-for.d", origin: { file: F, line: 3 } },
      { kind: "dependsOn", path: "/etc/deps", setting: "depends-on.d", origin: { file: F, line: 4 } },
      { kind: "dependsMs", path: "ms.d", setting: "depends-ms.d", origin: { file: F, line: 5 } },
    ]);
  });

  it("substitutes variables from the load environment in dependency names", () => {
    expect(ok(`${PROC}depends-on = net-$IF\n`, { env: { IF: "eth0" } }).dependsOn).toEqual(["net-eth0"]);
  });

  it("handles the console options the way dinit does", () => {
    const set = (line: string) => [...ok(`${PROC}${line}\n`).options].sort();
    expect(set("options = runs-on-console")).toEqual(["runs-on-console", "starts-on-console"]);
    expect(set("options = runs-on-console shares-console")).toEqual(["shares-console"]);
    expect(set("options = shares-console starts-on-console")).toEqual(["starts-on-console"]);
    expect(set("options = start-interruptible starts-log")).toEqual(["start-interruptible", "starts-log"]);
  });
});

describe("parseService: errors name file:line: setting", () => {
  it.each([
    ["restart-delay = abc", `${F}:3: restart-delay: "abc" is not a number of seconds`],
    ["restart-delay = 1.5s", `${F}:3: restart-delay: "1.5s" is not a number of seconds`],
    ["restart-delay = -1", `${F}:3: restart-delay: "-1" is not a number of seconds`],
    ["stop-timeout = 3000000", `${F}:3: stop-timeout: 3000000 seconds is too long (at most 2147483)`],
    ["restart-limit-interval = x", `${F}:3: restart-limit-interval: "x" is not a number of seconds`],
    ["start-timeout = 1e3", `${F}:3: start-timeout: "1e3" is not a number of seconds`],
    ["stop-timeout =", `${F}:3: stop-timeout: needs a value`],
    ["restart-delay-max = soon", `${F}:3: restart-delay-max: "soon" is not a number of seconds`],
    ["restart-limit-count = 2.5", `${F}:3: restart-limit-count: "2.5" is not a non-negative whole number`],
    ["log-buffer-size = 0", `${F}:3: log-buffer-size: "0" is not a positive whole number`],
    ["term-signal = FOO", `${F}:3: term-signal: "FOO" is not a signal`],
    ["term-signal = 0", `${F}:3: term-signal: "0" is not a signal`],
    ["term-signal = 65", `${F}:3: term-signal: "65" is not a signal`],
    ["socket-permissions = 0x1ff", `${F}:3: socket-permissions: "0x1ff" is not an octal mode`],
    ["socket-permissions = 789", `${F}:3: socket-permissions: "789" is not an octal mode`],
    ["socket-permissions = 17777", `${F}:3: socket-permissions: "17777" is not an octal mode`],
    ["restart = sometimes", `${F}:3: restart: "sometimes" is not one of yes, true, no, false, on-failure`],
    ["smooth-recovery = maybe", `${F}:3: smooth-recovery: "maybe" is not one of yes, true, no, false`],
    ["log-type = syslog", `${F}:3: log-type: "syslog" is not one of file, buffer, pipe, none`],
    ["ready-notification = pipefd:x", `${F}:3: ready-notification: "pipefd:x" is not pipefd:FD (3-1023), pipevar:VARIABLE or notify`],
    ["ready-notification = pipefd:1", `${F}:3: ready-notification: "pipefd:1" is not pipefd:FD (3-1023), pipevar:VARIABLE or notify`],
    ["ready-notification = socket", `${F}:3: ready-notification: "socket" is not pipefd:FD (3-1023), pipevar:VARIABLE or notify`],
    ["run-as = :wheel", `${F}:3: run-as: ":wheel" is not USER, UID, USER:GROUP or UID:GID`],
    ["run-as = a:b:c", `${F}:3: run-as: "a:b:c" is not USER, UID, USER:GROUP or UID:GID`],
    ["run-as = alice:", `${F}:3: run-as: "alice:" is not USER, UID, USER:GROUP or UID:GID`],
    ["rlimit-core = lots", `${F}:3: rlimit-core: "lots" is not a limit (NUMBER, SOFT:HARD, or unlimited)`],
    ["rlimit-data = 5:4", `${F}:3: rlimit-data: soft limit 5 is above the hard limit 4`],
    ["rlimit-nofile = :", `${F}:3: rlimit-nofile: needs a limit`],
    ["options = fast", `${F}:3: options: unknown option "fast"`],
    ["depends-on = a b", `${F}:3: depends-on: expected one service name, found "a b"`],
    ["depends-on =", `${F}:3: depends-on: needs a service name`],
    ["waits-for = ../etc", `${F}:3: waits-for: "../etc" is not a valid service name`],
    ["restart += yes", `${F}:3: restart: "+=" cannot be used with this setting (only with command, stop-command, capabilities and securebits)`],
    ["command = /bin/echo $", `${F}:3: command: "$" must be followed by a variable name (write "$$" for a literal "$")`],
    ["working-dir = ${HOME", `${F}:3: working-dir: unmatched "{" in "\${HOME"`],
    ["command = /bin/x $2", `${F}:3: command: "$2": only $1 (the service argument) may be used`],
  ])("%s", (line, message) => {
    expect(errors(`${PROC}${line}\n`)).toEqual([message]);
  });

  it("rejects an unknown type with the type line", () => {
    expect(errors("type = daemon\ncommand = /bin/true\n")).toEqual([
      `${F}:1: type: "daemon" is not one of process, bgprocess, scripted, internal, triggered`,
    ]);
  });

  it("requires a command for process, bgprocess and scripted, pointing at the type line", () => {
    expect(errors("# scripted\ntype = scripted\n")).toEqual([`${F}:2: command: a scripted service needs a command`]);
    expect(errors("type = process\ncommand =\n")).toEqual([`${F}:1: command: a process service needs a command`]);
  });

  it("requires a pid-file for bgprocess", () => {
    expect(errors("type = bgprocess\ncommand = /usr/sbin/daemon\n")).toEqual([
      `${F}:1: pid-file: a bgprocess service needs a pid-file`,
    ]);
  });

  it("rejects ready-notification on bgprocess", () => {
    expect(errors("type = bgprocess\ncommand = /d\npid-file = /p\nready-notification = pipefd:3\n")).toEqual([
      `${F}:4: ready-notification: a bgprocess service cannot use ready-notification`,
    ]);
  });

  it("reports a syntax error and keeps reading the rest of the file, without follow-on errors", () => {
    expect(errors("type = process\ncommand /bin/true\nrestart-delay = x\n")).toEqual([
      `${F}:2: command: expected "=" or ":" after the setting name`,
      `${F}:3: restart-delay: "x" is not a number of seconds`,
    ]);
  });
});

describe("parseService: warnings still load the service", () => {
  it("warns about unknown settings with file:line", () => {
    const result = parse(`${PROC}frobnicate = yes\n`);
    expect(result.spec).toBeDefined();
    expect(warnings(`${PROC}frobnicate = yes\n`)).toEqual([`${F}:3: frobnicate: unknown setting; ignored`]);
  });

  it("warns about dinit options that tsinit does not act on", () => {
    expect(warnings(`${PROC}options = pass-cs-fd skippable\n`)).toEqual([
      `${F}:3: options: option "pass-cs-fd" is not supported by tsinit; ignored`,
    ]);
    expect([...(parse(`${PROC}options = pass-cs-fd skippable\n`).spec?.options ?? [])]).toEqual(["skippable"]);
  });

  it("warns about a command on an internal service", () => {
    expect(warnings("type = internal\ncommand = /bin/true\n")).toEqual([
      `${F}:2: command: an internal service runs no command; ignored`,
    ]);
  });

  it("warns about restart-delay-max below restart-delay", () => {
    expect(warnings(`${PROC}restart-delay = 5\nrestart-delay-max = 1\n`)).toEqual([
      `${F}:4: restart-delay-max: is below restart-delay; restart-delay is used`,
    ]);
  });

  it("warns about log-type file without a logfile", () => {
    expect(warnings(`${PROC}log-type = file\n`)).toEqual([
      `${F}:3: log-type: is file but no logfile is set; output is discarded`,
    ]);
  });
});

describe("parseService: instances", () => {
  const TEMPLATE = "type = process\ncommand = /sbin/agetty $1 linux\nwaits-for = udev@$1\nlogfile = /var/log/getty-$1.log\n";

  it("substitutes $1 with the argument everywhere", () => {
    const spec = ok(TEMPLATE, { argument: "tty1" });
    expect(spec.command).toEqual(["/sbin/agetty", "tty1", "linux"]);
    expect(spec.waitsFor).toEqual(["udev@tty1"]);
    expect(spec.logfile).toBe("/var/log/getty-tty1.log");
  });

  it("marks a file that uses $1 without an argument as a template", () => {
    const result = parse(TEMPLATE);
    expect(result.spec).toBeUndefined();
    expect(result.needsArgument).toBe(true);
    expect(result.diagnostics.map(formatDiagnostic)[0]).toBe(
      `${F}:2: command: "$1" needs a service argument: start the service as NAME@ARGUMENT`,
    );
  });

  it("does not mark ordinary errors as a template", () => {
    expect(parse(`${PROC}restart = x\n`).needsArgument).toBe(false);
  });
});
