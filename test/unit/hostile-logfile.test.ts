// Issue 9: a run-as service's log file is opened by root; dinit's logfile-permissions,
// logfile-uid and logfile-gid say how it is made and whose it is (default: the run-as user's).
import { describe, expect, it } from "vitest";
import { defaultSpec, type ServiceSpec } from "../../src/base/service-spec.ts";
import { formatDiagnostic } from "../../src/config/diagnostic.ts";
import { parseService } from "../../src/config/parse.ts";
import { FakeRuntime } from "./fakes/fake-runtime.ts";

const F = "/etc/tsinit.d/web";
const parse = (lines: string) => parseService(`type = process\ncommand = /bin/web\nlogfile = /var/log/web.log\n${lines}\n`, { name: "web", file: F });

describe("logfile-permissions, logfile-uid, logfile-gid", () => {
  it("are read, not ignored", () => {
    const result = parse("logfile-permissions = 640\nlogfile-uid = 1000\nlogfile-gid = 4");
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(result.spec).toMatchObject({ logfilePermissions: 0o640, logfileUid: 1000, logfileGid: 4 });
  });

  it("refuse what is not a mode or a numeric id, with file:line", () => {
    expect(parse("logfile-permissions = 1777").diagnostics.map(formatDiagnostic)).toEqual([`${F}:4: logfile-permissions: "1777" is not an octal mode (at most 777)`]);
    expect(parse("logfile-uid = w:w").diagnostics.map(formatDiagnostic)).toEqual([`${F}:4: logfile-uid: "w:w" is not a numeric id or a user/group name`]);
  });
});

function svc(extra: Partial<ServiceSpec>): ServiceSpec {
  return { ...defaultSpec("web", "process", F), command: ["/bin/web"], logType: "file", logfile: "/var/log/web.log", ...extra };
}

function stdoutOf(spec: ServiceSpec) {
  const rt = new FakeRuntime([spec]);
  rt.sys.files.set("/etc/passwd", "root:x:0:0::/root:/bin/sh\nwww:x:33:33::/var/www:/bin/sh\nlog:x:70:71::/:/bin/sh\n");
  rt.sys.files.set("/etc/group", "root:x:0:\nwww:x:33:\nadm:x:4:\n");
  rt.start("web");
  return rt.sys.spawns.at(-1)!.request.stdout;
}

describe("a log file's owner and mode in the spawn request", () => {
  it("is the run-as user and group by default, as in dinit", () => {
    expect(stdoutOf(svc({ runAs: { user: "www" } }))).toEqual({ kind: "file", path: "/var/log/web.log", append: true, mode: undefined, uid: 33, gid: 33 });
  });

  it("is logfile-uid with that user's primary group, or logfile-gid, and logfile-permissions", () => {
    expect(stdoutOf(svc({ runAs: { user: "www" }, logfileUid: 70, logfilePermissions: 0o640 }))).toMatchObject({ uid: 70, gid: 71, mode: 0o640 });
    expect(stdoutOf(svc({ logfileGid: 4 }))).toMatchObject({ uid: undefined, gid: 4 });
  });

  it("is left as root's for a service without run-as", () => {
    expect(stdoutOf(svc({}))).toMatchObject({ uid: undefined, gid: undefined });
  });
});
