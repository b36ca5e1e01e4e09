// Kernel modules as data. The kernel's tables (modules.dep, modules.alias, modules.builtin and
// modules.builtin.modinfo), /proc/modules, /etc/modules and `modules-load=` come in as strings;
// out comes a plan: which module files to load, with which parameters, in which order, decided
// as modprobe would (dependencies first, each module once, nothing loaded or built in twice) for
// the devices present (coldplug by modalias, as udev and mdev do) and for what was asked for by
// name. loadModules carries a plan out through an injected loader (finit_module lives in the
// system layer), rescanning the devices after each round. Pure.

/** A module asked for by name or alias, and where: "/etc/modules:3", "modules-load=foo". */
export interface ModuleRequest {
  name: string;
  /** Parameters as finit_module takes them ("a=1 b=2"), or "". */
  params: string;
  source: string;
}

/** One module to load. Its dependencies that are in the plan come before it. */
export interface ModuleStep {
  /** The module's name, with `_` for `-` as the kernel spells it in /proc/modules. */
  name: string;
  /** The absolute path of the .ko file. */
  path: string;
  params: string;
  /** Why it is loaded: "/etc/modules:3", "modules-load=foo", "device pci:v...", "needed by virtio_blk". */
  reason: string;
  /** The modules of this plan it needs: if one of them fails, this one is not tried. */
  needs: string[];
}

export interface ModulePlan {
  steps: ModuleStep[];
  /** What the user should hear about: unknown names, ignored parameters, damaged tables. */
  problems: string[];
}

/** The kernel's module tables as read from /lib/modules/VERSION; the optional ones may be absent. */
export interface ModuleFiles {
  /** "/lib/modules/6.1.0-57-cloud-amd64": the paths of modules.dep are relative to it. */
  modulesDir: string;
  modulesDep: string;
  modulesAlias?: string;
  modulesBuiltin?: string;
  /** NUL-separated `module.key=value` records; its `alias=` records name built-in aliases (fs-ext4). */
  modulesBuiltinModinfo?: string;
}

export interface ModuleEntry {
  path: string;
  deps: string[];
}

export interface AliasEntry {
  /** The glob with `-` read as `_` outside brackets, as kmod compares. */
  pattern: string;
  /** The pattern's text before its first wildcard, to rule most patterns out quickly. */
  prefix: string;
  module: string;
}

/** The tables parsed once, for as many plans as the devices need. */
export interface ModuleTables {
  modulesDir: string;
  modules: ReadonlyMap<string, ModuleEntry>;
  aliases: readonly AliasEntry[];
  builtin: ReadonlySet<string>;
  builtinAliases: readonly AliasEntry[];
  /** Lines of the tables that could not be read. */
  problems: string[];
}

/** Module names treat `-` and `_` as the same; the kernel uses `_`. */
export function normalizeModuleName(name: string): string {
  return name.replaceAll("-", "_");
}

/** kmod's rule for aliases: `-` is `_`, except inside brackets, where it makes a range. */
function normalizeAlias(alias: string): string {
  let out = "";
  let inBracket = false;
  for (const char of alias) {
    if (char === "[") inBracket = true;
    else if (char === "]") inBracket = false;
    out += char === "-" && !inBracket ? "_" : char;
  }
  return out;
}

/** "kernel/drivers/block/virtio_blk.ko" (or .ko.xz, .ko.zst) → "virtio_blk". */
function nameOfPath(path: string): string {
  const base = path.slice(path.lastIndexOf("/") + 1);
  return normalizeModuleName(base.replace(/\.ko(\.[a-z0-9]+)?$/, ""));
}

/**
 * One element of a glob at `p`: `?`, a `[...]` class, a `\`-escaped or a plain character.
 * Returns the index after the element when it matches `char`, or -1.
 */
