// `tsinit check` (and `initctl check`), the compiled executable on directories of service
// files: every problem with file:line and setting, exit 1 on an error, 0 with only warnings.
import { expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, tempDir, TSINIT } from "./harness.ts";

function dir(files: Record<string, string>): string {
  const root = tempDir("check");
  const services = join(root, "services");
  mkdirSync(services);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(services, name), text);
  return services;
}

test("reports each kind of problem with file:line and setting, and exits 1", async () => {
  const d = dir({
    boot: ["waits-for = syntax", "waits-for = kind", "waits-for = nocommand", "depends-on = needs-ghost", "waits-for = cycle-a", "waits-for = ids", "waits-for = files", "waits-for = wrong-place", ""].join("\n"),
    syntax: 'type = process\ncommand = /bin/echo "unterminated\n',
    kind: "type = daemon\n",
    nocommand: "type = process\n",
    "needs-ghost": "depends-on = ghost\n",
    "cycle-a": "type = internal\ndepends-on = cycle-b\n",
    "cycle-b": "type = internal\ndepends-on = cycle-a\n",
    ids: "type = process\ncommand = /bin/true\nrun-as = 9notanumber\n",
    files: "type = process\ncommand = ./not-executable\nstop-command = no-such-program-anywhere\nenv-file = missing.env\n",
    "not-executable": "#!/bin/sh\n",
    "wrong-place": "type = process\ncommand = /bin/true\npid-file = /run/x.pid\n",
  });
  const result = await run([TSINIT, "check", "-d", d]);
  expect(result.code).toBe(1);
  const lines = result.stdout.trimEnd().split("\n");
  expect(lines).toEqual(expect.arrayContaining([
    `error: ${d}/syntax:2: command: unterminated quoted string`,
    `error: ${d}/kind:1: type: "daemon" is not one of process, bgprocess, scripted, internal, triggered`,
    `error: ${d}/nocommand:1: command: a process service needs a command`,
    `error: ${d}/needs-ghost:1: depends-on: no service named "ghost", so "needs-ghost" is not loaded`,
    `error: ${d}/boot:4: depends-on: "needs-ghost" failed to load, so "boot" is not loaded`,
    `error: ${d}/ids:3: run-as: "9notanumber" is not a numeric id (a name cannot start with a digit)`,
    `error: ${d}/files:2: command: "${d}/./not-executable" cannot be executed: it is not allowed (permissions)`,
    `error: ${d}/files:3: stop-command: "no-such-program-anywhere" is not in PATH (${process.env.PATH})`,
    `error: ${d}/files:4: env-file: "${d}/missing.env" cannot be read: it does not exist`,
    `warning: ${d}/wrong-place:3: pid-file: applies only to bgprocess services; ignored for a process service`,
  ]));
  // boot did not load (a depends-on failed), so the rest is checked from its names: check them directly.
  const rest = await run([TSINIT, "check", "-d", d, "cycle-a", "files", "wrong-place"]);
  expect(rest.code).toBe(1);
  expect(rest.stdout).toContain(`error: ${d}/cycle-a: dependency cycle: cycle-a -> cycle-b -> cycle-a; its members can never start\n`);
  expect(rest.stdout).toContain(`error: ${d}/files:4: env-file:`);
  expect(rest.stdout).toMatch(/4 services loaded from .* \(cycle-a files wrong-place\): 4 errors, 1 warning\n$/);
}, 30_000);

test("warnings alone exit 0; a name with no file is an error; a bad option is a usage error", async () => {
  const d = dir({ boot: "waits-for = web\n", web: "type = internal\nrun-as = root\n" });
  const ok = await run([TSINIT, "check", "-d", d]);
  expect(ok).toMatchObject({ code: 0 });
  expect(ok.stdout).toBe(`warning: ${d}/web:2: run-as: applies only to process, bgprocess and scripted services; ignored for an internal service\n2 services loaded from ${d} (boot): 0 errors, 1 warning\n`);
  const ghost = await run([TSINIT, "check", "-d", d, "ghost"]);
  expect(ghost.code).toBe(1);
  expect(ghost.stdout).toContain(`error: ${d}: no service named "ghost"\n`);
  expect((await run([TSINIT, "check", "--frob"])).code).toBe(2);
}, 30_000);

test("--root checks a tree as if it were /: programs and links are looked up inside it", async () => {
  const root = tempDir("check-root");
  mkdirSync(join(root, "etc/tsinit.d"), { recursive: true });
  mkdirSync(join(root, "bin"));
  writeFileSync(join(root, "bin/busybox"), "");
  chmodSync(join(root, "bin/busybox"), 0o755);
  Bun.spawnSync(["ln", "-s", "/bin/busybox", join(root, "bin/frobd")]);
  writeFileSync(join(root, "etc/tsinit.d/boot"), "type = process\ncommand = /bin/frobd\nstop-command = /bin/absent\n");
  const result = await run([TSINIT, "check", "--root", root, "-d", "/etc/tsinit.d"]);
  expect(result.code).toBe(1);
  expect(result.stdout).toBe(`error: /etc/tsinit.d/boot:3: stop-command: "/bin/absent" cannot be executed: it does not exist\n1 service loaded from /etc/tsinit.d in ${root} (boot): 1 error, 0 warnings\n`);
}, 30_000);
