// initctl's command line: global options (--socket, --json) anywhere before `--`, then a
// command and its arguments. Pure: the result is a value, and a usage error is a message
// (initctl prints it and a pointer to --help, and exits 2).
import { envNameProblem } from "../base/env-name.ts";
import { serviceNameProblem } from "../base/service-name.ts";
import { DEFAULT_SOCKET, DEPENDENCY_KINDS, SOCKET_ENV, type DependencyKind, type ServiceCommand, type ShutdownKind } from "../control/api.ts";

export type CliCommand =
  | { kind: "help" }
  | { kind: "list" }
  | { kind: "status"; name?: string }
  /**
   * `force` (stop and restart --force): the active dependents are stopped (restarted) too.
   * `ignoreUnstarted` (dinitctl's --ignore-unstarted): success when NAME is unknown or stopped.
   */
  | { kind: "service"; command: ServiceCommand; name: string; wait: boolean; force?: boolean; ignoreUnstarted?: boolean }
  | { kind: "run"; name?: string; restart: boolean; workingDir?: string; command: string[]; wait: boolean }
  | { kind: "remove"; name: string }
  /** A buffer log; `follow` keeps printing what comes (`-f`). */
  | { kind: "log"; name: string; follow: boolean; after?: number }
  /** `shutdown` (no kind: the server's default), `poweroff`, `reboot`, `halt`. */
  | { kind: "shutdown"; shutdown?: ShutdownKind }
  /** Re-read every service file (no name), as SIGHUP does. */
  | { kind: "reload" }
  /** dinit's `reload NAME`: one service's description read again. */
  | { kind: "reload-service"; name: string }
  /** The waits-for.d link from `from` (default: the service's @meta enable-via, else boot). */
  | { kind: "link"; verb: "enable" | "disable"; name: string; from?: string }
  | { kind: "unload"; name: string }
  | { kind: "dependency"; verb: "add" | "remove"; dependency: DependencyKind; from: string; to: string }
  /** setenv (values resolved from initctl's own environment when not given) and unsetenv. */
  | { kind: "setenv"; set: Record<string, string> }
  | { kind: "unsetenv"; names: string[] }
  | { kind: "getallenv" }
  /** The buffer log once, and (`clear`) emptied after. */
  | { kind: "catlog"; name: string; clear: boolean }
  /** is-started, is-failed: the exit status says. */
  | { kind: "is"; what: "started" | "failed"; name: string }
  | { kind: "signal"; name: string; signal: string }
  /** signal --list: the signal names, without asking the server. */
  | { kind: "signal-list" }
  | { kind: "dependents"; name: string }
  /** init's boot record: both stages when it switched root. */
  | { kind: "boot" }
  /** The event log: everything kept since boot, then (`follow`) each event as it happens. */
  | { kind: "events"; follow: boolean; after: number; wait: boolean }
  /** The boot timeline: a table, or (`svg`) a picture. */
  | { kind: "analyze"; svg: boolean }
  /** `debug stall SECONDS`: block PID 1's event loop (only with tsinit.debug). */
  | { kind: "debug-stall"; seconds: number };

export interface CliOptions {
  socket: string;
  json: boolean;
  /** dinitctl's --quiet: only errors are printed (queries still print what they ask for). */
  quiet: boolean;
  /** dinitctl's --offline: enable and disable on the service files, with no tsinit running. */
  offline: boolean;
  /** -d/--services-dir, for --offline. */
  servicesDirs: string[];
}

export type ParsedArgs = { ok: true; options: CliOptions; command: CliCommand } | { ok: false; message: string };

