// Which HTTP request carries each initctl command. Pure; the paths come from the shared API
// file, so client and server agree on them.
import { paths, type DebugStallRequest, type RunRequest, type ShutdownRequest } from "../control/api.ts";
import type { CliCommand } from "./args.ts";

export interface PlannedRequest {
  method: "GET" | "POST" | "DELETE";
  path: string;
  body?: RunRequest | ShutdownRequest | DebugStallRequest;
}

/** `help` needs no request. */
export function planRequest(command: Exclude<CliCommand, { kind: "help" }>): PlannedRequest {
  switch (command.kind) {
    case "list":
      return { method: "GET", path: paths.services() };
    case "status":
      return command.name === undefined ? { method: "GET", path: paths.services() } : { method: "GET", path: paths.service(command.name) };
    case "service":
      return { method: "POST", path: paths.serviceCommand(command.name, command.command, command.wait) };
    case "run": {
      const body: RunRequest = { command: command.command, restart: command.restart };
      if (command.name !== undefined) body.name = command.name;
      if (command.workingDir !== undefined) body.workingDir = command.workingDir;
      return { method: "POST", path: paths.services(command.wait), body };
    }
    case "remove":
      return { method: "DELETE", path: paths.service(command.name) };
    case "log": {
      // Following: wait for output after what was printed last.
      const query = command.follow && command.after !== undefined ? `?after=${command.after}&wait=1` : "";
      return { method: "GET", path: `${paths.service(command.name)}/log${query}` };
    }
    case "shutdown":
      return { method: "POST", path: paths.shutdown(), body: command.shutdown === undefined ? {} : { kind: command.shutdown } };
    case "reload":
      return { method: "POST", path: paths.reload() };
    case "boot":
      return { method: "GET", path: paths.boot() };
    case "events":
      // The first answer is what is kept so far, at once; the next ones wait for news.
      return { method: "GET", path: paths.events(command.after, command.wait) };
    case "analyze":
      return { method: "GET", path: paths.analyze() };
    case "debug-stall":
      return { method: "POST", path: paths.debugStall(), body: { seconds: command.seconds } };
    case "unimplemented":
      return { method: "POST", path: paths.serviceCommand(command.name ?? "", command.command) };
  }
}
