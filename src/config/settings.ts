// One table: setting name -> how its value is read and which ServiceSpec field it fills.
// Value syntax and messages follow dinit(5); numbers are checked here so that a typo is an error
// naming file:line:setting at load time rather than a surprise at start time.

import type {
  RLimit,
  ServiceOption,
  ServiceSpec,
  ServiceType,
  SettingOrigin,
} from "../base/service-spec.ts";
import { parseSignal } from "../base/signals.ts";
import { type CapabilitySets, IOPRIO_CLASSES, parseCapabilities, SECUREBITS, type IoPriorityClass } from "../base/capabilities.ts";
import type { SettingLine } from "./lexer.ts";
import {
  type Environment,
  substituteArgument,
  substituteNow,
} from "./substitute.ts";

/** A bad value; the parser turns it into an error diagnostic naming file, line and setting. */
export class SettingError extends Error {}

/** A `waits-for.d`-style setting: a directory whose entries name dependencies. */
export interface DependencyDir {
  kind: "dependsOn" | "dependsMs" | "waitsFor";
  /** The directory as written after substitution; relative paths are resolved by the loader. */
  path: string;
  setting: string;
  origin: SettingOrigin;
}

/** The state a service file's settings are applied to, one line at a time. */
export interface ParseContext {
  spec: ServiceSpec;
  options: Set<ServiceOption>;
  /** Keyed by dependency names (user text): a null-prototype object. */
  origins: Record<string, SettingOrigin>;
  dependencyDirs: DependencyDir[];
  /**
   * The names in each dependency list so far, so a repeated name is found without searching
   * the list (a name repeated, or in two lists, made parsing quadratic). Made on first use.
   */
  listed?: Partial<Record<"dependsOn" | "dependsMs" | "waitsFor" | "before" | "after", Set<string>>>;
  /**
   * The command arrays this parse made, which `+=` may grow in place: one made elsewhere (a
   * template's shared lines) is copied once first. Copying on every `+=` made N appends cost N²/2.
   */
  ownArrays?: WeakSet<string[]>;
  /**
   * Called once for each element a `+=` puts into a list or parses (a command word, a
   * capabilities entry): tests count the calls to show that N appends cost O(N) (nothing in
   * tsinit passes it).
   */
  onStep?: () => void;
  /** The part after `@` in `name@arg`, if any. */
  argument: string | undefined;
  /** Variables for load-time substitution of dependency names. */
  env: Environment;
  file: string;
  warn(line: SettingLine, message: string): void;
}

type Handler = (ctx: ParseContext, line: SettingLine) => void;

interface SettingDef {
  apply: Handler;
  /** dinit allows `+=` (append words) only for commands. */
  appendable?: boolean;
}

// ---- value readers --------------------------------------------------------------------------

function needValue(line: SettingLine): string {
  if (line.value === "") throw new SettingError("needs a value");
  return line.value;
}

function oneWord(line: SettingLine, what: string): string {
  if (line.words.length !== 1) {
    throw new SettingError(
      line.words.length === 0
        ? `needs a ${what}`
        : `expected one ${what}, found ${JSON.stringify(line.value)}`,
    );
  }
  return line.words[0] as string;
}

const SECONDS = /^(\d+([.,]\d*)?|[.,]\d+)$/;

/** Seconds with an optional fraction (`.` or `,`, as dinit allows) -> milliseconds. */
export function parseSeconds(text: string): number | undefined {
  if (!SECONDS.test(text)) return undefined;
  const ms = Math.round(Number(text.replace(",", ".")) * 1000);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** The longest timer JavaScript runs as asked (2^31-1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

function seconds(line: SettingLine): number {
  const text = needValue(line);
  const ms = parseSeconds(text);
  if (ms === undefined) throw new SettingError(`${JSON.stringify(text)} is not a number of seconds`);
  if (ms > MAX_TIMER_MS) throw new SettingError(`${text} seconds is too long (at most ${Math.floor(MAX_TIMER_MS / 1000)})`);
  return ms;
}

/** The largest `log-buffer-size`: a buffer is kept in PID 1's memory. */
export const MAX_LOG_BUFFER_BYTES = 1024 * 1024;

function count(line: SettingLine, { min = 0 } = {}): number {
  const text = needValue(line);
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new SettingError(
      `${JSON.stringify(text)} is not a ${min > 0 ? "positive" : "non-negative"} whole number`,
    );
  }
  return n;
}

/**
 * dinit's logfile-uid and logfile-gid: a numeric id, or a name resolved at start from
 * /etc/passwd or /etc/group (a name that is not there fails the start, naming it).
 */
function userOrGroup(
  ctx: ParseContext,
  line: SettingLine,
  numeric: "logfileUid" | "logfileGid" | "socketUid" | "socketGid",
  named: "logfileUser" | "logfileGroup" | "socketUser" | "socketGroup",
): void {
  const text = oneWord(line, "user or group");
  if (/^\d+$/.test(text)) {
    const id = Number(text);
    if (!(id < 0xffffffff)) throw new SettingError(`${JSON.stringify(text)} is not a valid id (at most 4294967294)`);
    ctx.spec[numeric] = id;
    delete ctx.spec[named];
    return;
  }
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*\$?$/.test(text)) throw new SettingError(`${JSON.stringify(text)} is not a numeric id or a user/group name`);
  ctx.spec[named] = text;
  delete ctx.spec[numeric];
}

