// Parse one service description (the text of one file) into a ServiceSpec.
// Pure: no file access. Directory settings (`waits-for.d` ...) are returned for the loader to
// list, since only it has a file system.

import { defaultSpec, type ServiceOption, type ServiceSpec, type SettingOrigin } from "../base/service-spec.ts";
import { type Diagnostic, hasErrors } from "./diagnostic.ts";
import { type IncludeReader, type LexResult, lexServiceFile, type SettingLine } from "./lexer.ts";
import {
  type DependencyDir,
  IGNORED_SETTINGS,
  type ParseContext,
  SETTINGS,
  SettingError,
} from "./settings.ts";
import { type Environment, MissingArgumentError, referencesArgument, SubstitutionError, substituteArgument, substituteNow } from "./substitute.ts";

export interface ParseOptions {
  /** The service name: the file name, or `base@argument` for an instance. */
  name: string;
  /** The file path, used in diagnostics and stored in the spec. */
  file: string;
  /** The instance argument, substituted for `$1`. */
  argument?: string;
  /** Variables for load-time substitution in dependency names (default: none). */
  env?: Environment;
  /**
   * Reads an `@include`d file by its absolute path (the loader's file system); undefined when
   * there is none, an object with why when it is there but cannot be read. Without it,
   * `@include` is an error.
   */
  readInclude?: (path: string) => string | undefined | { unreadable: string };
  /** Counts what `+=` lines put into lists (settings.ts ParseContext.onStep; tests). */
  onStep?: () => void;
}

export interface ParsedService {
  /** The spec, or undefined when any error was found. */
  spec: ServiceSpec | undefined;
  diagnostics: Diagnostic[];
  /** `depends-on.d`, `depends-ms.d`, `waits-for.d` directories still to be listed. */
  dependencyDirs: DependencyDir[];
  /** The file uses `$1` but no argument was given: it is a template for `name@arg`. */
  needsArgument: boolean;
}

/** The service type used when a file has no `type` line: dinit's loader makes it internal. */
export const DEFAULT_TYPE = "internal";

/**
 * Where a setting was last given, in `origins` beside the dependency names: the key cannot be
 * a service name, which has no NUL.
 */
export function settingKey(setting: string): string {
  return `\0${setting}`;
}

/**
 * Settings that substitute `$1` themselves (commands and paths keep other references for the
 * start; names are substituted completely). In every other setting `$1` and its forms
 * (`${1}`, `${1:-x}`, `${1:+x}`) are replaced before the value is read, as dinit does.
 */
const SUBSTITUTES_ITSELF: ReadonlySet<string> = new Set([
  "command", "stop-command", "working-dir", "env-file", "pid-file", "socket-listen", "logfile",
  "depends-on", "depends-ms", "waits-for", "before", "after", "depends-on.d", "depends-ms.d", "waits-for.d", "chain-to", "consumer-of",
]);