function matchElement(pattern: string, p: number, char: string): number {
  const c = pattern[p];
  if (c === "?") return p + 1;
  if (c === "\\" && p + 1 < pattern.length) return pattern[p + 1] === char ? p + 2 : -1;
  if (c === "[") {
    let i = p + 1;
    const negate = pattern[i] === "!" || pattern[i] === "^";
    if (negate) i++;
    const classStart = i;
    let matched = false;
    // A `]` right after the opening bracket (or its `!`) is a member, not the end.
    while (i < pattern.length && (pattern[i] !== "]" || i === classStart)) {
      let low = pattern[i]!;
      if (low === "\\" && i + 1 < pattern.length) low = pattern[++i]!;
      i++;
      let high = low;
      if (pattern[i] === "-" && i + 1 < pattern.length && pattern[i + 1] !== "]") {
        high = pattern[++i]!;
        if (high === "\\" && i + 1 < pattern.length) high = pattern[++i]!;
        i++;
      }
      if (low <= char && char <= high) matched = true;
    }
    // Without its closing bracket, `[` is an ordinary character (as fnmatch reads it).
    if (i >= pattern.length) return char === "[" ? p + 1 : -1;
    return matched !== negate ? i + 1 : -1;
  }
  return c === char ? p + 1 : -1;
}

/**
 * fnmatch(3) without flags: `*` (any run, `/` too), `?`, `[...]` with `!`/`^` and ranges, `\`
 * escapes. After a mismatch it retries from the last `*` only, so a failed match costs at most
 * pattern × text steps, never exponential time.
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let starText = 0;
  while (t < text.length) {
    if (p < pattern.length) {
      if (pattern[p] === "*") {
        star = p++;
        starText = t;
        continue;
      }
      const next = matchElement(pattern, p, text[t]!);
      if (next !== -1) {
        p = next;
        t++;
        continue;
      }
    }
    if (star === -1) return false;
    p = star + 1;
    t = ++starText;
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

function aliasEntry(pattern: string, module: string): AliasEntry {
  const normalized = normalizeAlias(pattern);
  const wildcard = normalized.search(/[*?[\\]/);
  return {
    pattern: normalized,
    prefix: wildcard === -1 ? normalized : normalized.slice(0, wildcard),
    module: normalizeModuleName(module),
  };
}

function lines(text: string): { line: string; number: number }[] {
  return text
    .split("\n")
    .map((line, index) => ({ line: line.trim(), number: index + 1 }))
    .filter(({ line }) => line !== "" && !line.startsWith("#"));
}

export function parseModuleTables(files: ModuleFiles): ModuleTables {
  const problems: string[] = [];
  const modules = new Map<string, ModuleEntry>();
  for (const { line, number } of lines(files.modulesDep)) {
    const colon = line.indexOf(":");
    if (colon <= 0) {
      problems.push(`modules.dep:${number}: not "PATH: DEPENDENCIES": ${line}`);
      continue;
    }
    const path = line.slice(0, colon).trim();
    const deps = line.slice(colon + 1).split(/\s+/).filter(Boolean).map(nameOfPath);
    const name = nameOfPath(path);
    // depmod writes one line per name; should a second appear, the first wins, as in kmod.
    if (!modules.has(name)) modules.set(name, { path, deps });
  }

  const aliases: AliasEntry[] = [];
  for (const { line, number } of lines(files.modulesAlias ?? "")) {
    const words = line.split(/\s+/);
    if (words.length !== 3 || words[0] !== "alias") {
      problems.push(`modules.alias:${number}: not "alias PATTERN MODULE": ${line}`);
      continue;
    }
    aliases.push(aliasEntry(words[1]!, words[2]!));
  }

  const builtin = new Set(lines(files.modulesBuiltin ?? "").map(({ line }) => nameOfPath(line)));
  const builtinAliases: AliasEntry[] = [];
  for (const record of (files.modulesBuiltinModinfo ?? "").split("\0")) {
    const match = /^([^.=]+)\.alias=(.+)$/.exec(record.trim());
    if (match) builtinAliases.push(aliasEntry(match[2]!, match[1]!));
  }

  return { modulesDir: files.modulesDir.replace(/\/+$/, ""), modules, aliases, builtin, builtinAliases, problems };
}

function matchingModules(entries: readonly AliasEntry[], alias: string): string[] {
  const key = normalizeAlias(alias);
  const found: string[] = [];
  for (const entry of entries) {
    if (key.startsWith(entry.prefix) && globMatch(entry.pattern, key) && !found.includes(entry.module)) {
      found.push(entry.module);
    }
  }
  return found;
}

type Resolution =
  | { kind: "modules"; modules: string[] }
  | { kind: "builtin"; module: string }
  | { kind: "not-carried"; modules: string[] }
  | { kind: "unknown" };

/** What a name stands for, in modprobe's order: a module, a built-in one, then aliases. */
function resolveName(tables: ModuleTables, word: string): Resolution {
  const name = normalizeModuleName(word);
  if (tables.modules.has(name)) return { kind: "modules", modules: [name] };
  if (tables.builtin.has(name)) return { kind: "builtin", module: name };
  const matches = matchingModules(tables.aliases, word);
  const carried = matches.filter((module) => tables.modules.has(module));
  if (carried.length > 0) return { kind: "modules", modules: carried };
  const builtinMatch = matchingModules(tables.builtinAliases, word)[0];
  if (builtinMatch !== undefined) return { kind: "builtin", module: builtinMatch };
  // An alias table from a build where the module was not built in may still name it.
  const builtinTarget = matches.find((module) => tables.builtin.has(module));
  if (builtinTarget !== undefined) return { kind: "builtin", module: builtinTarget };
  return matches.length > 0 ? { kind: "not-carried", modules: matches } : { kind: "unknown" };
}