export const USAGE = `usage: initctl [--socket PATH] [--json] [--quiet] COMMAND [ARGS]
       initctl --offline [-d DIR]... enable|disable [--from NAME] NAME

  list                      every service, as a table
  status [NAME]             one service in detail (crashes, last exit, next restart), or the list
  start [--no-wait] NAME    start NAME and wait until it is started or failed
  stop [--no-wait] [--force] [--ignore-unstarted] NAME
                            stop NAME and wait until it is stopped; refused while active
                            services depend on it, unless --force (they stop too);
                            --ignore-unstarted: success if NAME is unknown or stopped
  wake [--no-wait] NAME     start NAME for the active services that depend on it (not marked)
  restart [--no-wait] [--force] [--ignore-unstarted] NAME
                            stop and start NAME again (--force: its dependents too)
  release [--no-wait] [--ignore-unstarted] NAME
                            drop the explicit start; NAME stops unless a dependent needs it
  trigger NAME, untrigger NAME
                            set or clear the trigger of a triggered service
  run [--name N] [--restart] [--cwd DIR] [--no-wait] -- CMD [ARGS...]
                            add a service for CMD (no file needed) and start it
  remove NAME               forget a stopped service that was added with run
  shutdown                  stop every service (supervisor mode: and exit; PID 1: power off)
  poweroff | reboot | halt  stop every service, then power off, reboot or halt the machine
  log [-f] NAME             the output a log-type = buffer service kept; -f: and what follows
  reload                    re-read the service files (as SIGHUP to tsinit does)
  reload NAME               re-read NAME's file: at once if stopped, within limits if running
  unload NAME               forget a stopped service that no loaded service depends on
  enable [--from DEP] NAME  link NAME into DEP's waits-for.d (default: @meta enable-via, else
                            boot's boot.d) and start it; disable: the link removed, NAME stopped
  disable [--from DEP] NAME
  add-dep KIND FROM TO, rm-dep KIND FROM TO
                            add or remove a dependency at run time (KIND: regular, milestone,
                            waits-for)
  dependents NAME           the loaded services that depend on NAME
  is-started NAME, is-failed NAME (is-active: dinitctl's newer name for is-started)
                            print the state; exit 0 if started (failed), else 1
  signal SIG NAME           send SIG (HUP, 1, SIGHUP) to NAME's process; signal --list: names
  catlog [--clear] NAME     the buffer log once; --clear empties it after
  setenv NAME[=VALUE]...    set variables for services started from now on (no value: initctl's)
  unsetenv NAME...          remove them; getallenv: print them all
  check [-d DIR]... [NAME...]  check service files offline, as dinitcheck (tsinit check; no server needed)
  boot                      init's boot log and timed boot steps (the initramfs's too, after switch_root)
  events [--no-follow]      every event since boot, then each as it happens (--json: one JSON object a line)
  analyze [--svg]           each service's start, ready and stop times; --svg: the boot timeline as SVG
  debug stall SECONDS       block PID 1 for SECONDS (1-3600), to test a watchdog; needs tsinit.debug

  --socket PATH   the control socket (default: $${SOCKET_ENV}, else ${DEFAULT_SOCKET})
  --json          print the server's JSON answers instead of tables
  --quiet         print only errors (and what a query asks for)
  --offline, -o   enable/disable on the files of -d DIR (default /etc/tsinit.d, or
                  $XDG_CONFIG_HOME/tsinit.d for a user), with no tsinit running
Exit status: 0 success, 1 the operation failed (is-started: not started), 2 bad usage.`;

/**
 * What a usage error prints (to stderr; the exit status is 2): the one thing that was wrong,
 * and where the rest is, as dinitctl does, rather than the whole usage text burying the line
 * that matters. Bare `initctl`, with nothing to go on, gets the usage text, as dinitctl shows
 * its help when given no arguments.
 */
export function usageErrorText(argv: readonly string[], message: string): string {
  if (argv.length === 0) return `initctl: ${message}\n${USAGE}\n`;
  return `initctl: ${message}\ninitctl --help for usage\n`;
}

const SERVICE_COMMANDS = new Set<string>(["start", "stop", "restart", "release", "trigger", "untrigger", "wake"]);
const SHUTDOWN_COMMANDS = new Set<string>(["poweroff", "reboot", "halt"]);

type Result = { ok: true; command: CliCommand } | { ok: false; message: string };
const fail = (message: string): Result => ({ ok: false, message });

