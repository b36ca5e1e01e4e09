// Issue 9: a service file, env-file or environment is user text. Names such as `__proto__` or
// `constructor` are ordinary names to tsinit, never members of Object.prototype.
import { describe, expect, it } from "vitest";
import { parseService } from "../../../src/config/parse.ts";
import { formatDiagnostic } from "../../../src/config/diagnostic.ts";
import { loadServices } from "../../../src/config/load.ts";
import { parseEnvFile } from "../../../src/config/env-file.ts";
import { substituteNow, substituteValue, substituteVars } from "../../../src/config/substitute.ts";
import { memoryFs } from "./memory-fs.ts";

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
    const { services, diagnostics } = loadServices([D], fs);
    expect(services.has("a")).toBe(false);
    expect(diagnostics.map(formatDiagnostic)).toEqual([`${D}/a:3: depends-on: no service named ${JSON.stringify(name)}, so "a" is not loaded`]);
  });

  it("a service file named __proto__ loads, and a dependency on it works", () => {
    const fs = memoryFs({ [`${D}/__proto__`]: PROC, [`${D}/b`]: `${PROC}depends-on = __proto__\n` });
    const { services, diagnostics } = loadServices([D], fs);
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