function yesNo(line: SettingLine): boolean {
  const text = needValue(line);
  if (text === "yes" || text === "true") return true;
  if (text === "no" || text === "false") return false;
  throw new SettingError(`${JSON.stringify(text)} is not one of yes, true, no, false`);
}

/** A path or command word: `$1` now, other `$VAR` references at start time. */
function deferredPath(ctx: ParseContext, line: SettingLine): string {
  return substituteArgument([needValue(line)], ctx.argument, { splitWords: false })[0] ?? "";
}

/** The longest service name, in UTF-8 bytes: what Linux allows a file name (load.ts LIMITS). */
export const MAX_NAME_BYTES = 255;

/** A service name (dependency, chain-to): substituted completely now. */
function serviceName(ctx: ParseContext, line: SettingLine): string {
  const name = substituteNow(oneWord(line, "service name"), ctx.argument, ctx.env);
  if (name === "" || name.includes("/") || name.startsWith(".") || name.endsWith("@")) {
    throw new SettingError(`${JSON.stringify(name)} is not a valid service name`);
  }
  // A name is a file name (instances included): without a bound, `x = a@$1x` in a template
  // would name a new, longer instance for ever.
  const bytes = new TextEncoder().encode(name).length;
  if (bytes > MAX_NAME_BYTES) {
    throw new SettingError(`a service name is at most ${MAX_NAME_BYTES} bytes; this one has ${bytes} (${JSON.stringify(name.slice(0, 40))}...)`);
  }
  return name;
}

/** One side of a resource limit: a number, or `-` / `unlimited` / `infinity` for no limit. */
function limitValue(text: string, whole: string): number {
  if (text === "-" || text === "unlimited" || text === "infinity") return Number.POSITIVE_INFINITY;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new SettingError(`${JSON.stringify(whole)} is not a limit (NUMBER, SOFT:HARD, or unlimited)`);
  }
  return n;
}

/**
 * dinit's resource-limit syntax: `soft:hard`, `soft:` (hard unchanged), `:hard` (soft
 * unchanged), or one value for both. Unlimited is Infinity.
 */
export function parseRLimit(text: string): RLimit {
  if (text === "" || text === ":") throw new SettingError("needs a limit");
  const colon = text.indexOf(":");
  if (colon < 0) {
    const both = limitValue(text, text);
    return { soft: both, hard: both };
  }
  const softText = text.slice(0, colon);
  const hardText = text.slice(colon + 1);
  const limit: RLimit = {};
  if (softText !== "") limit.soft = limitValue(softText, text);
  if (hardText !== "") limit.hard = limitValue(hardText, text);
  if (limit.soft !== undefined && limit.hard !== undefined && limit.soft > limit.hard) {
    throw new SettingError(`soft limit ${softText} is above the hard limit ${hardText}`);
  }
  return limit;
}

/**
 * A user or group word: a name, or a number below 2^32-1. A word that starts with a digit is
 * read as a number, as dinit reads it, so `9notanumber` is an error here, not a user looked up
 * at start.
 */
function checkIdWord(id: string | undefined): void {
  if (id === undefined || !/^\d/.test(id)) return;
  if (!/^\d+$/.test(id)) throw new SettingError(`${JSON.stringify(id)} is not a numeric id (a name cannot start with a digit)`);
  if (!(Number(id) < 0xffffffff)) throw new SettingError(`${id} is too large for an id`);
}

