// Where enable and disable put the link, as dinitctl does: the dependent's one waits-for.d,
// the service's @meta enable-via, tsinit's boot.d for boot; refusals say why.
import { describe, expect, it } from "vitest";
import { enableVia, planLink, type EnableFs } from "../../../src/config/enable.ts";
import { memoryFs } from "./memory-fs.ts";

function fs(files: Record<string, string>): EnableFs {
  const memory = memoryFs(files);
  return { ...memory, entryExists: (path) => memory.readFile(path) !== undefined || memory.readDir(path) !== undefined };
}

describe("enable and disable links", () => {
  it("links into boot's waits-for.d, relative to boot's file", () => {
    const files = fs({ "/s/boot": "type = internal\nwaits-for.d = enabled\n", "/s/enabled/": "", "/s/sshd": "command = /sbin/sshd\n" });
    expect(planLink("enable", "sshd", undefined, ["/s"], files)).toEqual({
      ok: true,
      plan: { from: "boot", dir: "/s/enabled", path: "/s/enabled/sshd", target: "/s/sshd", exists: false, createDir: false },
    });
  });

  it("uses tsinit's boot.d when boot has no waits-for.d, making it when missing", () => {
    expect(planLink("enable", "sshd", undefined, ["/s"], fs({ "/s/sshd": "command = x\n" }))).toMatchObject({
      ok: true,
      plan: { from: "boot", dir: "/s/boot.d", path: "/s/boot.d/sshd", createDir: true },
    });
    const already = fs({ "/s/sshd": "command = x\n", "/s/boot.d/sshd": "" });
    expect(planLink("enable", "sshd", undefined, ["/s"], already)).toMatchObject({ ok: true, plan: { exists: true, createDir: false } });
  });

  it("refuses a name or dependent that is a path, before touching anything", () => {
    const files = fs({ "/s/boot.d/": "", "/s/boot.d/../../outside/victim": "", "/s/sshd": "command = x\n", "/s/evil": "@meta enable-via ../x\ncommand = x\n" });
    expect(planLink("disable", "../../outside/victim", undefined, ["/s"], files)).toEqual({
      ok: false,
      message: `invalid service name "../../outside/victim": use up to 64 letters, digits and _.@+- (not first)`,
    });
    expect(planLink("disable", "sshd", "../../outside", ["/s"], files)).toMatchObject({ ok: false, message: expect.stringMatching(/^invalid service name "\.\.\/\.\.\/outside"/) });
    expect(planLink("enable", "evil", undefined, ["/s"], files)).toMatchObject({ ok: false, message: expect.stringMatching(/^\/s\/evil: @meta enable-via: invalid service name "\.\.\/x"/) });
  });

  it("follows @meta enable-via, and --from over it", () => {
    const files = fs({
      "/s/net": "type = internal\nwaits-for.d = net.d\n",
      "/s/net.d/": "",
      "/s/dhcp": "@meta enable-via net\ncommand = udhcpc\n",
      "/s/boot.d/": "",
    });
    expect(planLink("enable", "dhcp", undefined, ["/s"], files)).toMatchObject({ ok: true, plan: { from: "net", path: "/s/net.d/dhcp" } });
    expect(planLink("enable", "dhcp", "boot", ["/s"], files)).toMatchObject({ ok: true, plan: { from: "boot", path: "/s/boot.d/dhcp" } });
    expect(enableVia("  @meta   enable-via   net  \n")).toBe("net");
    expect(enableVia("command = x\n")).toBeUndefined();
  });

  it("links an instance by its own name to its template's file", () => {
    const files = fs({ "/s/getty": "command = getty $1\n", "/s/boot.d/": "" });
    expect(planLink("enable", "getty@ttyS1", undefined, ["/s"], files)).toMatchObject({ ok: true, plan: { path: "/s/boot.d/getty@ttyS1", target: "/s/getty" } });
  });

  it("refuses what dinitctl refuses, saying why", () => {
    const files = fs({ "/s/web": "command = x\n", "/s/two": "waits-for.d = a\nwaits-for.d = b\n", "/s/none": "type = internal\n" });
    expect(planLink("enable", "nope", undefined, ["/s"], files)).toEqual({ ok: false, message: "no service named nope in /s" });
    expect(planLink("enable", "web", "two", ["/s"], files)).toEqual({ ok: false, message: "/s/two has 2 waits-for.d settings (lines 1, 2); enable needs exactly one" });
    expect(planLink("enable", "web", "none", ["/s"], files)).toEqual({ ok: false, message: "/s/none has no waits-for.d setting; add one (such as waits-for.d = none.d) to enable services from it" });
    expect(planLink("enable", "web", "ghost", ["/s"], files)).toEqual({ ok: false, message: "no service named ghost in /s" });
    expect(planLink("enable", "web", "web", ["/s"], files)).toEqual({ ok: false, message: "web cannot enable itself" });
  });

  it("disables a service whose file is gone", () => {
    const files = fs({ "/s/boot.d/old": "" });
    expect(planLink("disable", "old", undefined, ["/s"], files)).toMatchObject({ ok: true, plan: { path: "/s/boot.d/old", exists: true, noFile: "no service named old in /s" } });
  });

  it("says when the service to disable has no file, for the caller to judge (a loaded service may have none)", () => {
    const files = fs({ "/s/web": "command = x\n", "/s/boot.d/web": "" });
    expect(planLink("disable", "nope", undefined, ["/s"], files)).toMatchObject({ ok: true, plan: { path: "/s/boot.d/nope", exists: false, noFile: "no service named nope in /s" } });
    const web = planLink("disable", "web", undefined, ["/s"], files);
    expect(web).toMatchObject({ ok: true, plan: { exists: true } });
    expect(web.ok && "noFile" in web.plan).toBe(false);
  });
});