export function parseArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedArgs {
  let socket: string | undefined;
  let json = false;
  let quiet = false;
  let offline = false;
  const servicesDirs: string[] = [];
  const rest: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") break;
    if (arg === "--json") json = true;
    else if (arg === "--quiet") quiet = true;
    else if (arg === "--offline" || arg === "-o") offline = true;
    else if (arg === "-d" || arg === "--services-dir") {
      const value = argv[++i];
      if (value === undefined || value === "") return { ok: false, message: `${arg} needs a directory` };
      servicesDirs.push(value);
    } else if (arg === "--socket") {
      const value = argv[++i];
      if (value === undefined || value === "") return { ok: false, message: "--socket needs a path" };
      socket = value;
    } else if (arg.startsWith("--socket=")) {
      socket = arg.slice("--socket=".length);
      if (socket === "") return { ok: false, message: "--socket needs a path" };
    } else if (arg === "-h" || arg === "--help") return { ok: true, options: { socket: "", json, quiet, offline, servicesDirs }, command: { kind: "help" } };
    else rest.push(arg);
  }
  const afterDashes = argv.slice(i + 1);
  const hasDashes = i < argv.length;
  const options: CliOptions = { socket: socket ?? nonEmpty(env[SOCKET_ENV]) ?? DEFAULT_SOCKET, json, quiet, offline, servicesDirs };
  const parsed = parseCommand(rest, hasDashes ? afterDashes : undefined, env);
  if (!parsed.ok) return parsed;
  if (offline && parsed.command.kind !== "link" && parsed.command.kind !== "help") {
    return { ok: false, message: "--offline: only enable and disable work without a running tsinit" };
  }
  if (!offline && servicesDirs.length > 0) return { ok: false, message: "-d/--services-dir is for --offline (a running tsinit has its own directories)" };
  return { ok: true, options, command: parsed.command };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/** `words` are the arguments before `--`; `trailing` what follows it (only `run` takes that). */
function parseCommand(words: string[], trailing: string[] | undefined, env: Readonly<Record<string, string | undefined>>): Result {
  const [command, ...args] = words;
  if (command === undefined) return fail("no command given");
  if (command === "help") return { ok: true, command: { kind: "help" } };
  if (command !== "run" && trailing !== undefined) return fail(`${command} takes no arguments after --`);
  const flags = args.filter((arg) => arg.startsWith("-"));
  const operands = args.filter((arg) => !arg.startsWith("-"));
  const noFlags = (): string | undefined => (flags.length > 0 ? `${command}: unknown option ${flags[0]}` : undefined);

  if (command === "reload" && operands.length === 1 && flags.length === 0) {
    return operands[0] === "" ? fail(EMPTY_NAME(command)) : { ok: true, command: { kind: "reload-service", name: operands[0]! } };
  }
  if (command === "list" || command === "reload" || command === "boot") {
    const problem = noFlags() ?? (operands.length > 0 ? `${command} takes no arguments` : undefined);
    if (problem !== undefined) return fail(problem);
    return { ok: true, command: { kind: command } };
  }
  if (command === "events") {
    const unknown = flags.find((flag) => flag !== "--no-follow");
    if (unknown !== undefined) return fail(`events: unknown option ${unknown}`);
    if (operands.length > 0) return fail("events takes no arguments");
    return { ok: true, command: { kind: "events", follow: flags.length === 0, after: 0, wait: false } };
  }
  if (command === "status") {
    const problem = noFlags() ?? (operands.length > 1 ? "status takes at most one service name" : operands[0] === "" ? EMPTY_NAME(command) : undefined);
    if (problem !== undefined) return fail(problem);
    return { ok: true, command: operands[0] === undefined ? { kind: "status" } : { kind: "status", name: operands[0] } };
  }
  if (SERVICE_COMMANDS.has(command)) {
    const unknown = flags.find(
      (flag) =>
        flag !== "--no-wait" &&
        !((command === "stop" || command === "restart") && flag === "--force") &&
        !((command === "stop" || command === "restart" || command === "release") && flag === "--ignore-unstarted"),
    );
    if (unknown !== undefined) return fail(`${command}: unknown option ${unknown}`);
    const name = single(command, operands);
    if (!name.ok) return name;
    const parsed: CliCommand = { kind: "service", command: command as ServiceCommand, name: name.command, wait: !flags.includes("--no-wait") };
    if (flags.includes("--force")) parsed.force = true;
    if (flags.includes("--ignore-unstarted")) parsed.ignoreUnstarted = true;
    return { ok: true, command: parsed };
  }
  const dinitVerb = parseDinitVerb(command, args, flags, operands, env);
  if (dinitVerb !== undefined) return dinitVerb;
  if (command === "remove" || command === "log") {
    const unknown = flags.find((flag) => !(command === "log" && (flag === "-f" || flag === "--follow")));
    if (unknown !== undefined) return fail(`${command}: unknown option ${unknown}`);
    const name = single(command, operands);
    if (!name.ok) return name;
    if (command === "log") return { ok: true, command: { kind: "log", name: name.command, follow: flags.length > 0 } };
    return { ok: true, command: { kind: "remove", name: name.command } };
  }
  if (command === "analyze") {
    const unknown = flags.find((flag) => flag !== "--svg");
    if (unknown !== undefined || operands.length > 0) return fail(unknown !== undefined ? `analyze: unknown option ${unknown}` : "analyze takes no arguments");
    return { ok: true, command: { kind: "analyze", svg: flags.length > 0 } };
  }
  if (command === "shutdown" || SHUTDOWN_COMMANDS.has(command)) {
    const problem = noFlags() ?? (operands.length > 0 ? `${command} takes no arguments` : undefined);
    if (problem !== undefined) return fail(problem);
    return { ok: true, command: command === "shutdown" ? { kind: "shutdown" } : { kind: "shutdown", shutdown: command as ShutdownKind } };
  }
  if (command === "run") return parseRun(args, trailing);
  if (command === "debug") {
    const [what, seconds, ...more] = args;
    if (what !== "stall") return fail(what === undefined ? "debug needs a request: debug stall SECONDS" : `debug: unknown request ${what} (there is: stall)`);
    if (seconds === undefined || more.length > 0 || !/^\d{1,4}$/.test(seconds) || Number(seconds) < 1 || Number(seconds) > 3600) {
      return fail("debug stall needs one number of seconds, from 1 to 3600");
    }
    return { ok: true, command: { kind: "debug-stall", seconds: Number(seconds) } };
  }
  return fail(`unknown command ${command}`);
}

