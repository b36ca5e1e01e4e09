import { describe, expect, it } from "vitest";
import { loadService, loadServices, unreadableDirectories } from "../../../src/config/load.ts";
import { formatDiagnostic, type Diagnostic } from "../../../src/config/diagnostic.ts";
import { loadAll, memoryFs } from "./memory-fs.ts";

const D = "/etc/tsinit.d";
const D2 = "/lib/tsinit.d";
const proc = (extra = ""): string => `type = process\ncommand = /bin/sleep 1\n${extra}`;

const render = (ds: readonly Diagnostic[], severity: Diagnostic["severity"]): string[] =>
  ds.filter((d) => d.severity === severity).map(formatDiagnostic);

describe("loadServices", () => {
  it("loads every regular file, skipping hidden names and directories", () => {
    const fs = memoryFs({
      [`${D}/a`]: proc(),
      [`${D}/b`]: "type = internal\ndepends-on = a\n",
      [`${D}/.hidden`]: proc(),
      [`${D}/sub/c`]: proc(),
      [`${D}/x.d/`]: "",
    });
    const { services, diagnostics } = loadAll([D], fs);
    expect(diagnostics).toEqual([]);
    expect([...services.keys()]).toEqual(["a", "b"]);
    expect(services.get("a")?.file).toBe(`${D}/a`);
    expect(services.get("b")?.dependsOn).toEqual(["a"]);
  });

  it("takes a name from the first directory that has it", () => {
    const fs = memoryFs({
      [`${D}/a`]: "type = internal\n",
      [`${D2}/a`]: proc(),
      [`${D2}/b`]: proc(),
    });
    const { services, diagnostics } = loadAll([D, D2], fs);
    expect(diagnostics).toEqual([]);
    expect(services.get("a")).toMatchObject({ type: "internal", file: `${D}/a` });
    expect(services.get("b")?.file).toBe(`${D2}/b`);
  });

  it("keeps a service with an error out, reports it, and loads the others", () => {
    const fs = memoryFs({
      [`${D}/sshd`]: "type = process\ncommand = /usr/sbin/sshd -D\n\nrestart-delay = abc\n",
      [`${D}/good`]: proc(),
    });
    const { services, diagnostics } = loadAll([D], fs);
    expect([...services.keys()]).toEqual(["good"]);
    expect(render(diagnostics, "error")).toEqual([`${D}/sshd:4: restart-delay: "abc" is not a number of seconds`]);
  });

  it("loads a service with only warnings", () => {
    const fs = memoryFs({ [`${D}/a`]: proc("frob = 1\nbogus = 2\n") });
    const { services, diagnostics } = loadAll([D], fs);
    expect([...services.keys()]).toEqual(["a"]);
    expect(render(diagnostics, "warning")).toEqual([
      `${D}/a:3: frob: unknown setting; ignored`,
      `${D}/a:4: bogus: unknown setting; ignored`,
    ]);
  });

  it("fails a dependent whose named dependency does not exist, at the naming line", () => {
    const fs = memoryFs({ [`${D}/web`]: proc("depends-on = db\n") });
    const { services, diagnostics } = loadAll([D], fs);
    expect(services.size).toBe(0);
    expect(render(diagnostics, "error")).toEqual([`${D}/web:3: depends-on: no service named "db", so "web" is not loaded`]);
  });

  it("fails hard dependents up the chain when a dependency fails to load; a waits-for dependent still loads", () => {
    const fs = memoryFs({
      [`${D}/db`]: "type = bogus\n",
      [`${D}/api`]: proc("depends-on = db\n"),
      [`${D}/gateway`]: proc("depends-ms = api\n"),
      [`${D}/web`]: proc("waits-for = db\n"),
      [`${D}/proxy`]: proc("depends-ms = web\n"),
    });
    const { services, diagnostics, unloadable, failed } = loadAll([D], fs);
    expect([...services.keys()].sort()).toEqual(["proxy", "web"]);
    expect(services.get("web")?.waitsFor).toEqual(["db"]);
    expect(render(diagnostics, "error")).toEqual([
      `${D}/db:1: type: "bogus" is not one of process, bgprocess, scripted, internal, triggered`,
      `${D}/api:3: depends-on: "db" failed to load, so "api" is not loaded`,
      `${D}/gateway:3: depends-ms: "api" failed to load, so "gateway" is not loaded`,
      `${D}/web:3: waits-for: "db" failed to load; it fails when started, and "web" starts without it`,
    ]);
    expect(unloadable.get("db")).toBe(`"db" failed to load: ${D}/db:1: type: "bogus" is not one of process, bgprocess, scripted, internal, triggered`);
    expect([...failed].sort()).toEqual(["api", "gateway"]);
  });

  it("keeps before/after naming an unknown service, with a warning", () => {
    const fs = memoryFs({ [`${D}/a`]: proc("before = login\nafter = clock\n") });
    const { services, diagnostics } = loadAll([D], fs);
    expect(services.get("a")).toMatchObject({ before: ["login"], after: ["clock"] });
    expect(render(diagnostics, "warning")).toEqual([
      `${D}/a:3: before: no service named "login"; this ordering has no effect`,
      `${D}/a:4: after: no service named "clock"; this ordering has no effect`,
    ]);
    expect(render(diagnostics, "error")).toEqual([]);
  });

  it("does not fail a load for a dependency cycle (the graph reports it)", () => {
    const fs = memoryFs({ [`${D}/a`]: proc("depends-on = b\n"), [`${D}/b`]: proc("depends-on = a\n") });
    const { services, diagnostics } = loadAll([D], fs);
    expect(diagnostics).toEqual([]);
    expect([...services.keys()]).toEqual(["a", "b"]);
  });

  it("warns when a services directory cannot be read and goes on", () => {
    const fs = memoryFs({ [`${D2}/a`]: proc() });
    const { services, diagnostics } = loadAll([D, D2], fs);
    expect([...services.keys()]).toEqual(["a"]);
    expect(diagnostics).toEqual([]);
    expect(unreadableDirectories([D, D2], fs).map(formatDiagnostic)).toEqual([`${D}: cannot read services directory`]);
  });
});

