// What initctl prints for an answer, and its exit status: 0 when the operation succeeded, 1
// when it failed or was refused. Pure: the caller writes `stdout` and `stderr` and exits.
import { formatEntries } from "../boot/boot-record.ts";
import { describeEvent } from "../log/event-log.ts";
import { timelineSvg, timelineTable } from "./timeline-svg.ts";
import { isErrorResponse, type DependencyResponse, type DependentsResponse, type EnvResponse, type ServiceReloadResponse, type SignalResponse, type AnalyzeResponse, type BootResponse, type EventsResponse, type CommandResponse, type ListResponse, type LogResponse,
  type DebugStallResponse, type EnableResponse, type ReloadResponse, type ServiceStatus, type ShutdownResponse, type StatusResponse } from "../control/api.ts";
import type { CliCommand } from "./args.ts";
import type { LocalCommand } from "./plan.ts";
import { signalName } from "../base/signals.ts";
import { formatServiceDetail, formatServiceTable } from "./format.ts";

export interface Output {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const done = (stdout: string): Output => ({ stdout: stdout === "" ? "" : `${stdout}\n`, stderr: "", exitCode: 0 });
const failed = (message: string): Output => ({ stdout: "", stderr: `initctl: ${message}\n`, exitCode: 1 });

/** What --quiet leaves out: the line saying a change was made. Queries still print. */
const QUIET_KINDS = new Set<string>(["service", "run", "remove", "shutdown", "reload", "reload-service", "unload", "link", "dependency", "signal", "setenv", "unsetenv", "is", "debug-stall"]);

export function renderAnswer(command: Exclude<CliCommand, LocalCommand>, status: number, body: unknown, json: boolean, quiet = false): Output {
  const ok = status >= 200 && status < 300;
  if (json) return { stdout: `${JSON.stringify(body, null, 2)}\n`, stderr: "", exitCode: ok ? 0 : 1 };
  if (!ok) {
    if (!isErrorResponse(body)) return failed(`unexpected answer (HTTP ${status}): ${JSON.stringify(body).slice(0, 500)}`);
    if (body.dependents !== undefined && body.dependents.length > 0) {
      // As dinitctl does: the refusal, then the dependents a line each.
      return failed(`${body.error.message}\n${body.dependents.map((name) => `  ${name}`).join("\n")}`);
    }
    return failed(body.error.message);
  }
  // A log is printed as it is, without a newline of ours (-f prints it piece by piece).
  if (command.kind === "log" || command.kind === "catlog") return { stdout: (body as LogResponse).text, stderr: "", exitCode: 0 };
  if (command.kind === "is") return isState(command, body, quiet);
  try {
    const output = done(renderSuccess(command, body));
    if (command.kind === "reload-service") output.stderr = (body as ServiceReloadResponse).warnings.map((warning) => `initctl: warning: ${warning}\n`).join("");
    if (quiet && QUIET_KINDS.has(command.kind)) output.stdout = "";
    return output;
  } catch {
    // A server of another version may answer in a shape this client does not know.
    return failed(`unexpected answer (HTTP ${status}): ${JSON.stringify(body).slice(0, 500)}`);
  }
}

/** is-started, is-failed: the state in capitals (dinitctl's words), and the answer as the exit status. */
function isState(command: Extract<CliCommand, { kind: "is" }>, body: unknown, quiet: boolean): Output {
  const service = (body as StatusResponse).service;
  // dinit: failed is a failed start, a start timeout or a dependency's failure; a run that
  // ended (terminated) is not.
  const yes = command.what === "started" ? service.state === "started" : service.state === "stopped" && service.failed !== undefined && service.terminated !== true;
  return { stdout: quiet ? "" : `${service.state.toUpperCase()}\n`, stderr: "", exitCode: yes ? 0 : 1 };
}

function renderSuccess(command: Exclude<CliCommand, LocalCommand>, body: unknown): string {
  switch (command.kind) {
    case "list":
      return formatServiceTable((body as ListResponse).services);
    case "status":
      if (command.name === undefined) return formatServiceTable((body as ListResponse).services);
      return formatServiceDetail((body as StatusResponse).service);
    case "service":
      return commandLine(command.command, body as CommandResponse);
    case "run": {
      const { service, done: reached } = body as CommandResponse;
      if (!reached) return `${service.name}: added, starting`;
      return `started ${service.name}${service.pid === undefined ? "" : ` (pid ${service.pid})`}`;
    }
    case "remove":
      return `removed ${(body as StatusResponse).service.name}`;
    case "shutdown": {
      const what = (body as ShutdownResponse).shutdown;
      return what === "exit" ? "stopping every service; the supervisor will exit" : `stopping every service, then ${what}`;
    }
    case "reload": {
      const { added, changed, removed, pending } = (body as ReloadResponse).reload;
      const parts = [["added", added], ["changed", changed], ["removed", removed]] as const;
      const said = parts.filter(([, names]) => names.length > 0).map(([what, names]) => `${what}: ${names.join(", ")}`);
      if (pending.length > 0) said.push(`once stopped: ${pending.join(", ")}`);
      const { shadowed } = (body as ReloadResponse).reload;
      if (shadowed.length > 0) said.push(`ignored (a runtime service has the name): ${shadowed.join(", ")}`);
      const { kept } = (body as ReloadResponse).reload;
      if (kept.length > 0) said.push(`kept as they were (their files have errors): ${kept.join(", ")}`);
      return said.length === 0 ? "reloaded; nothing changed" : `reloaded; ${said.join("; ")}`;
    }
    case "boot":
      return formatEntries((body as BootResponse).entries).join("\n");
    case "analyze": {
      const { rows } = body as AnalyzeResponse;
      return command.svg ? timelineSvg(rows).trimEnd() : timelineTable(rows);
    }
    case "events": {
      const { events, lost } = body as EventsResponse;
      const lines = events.map(describeEvent);
      if (lost > 0) lines.unshift(`(${lost} earlier events are no longer kept)`);
      return lines.join("\n");
    }
    case "debug-stall":
      return `PID 1 stalls for ${(body as DebugStallResponse).stall.seconds} s`;
    case "reload-service":
      return `reloaded ${(body as ServiceReloadResponse).service.name} (${(body as ServiceReloadResponse).service.state})`;
    case "unload":
      return `unloaded ${(body as StatusResponse).service.name}`;
    case "link": {
      const { from, link, changed, service, removed } = body as EnableResponse;
      const state = removed === true ? "; it is no longer loaded (its file was removed)" : service === undefined ? "; it is not loaded" : `; it is ${service.state}`;
      if (command.verb === "enable") return changed ? `enabled ${command.name} for ${from} (${link})${state}` : `${command.name} was already enabled for ${from} (${link})${state}`;
      return changed ? `disabled ${command.name} for ${from} (removed ${link})${state}` : `${command.name} was not enabled for ${from} (no ${link})${state}`;
    }
    case "dependency": {
      const { kind, from, to } = body as DependencyResponse;
      return `${command.verb === "add" ? "added" : "removed"} ${kind} dependency: ${from.name} -> ${to.name} (${to.name} is ${to.state})`;
    }
    case "setenv":
    case "unsetenv":
      return "";
    case "getallenv":
      return Object.entries((body as EnvResponse).env)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, value]) => `${name}=${value}`)
        .join("\n");
    case "signal": {
      const { service, signal, pid } = body as SignalResponse;
      return `sent ${signalName(signal)} to ${service} (pid ${pid})`;
    }
    case "dependents": {
      const { service, dependents } = body as DependentsResponse;
      if (dependents.length === 0) return `no loaded service depends on ${service}`;
      const rows = [["NAME", "KIND", "STATE", "HOLDS"], ...dependents.map((d) => [d.name, d.kind, d.state, d.holds ? "yes" : "no"])];
      const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
      return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]! + 2))).join("")).join("\n");
    }
    case "log":
    case "catlog":
    case "is":
      return JSON.stringify(body);
  }
}

const PAST: Record<string, string> = { wake: "started", start: "started", stop: "stopped", restart: "restarted", release: "released", trigger: "triggered", untrigger: "untriggered" };
const PRESENT: Record<string, string> = { wake: "starting", start: "starting", stop: "stopping", restart: "restarting", release: "releasing", trigger: "triggering", untrigger: "untriggering" };

function commandLine(command: string, { service, done: reached, removed }: CommandResponse): string {
  if (!reached) return `${service.name}: ${PRESENT[command] ?? command} (${service.state} now)`;
  // Its removal was waiting for the stop: a later status or start would not find it.
  if (removed === true) return `${PAST[command] ?? command} ${service.name}; it is no longer loaded (its file was removed)`;
  if (command === "release" && service.target === "started") {
    return `released ${service.name}; it stays ${service.state}, required by ${service.requiredBy} dependent${service.requiredBy === 1 ? "" : "s"}`;
  }
  return `${PAST[command] ?? command} ${service.name}${service.pid === undefined || command === "stop" ? "" : ` (pid ${service.pid})`}`;
}