/**
 * An empty NAME would make the path /v1/services//VERB, which the server reads as another
 * endpoint (a list, or "POST is not allowed"): refused here, as bad usage.
 */
const EMPTY_NAME = (command: string) => `${command}: the service name is empty`;

function single(command: string, operands: string[]): { ok: true; command: string } | { ok: false; message: string } {
  if (operands.length === 1) return operands[0] === "" ? { ok: false, message: EMPTY_NAME(command) } : { ok: true, command: operands[0]! };
  return { ok: false, message: operands.length === 0 ? `${command} needs a service name` : `${command} takes one service name` };
}

/** run [--name N] [--restart] [--cwd DIR] [--no-wait] -- CMD [ARGS...] */
function parseRun(args: string[], trailing: string[] | undefined): Result {
  let name: string | undefined;
  let workingDir: string | undefined;
  let restart = false;
  let wait = true;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--restart") restart = true;
    else if (arg === "--no-wait") wait = false;
    else if (arg === "--name" || arg === "--cwd") {
      const value = args[++i];
      if (value === undefined || value === "") return fail(`run: ${arg} needs a value`);
      if (arg === "--name") name = value;
      else workingDir = value;
    } else if (arg.startsWith("-")) return fail(`run: unknown option ${arg}`);
    else return fail(`run: put the command after --, as in: initctl run -- ${[arg, ...args.slice(i + 1)].join(" ")}`);
  }
  if (trailing === undefined || trailing.length === 0) return fail("run needs a command after --");
  const command: CliCommand = { kind: "run", restart, command: trailing, wait };
  if (name !== undefined) command.name = name;
  if (workingDir !== undefined) command.workingDir = workingDir;
  return { ok: true, command };
}

