// Validation of what clients send: JSON bodies, service names, the `wait` query. Each check
// returns the value or a message that tells the client what was wrong. Pure.
import { envNameProblem } from "../base/env-name.ts";
import { serviceNameProblem } from "../base/service-name.ts";
import { parseSignal } from "../base/signals.ts";
import { DEPENDENCY_KINDS, MAX_DEBUG_STALL_S, type DebugStallRequest, type DependencyKind, type DependencyRequest, type EnableRequest, type RunRequest, type ShutdownKind, type ShutdownRequest } from "./api.ts";

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const bad = <T>(message: string): Checked<T> => ({ ok: false, message });

const MAX_ARGS = 1024;
/**
 * The most a run request may store, in UTF-8 bytes: its command's words (each with the NUL
 * exec adds), name and working directory. A runtime service is kept, and shown in every list,
 * until it is removed, so what one request may leave behind is bounded here. It is far below
 * what exec takes (Linux: MAX_ARG_STRLEN, 128 KiB a word, and about 2 MiB in all).
 */
export const MAX_RUN_BYTES = 64 * 1024;
const SHUTDOWN_KINDS: readonly ShutdownKind[] = ["poweroff", "reboot", "halt"];

/** A name for a runtime service: what a service file could be called (instances allowed). */
export function checkServiceName(name: string): Checked<string> {
  const problem = serviceNameProblem(name);
  return problem === undefined ? ok(name) : bad(problem);
}

