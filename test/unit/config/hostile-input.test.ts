// Issue 9: a service file, env-file or environment is user text. Names such as `__proto__` or
// `constructor` are ordinary names to tsinit, never members of Object.prototype.
import { describe, expect, it, vi } from "vitest";
import { parseService } from "../../../src/config/parse.ts";
import { formatDiagnostic } from "../../../src/config/diagnostic.ts";
import { LIMITS, loadServices } from "../../../src/config/load.ts";
import { parseEnvFile } from "../../../src/config/env-file.ts";
import { substituteNow, substituteValue, substituteVars } from "../../../src/config/substitute.ts";
import { loadAll, memoryFs } from "./memory-fs.ts";

const D = "/etc/tsinit.d";
const F = `${D}/svc`;
const PROC = "type = process\ncommand = /bin/true\n";
const OBJECT_NAMES = ["__proto__", "__defineGetter__", "__defineSetter__", "__lookupGetter__", "constructor", "toString", "valueOf", "hasOwnProperty", "isPrototypeOf"];

describe("names that Object.prototype has", () => {
  it.each(OBJECT_NAMES)("a setting named %s is an unknown setting, a file:line warning", (name) => {
    const result = parseService(`${PROC}${name} = x\n`, { name: "svc", file: F });
    expect(result.spec).toBeDefined();
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([`${F}:3: ${name}: unknown setting; ignored`]);
  });

  it.each(OBJECT_NAMES)("a dependency named %s is a dependency like any other", (name) => {
    const fs = memoryFs({ [`${D}/a`]: `${PROC}depends-on = ${name}\n` });
    const { services, diagnostics } = loadAll([D], fs);
    expect(services.has("a")).toBe(false);
    expect(diagnostics.map(formatDiagnostic)).toEqual([`${D}/a:3: depends-on: no service named ${JSON.stringify(name)}, so "a" is not loaded`]);
  });

  it("a service file named __proto__ loads, and a dependency on it works", () => {
    const fs = memoryFs({ [`${D}/__proto__`]: PROC, [`${D}/b`]: `${PROC}depends-on = __proto__\n` });
    const { services, diagnostics } = loadAll([D], fs);
    expect(diagnostics).toEqual([]);
    expect([...services.keys()].sort()).toEqual(["__proto__", "b"]);
    expect(services.get("b")?.dependsOn).toEqual(["__proto__"]);
  });

  it("an env-file may set __proto__ and constructor", () => {
    const parsed = parseEnvFile("__proto__=x\nconstructor=y\n", "/e");
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(Object.entries(parsed.vars)).toEqual([["__proto__", "x"], ["constructor", "y"]]);
  });

  it("$constructor and ${__proto__} are unset variables, not Object.prototype's members", () => {
    const env = { HOME: "/root" };
    expect(substituteVars(["a$constructor", "${__proto__}b", "$toString"], env)).toEqual(["a", "b", ""]);
    expect(substituteValue("/x/$hasOwnProperty", env)).toBe("/x/");
    expect(substituteNow("dep$valueOf", undefined, env)).toBe("dep");
  });
});

/**
 * `fs`, which throws past `reads` file reads (of `only`, if given): a load that does not end
 * fails the test at once.
 */
function boundedFs(fs: ReturnType<typeof memoryFs>, reads: number, only?: string): ReturnType<typeof memoryFs> {
  let count = 0;
  return {
    ...fs,
    readFile(path) {
      if (only === undefined || path === only) count += 1;
      if (count > reads) throw new Error(`more than ${reads} reads of ${only ?? "files"}`);
      return fs.readFile(path);
    },
  };
}

/** `fs`, throwing once more than `bytes` characters of file text were read through it. */
function bytesFs(fs: ReturnType<typeof memoryFs>, bytes: number): ReturnType<typeof memoryFs> & { read: () => number } {
  let total = 0;
  return {
    ...fs,
    read: () => total,
    readFile(path) {
      const text = fs.readFile(path);
      if (typeof text === "string") total += text.length;
      if (total > bytes) throw new Error(`more than ${bytes} bytes read`);
      return text;
    },
  };
}