export interface PlanRequest {
  /** Modules loaded already (parseProcModules), and any this boot has tried already. */
  loaded: readonly string[];
  /** The modalias of each device present; coldplug takes only modules the image carries. */
  modaliases: readonly string[];
  /** Names and aliases asked for, loaded after what the devices need. */
  wanted: readonly ModuleRequest[];
}

/** The plan for the devices present and what was asked for, from tables parsed already. */
export function planModules(tables: ModuleTables, request: PlanRequest): ModulePlan {
  const problems: string[] = [];
  const roots: { name: string; reason: string }[] = [];
  const params = new Map<string, string[]>();

  for (const modalias of request.modaliases) {
    for (const module of matchingModules(tables.aliases, modalias)) {
      if (tables.modules.has(module)) roots.push({ name: module, reason: `device ${modalias}` });
    }
  }
  for (const wanted of request.wanted) {
    const found = resolveName(tables, wanted.name);
    switch (found.kind) {
      case "unknown":
        problems.push(`${wanted.source}: no module named ${wanted.name} in the image`);
        break;
      case "not-carried":
        problems.push(
          `${wanted.source}: no module named ${wanted.name} in the image ` +
            `(it is an alias of ${found.modules.join(", ")}, which the image does not carry)`,
        );
        break;
      case "builtin":
        if (wanted.params !== "") {
          problems.push(
            `${wanted.source}: ${found.module} is built into the kernel, so "${wanted.params}" is ignored: ` +
              `give it on the kernel command line as ${found.module}.NAME=VALUE`,
          );
        }
        break;
      case "modules":
        for (const module of found.modules) {
          roots.push({ name: module, reason: wanted.source });
          if (wanted.params !== "") params.set(module, [...(params.get(module) ?? []), wanted.params]);
        }
        break;
    }
  }

  const skip = new Set([...request.loaded.map(normalizeModuleName), ...tables.builtin]);
  const steps: ModuleStep[] = [];
  const planned = new Set<string>();
  const visiting = new Set<string>();
  const reported = new Set<string>();
  const report = (message: string) => {
    if (!reported.has(message)) problems.push(message);
    reported.add(message);
  };

  // Depth first, dependencies before dependents, on an explicit stack: a long chain cannot
  // overflow the call stack, and a cycle (depmod should never write one) is cut, not followed.
  for (const root of roots) {
    if (skip.has(root.name) || planned.has(root.name)) continue;
    const stack = [{ name: root.name, reason: root.reason, next: 0 }];
    visiting.add(root.name);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const entry = tables.modules.get(top.name)!;
      if (top.next < entry.deps.length) {
        const dep = entry.deps[top.next++]!;
        if (skip.has(dep) || planned.has(dep)) continue;
        if (visiting.has(dep)) {
          const cycle = [...stack.slice(stack.findIndex((frame) => frame.name === dep)).map((frame) => frame.name), dep];
          report(`modules.dep: a dependency cycle ${cycle.join(" -> ")}; ${top.name} is loaded before ${dep}`);
          continue;
        }
        if (!tables.modules.has(dep)) {
          report(`modules.dep: ${top.name} needs ${dep}, which has no line of its own`);
          continue;
        }
        visiting.add(dep);
        stack.push({ name: dep, reason: `needed by ${top.name}`, next: 0 });
        continue;
      }
      stack.pop();
      visiting.delete(top.name);
      planned.add(top.name);
      steps.push({
        name: top.name,
        path: entry.path.startsWith("/") ? entry.path : `${tables.modulesDir}/${entry.path}`,
        params: (params.get(top.name) ?? []).join(" "),
        reason: top.reason,
        needs: entry.deps.filter((dep) => planned.has(dep)),
      });
    }
  }
  return { steps, problems };
}

