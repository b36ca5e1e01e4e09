// Load service descriptions from service directories into a checked set of ServiceSpecs.
//
// File access goes through ConfigFs, so the loader runs in unit tests with an in-memory fake.
// Rules (dinit's, with tsinit's additions marked):
//   - Loading is on demand: from the roots (the target, or names a client gives) through every
//     name they reach (depends-on, depends-ms, waits-for, their `.d` directories, before,
//     after; not chain-to). A file that nothing names is never read. The service named X is
//     the file X; names starting with "." are never services.
//   - The first directory that has a name wins; the same name later is ignored.
//   - `name@arg` is an instance: its file is `name@arg` if that exists, else `name` (dinit's
//     convention), else `name@` (tsinit: a systemd-style template name); `$1` is `arg`.
//     A file that uses `$1`, named without an argument, is a template: an error that says so.
//   - `depends-on.d`, `depends-ms.d`, `waits-for.d` name directories (relative to the service's
//     own directory) whose entries are dependency names. As in dinit, an unreadable directory
//     or an entry with no file is a warning, and that entry is dropped.
//   - `boot.d/` in a services directory: its entries are waits-for of `boot` (tsinit). When no
//     `boot` file exists but a `boot.d/` does, an `internal` boot service is made up.
//   - A depends-on or depends-ms dependency that does not load is an error at the line naming
//     it, and the dependent does not load either (as in dinit); this repeats up the chain.
//   - A waits-for dependency (or a `.d`/`boot.d` entry) whose file does not load is an error
//     at the line naming it, and the dependent loads (tsinit): the caller makes it a service
//     that fails when started (`unloadable`). `before`/`after` naming an unknown service is a
//     warning.
//   - Relative paths are resolved from the description's directory (resolvePaths).
//   - Dependency cycles are not load errors: core/graph.ts finds and reports them, so the rest
//     can still start.
//   - One template file gives at most 1000 instances, which name at most 10,000 services
//     between them, and all templates together 10,000 instances (tsinit; template-limits.ts):
//     those a running supervisor has plus those a load reads. And one load takes in at most
//     LIMITS.bytesPerLoad of description text, each instance charged its template and each
//     @include'd file as if it read them again: an instance's spec holds what its text says, so
//     the instance count alone does not bound what a large template costs. A name past that is
//     not read; the first line naming one is an error, and the rest of that template's are counted.
//   - A template file is read and lexed once per load (LexedTemplate; tsinit), unless an
//     @include path in it uses $1; each instance is parsed from its lines with its own argument.
//     A depends-on past it fails the dependent; a waits-for past it is dropped (no stand-in
//     service is made: there may be many).

import { defaultSpec, type ServiceSpec, type SettingOrigin } from "../base/service-spec.ts";
import { type Diagnostic, formatDiagnostic, hasErrors } from "./diagnostic.ts";
import type { LexResult } from "./lexer.ts";
import { dirOf, lexService, parseLexed, type ParseOptions } from "./parse.ts";
import { MAX_NAME_BYTES } from "./settings.ts";
import type { Environment } from "./substitute.ts";
import { isTemplateFile, referencedNames, TEMPLATE_LIMITS, TemplateBudget, type TemplateTally, type TemplateUse } from "./template-limits.ts";

/** A file that is there but cannot be read as a service file, and why (for `FILE: cannot be read: WHY`). */
export interface UnreadableFile {
  unreadable: string;
}

/**
 * Limits no real service file reaches. Past them a file is refused with a message naming it
 * (and the line), so a hostile or broken file costs PID 1 at most about this much memory.
 */
export const LIMITS = {
  /** A service file is read up to this many bytes; a larger one is refused. */
  fileBytes: 1024 * 1024,
  /**
   * A service name (`name@argument` included), in UTF-8 bytes: what Linux allows a file name.
   * A longer dependency name is an error at its line.
   */
  nameBytes: MAX_NAME_BYTES,
  /** Instances of one template file, and the services they name between them (template-limits.ts). */
  instancesPerTemplate: TEMPLATE_LIMITS.instances,
  namesPerTemplate: TEMPLATE_LIMITS.names,
  /**
   * Description text one load takes in (counted in characters): files, and for each instance
   * its template and @include'd files as if read again; past it, no more names are read.
   * 10,000 ordinary files read about 1 MiB; a 60 KB template for each of 1000 instances is
   * 60 MB, and parsing it took PID 1 to 2.5 GB (before templates were lexed once per load).
   */
  bytesPerLoad: 16 * 1024 * 1024,
} as const;

