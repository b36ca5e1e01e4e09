// What initctl prints for an answer, and its exit status: 0 when the operation succeeded, 1
// when it failed or was refused. Pure: the caller writes `stdout` and `stderr` and exits.
import { formatEntries } from "../boot/boot-record.ts";
import { describeEvent } from "../log/event-log.ts";
import { timelineSvg, timelineTable } from "./timeline-svg.ts";
import { isErrorResponse, type AnalyzeResponse, type BootResponse, type EventsResponse, type CommandResponse, type ListResponse, type LogResponse,
  type DebugStallResponse, type ReloadResponse, type ServiceStatus, type ShutdownResponse, type StatusResponse } from "../control/api.ts";
import type { CliCommand } from "./args.ts";
import { formatServiceDetail, formatServiceTable } from "./format.ts";

export interface Output {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const done = (stdout: string): Output => ({ stdout: stdout === "" ? "" : `${stdout}\n`, stderr: "", exitCode: 0 });
const failed = (message: string): Output => ({ stdout: "", stderr: `initctl: ${message}\n`, exitCode: 1 });

export function renderAnswer(command: Exclude<CliCommand, { kind: "help" }>, status: number, body: unknown, json: boolean): Output {
  const ok = status >= 200 && status < 300;
  if (json) return { stdout: `${JSON.stringify(body, null, 2)}\n`, stderr: "", exitCode: ok ? 0 : 1 };
  if (!ok) {
    if (!isErrorResponse(body)) return failed(`unexpected answer (HTTP ${status}): ${JSON.stringify(body).slice(0, 500)}`);
    if (body.error.code === "not-implemented" && command.kind === "unimplemented") return failed(`${command.command} is not implemented yet`);
    return failed(body.error.message);
  }
  // A log is printed as it is, without a newline of ours (-f prints it piece by piece).
  if (command.kind === "log") return { stdout: (body as LogResponse).text, stderr: "", exitCode: 0 };
  try {
    return done(renderSuccess(command, body));
  } catch {
    // A server of another version may answer in a shape this client does not know.
    return failed(`unexpected answer (HTTP ${status}): ${JSON.stringify(body).slice(0, 500)}`);
  }
}

function renderSuccess(command: Exclude<CliCommand, { kind: "help" }>, body: unknown): string {
  switch (command.kind) {
    case "list":
      return formatServiceTable((body as ListResponse).services);
    case "status":
      if (command.name === undefined) return formatServiceTable((body as ListResponse).services);
      return formatServiceDetail((body as StatusResponse).service);
    case "service":
      return commandLine(command.command, (body as CommandResponse).service, (body as CommandResponse).done);
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
    case "log":
    case "unimplemented":
      return JSON.stringify(body);
  }
}

const PAST: Record<string, string> = { start: "started", stop: "stopped", restart: "restarted", release: "released", trigger: "triggered", untrigger: "untriggered" };
const PRESENT: Record<string, string> = { start: "starting", stop: "stopping", restart: "restarting", release: "releasing", trigger: "triggering", untrigger: "untriggering" };

function commandLine(command: string, service: ServiceStatus, reached: boolean): string {
  if (!reached) return `${service.name}: ${PRESENT[command] ?? command} (${service.state} now)`;
  if (command === "release" && service.target === "started") {
    return `released ${service.name}; it stays ${service.state}, required by ${service.requiredBy} dependent${service.requiredBy === 1 ? "" : "s"}`;
  }
  return `${PAST[command] ?? command} ${service.name}${service.pid === undefined || command === "stop" ? "" : ` (pid ${service.pid})`}`;
}