/**
 * dinit's load-options. `sub-vars` is how dinit's command substitution is always done here
 * (and in dinit since 0.18), so it changes nothing.
 */
function loadOptions(ctx: ParseContext, line: SettingLine): void {
  for (const word of line.words) {
    if (word === "export-passwd-vars") ctx.spec.exportPasswdVars = true;
    else if (word === "export-service-name") ctx.spec.exportServiceName = true;
    else if (word !== "sub-vars") throw new SettingError(`unknown load option ${JSON.stringify(word)} (export-passwd-vars, export-service-name, sub-vars)`);
  }
}

// ---- handlers -------------------------------------------------------------------------------

const TYPES: readonly ServiceType[] = ["process", "bgprocess", "scripted", "internal", "triggered"];

function command(field: "command" | "stopCommand"): Handler {
  return (ctx, line) => {
    // A new array each time (substituteArgument copies): the lexed words may be a template's,
    // shared by its instances.
    const words = substituteArgument(line.words, ctx.argument, { splitWords: true });
    const own = (ctx.ownArrays ??= new WeakSet());
    const previous = line.op === "+=" ? ctx.spec[field] : undefined;
    let argv: string[];
    if (previous === undefined) {
      argv = words;
      own.add(argv);
    } else {
      // In place when this parse made the array; anything else is copied once, then owned.
      argv = own.has(previous) ? previous : copyOwned(ctx, own, previous);
      for (const word of words) {
        argv.push(word);
        ctx.onStep?.();
      }
    }
    if (argv.length > 0) ctx.spec[field] = argv;
    else delete ctx.spec[field];
  };
}

function copyOwned(ctx: ParseContext, own: WeakSet<string[]>, from: readonly string[]): string[] {
  const copy: string[] = [];
  for (const word of from) {
    copy.push(word);
    ctx.onStep?.();
  }
  own.add(copy);
  return copy;
}

/**
 * `more` added to `sets` in place, each capability once, in the order first given: what
 * parseCapabilities gives for the two texts joined, without reading the earlier text again
 * (which made N `capabilities +=` lines cost N²/2 entries).
 */
function mergeCapabilities(ctx: ParseContext, sets: CapabilitySets, more: CapabilitySets): void {
  for (const key of ["inheritable", "ambient", "dropBounding"] as const) {
    for (const cap of more[key]) {
      // Each list holds at most the ~41 capabilities Linux has: includes() is bounded.
      if (!sets[key].includes(cap)) sets[key].push(cap);
      ctx.onStep?.();
    }
  }
}

type DependencyList = "dependsOn" | "dependsMs" | "waitsFor" | "before" | "after";

function dependency(list: DependencyList): Handler {
  return (ctx, line) => {
    const name = serviceName(ctx, line);
    const listed = ((ctx.listed ??= {})[list] ??= new Set());
    if (!listed.has(name)) {
      listed.add(name);
      ctx.spec[list].push(name);
    }
    ctx.origins[name] ??= { file: ctx.file, line: line.line };
  };
}

function dependencyDir(kind: DependencyDir["kind"]): Handler {
  return (ctx, line) => {
    const path = substituteNow(needValue(line), ctx.argument, ctx.env);
    ctx.dependencyDirs.push({ kind, path, setting: line.setting, origin: { file: ctx.file, line: line.line } });
  };
}

function rlimit(field: "rlimitNofile" | "rlimitCore" | "rlimitData" | "rlimitAddrspace"): Handler {
  return (ctx, line) => {
    ctx.spec[field] = parseRLimit(oneWord(line, "limit"));
  };
}

const HONOURED_OPTIONS: readonly ServiceOption[] = [
  "runs-on-console",
  "starts-on-console",
  "shares-console",
  "starts-rwfs",
  "starts-log",
  "skippable",
  "start-interruptible",
  "no-sigterm",
  "always-chain",
  "kill-all-on-stop",
  "no-new-privs",
  "signal-process-only",
];

/** dinit options that tsinit reads but does not act on: a warning, not an error. */
const DINIT_ONLY_OPTIONS = new Set([
  "unmask-intr",
  "pass-cs-fd",
]);