/** The verbs that came from dinitctl; undefined when `command` is none of them. */
function parseDinitVerb(command: string, args: string[], flags: string[], operands: string[], env: Readonly<Record<string, string | undefined>>): Result | undefined {
  const noFlags = (): Result | undefined => (flags.length > 0 ? fail(`${command}: unknown option ${flags[0]}`) : undefined);
  switch (command) {
    case "enable":
    case "disable": {
      let from: string | undefined;
      const names: string[] = [];
      for (let i = 0; i < args.length; i++) {
        const arg = args[i]!;
        if (arg === "--from") {
          from = args[++i];
          if (from === undefined || from === "" || from.startsWith("-")) return fail(`${command}: --from needs a service name`);
        } else if (arg.startsWith("-")) return fail(`${command}: unknown option ${arg}`);
        else names.push(arg);
      }
      const name = single(command, names);
      if (!name.ok) return name;
      // Checked here too, so --offline (which joins the names to paths) refuses them at once.
      const badName = serviceNameProblem(name.command) ?? (from === undefined ? undefined : serviceNameProblem(from));
      if (badName !== undefined) return fail(`${command}: ${badName}`);
      const parsed: CliCommand = { kind: "link", verb: command, name: name.command };
      if (from !== undefined) parsed.from = from;
      return { ok: true, command: parsed };
    }
    case "unload":
    case "dependents":
    case "is-started":
    case "is-active":
    case "is-failed": {
      const problem = noFlags();
      if (problem !== undefined) return problem;
      const name = single(command, operands);
      if (!name.ok) return name;
      if (command === "unload" || command === "dependents") return { ok: true, command: { kind: command, name: name.command } };
      return { ok: true, command: { kind: "is", what: command === "is-failed" ? "failed" : "started", name: name.command } };
    }
    case "catlog": {
      const unknown = flags.find((flag) => flag !== "--clear");
      if (unknown !== undefined) return fail(`catlog: unknown option ${unknown}`);
      const name = single(command, operands);
      if (!name.ok) return name;
      return { ok: true, command: { kind: "catlog", name: name.command, clear: flags.length > 0 } };
    }
    case "add-dep":
    case "rm-dep": {
      const problem = noFlags();
      if (problem !== undefined) return problem;
      if (operands.length !== 3) return fail(`${command} takes a kind and two service names: ${command} KIND FROM TO`);
      const [kind, from, to] = operands as [string, string, string];
      if (!(DEPENDENCY_KINDS as readonly string[]).includes(kind)) return fail(`${command}: the kind must be one of ${DEPENDENCY_KINDS.join(", ")}, not ${kind}`);
      if (from === "" || to === "") return fail(EMPTY_NAME(command));
      return { ok: true, command: { kind: "dependency", verb: command === "add-dep" ? "add" : "remove", dependency: kind as DependencyKind, from, to } };
    }
    case "signal": {
      if (args.length === 1 && (args[0] === "--list" || args[0] === "-l")) return { ok: true, command: { kind: "signal-list" } };
      // A signal may be written as -HUP or -1, as kill(1) takes it.
      if (args.length !== 2) return fail("signal takes a signal and a service name: signal SIG NAME (or signal --list)");
      const [signal, name] = args as [string, string];
      if (name.startsWith("-")) return fail(`signal: unknown option ${name}`);
      if (name === "") return fail(EMPTY_NAME(command));
      return { ok: true, command: { kind: "signal", signal: signal.replace(/^-/, ""), name } };
    }
    case "setenv": {
      const problem = noFlags();
      if (problem !== undefined) return problem;
      if (operands.length === 0) return fail("setenv needs NAME=VALUE or NAME");
      const set: Record<string, string> = Object.create(null);
      for (const operand of operands) {
        const at = operand.indexOf("=");
        const name = at < 0 ? operand : operand.slice(0, at);
        if (name === "") return fail(`setenv: ${JSON.stringify(operand)} has no variable name`);
        const badName = envNameProblem(name);
        if (badName !== undefined) return fail(`setenv: ${badName}`);
        const value = at < 0 ? env[name] : operand.slice(at + 1);
        if (value === undefined) return fail(`setenv: ${name} is not set in initctl's environment; give it as ${name}=VALUE`);
        set[name] = value;
      }
      return { ok: true, command: { kind: "setenv", set } };
    }
    case "unsetenv": {
      const problem = noFlags();
      if (problem !== undefined) return problem;
      if (operands.length === 0) return fail("unsetenv needs a variable name");
      const bad = operands.find((name) => name.includes("="));
      if (bad !== undefined) return fail(`unsetenv takes names, not ${JSON.stringify(bad)}`);
      return { ok: true, command: { kind: "unsetenv", names: operands } };
    }
    case "getallenv": {
      const problem = noFlags() ?? (operands.length > 0 ? fail("getallenv takes no arguments") : undefined);
      return problem ?? { ok: true, command: { kind: "getallenv" } };
    }
  }
  return undefined;
}
