// Method and path to endpoint: the one table of what the control API serves. Unknown paths
// are 404, and known paths with the wrong method are 405 (with the methods that would do). Pure.
import { API_PREFIX, SERVICE_COMMANDS, type ServiceCommand } from "./api.ts";

export type Endpoint =
  | { kind: "hello" }
  | { kind: "list" }
  | { kind: "run" }
  | { kind: "status"; name: string }
  | { kind: "remove"; name: string }
  | { kind: "command"; name: string; command: ServiceCommand }
  | { kind: "shutdown" }
  | { kind: "log"; name: string }
  | { kind: "reload" }
  | { kind: "boot" }
  | { kind: "events" }
  | { kind: "analyze" }
  | { kind: "debug-stall" }
  /** catlog --clear: the buffer log, then emptied. */
  | { kind: "clear-log"; name: string }
  | { kind: "unload"; name: string }
  | { kind: "reload-service"; name: string }
  | { kind: "signal"; name: string }
  | { kind: "dependents"; name: string }
  | { kind: "link"; name: string; verb: "enable" | "disable" }
  | { kind: "dependency"; verb: "add" | "remove" }
  | { kind: "env" }
  | { kind: "set-env" };

export type Routed =
  | { ok: true; endpoint: Endpoint }
  | { ok: false; code: "not-found" | "method-not-allowed" | "bad-request"; message: string; allow?: string[] };

type ByMethod = Record<string, Endpoint>;

function match(segments: string[]): ByMethod | undefined {
  const [first, second, name, command, ...rest] = segments;
  if (first !== API_PREFIX.slice(1) || rest.length > 0) return undefined;
  if (second === undefined) return { GET: { kind: "hello" } };
  if (second === "shutdown" && name === undefined) return { POST: { kind: "shutdown" } };
  if (second === "reload" && name === undefined) return { POST: { kind: "reload" } };
  if (second === "boot" && name === undefined) return { GET: { kind: "boot" } };
  if (second === "events" && name === undefined) return { GET: { kind: "events" } };
  if (second === "analyze" && name === undefined) return { GET: { kind: "analyze" } };
  if (second === "debug" && name === "stall" && command === undefined) return { POST: { kind: "debug-stall" } };
  if (second === "env" && name === undefined) return { GET: { kind: "env" }, POST: { kind: "set-env" } };
  if (second === "dependencies" && (name === "add" || name === "remove") && command === undefined) return { POST: { kind: "dependency", verb: name } };
  if (second !== "services") return undefined;
  if (name === undefined) return { GET: { kind: "list" }, POST: { kind: "run" } };
  if (command === undefined) return { GET: { kind: "status", name }, DELETE: { kind: "remove", name } };
  if ((SERVICE_COMMANDS as readonly string[]).includes(command)) {
    return { POST: { kind: "command", name, command: command as ServiceCommand } };
  }
  switch (command) {
    case "log":
      return { GET: { kind: "log", name }, DELETE: { kind: "clear-log", name } };
    case "unload":
      return { POST: { kind: "unload", name } };
    case "reload":
      return { POST: { kind: "reload-service", name } };
    case "signal":
      return { POST: { kind: "signal", name } };
    case "dependents":
      return { GET: { kind: "dependents", name } };
    case "enable":
    case "disable":
      return { POST: { kind: "link", name, verb: command } };
  }
  return undefined;
}

/** `path` is the URL path without the query; segments are percent-decoded (names may hold `@`). */
export function route(method: string, path: string): Routed {
  let segments: string[];
  try {
    segments = path.split("/").filter((segment) => segment !== "").map(decodeURIComponent);
  } catch {
    return { ok: false, code: "bad-request", message: `malformed percent-encoding in ${path.slice(0, 200)}` };
  }
  const methods = match(segments);
  if (methods === undefined) {
    return { ok: false, code: "not-found", message: `no endpoint ${path.slice(0, 200)} (the API is under ${API_PREFIX}/; see docs/control.md)` };
  }
  const endpoint = methods[method];
  if (endpoint === undefined) {
    const allow = Object.keys(methods);
    return { ok: false, code: "method-not-allowed", message: `${method} is not allowed on ${path.slice(0, 200)}; use ${allow.join(" or ")}`, allow };
  }
  return { ok: true, endpoint };
}