/** Parse the tables and plan in one call; the problems of both come back together. */
export function modulePlan(input: ModuleFiles & PlanRequest): ModulePlan {
  const tables = parseModuleTables(input);
  const plan = planModules(tables, input);
  return { steps: plan.steps, problems: [...tables.problems, ...plan.problems] };
}

/**
 * Debian's /etc/modules: one module a line, parameters after its name, `#` starts a comment
 * (a whole line, or the rest of one from a `#` that starts a word).
 */
export function parseEtcModules(text: string, file = "/etc/modules"): ModuleRequest[] {
  const requests: ModuleRequest[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (line === "") return;
    const space = line.search(/\s/);
    requests.push({
      name: space === -1 ? line : line.slice(0, space),
      params: space === -1 ? "" : line.slice(space).trim(),
      source: `${file}:${index + 1}`,
    });
  });
  return requests;
}

/** The value of one `modules-load=` (systemd's): names separated by commas. */
export function parseModulesLoad(value: string, key = "modules-load"): ModuleRequest[] {
  return value
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "")
    .map((name) => ({ name, params: "", source: `${key}=${name}` }));
}

/** The names in /proc/modules ("virtio_blk 20480 2 - Live 0x0000000000000000"). */
export function parseProcModules(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim().split(/\s+/)[0] ?? "")
    .filter((name) => name !== "")
    .map(normalizeModuleName);
}

/** A step as the shell would say it. */
export function describeModuleStep(step: ModuleStep): string {
  return `insmod ${step.path}${step.params === "" ? "" : ` ${step.params}`}`;
}

/** What the system layer's load reports: a SysError fits. EEXIST counts as loaded. */
export interface ModuleLoadError {
  readonly code: string;
  readonly message: string;
}

export interface ModuleLoader {
  /** The modalias of every device present now; called again after each round of loads. */
  modaliases(): readonly string[];
  /** finit_module of the step's file with its parameters. */
  load(step: ModuleStep): ModuleLoadError | undefined;
}

export interface ModuleLoadResult {
  loaded: string[];
  failed: string[];
}

/**
 * A driver can bring new devices (virtio_pci brings the virtio devices that virtio_blk drives),
 * so after each round the devices are read again. Eight rounds is far beyond any bus nesting.
 */
export const MAX_COLDPLUG_ROUNDS = 8;

/**
 * Loads what the devices need and what was asked for: the plan, then again for the devices the
 * loaded drivers brought, until nothing new comes. A module whose load fails is reported and not
 * tried again; a module that needs it is not tried at all. Every message goes to `report`, once.
 */
export function loadModules(
  tables: ModuleTables,
  request: { loaded: readonly string[]; wanted: readonly ModuleRequest[] },
  loader: ModuleLoader,
  report: (message: string) => void,
): ModuleLoadResult {
  const reported = new Set<string>();
  const say = (message: string) => {
    if (!reported.has(message)) report(message);
    reported.add(message);
  };
  tables.problems.forEach(say);
  const tried = new Set(request.loaded.map(normalizeModuleName));
  const failed = new Set<string>();
  const result: ModuleLoadResult = { loaded: [], failed: [] };
  const fail = (name: string, message: string) => {
    say(message);
    failed.add(name);
    result.failed.push(name);
  };
  for (let round = 0; round < MAX_COLDPLUG_ROUNDS; round++) {
    const plan = planModules(tables, {
      loaded: [...tried],
      modaliases: loader.modaliases(),
      wanted: round === 0 ? request.wanted : [],
    });
    plan.problems.forEach(say);
    if (plan.steps.length === 0) break;
    for (const step of plan.steps) {
      tried.add(step.name);
      // Every dependency counts here, not just this plan's: one may have failed a round ago.
      const missing = tables.modules.get(step.name)?.deps.find((name) => failed.has(name));
      if (missing !== undefined) {
        fail(step.name, `module ${step.name} (${step.reason}) is not loaded: it needs ${missing}, which failed`);
        continue;
      }
      const error = loader.load(step);
      if (error === undefined || error.code === "EEXIST") result.loaded.push(step.name);
      else fail(step.name, `module ${step.name} (${step.reason}) failed to load: ${error.message}`);
    }
  }
  return result;
}
