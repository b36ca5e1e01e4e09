// initctl's command line: global options (--socket, --json) anywhere before `--`, then a
// command and its arguments. Pure: the result is a value, and a usage error is a message
// (initctl prints it with the usage text and exits 2).
import { DEFAULT_SOCKET, SOCKET_ENV, type ServiceCommand, type ShutdownKind } from "../control/api.ts";

export type CliCommand =
  | { kind: "help" }
  | { kind: "list" }
  | { kind: "status"; name?: string }
  | { kind: "service"; command: ServiceCommand; name: string; wait: boolean }
  | { kind: "run"; name?: string; restart: boolean; workingDir?: string; command: string[]; wait: boolean }
  | { kind: "remove"; name: string }
  /** A buffer log; `follow` keeps printing what comes (`-f`). */
  | { kind: "log"; name: string; follow: boolean; after?: number }
  /** `shutdown` (no kind: the server's default), `poweroff`, `reboot`, `halt`. */
  | { kind: "shutdown"; shutdown?: ShutdownKind }
  /** Commands the server reserves but does not implement yet; it answers 501. */
  | { kind: "reload" }
  /** init's boot record: both stages when it switched root. */
  | { kind: "boot" }
  /** The event log: everything kept since boot, then (`follow`) each event as it happens. */
  | { kind: "events"; follow: boolean; after: number; wait: boolean }
  | { kind: "unimplemented"; command: "wake" | "enable" | "disable"; name?: string }
  /** The boot timeline: a table, or (`svg`) a picture. */
  | { kind: "analyze"; svg: boolean }
  /** `debug stall SECONDS`: block PID 1's event loop (only with tsinit.debug). */
  | { kind: "debug-stall"; seconds: number };

export interface CliOptions {
  socket: string;
  json: boolean;
}

export type ParsedArgs = { ok: true; options: CliOptions; command: CliCommand } | { ok: false; message: string };

export const USAGE = `usage: initctl [--socket PATH] [--json] COMMAND [ARGS]

  list                      every service, as a table
  status [NAME]             one service in detail (crashes, last exit, next restart), or the list
  start [--no-wait] NAME    start NAME and wait until it is started or failed
  stop [--no-wait] NAME     stop NAME and wait until it is stopped
  restart [--no-wait] NAME  stop and start NAME again
  release [--no-wait] NAME  drop the explicit start; NAME stops unless a dependent needs it
  trigger NAME, untrigger NAME
                            set or clear the trigger of a triggered service
  run [--name N] [--restart] [--cwd DIR] [--no-wait] -- CMD [ARGS...]
                            add a service for CMD (no file needed) and start it
  remove NAME               forget a stopped service that was added with run
  shutdown                  stop every service (supervisor mode: and exit; PID 1: power off)
  poweroff | reboot | halt  stop every service, then power off, reboot or halt the machine
  log [-f] NAME             the output a log-type = buffer service kept; -f: and what follows
  reload                    re-read the service files (as SIGHUP to tsinit does)
  boot                      init's boot log and timed boot steps (the initramfs's too, after switch_root)
  events [--no-follow]      every event since boot, then each as it happens (--json: one JSON object a line)
  analyze [--svg]           each service's start, ready and stop times; --svg: the boot timeline as SVG
  debug stall SECONDS       block PID 1 for SECONDS (1-3600), to test a watchdog; needs tsinit.debug
  wake, enable, disable: not implemented yet

  --socket PATH   the control socket (default: $${SOCKET_ENV}, else ${DEFAULT_SOCKET})
  --json          print the server's JSON answers instead of tables
Exit status: 0 success, 1 the operation failed, 2 bad usage.`;

const SERVICE_COMMANDS = new Set<string>(["start", "stop", "restart", "release", "trigger", "untrigger"]);
const SHUTDOWN_COMMANDS = new Set<string>(["poweroff", "reboot", "halt"]);

type Result = { ok: true; command: CliCommand } | { ok: false; message: string };
const fail = (message: string): Result => ({ ok: false, message });

export function parseArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedArgs {
  let socket: string | undefined;
  let json = false;
  const rest: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") break;
    if (arg === "--json") json = true;
    else if (arg === "--socket") {
      const value = argv[++i];
      if (value === undefined || value === "") return { ok: false, message: "--socket needs a path" };
      socket = value;
    } else if (arg.startsWith("--socket=")) {
      socket = arg.slice("--socket=".length);
      if (socket === "") return { ok: false, message: "--socket needs a path" };
    } else if (arg === "-h" || arg === "--help") return { ok: true, options: { socket: "", json }, command: { kind: "help" } };
    else rest.push(arg);
  }
  const afterDashes = argv.slice(i + 1);
  const hasDashes = i < argv.length;
  const options: CliOptions = { socket: socket ?? nonEmpty(env[SOCKET_ENV]) ?? DEFAULT_SOCKET, json };
  const parsed = parseCommand(rest, hasDashes ? afterDashes : undefined);
  return parsed.ok ? { ok: true, options, command: parsed.command } : parsed;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/** `words` are the arguments before `--`; `trailing` what follows it (only `run` takes that). */
function parseCommand(words: string[], trailing: string[] | undefined): Result {
  const [command, ...args] = words;
  if (command === undefined) return fail("no command given");
  if (command === "help") return { ok: true, command: { kind: "help" } };
  if (command !== "run" && trailing !== undefined) return fail(`${command} takes no arguments after --`);
  const flags = args.filter((arg) => arg.startsWith("-"));
  const operands = args.filter((arg) => !arg.startsWith("-"));
  const noFlags = (): string | undefined => (flags.length > 0 ? `${command}: unknown option ${flags[0]}` : undefined);

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
    const problem = noFlags() ?? (operands.length > 1 ? "status takes at most one service name" : undefined);
    if (problem !== undefined) return fail(problem);
    return { ok: true, command: operands[0] === undefined ? { kind: "status" } : { kind: "status", name: operands[0] } };
  }
  if (SERVICE_COMMANDS.has(command)) {
    const unknown = flags.find((flag) => flag !== "--no-wait");
    if (unknown !== undefined) return fail(`${command}: unknown option ${unknown}`);
    const name = single(command, operands);
    if (!name.ok) return name;
    return { ok: true, command: { kind: "service", command: command as ServiceCommand, name: name.command, wait: !flags.includes("--no-wait") } };
  }
  if (command === "remove" || command === "wake" || command === "enable" || command === "disable" || command === "log") {
    const unknown = flags.find((flag) => !(command === "log" && (flag === "-f" || flag === "--follow")));
    if (unknown !== undefined) return fail(`${command}: unknown option ${unknown}`);
    const name = single(command, operands);
    if (!name.ok) return name;
    if (command === "log") return { ok: true, command: { kind: "log", name: name.command, follow: flags.length > 0 } };
    return { ok: true, command: command === "remove" ? { kind: "remove", name: name.command } : { kind: "unimplemented", command, name: name.command } };
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

function single(command: string, operands: string[]): { ok: true; command: string } | { ok: false; message: string } {
  if (operands.length === 1) return { ok: true, command: operands[0]! };
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