function withArgument(line: SettingLine, argument: string | undefined): SettingLine {
  if (!/\$\{?1/.test(line.value)) return line;
  const words = substituteArgument(line.words, argument, { splitWords: false }).map((word) => word.replaceAll("$$", "$"));
  return { ...line, words, value: words.join(" ") };
}

/** The settings whose line `tsinit check` may need after loading (config/check.ts). */
const TRACED_SETTINGS: ReadonlySet<string> = new Set(["command", "stop-command", "working-dir", "env-file", "chain-to"]);

/** The directory part of a path (`.` for a bare name). */
export function dirOf(file: string): string {
  const slash = file.lastIndexOf("/");
  return slash <= 0 ? (slash === 0 ? "/" : ".") : file.slice(0, slash);
}

/**
 * `@include PATH`: `$1` and variables substituted, a relative PATH from the including file's
 * directory. `onArgument` is called when a PATH uses `$1`: what was read then depends on it.
 */
function includeReader(options: ParseOptions, onArgument: () => void): IncludeReader | undefined {
  const read = options.readInclude;
  if (read === undefined) return undefined;
  return (word, from) => {
    if (referencesArgument(word)) onArgument();
    let path: string;
    try {
      path = substituteNow(word, options.argument, options.env ?? {});
    } catch (e) {
      if (!(e instanceof SubstitutionError)) throw e;
      return { error: e.message };
    }
    if (path === "") return { error: "needs a file name" };
    const absolute = path.startsWith("/") ? path : `${dirOf(from)}/${path}`;
    const text = read(absolute);
    if (text === undefined) return { absent: absolute };
    if (typeof text !== "string") return { error: `${JSON.stringify(absolute)}: cannot be read: ${text.unreadable}` };
    return { file: absolute, text };
  };
}

/** A service file split into setting lines, its `@include`s read (the first half of parseService). */
export interface LexedService {
  lexed: LexResult;
  /**
   * An `@include` path used `$1`, so the lines depend on the service argument. Otherwise they
   * are the same for every instance of a template, and the loader lexes it once per load.
   */
  usesArgument: boolean;
}

export function lexService(text: string, options: ParseOptions): LexedService {
  let usesArgument = false;
  const include = includeReader(options, () => {
    usesArgument = true;
  });
  const lexed = lexServiceFile(text, options.file, include === undefined ? {} : { include });
  return { lexed, usesArgument };
}

export function parseService(text: string, options: ParseOptions): ParsedService {
  return parseLexed(lexService(text, options).lexed, options);
}

/**
 * The lines of a service file to a ServiceSpec, with `options.argument` substituted: the
 * second half of parseService. `lexed` is only read, so one template's lines serve each of its
 * instances.
 */
export function parseLexed(lexed: LexResult, options: ParseOptions): ParsedService {
  const { file } = options;
  const diagnostics: Diagnostic[] = [...lexed.diagnostics];
  let needsArgument = false;

  const spec = defaultSpec(options.name, DEFAULT_TYPE, file);
  const serviceOptions = new Set<ServiceOption>();
  const origins: Record<string, SettingOrigin> = Object.create(null);
  const ctx: ParseContext = {
    spec,
    options: serviceOptions,
    origins,
    dependencyDirs: [],
    argument: options.argument,
    env: options.env ?? {},
    ...(options.onStep !== undefined && { onStep: options.onStep }),
    file,
    warn: (line: SettingLine, message: string) =>
      diagnostics.push({ severity: "warning", file: line.file ?? file, line: line.line, setting: line.setting, message }),
  };
  if (lexed.enableVia !== undefined) spec.enableVia = lexed.enableVia.name;

  // The last line each setting appeared on, so whole-file checks can point somewhere useful.
  const lineOf = new Map<string, number>();
  // Settings whose line was rejected: whole-file checks about them would only repeat the error.
  const rejected = new Set<string>(lexed.diagnostics.flatMap((d) => (d.setting === undefined ? [] : [d.setting])));
  for (const line of lexed.settings) {
    // An included file's lines are reported (and dependencies traced) in that file.
    ctx.file = line.file ?? file;
    if (line.file === undefined) lineOf.set(line.setting, line.line);
    if (TRACED_SETTINGS.has(line.setting)) origins[settingKey(line.setting)] = { file: ctx.file, line: line.line };
    const def = SETTINGS.get(line.setting);
    if (def === undefined) {
      const message = IGNORED_SETTINGS.has(line.setting)
        ? "not supported by tsinit; ignored"
        : "unknown setting; ignored";
      ctx.warn(line, message);
      continue;
    }
    if (line.op === "+=" && def.appendable !== true) {
      diagnostics.push({
        severity: "error",
        file: ctx.file,
        line: line.line,
        setting: line.setting,
        message: `"+=" cannot be used with this setting (only with command, stop-command, capabilities and securebits)`,
      });
      continue;
    }
    try {
      def.apply(ctx, SUBSTITUTES_ITSELF.has(line.setting) ? line : withArgument(line, options.argument));
    } catch (e) {
      if (!(e instanceof SettingError || e instanceof SubstitutionError)) throw e;
      if (e instanceof MissingArgumentError) needsArgument = true;
      rejected.add(line.setting);
      diagnostics.push({ severity: "error", file: ctx.file, line: line.line, setting: line.setting, message: e.message });
    }
  }

  spec.options = serviceOptions;
  diagnostics.push(...checkWhole(spec, file, lineOf, rejected));
  if (Object.keys(origins).length > 0) spec.origins = origins;

  return {
    spec: hasErrors(diagnostics) ? undefined : spec,
    diagnostics: capped(diagnostics, file),
    dependencyDirs: ctx.dependencyDirs,
    needsArgument,
  };
}

/** The most diagnostics one file reports: a file of a million bad lines must not flood the log. */
export const MAX_DIAGNOSTICS_PER_FILE = 50;

/** The first MAX_DIAGNOSTICS_PER_FILE, then one line counting the rest, as an error if any was. */
function capped(diagnostics: Diagnostic[], file: string): Diagnostic[] {
  if (diagnostics.length <= MAX_DIAGNOSTICS_PER_FILE) return diagnostics;
  const rest = diagnostics.slice(MAX_DIAGNOSTICS_PER_FILE);
  return [
    ...diagnostics.slice(0, MAX_DIAGNOSTICS_PER_FILE),
    { severity: hasErrors(rest) ? "error" : "warning", file, line: 0, message: `${rest.length} more problems in this file are not shown` },
  ];
}

/**
 * Checks that need the whole file: required settings for the type, and contradictions. A missing
 * setting is reported at the `type` line (0 when the type is the default); a contradiction at the
 * line of the setting that contradicts.
 */
function checkWhole(
  spec: ServiceSpec,
  file: string,
  lineOf: ReadonlyMap<string, number>,
  rejected: ReadonlySet<string>,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (severity: Diagnostic["severity"], setting: string, message: string, where = "type"): void => {
    if (rejected.has("type") || rejected.has(setting)) return;
    out.push({ severity, file, line: lineOf.get(where) ?? 0, setting, message });
  };
  const runsProcess = spec.type === "process" || spec.type === "bgprocess" || spec.type === "scripted";

  if (runsProcess && spec.command === undefined) {
    at("error", "command", `a ${spec.type} service needs a command`);
  }
  if (spec.type === "bgprocess" && spec.pidFile === undefined) {
    at("error", "pid-file", "a bgprocess service needs a pid-file");
  }
  if (spec.type === "bgprocess" && spec.readyNotification !== undefined) {
    at("error", "ready-notification", "a bgprocess service cannot use ready-notification", "ready-notification");
  }
  if (!runsProcess && (spec.command !== undefined || spec.stopCommand !== undefined)) {
    const setting = spec.command !== undefined ? "command" : "stop-command";
    const why = lineOf.has("type") ? "" : " (no type is given, and dinit's default is internal; add type = process)";
    at("warning", setting, `an ${spec.type} service runs no command; ignored${why}`, setting);
  }
  // Settings that mean nothing for this type: said once each, at their line (dinit ignores them).
  const notFor = (setting: string, applies: boolean, to: string): void => {
    if (!applies && lineOf.has(setting)) at("warning", setting, `applies only to ${to} services; ignored for a${spec.type === "internal" ? "n" : ""} ${spec.type} service`, setting);
  };
  const supervised = spec.type === "process" || spec.type === "bgprocess";
  notFor("pid-file", spec.type === "bgprocess", "bgprocess");
  notFor("stop-command", runsProcess, "process, bgprocess and scripted");
  for (const setting of ["run-as", "working-dir", "env-file", "logfile", "socket-listen", "rlimit-nofile", "rlimit-core", "rlimit-data", "start-timeout"]) {
    notFor(setting, runsProcess, "process, bgprocess and scripted");
  }
  for (const setting of ["smooth-recovery", "ready-notification", "term-signal"]) notFor(setting, supervised, "process and bgprocess");
  if (spec.logType === "file" && spec.logfile === undefined) {
    at("warning", "log-type", "is file but no logfile is set; output is discarded", "log-type");
  }
  if (spec.consumerOf !== undefined && spec.type !== "process" && spec.type !== "bgprocess") {
    at("error", "consumer-of", `only a process or bgprocess service can be a consumer (this one is ${spec.type})`, "consumer-of");
  }
  if (spec.consumerOf !== undefined && spec.consumerOf === spec.name) {
    at("error", "consumer-of", "a service cannot consume its own output", "consumer-of");
  }
  if (spec.options.has("kill-all-on-stop") && spec.type !== "scripted" && spec.type !== "internal") {
    at("error", "options", `kill-all-on-stop is for scripted and internal services only (this one is ${spec.type})`, "options");
  }
  if ((spec.inittabId !== undefined || spec.inittabLine !== undefined) && spec.type !== "process") {
    const setting = spec.inittabId !== undefined ? "inittab-id" : "inittab-line";
    at("warning", setting, `applies to process services only; ignored for a ${spec.type} service`, setting);
  }
  if (spec.logType === "pipe" && !runsProcess) {
    at("warning", "log-type", `a pipe needs a process; an ${spec.type} service has none`, "log-type");
  }
  if (spec.restartDelayMaxMs < spec.restartDelayMs) {
    at("warning", "restart-delay-max", "is below restart-delay; restart-delay is used", "restart-delay-max");
  }
  return out;
}
