// Which HTTP request carries each initctl command. Pure; the paths come from the shared API
// file, so client and server agree on them.
import { paths, type DebugStallRequest, type DependencyRequest, type EnableRequest, type EnvRequest, type RunRequest, type ShutdownRequest, type SignalRequest } from "../control/api.ts";
import type { CliCommand } from "./args.ts";

export interface PlannedRequest {
  method: "GET" | "POST" | "DELETE";
  path: string;
  body?: RunRequest | ShutdownRequest | DebugStallRequest | EnableRequest | DependencyRequest | EnvRequest | SignalRequest;
}

/** Commands answered without the server: `help`, `signal --list`. */
export type LocalCommand = Extract<CliCommand, { kind: "help" | "signal-list" }>;

export function planRequest(command: Exclude<CliCommand, LocalCommand>): PlannedRequest {
  switch (command.kind) {
    case "list":
      return { method: "GET", path: paths.services() };
    case "status":
      return command.name === undefined ? { method: "GET", path: paths.services() } : { method: "GET", path: paths.service(command.name) };
    case "service":
      return { method: "POST", path: paths.serviceCommand(command.name, command.command, command.wait, command.force === true) };
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
    case "reload-service":
      return { method: "POST", path: paths.serviceCommand(command.name, "reload") };
    case "unload":
      return { method: "POST", path: paths.serviceCommand(command.name, "unload") };
    case "link":
      return { method: "POST", path: paths.serviceCommand(command.name, command.verb), body: command.from === undefined ? {} : { from: command.from } };
    case "dependency":
      return { method: "POST", path: paths.dependencies(command.verb), body: { kind: command.dependency, from: command.from, to: command.to } };
    case "setenv":
      return { method: "POST", path: paths.env(), body: { set: command.set } };
    case "unsetenv":
      return { method: "POST", path: paths.env(), body: { unset: command.names } };
    case "getallenv":
      return { method: "GET", path: paths.env() };
    case "catlog":
      return { method: command.clear ? "DELETE" : "GET", path: `${paths.service(command.name)}/log` };
    case "is":
      return { method: "GET", path: paths.service(command.name) };
    case "signal":
      return { method: "POST", path: paths.serviceCommand(command.name, "signal"), body: { signal: command.signal } };
    case "dependents":
      return { method: "GET", path: paths.serviceCommand(command.name, "dependents") };
  }
}
