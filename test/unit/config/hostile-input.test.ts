// Issue 9: a service file, env-file or environment is user text. Names such as `__proto__` or
// `constructor` are ordinary names to tsinit, never members of Object.prototype.
import { describe, expect, it } from "vitest";
import { parseService } from "../../../src/config/parse.ts";
import { formatDiagnostic } from "../../../src/config/diagnostic.ts";
import { loadServices } from "../../../src/config/load.ts";
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

describe("long chains (issue 9)", () => {
  it("loads a depends-on chain of 50,000 files, and fails it all when its end is missing, in linear time", () => {
    const n = 50_000;
    const files: Record<string, string> = {};
    for (let i = 0; i < n; i++) files[`${D}/s${i}`] = `type = internal\ndepends-on = s${i + 1}\n`;
    const start = Date.now();
    const { services, diagnostics } = loadAll([D], memoryFs(files));
    expect(services.size).toBe(0);
    expect(diagnostics).toHaveLength(n);
    expect(formatDiagnostic(diagnostics[0]!)).toBe(`${D}/s49999:2: depends-on: no service named "s50000", so "s49999" is not loaded`);
    // Linear: about 1 s here. The loops it replaced took time quadratic in the chain's length.
    expect(Date.now() - start).toBeLessThan(20_000);
  }, 30_000);

  it("ends a template that names ever longer instances of itself at the name limit", () => {
    const fs = memoryFs({ [`${D}/i`]: "type = internal\ndepends-on = i@${1}x\n", [`${D}/root`]: "type = internal\ndepends-on = i@x\n" });
    const { services, diagnostics } = loadAll([D], fs);
    expect(services.size).toBe(0);
    const tooLong = diagnostics.filter((d) => d.message.startsWith("a service name is at most 255 bytes; this one has 256"));
    expect(tooLong.map((d) => `${d.file}:${d.line}`)).toEqual([`${D}/i:2`]);
    expect(diagnostics.at(-1)?.message).toBe('"i@x" failed to load, so "root" is not loaded');
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

  it("a file over 1 MiB is refused with its path, not parsed", () => {
    const { services, diagnostics } = loadAll([D], memoryFs({ [`${D}/big`]: "restart = yes\n".repeat(100_000) }));
    expect(services.size).toBe(0);
    expect(diagnostics.map(formatDiagnostic)).toEqual([`${D}/big: cannot be read: larger than 1048576 bytes`]);
  });
});
