// Method and path to endpoint: the one table of what the control API serves. Unknown paths
// are 404, known paths with the wrong method are 405 (with the methods that would do), and
// reserved endpoints that are not built yet are 501. Pure.
import { API_PREFIX, SERVICE_COMMANDS, UNIMPLEMENTED_SERVICE_ENDPOINTS, type ServiceCommand } from "./api.ts";

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
  | { kind: "not-implemented"; what: string; name?: string };

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
  if (second !== "services") return undefined;
  if (name === undefined) return { GET: { kind: "list" }, POST: { kind: "run" } };
  if (command === undefined) return { GET: { kind: "status", name }, DELETE: { kind: "remove", name } };
  if ((SERVICE_COMMANDS as readonly string[]).includes(command)) {
    return { POST: { kind: "command", name, command: command as ServiceCommand } };
  }
  if (command === "log") return { GET: { kind: "log", name } };
  if ((UNIMPLEMENTED_SERVICE_ENDPOINTS as readonly string[]).includes(command)) {
    return { POST: { kind: "not-implemented", what: command, name } };
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