/** What one load has read so far (LIMITS.bytesPerLoad). */
class ReadBudget {
  bytes = 0;

  spent(): boolean {
    return this.bytes >= LIMITS.bytesPerLoad;
  }

  refusal(): string {
    return `this load has read ${this.bytes} bytes of service descriptions (the limit is ${LIMITS.bytesPerLoad})`;
  }

  /**
   * Charge what reading a template again would have read (`reads`, in order, as LexedTemplate
   * keeps them), when none of those reads would have been refused; otherwise charge nothing
   * and say so, and the caller reads the files, to be refused as before.
   */
  chargeAgain(reads: readonly number[]): boolean {
    let bytes = this.bytes;
    for (const size of reads) {
      if (bytes >= LIMITS.bytesPerLoad) return false;
      bytes += size;
    }
    this.bytes = bytes;
    return true;
  }

  /** `fs`, counting what it reads, and refusing to read once the budget is spent. */
  counting(fs: ConfigFs): ConfigFs {
    return {
      readFile: (path) => {
        if (this.spent()) return { unreadable: this.refusal() };
        const text = fs.readFile(path);
        if (typeof text === "string") this.bytes += text.length;
        return text;
      },
      readDir: (path) => fs.readDir(path),
    };
  }
}

/**
 * A template file as one load read it, split into lines: its instances are made from these
 * lines, each with its own argument, so the file is read and lexed once per load, not once per
 * instance (a hostile template's 1000 instances each kept their own copy of every word).
 */
interface LexedTemplate {
  lexed: LexResult;
  /** The characters each read took, in order: the template's text, then each `@include`'s (0 if none). */
  reads: number[];
}

/** The key under which names refused by the ReadBudget are kept (no file path is empty). */
const READ_LIMIT = "";

/** The file access the loader needs; the real one wraps Sys in src/service-loading.ts. */
export interface ConfigFs {
  /**
   * A regular file's text, read up to LIMITS.fileBytes; undefined if there is no such file or
   * it is a directory; UnreadableFile if it is there but cannot be read (a dangling link, a
   * link loop, a FIFO or device, no permission, too large).
   */
  readFile(path: string): string | undefined | UnreadableFile;
  /** A directory's entry names (any order); undefined if it is missing or not a directory. */
  readDir(path: string): string[] | undefined;
}

export interface LoadOptions {
  /** Variables for load-time substitution in dependency names (dinit uses its environment). */
  env?: Environment;
  /** The names to load, with everything they reach (default: `boot`). */
  roots?: readonly string[];
  /** Names a running supervisor has already loaded: taken as loaded, not read again. */
  known?: (name: string) => boolean;
  /**
   * What the instances a running supervisor has loaded already cost, by template file: they
   * count against the template limits (template-limits.ts: a TemplateTally kept up to date
   * as services come and go, or a map of the same counts: tests).
   */
  knownInstances?: ReadonlyMap<string, TemplateUse> | TemplateTally;
  /**
   * Called once for each step of the load's work: a name taken off the worklist, a dependency
   * looked up, a dependent checked again. Tests count the calls to show that a load costs steps
   * in proportion to what it reads, not its square (nothing in tsinit passes it).
   */
  onStep?: () => void;
}

export interface LoadResult {
  /** Services that loaded, in the order they were reached. */
  services: Map<string, ServiceSpec>;
  /** Every error and warning, in the order found. */
  diagnostics: Diagnostic[];
  /** Names whose file is there but did not load (errors in it, or in a hard dependency). */
  failed: Set<string>;
  /** Names reached that have no file (a root, or a dependency). */
  missing: Set<string>;
  /**
   * waits-for dependencies (and `.d` entries) that did not load, with why: the dependents
   * loaded, and these are to fail when started (tsinit's step beyond dinit).
   */
  unloadable: Map<string, string>;
}

export interface LoadOneResult {
  /** The spec, or undefined when the file was not found or has errors. */
  spec: ServiceSpec | undefined;
  diagnostics: Diagnostic[];
  /** False when no directory has a file for this name. */
  found: boolean;
}