/** An empty body is `undefined`; anything else must be one JSON value. */
export function parseJsonBody(text: string): Checked<unknown> {
  if (text.trim() === "") return ok(undefined);
  try {
    return ok(JSON.parse(text));
  } catch (error) {
    return bad(`the body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function unknownFields(body: Record<string, unknown>, known: readonly string[]): string | undefined {
  const extra = Object.keys(body).filter((key) => !known.includes(key));
  return extra.length === 0 ? undefined : `unknown field${extra.length > 1 ? "s" : ""} ${extra.map((key) => JSON.stringify(key)).join(", ")}`;
}

export function checkRunRequest(body: unknown): Checked<RunRequest> {
  if (!isRecord(body)) return bad('the body must be a JSON object like {"command": ["sleep", "60"]}');
  const extra = unknownFields(body, ["name", "command", "restart", "workingDir"]);
  if (extra !== undefined) return bad(extra);
  const { name, command, restart, workingDir } = body;
  if (!Array.isArray(command) || command.length === 0) return bad("command must be a non-empty array of strings");
  if (command.length > MAX_ARGS) return bad(`command has more than ${MAX_ARGS} arguments`);
  if (!command.every((arg): arg is string => typeof arg === "string" && !arg.includes("\0"))) {
    return bad("command must be an array of strings without NUL characters");
  }
  if (command[0] === "") return bad("command[0] (the program) must not be empty");
  const words = [...command, ...[name, workingDir].filter((word): word is string => typeof word === "string")];
  const stored = words.reduce((sum, word) => sum + Buffer.byteLength(word, "utf8") + 1, 0);
  if (stored > MAX_RUN_BYTES) return bad(`the command, name and working directory come to ${stored} bytes; a run request may have at most ${MAX_RUN_BYTES}`);
  const request: RunRequest = { command };
  if (name !== undefined) {
    if (typeof name !== "string") return bad("name must be a string");
    const checked = checkServiceName(name);
    if (!checked.ok) return checked;
    request.name = name;
  }
  if (restart !== undefined) {
    if (typeof restart !== "boolean") return bad("restart must be true or false");
    request.restart = restart;
  }
  if (workingDir !== undefined) {
    if (typeof workingDir !== "string" || !workingDir.startsWith("/") || workingDir.includes("\0")) {
      return bad("workingDir must be an absolute path");
    }
    request.workingDir = workingDir;
  }
  return ok(request);
}

export function checkShutdownRequest(body: unknown): Checked<ShutdownRequest> {
  if (body === undefined) return ok({});
  if (!isRecord(body)) return bad('the body must be empty or a JSON object like {"kind": "poweroff"}');
  const extra = unknownFields(body, ["kind"]);
  if (extra !== undefined) return bad(extra);
  const { kind } = body;
  if (kind === undefined) return ok({});
  if (typeof kind !== "string" || !(SHUTDOWN_KINDS as readonly string[]).includes(kind)) {
    return bad(`kind must be one of ${SHUTDOWN_KINDS.join(", ")}`);
  }
  return ok({ kind: kind as ShutdownKind });
}

export function checkDebugStallRequest(body: unknown): Checked<DebugStallRequest> {
  const example = `a JSON object like {"seconds": 60}`;
  if (!isRecord(body)) return bad(`the body must be ${example}`);
  const extra = unknownFields(body, ["seconds"]);
  if (extra !== undefined) return bad(extra);
  const { seconds } = body;
  if (typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < 1 || seconds > MAX_DEBUG_STALL_S) {
    return bad(`seconds must be a whole number from 1 to ${MAX_DEBUG_STALL_S}`);
  }
  return ok({ seconds });
}

/** Commands that take no body accept an empty one or `{}`, so `curl -d '{}'` works. */
export function checkEmptyBody(body: unknown): Checked<undefined> {
  if (body === undefined || (isRecord(body) && Object.keys(body).length === 0)) return ok(undefined);
  return bad("this endpoint takes no body");
}

/** `?wait=0` (or `false`, `no`) answers at once; absent or `1` waits for the outcome. */
export function checkWait(query: URLSearchParams): Checked<boolean> {
  const value = query.get("wait");
  if (value === null || ["1", "true", "yes", ""].includes(value)) return ok(true);
  if (["0", "false", "no"].includes(value)) return ok(false);
  return bad(`wait must be 0 or 1, not ${JSON.stringify(value.slice(0, 20))}`);
}

/** `?force=1` (stop --force: dependents go down too); absent is no. */
export function checkForce(query: URLSearchParams): Checked<boolean> {
  const value = query.get("force");
  if (value === null || ["0", "false", "no"].includes(value)) return ok(false);
  if (["1", "true", "yes", ""].includes(value)) return ok(true);
  return bad(`force must be 0 or 1, not ${JSON.stringify(value.slice(0, 20))}`);
}

/** The name a run request gets when it names none: the program's base name, made unique. */
export function defaultRunName(command: readonly string[], taken: (name: string) => boolean): string {
  const base = (command[0] ?? "").split("/").filter(Boolean).at(-1) ?? "";
  const cleaned = base.replace(/[^A-Za-z0-9_.@+-]/g, "_").replace(/^[^A-Za-z0-9_]+/, "").slice(0, 56) || "run";
  if (!taken(cleaned)) return cleaned;
  for (let n = 2; ; n++) {
    const candidate = `${cleaned}-${n}`;
    if (!taken(candidate)) return candidate;
  }
}

/** add-dep and rm-dep: a kind and two service names. */
export function checkDependencyRequest(body: unknown): Checked<DependencyRequest> {
  if (!isRecord(body)) return bad('the body must be a JSON object like {"kind": "waits-for", "from": "boot", "to": "sshd"}');
  const extra = unknownFields(body, ["kind", "from", "to"]);
  if (extra !== undefined) return bad(extra);
  const { kind, from, to } = body;
  if (typeof kind !== "string" || !(DEPENDENCY_KINDS as readonly string[]).includes(kind)) return bad(`kind must be one of ${DEPENDENCY_KINDS.join(", ")}`);
  for (const [field, value] of [["from", from], ["to", to]] as const) {
    if (typeof value !== "string") return bad(`${field} must be a service name`);
    const checked = checkServiceName(value);
    if (!checked.ok) return checked;
  }
  return ok({ kind: kind as DependencyKind, from: from as string, to: to as string });
}

/** enable and disable: an empty body, or the dependent in `from`. */
export function checkEnableRequest(body: unknown): Checked<EnableRequest> {
  if (body === undefined) return ok({});
  if (!isRecord(body)) return bad('the body must be empty or a JSON object like {"from": "boot"}');
  const extra = unknownFields(body, ["from"]);
  if (extra !== undefined) return bad(extra);
  if (body.from === undefined) return ok({});
  if (typeof body.from !== "string") return bad("from must be a service name");
  const checked = checkServiceName(body.from);
  return checked.ok ? ok({ from: body.from }) : checked;
}

/** signal: a signal name (HUP, SIGHUP) or number, to a number. */
export function checkSignalRequest(body: unknown): Checked<number> {
  if (!isRecord(body)) return bad('the body must be a JSON object like {"signal": "HUP"}');
  const extra = unknownFields(body, ["signal"]);
  if (extra !== undefined) return bad(extra);
  const { signal } = body;
  if (typeof signal !== "string" && typeof signal !== "number") return bad("signal must be a signal name such as HUP, or a number");
  const number = parseSignal(String(signal));
  return number === undefined ? bad(`${JSON.stringify(String(signal).slice(0, 20))} is not a signal name or number`) : ok(number);
}

/**
 * A name unset may remove: anything without `=` or NUL, so that a variable init inherited under
 * a name setenv would refuse can still go. setenv takes only names that envNameProblem allows.
 */
const UNSET_NAME = /^[^=\0]{1,256}$/;
const MAX_ENV_VALUE = 64 * 1024;

/**
 * The most the activation environment may hold, counted as exec(2) counts it ("NAME=value" and
 * its NUL, in bytes). Linux refuses an exec whose arguments and environment pass a quarter of the
 * stack limit (2 MiB with the usual 8 MiB) with E2BIG; past this, every later start would fail.
 */
export const MAX_ENVIRONMENT_BYTES = 1024 * 1024;

/** The bytes `env` takes in an exec: each "NAME=value" with its NUL. */
export function environmentBytes(env: Readonly<Record<string, string>>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(env)) bytes += Buffer.byteLength(name, "utf8") + Buffer.byteLength(value, "utf8") + 2;
  return bytes;
}

/** setenv and unsetenv: names to set with their values, names to unset. */
export function checkEnvRequest(body: unknown): Checked<{ set: Record<string, string>; unset: string[] }> {
  if (!isRecord(body)) return bad('the body must be a JSON object like {"set": {"NAME": "value"}, "unset": ["OTHER"]}');
  const extra = unknownFields(body, ["set", "unset"]);
  if (extra !== undefined) return bad(extra);
  const set: Record<string, string> = Object.create(null);
  if (body.set !== undefined) {
    if (!isRecord(body.set)) return bad("set must be an object of names and string values");
    for (const [name, value] of Object.entries(body.set)) {
      const problem = envNameProblem(name);
      if (problem !== undefined) return bad(problem);
      if (typeof value !== "string" || value.includes("\0") || value.length > MAX_ENV_VALUE) return bad(`the value of ${name} must be a string without NUL, up to ${MAX_ENV_VALUE} characters`);
      set[name] = value;
    }
  }
  const unset: string[] = [];
  if (body.unset !== undefined) {
    if (!Array.isArray(body.unset)) return bad("unset must be an array of names");
    for (const name of body.unset) {
      if (typeof name !== "string" || !UNSET_NAME.test(name)) return bad(`${JSON.stringify(String(name).slice(0, 40))} is not a variable name`);
      unset.push(name);
    }
  }
  return ok({ set, unset });
}