describe("loadServices: .d directories", () => {
  it("adds the entries of depends-on.d, depends-ms.d and waits-for.d, relative to the service's directory", () => {
    const fs = memoryFs({
      [`${D}/web`]: proc("depends-on.d = web.deps\ndepends-ms.d = /etc/ms\nwaits-for.d = web.wants\n"),
      [`${D}/web.deps/db`]: "",
      [`${D}/web.deps/.keep`]: "",
      [`/etc/ms/mounts`]: "",
      [`${D}/web.wants/log`]: "",
      [`${D}/web.wants/cache`]: "",
      [`${D}/db`]: proc(),
      [`${D}/mounts`]: proc(),
      [`${D}/log`]: proc(),
      [`${D}/cache`]: proc(),
    });
    const { services, diagnostics } = loadAll([D], fs);
    expect(diagnostics).toEqual([]);
    expect(services.get("web")).toMatchObject({ dependsOn: ["db"], dependsMs: ["mounts"], waitsFor: ["cache", "log"] });
    expect(services.get("web")?.origins?.["db"]).toEqual({ file: `${D}/web`, line: 3 });
  });

  it("drops an entry with no file with a warning; one whose file fails is kept, to fail when started", () => {
    const fs = memoryFs({
      [`${D}/web`]: proc("waits-for.d = web.wants\n"),
      [`${D}/web.wants/ghost`]: "",
      [`${D}/web.wants/broken`]: "",
      [`${D}/broken`]: "type = nope\n",
    });
    const { services, diagnostics, unloadable } = loadAll([D], fs);
    expect(services.get("web")?.waitsFor).toEqual(["broken"]);
    expect(render(diagnostics, "warning")).toEqual([`${D}/web:3: waits-for.d: no service named "ghost"; ignored`]);
    expect(render(diagnostics, "error")).toEqual([
      `${D}/broken:1: type: "nope" is not one of process, bgprocess, scripted, internal, triggered`,
      `${D}/web:3: waits-for.d: "broken" failed to load; it fails when started, and "web" starts without it`,
    ]);
    expect([...unloadable.keys()]).toEqual(["broken"]);
  });

  it("warns when the directory cannot be read", () => {
    const fs = memoryFs({ [`${D}/web`]: proc("depends-on.d = missing.d\n") });
    const { services, diagnostics } = loadAll([D], fs);
    expect(services.has("web")).toBe(true);
    expect(render(diagnostics, "warning")).toEqual([
      `${D}/web:3: depends-on.d: cannot read directory "${D}/missing.d"; ignored`,
    ]);
  });

  it("keeps an entry hard when the same name is also given explicitly", () => {
    const fs = memoryFs({ [`${D}/web`]: proc("depends-on = db\ndepends-on.d = deps\n"), [`${D}/deps/db`]: "" });
    const { services, diagnostics } = loadAll([D], fs);
    expect(services.size).toBe(0);
    expect(render(diagnostics, "error")).toEqual([`${D}/web:3: depends-on: no service named "db", so "web" is not loaded`]);
  });
});