/** The name of the default target, whose waits-for also come from `boot.d/`. */
export const BOOT_SERVICE = "boot";

type DependencyList = "dependsOn" | "dependsMs" | "waitsFor";
const DEPENDENCY_SETTING: Record<DependencyList, string> = {
  dependsOn: "depends-on",
  dependsMs: "depends-ms",
  waitsFor: "waits-for",
};

export function joinPath(dir: string, name: string): string {
  if (name.startsWith("/")) return name;
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

/** Entry names that can name a service or dependency: not hidden. */
function visibleEntries(fs: ConfigFs, dir: string): string[] | undefined {
  return fs.readDir(dir)?.filter((n) => !n.startsWith(".")).sort();
}

/** Split `base@arg`; a name without `@` has no argument. */
export function splitInstanceName(name: string): { base: string; argument?: string } {
  const at = name.indexOf("@");
  return at < 0 ? { base: name } : { base: name.slice(0, at), argument: name.slice(at + 1) };
}

/** A service plus the dependency names that came from `.d` directories (missing is not fatal). */
interface Loaded extends LoadOneResult {
  softNames: Set<string>;
  /** The file uses `$1` and no argument was given. */
  template: boolean;
  /** An instance not read, since its template file (this one) is at a limit. */
  pastLimit?: string;
}

/** What one load counts and keeps: its limits, and the templates it has read. */
interface LoadState {
  budget: TemplateBudget;
  reads: ReadBudget;
  /** By template file path, for this load only: a reload or a later load reads the files again. */
  templates: Map<string, LexedTemplate>;
}

/**
 * Read and parse `name`'s file. With `state`, an instance of a template at its limit is found
 * but not read (a template file is at a limit only once it was read, so it is there), and an
 * instance of a template this load has read is made from its lines, charged as if read again.
 */
function loadOne(name: string, dirs: readonly string[], fs: ConfigFs, options: LoadOptions, state?: LoadState): Loaded {
  const none = (diagnostics: Diagnostic[] = []): Loaded => ({
    spec: undefined,
    diagnostics,
    found: false,
    softNames: new Set(),
    template: false,
  });
  const { argument } = splitInstanceName(name);
  if (state?.reads.spent() === true) return { ...none(), found: true, pastLimit: READ_LIMIT };
  for (const file of serviceFilePaths(name, dirs)) {
    const instance = state !== undefined && isTemplateFile(name, file);
    if (instance && state.budget.refusal(file) !== undefined) return { ...none(), found: true, pastLimit: file };
    const template = instance ? state.templates.get(file) : undefined;
    if (template !== undefined && state?.reads.chargeAgain(template.reads) === true) {
      const result = fromLines(name, file, template.lexed, argument, fs, options);
      state.budget.add(file, result.spec);
      return result;
    }
    const text = fs.readFile(file);
    if (text === undefined) continue;
    if (typeof text !== "string") return { ...none([unreadableDiagnostic(file, text)]), found: true };
    const result = parseFile(name, file, text, argument, fs, options, instance ? state.templates : undefined);
    if (instance) state.budget.add(file, result.spec);
    return result;
  }
  return none();
}

/**
 * The paths, in order, that could hold `name`'s description: in each directory the name itself
 * and, for an instance `base@arg`, `base` and `base@`. None for a name that is not a file name
 * (a `/`, a leading `.`, an empty base or argument, too long).
 */
export function serviceFilePaths(name: string, dirs: readonly string[]): string[] {
  const { base, argument } = splitInstanceName(name);
  if (base === "" || argument === "" || name.includes("/") || name.startsWith(".")) return [];
  // Longer names are refused where they are named (serviceName, the directory scan).
  if (nameTooLong(name)) return [];
  const candidates = argument === undefined ? [name] : [name, base, `${base}@`];
  return dirs.flatMap((dir) => candidates.map((candidate) => joinPath(dir, candidate)));
}

export function nameTooLong(name: string): boolean {
  return name.length > LIMITS.nameBytes && new TextEncoder().encode(name).length > LIMITS.nameBytes;
}

function unreadableDiagnostic(file: string, problem: UnreadableFile): Diagnostic {
  return { severity: "error", file, line: 0, message: `cannot be read: ${problem.unreadable}` };
}

/**
 * Parse `file`'s text as `name`. With `templates` (`file` is the template of an instance), its
 * lines are kept there for the template's other instances, unless an `@include` path used `$1`.
 */
function parseFile(
  name: string,
  file: string,
  text: string,
  argument: string | undefined,
  fs: ConfigFs,
  options: LoadOptions,
  templates?: Map<string, LexedTemplate>,
): Loaded {
  // The real ConfigFs reads no more than this; a test's in-memory one may hand over more.
  if (text.length > LIMITS.fileBytes) {
    const diagnostics = [unreadableDiagnostic(file, { unreadable: `larger than ${LIMITS.fileBytes} bytes` })];
    return { spec: undefined, diagnostics, found: true, softNames: new Set(), template: false };
  }
  const reads = [text.length];
  const readInclude = (path: string): string | undefined | UnreadableFile => {
    const included = fs.readFile(path);
    reads.push(typeof included === "string" ? included.length : 0);
    return included;
  };
  const { lexed, usesArgument } = lexService(text, { ...parseOptions(name, file, argument, options), readInclude });
  if (templates !== undefined && !usesArgument && !templates.has(file)) templates.set(file, { lexed, reads });
  return fromLines(name, file, lexed, argument, fs, options);
}

function parseOptions(name: string, file: string, argument: string | undefined, options: LoadOptions): ParseOptions {
  return { name, file, ...(argument !== undefined && { argument }), ...(options.env !== undefined && { env: options.env }) };
}

/** A service from its file's lines: the spec, its relative paths resolved, its `.d` directories read. */
function fromLines(name: string, file: string, lexed: LexResult, argument: string | undefined, fs: ConfigFs, options: LoadOptions): Loaded {
  const parsed = parseLexed(lexed, parseOptions(name, file, argument, options));
  const diagnostics = [...parsed.diagnostics];
  const softNames = new Set<string>();
  const spec = parsed.spec;
  if (spec !== undefined) {
    resolvePaths(spec);
    for (const dir of parsed.dependencyDirs) {
      const path = joinPath(dirOf(file), dir.path);
      const entries = visibleEntries(fs, path);
      if (entries === undefined) {
        diagnostics.push({
          severity: "warning",
          file: dir.origin.file,
          line: dir.origin.line,
          setting: dir.setting,
          message: `cannot read directory ${JSON.stringify(path)}; ignored`,
        });
        continue;
      }
      addSoft(spec, dir.kind, entries, dir.origin, softNames);
    }
  }
  return {
    spec,
    diagnostics,
    found: true,
    softNames,
    template: parsed.needsArgument && argument === undefined,
  };
}

/**
 * Relative paths, as dinit resolves them: the working directory defaults to the directory that
 * holds the description, and a relative one is taken from there; env-file is read from there
 * too. logfile, pid-file and socket-listen are taken from the working directory (dinit opens
 * the log file in the child after it changed directory; tsinit makes pid-file and
 * socket-listen independent of its own working directory the same way). A relative command is
 * run from the working directory (the spawn resolves it there). A path that starts with `$` is
 * left as written: what it becomes is known only at start.
 */
function resolvePaths(spec: ServiceSpec): void {
  const descriptionDir = dirOf(spec.file);
  const from = (dir: string, path: string): string => (path.startsWith("/") || path.startsWith("$") ? path : joinPath(dir, path));
  spec.workingDir = spec.workingDir === undefined ? escapeDollars(descriptionDir) : from(escapeDollars(descriptionDir), spec.workingDir);
  const workingDir = spec.workingDir.startsWith("$") ? escapeDollars(descriptionDir) : spec.workingDir;
  if (spec.envFile !== undefined) spec.envFile = from(escapeDollars(descriptionDir), spec.envFile);
  if (spec.logfile !== undefined) spec.logfile = from(workingDir, spec.logfile);
  if (spec.pidFile !== undefined) spec.pidFile = from(workingDir, spec.pidFile);
  if (spec.socketListen !== undefined) spec.socketListen = from(workingDir, spec.socketListen);
}

/** A directory name as a value that is substituted at start: a `$` in it stays a `$`. */
function escapeDollars(path: string): string {
  return path.replaceAll("$", "$$$$");
}

/** Add dependency names from a directory; names already given explicitly stay hard. */
function addSoft(
  spec: ServiceSpec,
  kind: DependencyList,
  names: readonly string[],
  origin: SettingOrigin,
  softNames: Set<string>,
): void {
  const origins = (spec.origins ??= Object.create(null) as Record<string, SettingOrigin>);
  const list = spec[kind];
  // A set, not list.includes for each entry: a directory of many entries would be quadratic.
  const listed = new Set(list);
  for (const name of names) {
    if (name === spec.name) continue; // a service listing itself in its own .d is a no-op
    if (listed.has(name)) continue;
    listed.add(name);
    list.push(name);
    if (!Object.hasOwn(origins, name)) {
      origins[name] = origin;
      softNames.add(name);
    }
  }
}

/**
 * Load one service by name (`name` or `name@arg`) from the first directory that has it,
 * resolving its `.d` directories. Its dependencies are not loaded or checked.
 */
export function loadService(
  name: string,
  dirs: readonly string[],
  fs: ConfigFs,
  options: LoadOptions = {},
): LoadOneResult {
  const { spec, diagnostics, found } = loadOne(name, dirs, fs, options);
  return { spec, diagnostics, found };
}

/**
 * Load `roots` (default: `boot`) and everything they reach through depends-on, depends-ms,
 * waits-for, before and after, as dinit loads: on demand, so that a file nothing names is
 * never read. Names for which `options.known` answers true are taken as loaded already (a
 * running supervisor has them) and are not read again.
 */
export function loadServices(dirs: readonly string[], fs: ConfigFs, options: LoadOptions = {}): LoadResult {
  const diagnostics: Diagnostic[] = [];
  const loaded = new Map<string, ServiceSpec>();
  const soft = new Map<string, Set<string>>();
  /** Names whose file exists but did not load, with why (for dependents). */
  const failed = new Map<string, string>();
  /** The first error of each file that did not load, for the services that stand in for it. */
  const firstError = new Map<string, string>();
  const missing = new Set<string>();
  const tried = new Set<string>();
  const known = options.known ?? (() => false);
  const step = options.onStep ?? (() => {});
  const budget = new TemplateBudget(options.knownInstances);
  const reads = new ReadBudget();
  const state: LoadState = { budget, reads, templates: new Map() };
  const countedFs = reads.counting(fs);
  /** Where a limit's summary is said: at the template file, or the first directory for the read limit. */
  const limitFile = (key: string): string => (key === READ_LIMIT ? (dirs[0] ?? "") : key);
  /** Names past a template limit, with their template file; and each such file's first refusal. */
  const pastLimit = new Map<string, string>();
  const refusals = new Map<string, string>();
  const available = (name: string): boolean => {
    step();
    return loaded.has(name) || (known(name) && !tried.has(name));
  };
  const whyMissing = (dep: string): string => {
    const templateFile = pastLimit.get(dep);
    if (templateFile !== undefined) return `${JSON.stringify(dep)} is not loaded: ${refusals.get(templateFile)}`;
    return failed.get(dep) ?? `no service named ${JSON.stringify(dep)}`;
  };

  const take = (name: string, result: Loaded): void => {
    if (!result.found) {
      missing.add(name);
      return;
    }
    if (result.pastLimit !== undefined) {
      pastLimit.set(name, result.pastLimit);
      if (!refusals.has(result.pastLimit)) {
        refusals.set(result.pastLimit, result.pastLimit === READ_LIMIT ? reads.refusal() : (budget.refusal(result.pastLimit) as string));
      }
      failed.set(name, ""); // whyMissing says why: one text per template, not one per name
      return;
    }
    if (result.template) {
      failed.set(name, `${JSON.stringify(name)} is a template (it uses $1); name an instance such as "${name}@ARG"`);
      return;
    }
    diagnostics.push(...result.diagnostics);
    if (result.spec !== undefined && !hasErrors(result.diagnostics)) {
      loaded.set(name, result.spec);
      soft.set(name, result.softNames);
    } else {
      const first = result.diagnostics.find((d) => d.severity === "error");
      failed.set(name, `${JSON.stringify(name)} failed to load`);
      if (first !== undefined) firstError.set(name, formatDiagnostic(first));
    }
  };

  // Each line naming a name past a template limit is an error, and a template that names
  // instances of itself has as many of them as its instances name, all at its own lines: the
  // first of each template is said, the rest counted (at the end).
  const unsaid = new Map<string, number>();
  const say = (dep: string, diagnostic: Diagnostic): void => {
    const templateFile = pastLimit.get(dep);
    if (templateFile !== undefined && unsaid.has(templateFile)) {
      unsaid.set(templateFile, (unsaid.get(templateFile) as number) + 1);
      return;
    }
    if (templateFile !== undefined) unsaid.set(templateFile, 0);
    diagnostics.push(diagnostic);
  };

  // 1. A worklist from the roots: each name is read once, and what it names is queued.
  const roots = options.roots ?? [BOOT_SERVICE];
  const queue = [...roots];
  for (let i = 0; i < queue.length; i++) {
    const name = queue[i] as string;
    step();
    if (tried.has(name) || loaded.has(name) || known(name)) continue;
    tried.add(name);
    const result = loadOne(name, dirs, countedFs, options, state);
    if (name === BOOT_SERVICE) bootFromDirectory(result, dirs, fs);
    take(name, result);
    // A root past a limit has no line naming it: say so at its template.
    if (result.pastLimit !== undefined && i < roots.length) {
      say(name, { severity: "error", file: limitFile(result.pastLimit), line: 0, message: whyMissing(name) });
    }
    const spec = loaded.get(name);
    if (spec !== undefined) queue.push(...referencedNames(spec));
  }

  // 2. Hard dependencies that did not load fail the dependent, up the chain (a worklist over
  //    the reverse edges: each service is looked at once per dependency that fails).
  const dependents = new Map<string, string[]>();
  for (const [name, spec] of loaded) {
    for (const dep of [...spec.dependsOn, ...spec.dependsMs]) {
      step();
      const list = dependents.get(dep);
      if (list === undefined) dependents.set(dep, [name]);
      else list.push(name);
    }
  }
  const failedNow: string[] = [];
  // An instance that fails because another instance of its template failed is said once per
  // template and then counted: a template whose instances depend on instances of it would
  // otherwise give an error line for each of its (up to 1000) instances.
  const failedInstanceOf = new Map<string, string>();
  const unsaidCascades = new Map<string, number>();
  const failIfMissing = (name: string): void => {
    step();
    const spec = loaded.get(name);
    if (spec === undefined) return;
    const found = firstMissingDependency(spec, available, soft.get(name) as Set<string>);
    if (found === undefined) return;
    const { dep, list } = found;
    const origin = originOf(spec, dep);
    const diagnostic: Diagnostic = {
      severity: "error",
      file: origin.file,
      line: origin.line,
      setting: DEPENDENCY_SETTING[list],
      message: `${whyMissing(dep)}, so ${JSON.stringify(name)} is not loaded`,
    };
    const template = isTemplateFile(name, spec.file) ? spec.file : undefined;
    if (template !== undefined && failedInstanceOf.get(dep) === template) {
      const count = unsaidCascades.get(template);
      if (count === undefined) {
        unsaidCascades.set(template, 0);
        diagnostics.push(diagnostic);
      } else unsaidCascades.set(template, count + 1);
    } else say(dep, diagnostic);
    if (template !== undefined) failedInstanceOf.set(name, template);
    loaded.delete(name);
    failed.set(name, `${JSON.stringify(name)} failed to load`);
    firstError.set(name, formatDiagnostic(diagnostic));
    failedNow.push(name);
  };
  for (const name of [...loaded.keys()]) failIfMissing(name);
  for (let i = 0; i < failedNow.length; i++) {
    for (const dependent of dependents.get(failedNow[i] as string) ?? []) failIfMissing(dependent);
  }

  // 3. waits-for dependencies that did not load (tsinit's step beyond dinit): reported at the
  //    line naming them, and kept as services that fail when started, so the dependent still
  //    loads and starts without them. A `.d` entry with no file at all is dropped with a
  //    warning, as in dinit.
  const unloadable = new Map<string, string>();
  for (const [name, spec] of loaded) {
    const softNames = soft.get(name) as Set<string>;
    for (const list of ["dependsOn", "dependsMs", "waitsFor"] as const) {
      spec[list] = spec[list].filter((dep) => {
        if (available(dep)) return true;
        const origin = originOf(spec, dep);
        const setting = softNames.has(dep) ? (origin.line > 0 ? `${DEPENDENCY_SETTING[list]}.d` : undefined) : DEPENDENCY_SETTING[list];
        const where = { file: origin.file, line: origin.line, ...(setting !== undefined && { setting }) };
        if (softNames.has(dep) && !failed.has(dep)) {
          diagnostics.push({ severity: "warning", ...where, message: `${whyMissing(dep)}; ignored` });
          return false;
        }
        if (pastLimit.has(dep)) {
          say(dep, { severity: "error", ...where, message: `${whyMissing(dep)}; ${JSON.stringify(name)} starts without it` });
          return false;
        }
        say(dep, { severity: "error", ...where, message: `${whyMissing(dep)}; it fails when started, and ${JSON.stringify(name)} starts without it` });
        const detail = firstError.get(dep);
        unloadable.set(dep, detail === undefined ? whyMissing(dep) : `${whyMissing(dep)}: ${detail}`);
        return true;
      });
    }
  }

  // 4. Ordering against services that do not exist has no effect: say so, keep the name.
  for (const spec of loaded.values()) {
    for (const list of ["before", "after"] as const) {
      for (const dep of spec[list]) {
        if (available(dep) || unloadable.has(dep)) continue;
        const origin = originOf(spec, dep);
        say(dep, {
          severity: "warning",
          file: origin.file,
          line: origin.line,
          setting: list,
          message: `${whyMissing(dep)}; this ordering has no effect`,
        });
      }
    }
  }

  for (const [templateFile, count] of unsaid) {
    if (count === 0) continue;
    const what = templateFile === READ_LIMIT ? "names past the limit on bytes read" : "names of instances of this template past its limit";
    diagnostics.push({ severity: "error", file: limitFile(templateFile), line: 0, message: `${count} more ${what} are not shown` });
  }

  for (const [templateFile, count] of unsaidCascades) {
    if (count === 0) continue;
    diagnostics.push({ severity: "error", file: templateFile, line: 0, message: `${count} more instances of this template that were not loaded because another instance of it was not are not shown` });
  }

  for (const name of unloadable.keys()) failed.delete(name);
  return { services: loaded, diagnostics, failed: new Set(failed.keys()), missing, unloadable };
}

/** A warning for each services directory that cannot be listed (it may be missing, or a typo). */
export function unreadableDirectories(dirs: readonly string[], fs: ConfigFs): Diagnostic[] {
  return dirs.filter((dir) => fs.readDir(dir) === undefined).map((dir) => ({ severity: "warning", file: dir, line: 0, message: "cannot read services directory" }));
}

/**
 * `boot.d/` entries become waits-for of `boot`; with no `boot` file but a `boot.d/`, an
 * internal `boot` is made up (tsinit). Its file is the boot.d directory: a service with no
 * file is one added at run time, which a reload leaves alone.
 */
function bootFromDirectory(result: Loaded, dirs: readonly string[], fs: ConfigFs): void {
  const bootEntries: { names: string[]; origin: SettingOrigin }[] = [];
  for (const dir of dirs) {
    const path = joinPath(dir, `${BOOT_SERVICE}.d`);
    const names = visibleEntries(fs, path);
    if (names !== undefined) bootEntries.push({ names, origin: { file: path, line: 0 } });
  }
  const first = bootEntries[0];
  if (first === undefined) return;
  if (!result.found) {
    result.found = true;
    result.spec = defaultSpec(BOOT_SERVICE, "internal", first.origin.file);
  }
  if (result.spec === undefined || hasErrors(result.diagnostics)) return;
  for (const { names, origin } of bootEntries) addSoft(result.spec, "waitsFor", names, origin, result.softNames);
}

/** Where a dependency was named; an own-property lookup, since names are user text. */
function originOf(spec: ServiceSpec, dep: string): SettingOrigin {
  const origins = spec.origins;
  return origins !== undefined && Object.hasOwn(origins, dep) ? (origins[dep] as SettingOrigin) : { file: spec.file, line: 0 };
}

/** The first explicitly named hard dependency that did not load (`.d` entries do not count). */
function firstMissingDependency(
  spec: ServiceSpec,
  available: (name: string) => boolean,
  softNames: ReadonlySet<string>,
): { dep: string; list: DependencyList } | undefined {
  // Only depends-on and depends-ms are strict (waits-for is step 3's).
  for (const list of ["dependsOn", "dependsMs"] as const) {
    const dep = spec[list].find((d) => !available(d) && !softNames.has(d));
    if (dep !== undefined) return { dep, list };
  }
  return undefined;
}
