// `+=` grows a list in place: N appends cost O(N) elements, not N²/2 (a 1 MiB file of 80,000
// `command += y` lines held the loader for 6.7 s), and no two instances of a template share a
// list that either could grow.
import { describe, expect, it } from "vitest";
import { parseCapabilities } from "../../../src/base/capabilities.ts";
import { lexService, parseLexed, parseService } from "../../../src/config/parse.ts";

const F = "/etc/tsinit.d/svc";

/** The spec of `text`, and how many elements its `+=` lines put into lists or parsed. */
function counted(text: string): { spec: NonNullable<ReturnType<typeof parseService>["spec"]>; steps: number } {
  let steps = 0;
  const parsed = parseService(text, { name: "svc", file: F, onStep: () => void (steps += 1) });
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
    // One step per word appended. Copying the array on each append was n(n+1)/2 + n: 12.5 million.
    expect(steps).toBeLessThanOrEqual(2 * n);
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
    // At most three lists per entry; reading the joined text again on each line was n²/2 entries.
    expect(steps).toBeLessThanOrEqual(3 * n);
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
