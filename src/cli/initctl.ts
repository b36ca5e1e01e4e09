// initctl: the control client, run as `initctl ...` (a link to tsinit) or `tsinit ctl ...`.
// Parses the command line, sends one request to the control socket, prints the answer as a
// table (or JSON with --json) and returns the exit status: 0 success, 1 failure, 2 bad usage.
import { resolvePath } from "../base/paths.ts";
import { EVENTS_PER_ANSWER, paths, type EventsResponse, type LogResponse, type StatusResponse } from "../control/api.ts";
import { parseArgs, USAGE, usageErrorText, type CliCommand } from "./args.ts";
import { send } from "./client.ts";
import { renderAnswer } from "./output.ts";
import { SIGNALS } from "../base/signals.ts";
import { defaultServicesDir } from "../config/default-dirs.ts";
import { planRequest } from "./plan.ts";

export async function runInitctl(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv, process.env);
  if (!parsed.ok) {
    process.stderr.write(usageErrorText(argv, parsed.message));
    return 2;
  }
  const { options, command } = parsed;
  if (command.kind === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command.kind === "signal-list") {
    process.stdout.write(`${Object.entries(SIGNALS).map(([name, number]) => `${String(number).padStart(2)} ${name}`).join("\n")}\n`);
    return 0;
  }
  if (options.offline && command.kind === "link") return offlineLink(command, options.servicesDirs, options.quiet);
  // The server runs elsewhere: a relative working directory means the caller's.
  if (command.kind === "run" && command.workingDir !== undefined) command.workingDir = resolvePath(process.cwd(), command.workingDir);
  if (command.kind === "log" && command.follow && !options.json) return follow(options.socket, command);
  if (command.kind === "events") return followEvents(options.socket, command, options.json);
  if (command.kind === "service" && command.ignoreUnstarted === true) {
    // dinitctl's --ignore-unstarted: nothing to do for a service that is unknown or stopped.
    const status = await send(options.socket, { method: "GET", path: paths.service(command.name) });
    if (status.ok && (status.status === 404 || (status.status === 200 && (status.body as StatusResponse).service.state === "stopped"))) return 0;
  }
  const answer = await send(options.socket, planRequest(command));
  if (!answer.ok) {
    process.stderr.write(`initctl: ${answer.message}\n`);
    return 1;
  }
  const output = renderAnswer(command, answer.status, answer.body, options.json, options.quiet);
  process.stdout.write(output.stdout);
  process.stderr.write(output.stderr);
  return output.exitCode;
}

/** `log -f`: print the log so far, then each new piece as it comes, until the server is gone. */
async function follow(socket: string, command: Extract<CliCommand, { kind: "log" }>): Promise<number> {
  for (;;) {
    const answer = await send(socket, planRequest(command));
    if (!answer.ok) {
      process.stderr.write(`initctl: ${answer.message}\n`);
      return 1;
    }
    const output = renderAnswer(command, answer.status, answer.body, false);
    process.stdout.write(output.stdout);
    process.stderr.write(output.stderr);
    if (output.exitCode !== 0) return output.exitCode;
    command.after = (answer.body as LogResponse).next;
  }
}

/** `events`: what is kept since boot, then (unless --no-follow) each event as it comes. */
async function followEvents(socket: string, command: Extract<CliCommand, { kind: "events" }>, json: boolean): Promise<number> {
  for (;;) {
    const answer = await send(socket, planRequest(command));
    if (!answer.ok) {
      process.stderr.write(`initctl: ${answer.message}\n`);
      return 1;
    }
    if (answer.status !== 200 || !json) {
      const output = renderAnswer(command, answer.status, answer.body, json);
      const text = output.stdout.trimEnd();
      if (text !== "") process.stdout.write(`${text}\n`);
      process.stderr.write(output.stderr);
      if (output.exitCode !== 0) return output.exitCode;
    } else {
      for (const event of (answer.body as EventsResponse).events) process.stdout.write(`${JSON.stringify(event)}\n`);
    }
    // Without --no-follow, on and on; with it, until a page that is not full.
    if (!command.follow && (answer.body as EventsResponse).events.length < EVENTS_PER_ANSWER) return 0;
    command.after = (answer.body as EventsResponse).next - 1;
    command.wait = true;
  }
}

/**
 * `--offline enable|disable`: the link made or removed in the service files, as dinitctl's
 * offline mode does, with no tsinit to start or stop anything. Lazy: only this needs Sys.
 */
async function offlineLink(command: Extract<CliCommand, { kind: "link" }>, dirs: string[], quiet: boolean): Promise<number> {
  const { linuxSys } = await import("../sys/linux-sys.ts");
  const { linkService } = await import("../service-files.ts");
  const fallback = defaultServicesDir(linuxSys.getuid(), process.env);
  const servicesDirs = dirs.length > 0 ? dirs.map((dir) => resolvePath(process.cwd(), dir)) : fallback === undefined ? [] : [fallback];
  if (servicesDirs.length === 0) {
    process.stderr.write("initctl: no services directory: give -d DIR (HOME is not set)\n");
    return 2;
  }
  const answer = linkService(linuxSys, servicesDirs, command.verb, command.name, command.from);
  if (!answer.ok) {
    process.stderr.write(`initctl: not ${command.verb === "enable" ? "enabling" : "disabling"} ${command.name}: ${answer.message}\n`);
    return 1;
  }
  if (answer.noFile !== undefined && !answer.changed) {
    // No file and no link: nothing by that name (a typo, say), as the running tsinit answers.
    process.stderr.write(`initctl: not disabling ${command.name}: ${answer.noFile}, and it has no link (${answer.path})\n`);
    return 1;
  }
  if (!quiet) {
    const what = command.verb === "enable" ? (answer.changed ? "enabled" : "was already enabled") : answer.changed ? "disabled" : "was not enabled";
    process.stdout.write(`${command.name} ${what} for ${answer.from} (${answer.path}; offline: nothing started or stopped)\n`);
  }
  return 0;
}