function options(ctx: ParseContext, line: SettingLine): void {
  for (const word of line.words) {
    if (DINIT_ONLY_OPTIONS.has(word)) {
      ctx.warn(line, `option "${word}" is not supported by tsinit; ignored`);
      continue;
    }
    if (!(HONOURED_OPTIONS as readonly string[]).includes(word)) {
      throw new SettingError(`unknown option ${JSON.stringify(word)}`);
    }
    const option = word as ServiceOption;
    // The console options exclude each other the way dinit's do.
    if (option === "runs-on-console") {
      ctx.options.add("starts-on-console");
      ctx.options.delete("shares-console");
    } else if (option === "starts-on-console") {
      ctx.options.delete("shares-console");
    } else if (option === "shares-console") {
      ctx.options.delete("runs-on-console");
      ctx.options.delete("starts-on-console");
    }
    ctx.options.add(option);
  }
}

/**
 * Every setting tsinit acts on. A Map, not an object: setting names are user text, and an
 * object would answer `__proto__` or `constructor` from Object.prototype.
 */
export const SETTINGS: ReadonlyMap<string, SettingDef> = new Map<string, SettingDef>(Object.entries({
  type: {
    apply: (ctx, line) => {
      const text = needValue(line);
      if (!(TYPES as readonly string[]).includes(text)) {
        throw new SettingError(`${JSON.stringify(text)} is not one of ${TYPES.join(", ")}`);
      }
      ctx.spec.type = text as ServiceType;
    },
  },
  command: { apply: command("command"), appendable: true },
  "stop-command": { apply: command("stopCommand"), appendable: true },
  "working-dir": { apply: (ctx, line) => void (ctx.spec.workingDir = deferredPath(ctx, line)) },
  "env-file": { apply: (ctx, line) => void (ctx.spec.envFile = deferredPath(ctx, line)) },
  "pid-file": { apply: (ctx, line) => void (ctx.spec.pidFile = deferredPath(ctx, line)) },
  "socket-listen": { apply: (ctx, line) => void (ctx.spec.socketListen = deferredPath(ctx, line)) },
  logfile: {
    apply: (ctx, line) => {
      ctx.spec.logfile = deferredPath(ctx, line);
      // As in dinit, naming a log file selects file logging unless a log-type was chosen.
      if (ctx.spec.logType === "none") ctx.spec.logType = "file";
    },
  },
  "run-as": {
    apply: (ctx, line) => {
      const text = oneWord(line, "user");
      const [user = "", group, ...extra] = text.split(":");
      if (user === "" || group === "" || extra.length > 0) {
        throw new SettingError(`${JSON.stringify(text)} is not USER, UID, USER:GROUP or UID:GID`);
      }
      for (const id of [user, group]) checkIdWord(id);
      ctx.spec.runAs = group === undefined ? { user } : { user, group };
    },
  },
  "load-options": { apply: loadOptions },

  "depends-on": { apply: dependency("dependsOn") },
  "depends-ms": { apply: dependency("dependsMs") },
  "waits-for": { apply: dependency("waitsFor") },
  before: { apply: dependency("before") },
  after: { apply: dependency("after") },
  "depends-on.d": { apply: dependencyDir("dependsOn") },
  "depends-ms.d": { apply: dependencyDir("dependsMs") },
  "waits-for.d": { apply: dependencyDir("waitsFor") },
  "chain-to": { apply: (ctx, line) => void (ctx.spec.chainTo = serviceName(ctx, line)) },

  restart: {
    apply: (ctx, line) => {
      const text = needValue(line);
      if (text === "yes" || text === "true") ctx.spec.restart = "yes";
      else if (text === "no" || text === "false") ctx.spec.restart = "no";
      else if (text === "on-failure") ctx.spec.restart = "on-failure";
      else throw new SettingError(`${JSON.stringify(text)} is not one of yes, true, no, false, on-failure`);
    },
  },
  "smooth-recovery": { apply: (ctx, line) => void (ctx.spec.smoothRecovery = yesNo(line)) },
  "restart-delay": { apply: (ctx, line) => void (ctx.spec.restartDelayMs = seconds(line)) },
  "restart-delay-max": { apply: (ctx, line) => void (ctx.spec.restartDelayMaxMs = seconds(line)) },
  "restart-limit-interval": {
    apply: (ctx, line) => void (ctx.spec.restartLimitIntervalMs = seconds(line)),
  },
  "restart-limit-count": { apply: (ctx, line) => void (ctx.spec.restartLimitCount = count(line)) },
  "start-timeout": { apply: (ctx, line) => void (ctx.spec.startTimeoutMs = seconds(line)) },
  "stop-timeout": { apply: (ctx, line) => void (ctx.spec.stopTimeoutMs = seconds(line)) },
  "term-signal": {
    apply: (ctx, line) => {
      const text = oneWord(line, "signal");
      // dinit's `none` (0) sends no signal.
      const signal = /^(sig)?none$/i.test(text) ? 0 : parseSignal(text);
      if (signal === undefined) throw new SettingError(`${JSON.stringify(text)} is not a signal`);
      ctx.spec.termSignal = signal;
    },
  },

  "log-type": {
    apply: (ctx, line) => {
      const text = needValue(line);
      if (text !== "file" && text !== "buffer" && text !== "pipe" && text !== "none") {
        throw new SettingError(`${JSON.stringify(text)} is not one of file, buffer, pipe, none`);
      }
      ctx.spec.logType = text;
    },
  },
  "log-buffer-size": {
    apply: (ctx, line) => {
      const bytes = count(line, { min: 1 });
      // Each buffer lives in PID 1's memory.
      if (bytes > MAX_LOG_BUFFER_BYTES) throw new SettingError(`${bytes} bytes is too large (at most ${MAX_LOG_BUFFER_BYTES}, 1 MiB)`);
      ctx.spec.logBufferSize = bytes;
    },
  },
  "ready-notification": {
    apply: (ctx, line) => {
      const text = oneWord(line, "value");
      const fd = /^pipefd:(\d+)$/.exec(text)?.[1];
      const variable = /^pipevar:([A-Za-z_][A-Za-z0-9_]*)$/.exec(text)?.[1];
      if (fd !== undefined && Number.isSafeInteger(Number(fd)) && Number(fd) >= 3 && Number(fd) < 1024) {
        ctx.spec.readyNotification = { kind: "pipefd", fd: Number(fd) };
      } else if (variable !== undefined) {
        ctx.spec.readyNotification = { kind: "pipevar", variable };
      } else if (text === "notify") {
        ctx.spec.readyNotification = { kind: "notify" };
      } else {
        throw new SettingError(`${JSON.stringify(text)} is not pipefd:FD (3-1023), pipevar:VARIABLE or notify`);
      }
    },
  },
  "socket-permissions": {
    apply: (ctx, line) => {
      const text = oneWord(line, "mode");
      const mode = /^[0-7]+$/.test(text) ? parseInt(text, 8) : NaN;
      if (!(mode <= 0o7777)) throw new SettingError(`${JSON.stringify(text)} is not an octal mode`);
      ctx.spec.socketPermissions = mode;
    },
  },
  "logfile-permissions": {
    apply: (ctx, line) => {
      const text = oneWord(line, "mode");
      const mode = /^[0-7]+$/.test(text) ? parseInt(text, 8) : NaN;
      if (!(mode <= 0o777)) throw new SettingError(`${JSON.stringify(text)} is not an octal mode (at most 777)`);
      ctx.spec.logfilePermissions = mode;
    },
  },
  "logfile-uid": { apply: (ctx, line) => userOrGroup(ctx, line, "logfileUid", "logfileUser") },
  "logfile-gid": { apply: (ctx, line) => userOrGroup(ctx, line, "logfileGid", "logfileGroup") },
  "socket-uid": { apply: (ctx, line) => userOrGroup(ctx, line, "socketUid", "socketUser") },
  "socket-gid": { apply: (ctx, line) => userOrGroup(ctx, line, "socketGid", "socketGroup") },
  "rlimit-nofile": { apply: rlimit("rlimitNofile") },
  "rlimit-core": { apply: rlimit("rlimitCore") },
  "rlimit-data": { apply: rlimit("rlimitData") },
  "rlimit-addrspace": { apply: rlimit("rlimitAddrspace") },
  nice: {
    apply: (ctx, line) => {
      const text = oneWord(line, "number");
      const n = /^[-+]?\d+$/.test(text) ? Number(text) : NaN;
      if (!Number.isSafeInteger(n)) throw new SettingError(`${JSON.stringify(text)} is not a whole number (-20 to 19)`);
      // As dinit does, a value out of range is brought into it without an error.
      ctx.spec.nice = Math.max(-20, Math.min(19, n));
    },
  },
  ioprio: {
    apply: (ctx, line) => {
      const text = oneWord(line, "value");
      const match = /^(none|idle|realtime|best-effort)(?::(\d+))?$/.exec(text);
      const cls = match?.[1] as IoPriorityClass | undefined;
      const level = match?.[2] === undefined ? undefined : Number(match[2]);
      const needsLevel = cls === "realtime" || cls === "best-effort";
      if (cls === undefined || !(cls in IOPRIO_CLASSES) || needsLevel !== (level !== undefined) || (level !== undefined && level > 7)) {
        throw new SettingError(`${JSON.stringify(text)} is not none, idle, realtime:N or best-effort:N (N from 0 to 7)`);
      }
      ctx.spec.ioPriority = { class: cls, level: level ?? 0 };
    },
  },
  "oom-score-adj": {
    apply: (ctx, line) => {
      const text = oneWord(line, "number");
      const n = /^[-+]?\d+$/.test(text) ? Number(text) : NaN;
      if (!(n >= -1000 && n <= 1000)) throw new SettingError(`${JSON.stringify(text)} is not a whole number from -1000 to 1000`);
      ctx.spec.oomScoreAdj = n;
    },
  },
  "run-in-cgroup": {
    apply: (ctx, line) => {
      const path = deferredPath(ctx, line);
      if (path.split("/").some((part) => part === ".") || path.includes("\n")) throw new SettingError(`${JSON.stringify(path)} is not a cgroup path`);
      ctx.spec.runInCgroup = path;
    },
  },
  capabilities: {
    appendable: true,
    apply: (ctx, line) => {
      const text = needValue(line);
      let sets: CapabilitySets;
      try {
        // Only this line's text: what earlier lines gave is already in ctx.spec.capabilities.
        sets = parseCapabilities(text);
      } catch (error) {
        throw new SettingError((error as Error).message);
      }
      const previous = ctx.spec.capabilities;
      if (line.op === "+=" && ctx.spec.capabilitiesText !== undefined && previous !== undefined) {
        // Fresh lists, then grown in place: parseCapabilities made `previous` in this parse.
        mergeCapabilities(ctx, previous, sets);
        ctx.spec.capabilitiesText = `${ctx.spec.capabilitiesText},${text}`;
      } else {
        ctx.spec.capabilities = sets;
        ctx.spec.capabilitiesText = text;
      }
    },
  },
  securebits: {
    appendable: true,
    apply: (ctx, line) => {
      let bits = line.op === "+=" ? (ctx.spec.securebits ?? 0) : 0;
      for (const word of line.words) {
        // A name, or the bits as a number (decimal or 0x hex), as capsh --secbits takes them.
        const number = /^(\d+|0x[0-9a-f]+)$/i.test(word) ? Number(word) : undefined;
        const bit = number !== undefined && number <= 0xff ? number : Object.hasOwn(SECUREBITS, word) ? SECUREBITS[word] : undefined;
        if (bit === undefined) {
          throw new SettingError(`${JSON.stringify(word)} is not one of ${Object.keys(SECUREBITS).join(", ")}, or a number up to 0xff`);
        }
        bits |= bit;
      }
      if (line.words.length === 0) throw new SettingError("needs a value");
      ctx.spec.securebits = bits;
    },
  },
  "inittab-id": {
    apply: (ctx, line) => {
      const text = oneWord(line, "id");
      // utmp's ut_id holds 4 bytes.
      if (new TextEncoder().encode(text).length > 4) throw new SettingError(`${JSON.stringify(text)} is longer than 4 bytes (utmp's ut_id)`);
      ctx.spec.inittabId = text;
    },
  },
  "inittab-line": {
    apply: (ctx, line) => {
      const text = oneWord(line, "tty name");
      // utmp's ut_line holds 32 bytes; it is the device without /dev/.
      if (new TextEncoder().encode(text).length > 32) throw new SettingError(`${JSON.stringify(text)} is longer than 32 bytes (utmp's ut_line)`);
      ctx.spec.inittabLine = text;
    },
  },
  "consumer-of": { apply: (ctx, line) => void (ctx.spec.consumerOf = serviceName(ctx, line)) },
  options: { apply: options },
  // dinit's old spelling.
  termsignal: { apply: (ctx, line) => SETTINGS.get("term-signal")?.apply(ctx, line) },
} satisfies Record<string, SettingDef>));

/** dinit settings that tsinit reads past with a warning: the service still loads. */
export const IGNORED_SETTINGS: ReadonlySet<string> = new Set([
]);
