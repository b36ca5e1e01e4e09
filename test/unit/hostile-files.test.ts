// Issue 9: files that someone else can replace (service files, env-files, pid files) are read
// with Sys.readRegularFile, and what cannot be read is reported with its path.
import { describe, expect, it } from "vitest";
import { defaultSpec, type ServiceSpec, type ServiceType } from "../../src/base/service-spec.ts";
import { formatDiagnostic } from "../../src/config/diagnostic.ts";
import type { ConfigFs } from "../../src/config/load.ts";
import { ServiceDirectories } from "../../src/service-loading.ts";
import { SysError } from "../../src/sys/sys.ts";
import { loadAll, memoryFs } from "./config/memory-fs.ts";
import { FakeRuntime } from "./fakes/fake-runtime.ts";
import { FakeSys } from "./fakes/fake-sys.ts";

const D = "/etc/tsinit.d";
const PROC = "type = process\ncommand = /bin/true\n";
const FIFO = (path: string) => new SysError("read", 0, "ENOTREG", path, "not a regular file (a FIFO)");

function svc(name: string, type: ServiceType = "process", extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return { ...defaultSpec(name, type, `/etc/tsinit.d/${name}`), command: [`/bin/${name}`], ...extra };
}

/** memoryFs with some listed files that cannot be read. */
function withUnreadable(files: Record<string, string>, unreadable: Record<string, string>): ConfigFs {
  const fs = memoryFs({ ...files, ...Object.fromEntries(Object.keys(unreadable).map((p) => [p, ""])) });
  return { readDir: (p) => fs.readDir(p), readFile: (p) => (p in unreadable ? { unreadable: unreadable[p] as string } : fs.readFile(p)) };
}

/** A log that keeps its lines. */
function memoryLog(): { lines: string[]; error(t: string): void; warn(t: string): void; info(t: string): void } {
  const lines: string[] = [];
  return { lines, error: (t) => lines.push(`error ${t}`), warn: (t) => lines.push(`warn ${t}`), info: (t) => lines.push(`info ${t}`) };
}

describe("service files that cannot be read", () => {
  it("are reported with their path, fail their dependents, and the others load", () => {
    const fs = withUnreadable({ [`${D}/good`]: PROC, [`${D}/needs`]: `${PROC}depends-on = fifo\n` }, { [`${D}/fifo`]: "not a regular file (a FIFO)" });
    const { services, diagnostics } = loadAll([D], fs);
    expect([...services.keys()]).toEqual(["good"]);
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      `${D}/fifo: cannot be read: not a regular file (a FIFO)`,
      `${D}/needs:3: depends-on: "fifo" failed to load, so "needs" is not loaded`,
    ]);
  });

  it("through Sys: a FIFO, a device, a dangling link and a link loop each say what they are", () => {
    const sys = new FakeSys();
    const entries = ["dangling", "fifo", "good", "loop", "sub", "zero"];
    sys.readDir = (path: string) => (path === D ? [...entries] : undefined);
    sys.files.set(`${D}/good`, PROC);
    sys.dirs.add(`${D}/sub`);
    sys.unreadable.set(`${D}/sub`, new SysError("read", 21, "EISDIR", `${D}/sub`));
    sys.unreadable.set(`${D}/fifo`, FIFO(`${D}/fifo`));
    sys.unreadable.set(`${D}/zero`, new SysError("read", 0, "ENOTREG", `${D}/zero`, "not a regular file (a character device)"));
    sys.unreadable.set(`${D}/loop`, new SysError("open", 40, "ELOOP", `${D}/loop`));
    sys.readlink = (path: string) => (path === `${D}/dangling` ? "/nowhere" : undefined);
    const log = memoryLog();
    const loaded = new ServiceDirectories(sys, log as never, [D]).loadInitial(entries);
    expect([...loaded.services.keys()]).toEqual(["good"]);
    expect([...loaded.missing]).toEqual(["sub"]);
    expect(log.lines).toEqual([
      `error ${D}/dangling: cannot be read: a dangling symbolic link to "/nowhere"`,
      `error ${D}/fifo: cannot be read: not a regular file (a FIFO)`,
      `error ${D}/loop: cannot be read: ELOOP (a symbolic link loop, or too many links)`,
      `error ${D}/zero: cannot be read: not a regular file (a character device)`,
    ]);
  });

  it("a file over the size limit is refused before it is parsed", () => {
    const sys = new FakeSys();
    sys.readDir = (path: string) => (path === D ? ["big"] : undefined);
    sys.files.set(`${D}/big`, PROC + "#".repeat(1024 * 1024));
    const log = memoryLog();
    expect(new ServiceDirectories(sys, log as never, [D]).loadInitial(["big"]).services.size).toBe(0);
    expect(log.lines).toEqual([`error ${D}/big: cannot be read: larger than 1048576 bytes`]);
  });
});

describe("pid files and env-files a service can replace", () => {
  it("a pid file that is a FIFO fails the start with the reason, without reading it", () => {
    const rt = new FakeRuntime([svc("d", "bgprocess", { pidFile: "/run/d.pid" })]);
    rt.sys.unreadable.set("/run/d.pid", FIFO("/run/d.pid"));
    rt.start("d");
    rt.exit("d", 0);
    expect(rt.state("d")).toBe("stopped");
    expect(rt.set.get("d")?.failed).toBe("pid-file /run/d.pid cannot be read: not a regular file (a FIFO)");
  });

  it("a pid file larger than a pid file can be is refused", () => {
    const rt = new FakeRuntime([svc("d", "bgprocess", { pidFile: "/run/d.pid" })]);
    rt.sys.files.set("/run/d.pid", "7".repeat(5000));
    rt.start("d");
    rt.exit("d", 0);
    expect(rt.set.get("d")?.failed).toBe("pid-file /run/d.pid cannot be read: larger than 4096 bytes");
  });

  it("an env-file that is a FIFO fails the start at the env-file stage", () => {
    const rt = new FakeRuntime([svc("e", "process", { envFile: "/etc/e.env" })]);
    rt.sys.unreadable.set("/etc/e.env", FIFO("/etc/e.env"));
    rt.start("e");
    expect(rt.state("e")).toBe("stopped");
    expect(rt.set.get("e")?.failed).toContain("/etc/e.env: cannot be read: not a regular file (a FIFO)");
  });
});

describe("a boot made up from boot.d/ (issue 9)", () => {
  it("is a service from files: a reload takes new boot.d entries and does not call it shadowed", () => {
    const files: Record<string, string> = { [`${D}/a`]: PROC, [`${D}/b`]: PROC, [`${D}/boot.d/a`]: "" };
    const first = loadAll([D], memoryFs(files)).services;
    expect(first.get("boot")?.file).toBe(`${D}/boot.d`);
    const rt = new FakeRuntime([...first.values()]);
    const second = loadAll([D], memoryFs({ ...files, [`${D}/boot.d/b`]: "" })).services;
    const summary = rt.set.reload(second);
    expect(summary.shadowed).toEqual([]);
    expect(summary.changed).toEqual(["boot"]);
    expect(rt.set.get("boot")?.spec.waitsFor).toEqual(["a", "b"]);
  });
});
