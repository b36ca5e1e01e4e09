// `+=` grows a list in place: N appends cost O(N) elements, not N²/2 (a 1 MiB file of 80,000
// `command += y` lines held the loader for 6.7 s), and no two instances of a template share a
// list that either could grow.
import { describe, expect, it } from "vitest";
import { parseCapabilities } from "../../../src/base/capabilities.ts";
import { lexService, parseLexed, parseService } from "../../../src/config/parse.ts";

const F = "/etc/tsinit.d/svc";

/**
 * The spec of `text`, and the steps its parse took: each element a `+=` puts into a list or
 * parses (the onStep seam), and each element any array's iterator hands out during the parse.
 * The second registers work the seam does not see: copying a list on each append
 * (`[...previous, ...words]`) or reading the joined capabilities text again (a `for ... of` over
 * its entries) hands out every earlier element again, whichever code does it.
 */
function counted(text: string): { spec: NonNullable<ReturnType<typeof parseService>["spec"]>; steps: number } {
  let steps = 0;
  const values = Array.prototype[Symbol.iterator];
  Array.prototype[Symbol.iterator] = function countedValues(this: unknown[]) {
    const inner = values.call(this);
    return {
      next: () => {
        const step = inner.next();
        if (step.done !== true) steps += 1;
        return step;
      },
      [Symbol.iterator]() {
        return this;
      },
    } as ArrayIterator<unknown>;
  };
  let parsed: ReturnType<typeof parseService>;
  try {
    parsed = parseService(text, { name: "svc", file: F, onStep: () => void (steps += 1) });
  } finally {
    Array.prototype[Symbol.iterator] = values;
  }
  if (parsed.spec === undefined) throw new Error(JSON.stringify(parsed.diagnostics));
  return { spec: parsed.spec, steps };
}

describe("append cost", () => {
  it.each(["command", "stop-command"] as const)("N `%s +=` lines cost N elements, not N²/2", (setting) => {
    const n = 5000;
    const text = `type = process\ncommand = /bin/true\n${setting} = /bin/x\n${`${setting} += y\n`.repeat(n)}`;
    const { spec, steps } = counted(text);
    const argv = setting === "command" ? spec.command : spec.stopCommand;
    expect(argv?.length).toBe(n + 1);
    expect(argv?.[0]).toBe("/bin/x");
    expect(argv?.[n]).toBe("y");
    // A few steps per line (20,017 measured for 5,000). Copying the array on each append hands
    // out every earlier word again: n(n+1)/2, 12.5 million.
    expect(steps).toBeLessThanOrEqual(5 * n);
  });

  it("appends to a command with no `=` line first, and `=` starts again", () => {
    const { spec } = counted("type = process\ncommand += a b\ncommand += c\ncommand = d\ncommand += e\n");
    expect(spec.command).toEqual(["d", "e"]);
  });

  it("N `capabilities +=` lines read each entry once, with what reading them joined gives", () => {
    const names = ["cap_chown", "^cap_net_raw", "!cap_sys_admin", "%cap_kill", "cap_setuid"];
    const n = 1000;
    const lines = Array.from({ length: n }, (_, i) => names[i % names.length] as string);
    const { spec, steps } = counted(`capabilities = cap_dac_override\n${lines.map((entry) => `capabilities += ${entry}\n`).join("")}`);
    expect(spec.capabilities).toEqual(parseCapabilities(["cap_dac_override", ...lines].join(",")));
    expect(spec.capabilitiesText).toBe(["cap_dac_override", ...lines].join(","));
    // A few steps per line (7,414 measured for 1,000); reading the joined text again on each
    // line hands out n²/2 entries.
    expect(steps).toBeLessThanOrEqual(10 * n);
  });

  it("a bad `capabilities +=` entry is an error naming that line's value", () => {
    const parsed = parseService("capabilities = cap_chown\ncapabilities += cap_kill,,cap_setuid\n", { name: "svc", file: F });
    expect(parsed.spec).toBeUndefined();
    expect(parsed.diagnostics.map((d) => `${d.line}: ${d.setting}: ${d.message}`)).toEqual([`2: capabilities: an empty entry in "cap_kill,,cap_setuid"`]);
  });

  it("instances built from a template's shared lines never share a list", () => {
    const template = "type = process\ncommand = /bin/run $1\ncommand += --for $1\ncommand += last\nstop-command += stop\ncapabilities = cap_chown\ncapabilities += cap_kill\n";
    const options = (argument: string) => ({ name: `t@${argument}`, file: "/etc/tsinit.d/t", argument });
    const { lexed } = lexService(template, options("a"));
    const before = JSON.stringify(lexed.settings);
    const a = parseLexed(lexed, options("a")).spec;
    const b = parseLexed(lexed, options("b")).spec;
    if (a === undefined || b === undefined) throw new Error("did not parse");
    expect(a.command).toEqual(["/bin/run", "a", "--for", "a", "last"]);
    expect(b.command).toEqual(["/bin/run", "b", "--for", "b", "last"]);
    expect(a.command).not.toBe(b.command);
    expect(a.stopCommand).not.toBe(b.stopCommand);
    expect(a.capabilities?.inheritable).not.toBe(b.capabilities?.inheritable);
    a.command?.push("more");
    a.stopCommand?.push("more");
    a.capabilities?.inheritable.push(0);
    expect(b.command).toEqual(["/bin/run", "b", "--for", "b", "last"]);
    expect(b.stopCommand).toEqual(["stop"]);
    expect(b.capabilities).toEqual(parseCapabilities("cap_chown,cap_kill"));
    // The shared lines are as lexed: the third instance reads what the first did.
    expect(JSON.stringify(lexed.settings)).toBe(before);
    expect(parseLexed(lexed, options("c")).spec?.stopCommand).toEqual(["stop"]);
  });
});