describe("long chains (issue 9)", () => {
  it("loads a depends-on chain of 50,000 files, and fails it all when its end is missing, in steps linear in its length", () => {
    const n = 50_000;
    const files: Record<string, string> = {};
    for (let i = 0; i < n; i++) files[`${D}/s${i}`] = `type = internal\ndepends-on = s${i + 1}\n`;
    // Each file is read twice (once to list it as a root, once to load it), and the load takes
    // about 7 steps a file (measured: 349,999). The passes it replaced looked at every service
    // again for each one that failed: ~n²/2 steps, which the counter stops at once.
    const fs = boundedFs(memoryFs(files), 3 * n);
    let steps = 0;
    const onStep = (): void => {
      if (++steps > 10 * n) throw new Error(`more than ${10 * n} steps for a chain of ${n}`);
    };
    const { services, diagnostics } = loadAll([D], fs, { onStep });
    expect(services.size).toBe(0);
    expect(diagnostics).toHaveLength(n);
    expect(formatDiagnostic(diagnostics[0]!)).toBe(`${D}/s49999:2: depends-on: no service named "s50000", so "s49999" is not loaded`);
    expect(steps).toBeGreaterThanOrEqual(n);
    // A safety net only (about 1 s here): the verdict is the count of steps.
  }, 60_000);

  it("ends a template that names ever longer instances of itself at the name limit", () => {
    const fs = memoryFs({ [`${D}/i`]: "type = internal\ndepends-on = i@${1}x\n", [`${D}/root`]: "type = internal\ndepends-on = i@x\n" });
    const { services, diagnostics } = loadAll([D], fs);
    expect(services.size).toBe(0);
    const tooLong = diagnostics.filter((d) => d.message.startsWith("a service name is at most 255 bytes; this one has 256"));
    expect(tooLong.map((d) => `${d.file}:${d.line}`)).toEqual([`${D}/i:2`]);
    expect(diagnostics.map(formatDiagnostic).slice(-2)).toEqual([
      `${D}/root:2: depends-on: "i@x" failed to load, so "root" is not loaded`,
      `${D}/i: 250 more instances of this template that were not loaded because another instance of it was not are not shown`,
    ]);
    expect(diagnostics).toHaveLength(5);
  });

  it("ends a template that names two instances of itself at 1000 instances, with one error at the line, in bounded reads", () => {
    // Each instance names two more: 2^250 names before the name limit. The template limit ends it.
    const fs = memoryFs({ [`${D}/t`]: "type = internal\nwaits-for = t@${1}a\nwaits-for = t@${1}b\n" });
    // Each name is tried once: at most 3 paths for each of the 1000 instances and the names they name.
    const { services, diagnostics } = loadServices([D], boundedFs(fs, 3 * 3 * 1000), { roots: ["t@x"] });
    expect(services.size).toBe(1000);
    expect([...services.values()].every((spec) => spec.file === `${D}/t`)).toBe(true);
    const text = diagnostics.map(formatDiagnostic);
    expect(text).toHaveLength(2);
    expect(text[0]).toMatch(new RegExp(`^${D}/t:[23]: waits-for: "t@x[ab]+" is not loaded: the template ${D}/t has 1000 instances loaded \\(the limit is 1000\\); "t@x[ab]*" starts without it$`));
    expect(text[1]).toBe(`${D}/t: 1000 more names of instances of this template past its limit are not shown`);
    // A waits-for past the limit is dropped, not made a stand-in service.
    expect([...services.values()].flatMap((spec) => spec.waitsFor).every((name) => services.has(name))).toBe(true);
  });

  it("fails a depends-on chain that reaches past the template limit, at the line naming it", () => {
    const fs = memoryFs({ [`${D}/t`]: "type = internal\ndepends-on = t@${1}a\ndepends-on = t@${1}b\n", [`${D}/root`]: "type = internal\nwaits-for = t@x\n" });
    const { services, diagnostics, unloadable } = loadServices([D], boundedFs(fs, 3 * 3 * 1000), { roots: ["root"] });
    expect([...services.keys()]).toEqual(["root"]);
    expect(unloadable.has("t@x")).toBe(true);
    const first = formatDiagnostic(diagnostics[0]!);
    expect(first).toMatch(new RegExp(`^${D}/t:[23]: depends-on: "t@x[ab]+" is not loaded: the template ${D}/t has 1000 instances loaded \\(the limit is 1000\\)`));
    expect(first).toMatch(/, so "t@x[ab]*" is not loaded$/);
    expect(diagnostics.map(formatDiagnostic)).toContain(`${D}/root:2: waits-for: "t@x" failed to load; it fails when started, and "root" starts without it`);
    // One line for the first instance failing for another, then a count: not ~500 lines.
    expect(diagnostics).toHaveLength(5);
    expect(formatDiagnostic(diagnostics.at(-1)!)).toMatch(new RegExp(`^${D}/t: \\d+ more instances of this template that were not loaded because another instance of it was not are not shown$`));
  });

  it("ends a template whose instances name many instances of it at 10,000 names between them", () => {
    const lines = Array.from({ length: 3000 }, (_, i) => `waits-for = w@\${1}.${i}\n`).join("");
    const fs = memoryFs({ [`${D}/w`]: `type = internal\n${lines}` });
    // Four instances (w@x, then w@x.0 to w@x.2) name 12,000 names; the fifth is refused unread.
    const { services, diagnostics } = loadServices([D], boundedFs(boundedFs(fs, 4, `${D}/w`), 3 * (4 + 12_000)), { roots: ["w@x"] });
    expect(services.size).toBe(4);
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      `${D}/w:5: waits-for: "w@x.3" is not loaded: the instances of the template ${D}/w name 12000 services between them (the limit is 10000); "w@x" starts without it`,
      `${D}/w: 11996 more names of instances of this template past its limit are not shown`,
    ]);
  });

  it("reads a template file and what it includes once per load, however many instances it gives", () => {
    const fs = memoryFs({ [`${D}/t`]: "type = internal\nwaits-for = t@${1}a\nwaits-for = t@${1}b\n@include common\n", [`${D}/common`]: "restart = yes\n" });
    // Before, each of the 1000 instances read and lexed the template and its include again.
    const { services, diagnostics } = loadServices([D], boundedFs(boundedFs(fs, 1, `${D}/t`), 1, `${D}/common`), { roots: ["t@x"] });
    expect(services.size).toBe(1000);
    expect([...services.values()].every((spec) => spec.restart === "yes")).toBe(true);
    expect(diagnostics.map(formatDiagnostic)[1]).toBe(`${D}/t: 1000 more names of instances of this template past its limit are not shown`);
    // Each load reads it again: a file changed between loads is seen.
    const again = boundedFs(fs, 2, `${D}/t`);
    loadServices([D], again, { roots: ["t@x"] });
    expect(loadServices([D], again, { roots: ["t@x"] }).services.size).toBe(1000);
  });

  it("reads an @include whose path uses $1 for each instance", () => {
    const fs = memoryFs({
      [`${D}/t`]: "type = process\ncommand = /bin/echo $1\n@include opts-$1\n",
      [`${D}/opts-a`]: "restart = yes\n",
      [`${D}/opts-b`]: "restart = on-failure\n",
    });
    const { services, diagnostics } = loadServices([D], fs, { roots: ["t@a", "t@b", "t@c"] });
    expect(services.get("t@a")?.restart).toBe("yes");
    expect(services.get("t@b")?.restart).toBe("on-failure");
    expect(services.get("t@b")?.command).toEqual(["/bin/echo", "b"]);
    expect(diagnostics.map(formatDiagnostic)).toEqual([`${D}/t:3: @include: "${D}/opts-c": no such file`]);
  });

  it("charges each instance its template's bytes and its includes' as if read again, and refuses an include past the budget at its line", () => {
    // 16 instances take the budget to 16 bytes short of its end; the 17th's template text passes
    // it, so its include is refused, as when every instance read its files.
    const template = "type = internal\nwaits-for = t@${1}a\nwaits-for = t@${1}b\n@include big\n";
    const perInstance = LIMITS.bytesPerLoad / 16 - 1;
    const big = `${"#".repeat(999)}\n`.repeat(Math.floor((perInstance - template.length) / 1000)) + "#".repeat((perInstance - template.length) % 1000);
    const fs = memoryFs({ [`${D}/t`]: template, [`${D}/big`]: big });
    const { services, diagnostics } = loadServices([D], fs, { roots: ["t@x"] });
    expect(services.size).toBe(16);
    expect(formatDiagnostic(diagnostics[0]!)).toBe(`${D}/t:4: @include: "${D}/big": cannot be read: this load has read ${16 * perInstance + template.length} bytes of service descriptions (the limit is ${LIMITS.bytesPerLoad})`);
    // The template was read again for the 17th (its include was refused before any read).
    expect(fs.reads.filter((path) => path === `${D}/t`)).toHaveLength(2);
    expect(fs.reads.filter((path) => path === `${D}/big`)).toHaveLength(1);
  });

  it("reads at most the load's byte budget of a large template that names two instances of itself", () => {
    // Each instance is charged the template's bytes, as if it read them again: 1000 instances of
    // 60 KB were 60 MB of text to parse, and their specs hold what the text holds.
    const body = `type = process\nwaits-for = t@\${1}a\nwaits-for = t@\${1}b\ncommand = /bin/true ${"y".repeat(60_000)}\n`;
    const fs = bytesFs(memoryFs({ [`${D}/t`]: body }), LIMITS.bytesPerLoad + body.length);
    const { services, diagnostics } = loadServices([D], fs, { roots: ["t@x"] });
    expect(services.size).toBe(Math.ceil(LIMITS.bytesPerLoad / body.length));
    const text = diagnostics.map(formatDiagnostic);
    expect(text).toHaveLength(2);
    expect(text[0]).toMatch(new RegExp(`^${D}/t:[23]: waits-for: "t@x[ab]+" is not loaded: this load has read \\d+ bytes of service descriptions \\(the limit is ${LIMITS.bytesPerLoad}\\); "t@x[ab]*" starts without it$`));
    expect(text[1]).toMatch(new RegExp(`^${D}: \\d+ more names past the limit on bytes read are not shown$`));
  });

  it("counts @include'd files in the byte budget", () => {
    const fs = bytesFs(
      memoryFs({ [`${D}/t`]: "type = internal\nwaits-for = t@${1}a\nwaits-for = t@${1}b\n@include big\n", [`${D}/big`]: `# ${"x".repeat(88)}\n`.repeat(10_000) }),
      LIMITS.bytesPerLoad + 1024 * 1024,
    );
    const { services, diagnostics } = loadServices([D], fs, { roots: ["t@x"] });
    expect(services.size).toBeLessThan(LIMITS.bytesPerLoad / 900_000 + 1);
    expect(formatDiagnostic(diagnostics[0]!)).toContain(`bytes of service descriptions (the limit is ${LIMITS.bytesPerLoad})`);
  });

  it("loads 10,000 ordinary service files at boot within the byte budget", () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 10_000; i++) {
      files[`${D}/s${i}`] = `type = process\ncommand = /usr/bin/daemon --config /etc/daemon/s${i}.conf --foreground\nrestart = yes\nlogfile = /var/log/s${i}.log\n`;
      files[`${D}/boot.d/s${i}`] = "";
    }
    const fs = bytesFs(memoryFs(files), LIMITS.bytesPerLoad);
    const { services, diagnostics } = loadServices([D], fs, { roots: ["boot"] });
    expect(diagnostics).toEqual([]);
    expect(services.size).toBe(10_001);
    expect(fs.read()).toBeLessThan(LIMITS.bytesPerLoad / 8);
  });

  it("ends 50 templates that each name two instances of themselves at 10,000 instances in all", () => {
    const files: Record<string, string> = {};
    let root = "type = internal\n";
    for (let k = 0; k < 50; k++) {
      files[`${D}/t${k}`] = `type = internal\nwaits-for = t${k}@\${1}a\nwaits-for = t${k}@\${1}b\n`;
      root += `waits-for = t${k}@x\n`;
    }
    files[`${D}/root`] = root;
    const { services, diagnostics } = loadServices([D], boundedFs(memoryFs(files), 3 * 3 * 10_100), { roots: ["root"] });
    expect(services.size).toBe(1 + 10_000);
    const first = diagnostics.map(formatDiagnostic).find((line) => line.includes("instances of templates are loaded in all"));
    expect(first).toMatch(/: "t\d+@x[ab]*" is not loaded: 10000 instances of templates are loaded in all \(the limit is 10000\)/);
  });

  it("says the first root past a template's limit, and counts the rest", () => {
    const roots = Array.from({ length: 1005 }, (_, i) => `getty@tty${String(i).padStart(4, "0")}`);
    const { services, diagnostics } = loadServices([D], memoryFs({ [`${D}/getty`]: "type = internal\n" }), { roots });
    expect(services.size).toBe(1000);
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      `${D}/getty: "getty@tty1000" is not loaded: the template ${D}/getty has 1000 instances loaded (the limit is 1000)`,
      `${D}/getty: 4 more names of instances of this template past its limit are not shown`,
    ]);
  });

  it("counts the instances a running supervisor has; a name past the limit is an error at its template", () => {
    const fs = memoryFs({ [`${D}/getty`]: "type = internal\n" });
    const knownInstances = new Map([[`${D}/getty`, { instances: 999, names: 0 }]]);
    expect(loadServices([D], fs, { roots: ["getty@tty1"], knownInstances }).services.has("getty@tty1")).toBe(true);
    const past = loadServices([D], fs, { roots: ["getty@tty1"], knownInstances: new Map([[`${D}/getty`, { instances: 1000, names: 0 }]]) });
    expect(past.services.size).toBe(0);
    expect(past.missing.size).toBe(0);
    expect(past.diagnostics.map(formatDiagnostic)).toEqual([
      `${D}/getty: "getty@tty1" is not loaded: the template ${D}/getty has 1000 instances loaded (the limit is 1000)`,
    ]);
  });

  it("loads 1000 instances of a template from boot.d, and 5000 files with instance names, which are not counted", () => {
    const files: Record<string, string> = { [`${D}/getty`]: "type = internal\n" };
    for (let i = 0; i < 1000; i++) files[`${D}/boot.d/getty@tty${i}`] = "";
    for (let i = 0; i < 5000; i++) files[`${D}/plain@${i}`] = "type = internal\n";
    for (let i = 0; i < 5000; i++) files[`${D}/boot.d/plain@${i}`] = "";
    const { services, diagnostics } = loadServices([D], memoryFs(files), { roots: ["boot"] });
    expect(diagnostics).toEqual([]);
    expect(services.size).toBe(1 + 1000 + 5000);
  });

  it("refuses the 1001st instance of a template named from boot.d at boot.d", () => {
    const files: Record<string, string> = { [`${D}/getty`]: "type = internal\n" };
    for (let i = 0; i < 1001; i++) files[`${D}/boot.d/getty@tty${String(i).padStart(4, "0")}`] = "";
    const { services, diagnostics } = loadServices([D], memoryFs(files), { roots: ["boot"] });
    expect(services.size).toBe(1 + 1000);
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      `${D}/boot.d: "getty@tty1000" is not loaded: the template ${D}/getty has 1000 instances loaded (the limit is 1000); "boot" starts without it`,
    ]);
  });

  it("refuses a dependency name longer than 255 bytes at its line", () => {
    const { diagnostics } = loadAll([D], memoryFs({ [`${D}/a`]: `${PROC}depends-on = ${"n".repeat(300)}\n` }));
    expect(formatDiagnostic(diagnostics[0]!)).toBe(`${D}/a:3: depends-on: a service name is at most 255 bytes; this one has 300 ("${"n".repeat(40)}"...)`);
  });
});