describe("loadServices: boot.d", () => {
  it("makes up an internal boot service from boot.d when there is no boot file", () => {
    const fs = memoryFs({
      [`${D}/boot.d/sshd`]: "",
      [`${D}/boot.d/getty`]: "",
      [`${D}/sshd`]: proc(),
      [`${D}/getty`]: proc(),
    });
    const { services, diagnostics } = loadAll([D], fs);
    expect(diagnostics).toEqual([]);
    expect(services.get("boot")).toMatchObject({ name: "boot", type: "internal", file: `${D}/boot.d`, waitsFor: ["getty", "sshd"] });
  });

  it("adds boot.d entries of every directory to an existing boot file, once each", () => {
    const fs = memoryFs({
      [`${D}/boot`]: "type = internal\ndepends-on = early\nwaits-for.d = boot.d\n",
      [`${D}/boot.d/sshd`]: "",
      [`${D2}/boot.d/sshd`]: "",
      [`${D2}/boot.d/ntp`]: "",
      [`${D}/early`]: proc(),
      [`${D}/sshd`]: proc(),
      [`${D2}/ntp`]: proc(),
    });
    const { services, diagnostics } = loadAll([D, D2], fs);
    expect(diagnostics).toEqual([]);
    expect(services.get("boot")).toMatchObject({ file: `${D}/boot`, dependsOn: ["early"], waitsFor: ["sshd", "ntp"] });
  });

  it("warns about a boot.d entry that is not a service, naming the directory", () => {
    const fs = memoryFs({ [`${D}/boot.d/ghost`]: "" });
    const { services, diagnostics } = loadAll([D], fs);
    expect(services.get("boot")?.waitsFor).toEqual([]);
    expect(render(diagnostics, "warning")).toEqual([`${D}/boot.d: no service named "ghost"; ignored`]);
  });

  it("has no boot service when there is neither a boot file nor boot.d", () => {
    expect(loadAll([D], memoryFs({ [`${D}/a`]: proc() })).services.has("boot")).toBe(false);
  });
});

