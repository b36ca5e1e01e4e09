// A services directory written for dinit, run unchanged by the compiled tsinit as PID 1 of a PID
// namespace, from a working directory that is not the services directory. The files are
// written here from dinit-service(5)'s descriptions: a boot service with `waits-for.d`, a
// milestone with no type (dinit's default is internal), a process with a relative command and
// an env-file beside the descriptions, an @include'd file of shared settings, a template
// started by name as an instance, and a typo in a boot.d service.
import { afterEach, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Control, Namespace, run, tempDir, TSINIT, waitFor } from "./harness.ts";

let ns: Namespace | undefined;
afterEach(() => {
  ns?.kill();
  ns = undefined;
});

function write(path: string, text: string, mode = 0o644): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
}

/** /tmp/…/app/{dinit.d,bin,out}: the services and what they run, as a dinit user lays them out. */
function dinitApp(): { app: string; dir: string; out: string } {
  const app = tempDir("dinit");
  const dir = join(app, "dinit.d");
  const out = join(app, "out");
  mkdirSync(out);
  write(join(dir, "boot"), "# the target: what boot.d names, once the filesystems are there\ndepends-on = mounted\nwaits-for.d = boot.d\n");
  // A milestone: no type, no settings.
  write(join(dir, "mounted"), "");
  write(join(dir, "boot.d", "hello"), "");
  write(join(dir, "boot.d", "broken"), "");
  write(join(dir, "common.inc"), "# shared by the daemons\nrestart = false\nstop-timeout = 2\n");
  write(
    join(dir, "hello"),
    [
      "type = process",
      "command = ../bin/hello.sh",
      "env-file = hello.env",
      "@include common.inc",
      "depends-on = mounted",
      "load-options = export-service-name",
      "",
    ].join("\n"),
  );
  write(join(dir, "hello.env"), "GREETING=hi\n");
  write(join(dir, "echo"), "type = process\ncommand = ../bin/echo.sh $1\n");
  write(join(dir, "broken"), "type = process\ncommand = /bin/true\nrestart = sometimes\n");
  write(join(app, "bin", "hello.sh"), `#!/bin/sh\necho "$GREETING $DINIT_SERVICENAME $(pwd)" > ${out}/hello\nexec sleep 600\n`, 0o755);
  write(join(app, "bin", "echo.sh"), `#!/bin/sh\necho "$1" > ${out}/echo-$1\nexec sleep 600\n`, 0o755);
  return { app, dir, out };
}

test("a dinit services directory runs unchanged: default internal, relative paths, on-demand loading, instances by name", async () => {
  const { app, dir, out } = dinitApp();
  const socket = join(app, "ctl.sock");
  // tsinit runs from / : nothing may depend on its own working directory.
  ns = await Namespace.start(["--services-dir", dir, "--socket", socket], "/");
  const control = new Control(socket);
  await control.ready(() => ns?.log() ?? "");

  // The process ran from the description's directory, with the env-file beside it.
  await waitFor("hello to run", () => existsSync(join(out, "hello")) && readFileSync(join(out, "hello"), "utf8").includes(" "));
  expect(readFileSync(join(out, "hello"), "utf8")).toBe(`hi hello ${dir}\n`);
  expect((await control.status("hello")).service).toMatchObject({ state: "started", type: "process" });
  // The milestone with no type is internal, and started.
  expect((await control.status("mounted")).service).toMatchObject({ state: "started", type: "internal" });
  // The typo is reported with file:line; boot still started (the entry fails when started).
  const log = ns.log();
  expect(log).toContain(`${dir}/broken:3: restart: "sometimes" is not one of yes, true, no, false, on-failure`);
  expect(log).toContain(`${dir}/boot:3: waits-for.d: "broken" failed to load; it fails when started, and "boot" starts without it`);
  expect((await control.status("boot")).service.state).toBe("started");
  expect((await control.status("broken")).service.failed).toContain(`did not load: "broken" failed to load: ${dir}/broken:3: restart:`);
  expect((await control.status("broken")).service.state).toBe("stopped");
  // Files that are not service descriptions are never read as services.
  expect(log).not.toContain("hello.env");
  expect(log).not.toContain("common.inc");

  // The list is what is loaded; a template starts by name as an instance, loading on demand.
  expect((await control.ctl("list")).stdout).not.toMatch(/\necho/);
  const started = await control.ctl("start", "echo@one");
  expect(started).toMatchObject({ code: 0, stderr: "" });
  await waitFor("the instance to run", () => existsSync(join(out, "echo-one")));
  expect(readFileSync(join(out, "echo-one"), "utf8")).toBe("one\n");
  expect((await control.status("echo@one")).service).toMatchObject({ state: "started", command: ["../bin/echo.sh", "one"] });
  const list = (await control.ctl("list")).stdout;
  for (const name of ["boot", "mounted", "hello", "broken", "echo@one"]) expect(list).toMatch(new RegExp(`\\n${name} `));
  // A name with no file is still unknown.
  expect(await control.ctl("start", "nothing-here")).toMatchObject({ code: 1, stderr: "initctl: no service named nothing-here\n" });

  // A reload re-reads what is loaded: the typo fixed, broken loads and starts.
  write(join(dir, "broken"), "type = process\ncommand = /bin/sleep 600\n");
  expect((await control.ctl("reload")).code).toBe(0);
  expect((await control.ctl("start", "broken")).code).toBe(0);
}, 60_000);

test("an instance is the target by name (--target NAME@ARG)", async () => {
  const { app, dir, out } = dinitApp();
  ns = await Namespace.start(["--services-dir", dir, "--target", "echo@boot-arg"], "/");
  await waitFor("the instance to run", () => existsSync(join(out, "echo-boot-arg")));
  expect(readFileSync(join(out, "echo-boot-arg"), "utf8")).toBe("boot-arg\n");
  expect(ns.log()).not.toContain("broken");
  void app;
}, 30_000);

test("tsinit check and initctl check on the same directory: the typo is an error, exit 1; a clean service exits 0", async () => {
  const { dir } = dinitApp();
  const all = await run([TSINIT, "check", "-d", dir]);
  expect(all.code).toBe(1);
  expect(all.stdout).toContain(`error: ${dir}/broken:3: restart: "sometimes" is not one of yes, true, no, false, on-failure\n`);
  expect(all.stdout).toMatch(/3 services loaded from .* \(boot\): 2 errors, 0 warnings\n$/);
  const hello = await run([TSINIT, "ctl", "check", "--services-dir", dir, "hello", "echo@x"]);
  expect(hello).toMatchObject({ code: 0, stdout: `3 services loaded from ${dir} (hello echo@x): 0 errors, 0 warnings\n` });
}, 30_000);