describe("sizes (issue 9)", () => {
  it("refuses a line longer than 64 Ki characters at its line, and reads the rest", () => {
    const result = parseService(`${PROC}restart = yes\ncommand = /bin/echo ${"x".repeat(5 * 1024 * 1024)}\nrestart = no\n`, { name: "svc", file: F });
    expect(result.spec).toBeUndefined();
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([`${F}:4: the line is longer than 65536 characters (continuation lines included)`]);
  });

  it("counts continuation lines in a line's length, and consumes them all", () => {
    const piece = `  ${"y".repeat(1000)} \\`;
    const text = `${PROC}command = /bin/echo \\\n${Array(100).fill(piece).join("\n")}\n  end\nrestart = no\n`;
    const result = parseService(text, { name: "svc", file: F });
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([`${F}:3: the line is longer than 65536 characters (continuation lines included)`]);
  });

  it("reports at most 50 problems of one file, then how many more there were", () => {
    const result = parseService(`${PROC}${"frob = 1\n".repeat(1000)}restart = sometimes\n`, { name: "svc", file: F });
    expect(result.spec).toBeUndefined();
    expect(result.diagnostics).toHaveLength(51);
    expect(formatDiagnostic(result.diagnostics[50]!)).toBe(`${F}: 951 more problems in this file are not shown`);
    expect(result.diagnostics[50]?.severity).toBe("error");
  });

  it("parses 40,000 distinct dependency lines without searching the list for each", () => {
    // Searching for each name made such a file (under 1 MiB) cost 17 s; count the searches.
    const text = `type = internal\n${Array.from({ length: 40_000 }, (_, i) => `waits-for = d${i}\n`).join("")}waits-for = d7\n`;
    const includes = vi.spyOn(Array.prototype, "includes");
    try {
      const result = parseService(text, { name: "svc", file: F });
      expect(result.spec?.waitsFor).toHaveLength(40_000);
      expect(includes.mock.calls.filter(([name]) => typeof name === "string" && name.startsWith("d")).length).toBe(0);
    } finally {
      includes.mockRestore();
    }
  });

  it("parses a name repeated, or in two lists, without searching the list for each", () => {
    // 27,500 waits-for and 27,500 before of the same names took 6.4 s; count the searches.
    const names = Array.from({ length: 5000 }, (_, i) => `d${i}`);
    const text = `type = internal\n${names.map((n) => `waits-for = ${n}\n`).join("")}${names.map((n) => `before = ${n}\n`).join("")}${"waits-for = d4999\n".repeat(5000)}`;
    const includes = vi.spyOn(Array.prototype, "includes");
    try {
      const result = parseService(text, { name: "svc", file: F });
      expect(result.spec?.waitsFor).toHaveLength(5000);
      expect(result.spec?.before).toHaveLength(5000);
      expect(includes.mock.calls.filter(([name]) => typeof name === "string" && name.startsWith("d")).length).toBe(0);
    } finally {
      includes.mockRestore();
    }
  });

  it("adds a .d directory's entries to a long list without searching the list for each", () => {
    const files: Record<string, string> = { [`${D}/a`]: `type = internal\n${Array.from({ length: 3000 }, (_, i) => `waits-for = d${i}\n`).join("")}waits-for.d = a.d\n` };
    for (let i = 0; i < 3000; i++) {
      files[`${D}/d${i}`] = "type = internal\n";
      files[`${D}/a.d/d${i}`] = "";
    }
    const includes = vi.spyOn(Array.prototype, "includes");
    try {
      const { services } = loadServices([D], memoryFs(files), { roots: ["a"] });
      expect(services.get("a")?.waitsFor).toHaveLength(3000);
      expect(includes.mock.calls.filter(([name]) => typeof name === "string" && name.startsWith("d")).length).toBe(0);
    } finally {
      includes.mockRestore();
    }
  });

  it("a file over 1 MiB is refused with its path, not parsed", () => {
    const { services, diagnostics } = loadAll([D], memoryFs({ [`${D}/big`]: "restart = yes\n".repeat(100_000) }));
    expect(services.size).toBe(0);
    expect(diagnostics.map(formatDiagnostic)).toEqual([`${D}/big: cannot be read: larger than 1048576 bytes`]);
  });
});