describe("instances", () => {
  const GETTY = "type = process\ncommand = /sbin/agetty $1 38400\nrestart = yes\n";

  it("skips a template file when loading everything, and loads the instances that are named", () => {
    const fs = memoryFs({
      [`${D}/getty`]: GETTY,
      [`${D}/boot`]: "type = internal\nwaits-for = getty@tty1\nwaits-for = getty@tty2\n",
    });
    const { services, diagnostics } = loadAll([D], fs);
    expect(diagnostics).toEqual([]);
    expect([...services.keys()].sort()).toEqual(["boot", "getty@tty1", "getty@tty2"]);
    expect(services.get("getty@tty2")).toMatchObject({
      name: "getty@tty2",
      file: `${D}/getty`,
      command: ["/sbin/agetty", "tty2", "38400"],
    });
  });

  it("loads instances named in boot.d", () => {
    const fs = memoryFs({ [`${D}/getty`]: GETTY, [`${D}/boot.d/getty@ttyS0`]: "" });
    const { services } = loadAll([D], fs);
    expect(services.get("getty@ttyS0")?.command).toEqual(["/sbin/agetty", "ttyS0", "38400"]);
  });

  it("accepts a systemd-style template file name@", () => {
    const fs = memoryFs({ [`${D}/getty@`]: GETTY, [`${D}/boot.d/getty@tty3`]: "" });
    const { services, diagnostics } = loadAll([D], fs);
    expect(diagnostics).toEqual([]);
    expect(services.get("getty@tty3")?.file).toBe(`${D}/getty@`);
    expect(services.has("getty@")).toBe(false);
  });

  it("prefers an exact name@arg file over the template", () => {
    const fs = memoryFs({
      [`${D}/getty`]: GETTY,
      [`${D}/getty@console`]: "type = process\ncommand = /sbin/agetty --noclear $1\n",
    });
    const { services } = loadAll([D], fs);
    expect(services.get("getty@console")?.command).toEqual(["/sbin/agetty", "--noclear", "console"]);
  });

  it("explains a dependency on the bare template name", () => {
    const fs = memoryFs({ [`${D}/getty`]: GETTY, [`${D}/boot`]: "type = internal\ndepends-on = getty\n" });
    const { diagnostics } = loadAll([D], fs);
    expect(render(diagnostics, "error")).toEqual([
      `${D}/boot:2: depends-on: "getty" is a template (it uses $1); name an instance such as "getty@ARG", so "boot" is not loaded`,
    ]);
  });

  it("loadService loads one instance, substituting $1 and resolving .d dirs", () => {
    const fs = memoryFs({
      [`${D2}/net`]: "type = scripted\ncommand = /sbin/ifup $1\nwaits-for.d = net.d\ndepends-on = link@$1\n",
      [`${D2}/net.d/dhcp`]: "",
    });
    const result = loadService("net@eth0", [D, D2], fs);
    expect(result.found).toBe(true);
    expect(result.diagnostics).toEqual([]);
    expect(result.spec).toMatchObject({
      name: "net@eth0",
      file: `${D2}/net`,
      command: ["/sbin/ifup", "eth0"],
      dependsOn: ["link@eth0"],
      waitsFor: ["dhcp"],
    });
  });

  it("loadService reports a template loaded without an argument", () => {
    const result = loadService("getty", [D], memoryFs({ [`${D}/getty`]: GETTY }));
    expect(result.spec).toBeUndefined();
    expect(result.found).toBe(true);
    expect(render(result.diagnostics, "error")).toEqual([
      `${D}/getty:2: command: "$1" needs a service argument: start the service as NAME@ARGUMENT`,
    ]);
  });

  it("loadService says not found for an unknown or invalid name", () => {
    const fs = memoryFs({ [`${D}/a`]: proc() });
    expect(loadService("b", [D], fs)).toEqual({ spec: undefined, diagnostics: [], found: false });
    expect(loadService("../a", [D], fs).found).toBe(false);
    expect(loadService("a@", [D], fs).found).toBe(false);
  });
});

describe("loadServices: on demand, as dinit loads", () => {
  it("loads the target and what it reaches; other files are never read or reported", () => {
    const fs = memoryFs({
      [`${D}/boot`]: "waits-for = web\n",
      [`${D}/web`]: proc("depends-on = db\nafter = clock\n"),
      [`${D}/db`]: proc(),
      [`${D}/clock`]: proc(),
      [`${D}/web.env`]: "PORT=80\n",
      [`${D}/common.inc`]: "restart = sometimes\n",
      [`${D}/unrelated`]: "type = bogus\n",
    });
    const { services, diagnostics, missing } = loadServices([D], fs);
    expect([...services.keys()]).toEqual(["boot", "web", "db", "clock"]);
    expect(diagnostics).toEqual([]);
    expect(missing.size).toBe(0);
    expect(fs.reads.filter((path) => /web\.env|common\.inc|unrelated/.test(path))).toEqual([]);
  });

  it("loads named roots, reports a root with no file as missing, and skips names already loaded", () => {
    const fs = memoryFs({ [`${D}/a`]: proc("depends-on = b\n"), [`${D}/b`]: proc() });
    const result = loadServices([D], fs, { roots: ["a", "ghost"], known: (name) => name === "b" });
    expect([...result.services.keys()]).toEqual(["a"]);
    expect([...result.missing]).toEqual(["ghost"]);
    expect(fs.reads).not.toContain(`${D}/b`);
  });

  it("a typo in a boot.d service no longer leaves boot unloaded: the entry fails when started", () => {
    const fs = memoryFs({
      [`${D}/boot.d/getty`]: "",
      [`${D}/boot.d/broken`]: "",
      [`${D}/getty`]: proc(),
      [`${D}/broken`]: proc("restart = sometimes\n"),
    });
    const { services, diagnostics, unloadable } = loadServices([D], fs);
    expect(services.get("boot")?.waitsFor).toEqual(["broken", "getty"]);
    expect(render(diagnostics, "error")).toEqual([
      `${D}/broken:3: restart: "sometimes" is not one of yes, true, no, false, on-failure`,
      `${D}/boot.d: "broken" failed to load; it fails when started, and "boot" starts without it`,
    ]);
    expect(unloadable.get("broken")).toContain(`${D}/broken:3: restart:`);
  });

  it("keeps depends-on and depends-ms strict, and names a template without its argument", () => {
    const fs = memoryFs({ [`${D}/t`]: proc("command = /bin/echo $1\n"), [`${D}/a`]: proc("depends-ms = t\n"), [`${D}/w`]: "waits-for = t\n" });
    const { services, diagnostics } = loadServices([D], fs, { roots: ["a", "w"] });
    expect([...services.keys()]).toEqual(["w"]);
    expect(render(diagnostics, "error")).toEqual([
      `${D}/a:3: depends-ms: "t" is a template (it uses $1); name an instance such as "t@ARG", so "a" is not loaded`,
      `${D}/w:1: waits-for: "t" is a template (it uses $1); name an instance such as "t@ARG"; it fails when started, and "w" starts without it`,
    ]);
  });

  it("loads an instance by name, from NAME@ARG, NAME or NAME@", () => {
    const fs = memoryFs({ [`${D}/getty`]: "type = process\ncommand = /sbin/getty $1\nworking-dir = /\n" });
    const { services } = loadServices([D], fs, { roots: ["getty@ttyS1"] });
    expect(services.get("getty@ttyS1")?.command).toEqual(["/sbin/getty", "ttyS1"]);
  });

  it("resolves relative paths as dinit does: from the description's directory, then the working directory", () => {
    const fs = memoryFs({
      [`/srv/app/dinit.d/web`]: "type = process\ncommand = ../run.sh\nenv-file = web.env\nlogfile = web.log\npid-file = $RUN/web.pid\n",
      [`/srv/app/dinit.d/api`]: "type = bgprocess\ncommand = ./api\nworking-dir = ../api\nenv-file = api.env\nlogfile = log/api.log\npid-file = api.pid\nsocket-listen = api.sock\n",
    });
    const { services } = loadServices(["/srv/app/dinit.d"], fs, { roots: ["web", "api"] });
    expect(services.get("web")).toMatchObject({
      command: ["../run.sh"],
      workingDir: "/srv/app/dinit.d",
      envFile: "/srv/app/dinit.d/web.env",
      logfile: "/srv/app/dinit.d/web.log",
      pidFile: "$RUN/web.pid",
    });
    expect(services.get("api")).toMatchObject({
      workingDir: "/srv/app/dinit.d/../api",
      envFile: "/srv/app/dinit.d/api.env",
      logfile: "/srv/app/dinit.d/../api/log/api.log",
      pidFile: "/srv/app/dinit.d/../api/api.pid",
      socketListen: "/srv/app/dinit.d/../api/api.sock",
    });
  });

  it("reads @include files through the loader's file system, relative to the including file", () => {
    const fs = memoryFs({ [`${D}/web`]: "@include common/process\ncommand = /bin/web\n", [`${D}/common/process`]: "type = process\nrestart = yes\n" });
    const { services, diagnostics } = loadServices([D], fs, { roots: ["web"] });
    expect(diagnostics).toEqual([]);
    expect(services.get("web")).toMatchObject({ type: "process", restart: "yes", command: ["/bin/web"] });
  });
});
