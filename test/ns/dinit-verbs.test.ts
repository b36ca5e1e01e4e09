// dinitctl's verbs end to end: the compiled tsinit as PID 1 of a PID namespace in supervisor
// mode, driven by the compiled initctl, with dinitctl's exit statuses (0 done, 1 failed or
// refused or not so, 2 bad usage). Also supervisor mode's --ready-fd, --exit-when-idle,
// --quiet and a user's default services directory.
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Control, Namespace, namespacePerTest, run, servicesDir, TSINIT, waitFor } from "./harness.ts";

const fixture = namespacePerTest();
const { start, poll } = fixture;

const stateOf = async (control: Control, name: string): Promise<string> => (await control.status(name)).service.state;

describe("enable and disable", () => {
  test("link the service into boot.d and start it; unlink and stop it; refuse what cannot be", async () => {
    const { work, control } = await start({
      "boot.d/.keep": "",
      web: "command = sleep 600\n",
      broken: "command = sleep 600\nrestart = sometimes\n",
      net: "type = internal\nwaits-for.d = net.d\n",
      "net.d/.keep": "",
      dhcp: "@meta enable-via net\ncommand = sleep 600\n",
    });
    const dir = join(work, "services");
    const enabled = await control.ctl("enable", "web");
    expect(enabled).toMatchObject({ code: 0, stderr: "" });
    expect(enabled.stdout).toBe(`enabled web for boot (${dir}/boot.d/web); it is started\n`);
    expect(lstatSync(join(dir, "boot.d/web")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, "boot.d/web"))).toBe("../web");
    expect(await control.ctl("is-started", "web")).toEqual({ code: 0, stdout: "STARTED\n", stderr: "" });
    expect((await control.status("web")).service).toMatchObject({ explicit: false, requiredBy: 1 });

    // Again: nothing to do, still exit 0, as dinitctl.
    expect(await control.ctl("enable", "web")).toMatchObject({ code: 0, stdout: `web was already enabled for boot (${dir}/boot.d/web); it is started\n` });

    const disabled = await control.ctl("disable", "web");
    expect(disabled).toMatchObject({ code: 0, stdout: `disabled web for boot (removed ${dir}/boot.d/web); it is stopped\n` });
    expect(existsSync(join(dir, "boot.d/web"))).toBe(false);
    expect(await control.ctl("is-started", "web")).toEqual({ code: 1, stdout: "STOPPED\n", stderr: "" });
    // A service that cannot be loaded (no file) and has no link: dinitctl fails, and so does initctl.
    expect(await control.ctl("disable", "nope")).toEqual({
      code: 1,
      stdout: "",
      stderr: `initctl: not disabling nope: no service named nope in ${dir}, and it has no link (${dir}/boot.d/nope)\n`,
    });
    // One added at run time has no file and no link, but it is there: nothing to do, exit 0.
    expect((await control.ctl("run", "--name", "job", "--", "sleep", "600")).code).toBe(0);
    expect(await control.ctl("disable", "job")).toEqual({ code: 0, stdout: `job was not enabled for boot (no ${dir}/boot.d/job); it is started\n`, stderr: "" });

    // A file written after boot is loaded by enable.
    writeFileSync(join(dir, "late"), "command = sleep 600\n");
    expect(await control.ctl("enable", "late")).toMatchObject({ code: 0 });
    expect(await stateOf(control, "late")).toBe("started");
    // boot read again keeps its boot.d entries (a link to a file that is gone is dropped, said so).
    symlinkSync("../gone", join(dir, "boot.d/gone"));
    expect(await control.ctl("reload", "boot")).toEqual({ code: 0, stdout: "reloaded boot (started)\n", stderr: `initctl: warning: ${dir}/boot.d: waits-for gone: no such service is loaded; ignored\n` });
    expect(await stateOf(control, "late")).toBe("started");

    // @meta enable-via: dhcp is enabled for net, and starts when net does.
    expect(await control.ctl("enable", "dhcp")).toEqual({ code: 0, stdout: `enabled dhcp for net (${dir}/net.d/dhcp); it is stopped\n`, stderr: "" });
    expect((await control.ctl("start", "net")).code).toBe(0);
    await poll("dhcp to start with net", async () => (await stateOf(control, "dhcp")) === "started");

    const missing = await control.ctl("enable", "nope");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`initctl: not enabling nope: no service named nope in ${dir}\n`);
    const broken = await control.ctl("enable", "broken");
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(`${dir}/broken:2: restart:`);
    expect(existsSync(join(dir, "boot.d/broken"))).toBe(false);
    const noWaitsFor = await control.ctl("enable", "--from", "web", "late");
    expect(noWaitsFor).toMatchObject({ code: 1, stderr: `initctl: not enabling late: ${dir}/web has no waits-for.d setting; add one (such as waits-for.d = web.d) to enable services from it\n` });
    expect((await control.asNobody("enable", "web")).code).toBe(1);
    expect((await control.ctl("enable")).code).toBe(2);
  });

  test("--offline makes the link with no tsinit running, and the next boot starts the service", async () => {
    const { dir, work } = servicesDir({ boot: "type = internal\nwaits-for.d = enabled\n", "enabled/.keep": "", svc: "command = sleep 600\n" });
    const offline = await run([TSINIT, "ctl", "--offline", "-d", dir, "enable", "svc"]);
    expect(offline).toEqual({ code: 0, stdout: `svc enabled for boot (${dir}/enabled/svc; offline: nothing started or stopped)\n`, stderr: "" });
    expect(readlinkSync(join(dir, "enabled/svc"))).toBe("../svc");
    expect((await run([TSINIT, "ctl", "--offline", "-d", dir, "start", "svc"])).code).toBe(2);

    const socket = join(work, "ctl.sock");
    fixture.ns = await Namespace.start(["--services-dir", dir, "--socket", socket]);
    const control = new Control(socket);
    await control.ready(() => fixture.ns!.log());
    await poll("svc to start at boot", async () => (await stateOf(control, "svc")) === "started");

    const gone = await run([TSINIT, "ctl", "--offline", "-d", dir, "disable", "svc"]);
    expect(gone).toMatchObject({ code: 0, stdout: `svc disabled for boot (${dir}/enabled/svc; offline: nothing started or stopped)\n` });
    expect(existsSync(join(dir, "enabled/svc"))).toBe(false);
    // No file and no link: nothing by that name, as dinitctl --offline fails to find its file.
    expect(await run([TSINIT, "ctl", "--offline", "-d", dir, "disable", "nope"])).toEqual({
      code: 1,
      stdout: "",
      stderr: `initctl: not disabling nope: no service named nope in ${dir}, and it has no link (${dir}/enabled/nope)\n`,
    });
  });

  test("--offline refuses a NAME or --from that is a path, and removes nothing outside the directory", async () => {
    // boot.d/../../victim is the work directory's victim, next to the services directory.
    const { dir, work } = servicesDir({ "boot.d/.keep": "", svc: "command = sleep 600\n" }, { victim: "keep me\n" });
    const victim = join(work, "victim");
    const named = await run([TSINIT, "ctl", "--offline", "-d", dir, "disable", "../../victim"]);
    expect(named.code).toBe(2);
    expect(named.stderr).toContain(`disable: invalid service name "../../victim"`);
    const from = await run([TSINIT, "ctl", "--offline", "-d", dir, "disable", "--from", "../..", "victim"]);
    expect(from.code).toBe(2);
    expect(from.stderr).toContain(`disable: invalid service name "../.."`);
    expect(readFileSync(victim, "utf8")).toBe("keep me\n");
  });
});

test("disable of a service whose file was removed and a reload came says it went with the stop", async () => {
  const { work, control } = await start({ "boot.d/.keep": "", web: "command = sleep 600\n" });
  const dir = join(work, "services");
  expect((await control.ctl("enable", "web")).code).toBe(0);
  rmSync(join(dir, "web"));
  const reloaded = await control.ctl("reload");
  expect(reloaded.code).toBe(0);
  expect(reloaded.stdout).toContain("removed: web; once stopped: boot, web");
  // As stop says it: the service is gone, and the line says why status will not find it.
  expect(await control.ctl("disable", "web")).toEqual({
    code: 0,
    stdout: `disabled web for boot (removed ${dir}/boot.d/web); it is no longer loaded (its file was removed)\n`,
    stderr: "",
  });
  expect(existsSync(join(dir, "boot.d/web"))).toBe(false);
  expect(await control.ctl("status", "web")).toMatchObject({ code: 1, stderr: "initctl: no service named web\n" });
});

test("stop is refused while dependents are active, naming them; --force stops them too; wake, unload, dependents", async () => {
  const { control } = await start({
    boot: "type = internal\nwaits-for = cache\n",
    cache: "command = sleep 600\n",
    db: "command = sleep 600\n",
    api: "command = sleep 600\ndepends-on = db\n",
    report: "command = sleep 600\nwaits-for = db\n",
  });
  expect((await control.ctl("start", "api")).code).toBe(0);
  expect((await control.ctl("start", "report")).code).toBe(0);
  const refused = await control.ctl("stop", "db");
  expect(refused).toEqual({ code: 1, stdout: "", stderr: "initctl: not stopping db: api depends on it; stop it first, or use --force to stop it too\n  api\n" });
  expect(await stateOf(control, "db")).toBe("started");
  const dependents = await control.ctl("dependents", "db");
  expect(dependents).toEqual({ code: 0, stdout: "NAME    KIND       STATE    HOLDS\napi     regular    started  yes\nreport  waits-for  started  yes\n", stderr: "" });

  expect(await control.ctl("restart", "db")).toMatchObject({ code: 1, stderr: "initctl: not restarting db: api depends on it; use --force to restart it too\n  api\n" });
  expect(await control.ctl("stop", "--force", "db")).toMatchObject({ code: 0, stdout: "stopped db\n" });
  // --ignore-unstarted: nothing to do for a stopped or unknown service, and success.
  expect(await control.ctl("stop", "--ignore-unstarted", "api")).toEqual({ code: 0, stdout: "", stderr: "" });
  expect(await control.ctl("release", "--ignore-unstarted", "ghost")).toEqual({ code: 0, stdout: "", stderr: "" });
  expect((await control.ctl("stop", "ghost")).code).toBe(1);
  expect(await stateOf(control, "api")).toBe("stopped");
  expect(await stateOf(control, "report")).toBe("started");

  // wake: cache comes back for boot, which waits for it, but is not marked.
  expect((await control.ctl("stop", "cache")).code).toBe(0);
  expect(await control.ctl("wake", "cache")).toMatchObject({ code: 0, stdout: expect.stringMatching(/^started cache \(pid \d+\)\n$/) });
  expect((await control.status("cache")).service).toMatchObject({ state: "started", explicit: false });
  // db was forced down; report, still active, waits for it: wake brings it back for report.
  expect((await control.ctl("wake", "db")).code).toBe(0);
  expect((await control.status("db")).service).toMatchObject({ state: "started", explicit: false, requiredBy: 1 });
  expect(await control.ctl("wake", "api")).toMatchObject({ code: 1, stderr: "initctl: not waking api: no active service depends on it\n" });

  // unload: refused while started or named by a loaded service.
  expect(await control.ctl("unload", "report")).toMatchObject({ code: 1, stderr: "initctl: not unloading report: report is started and wanted; stop it first\n" });
  expect((await control.ctl("stop", "report")).code).toBe(0);
  // Nothing holds db now, so it stops too, after report: wait for that, or unload may find it stopping.
  await poll("db released", async () => (await stateOf(control, "db")) === "stopped");
  expect(await control.ctl("unload", "db")).toMatchObject({ code: 1, stderr: "initctl: not unloading db: db has loaded dependents (api, report); unload them first\n" });
  expect(await control.ctl("unload", "report")).toEqual({ code: 0, stdout: "unloaded report\n", stderr: "" });
  // Unloaded: not in the list (a name given again loads it again, as in dinit).
  expect((await control.ctl("list")).stdout).not.toMatch(/\nreport /);
  expect((await control.ctl("--quiet", "stop", "--force", "cache")).stdout).toBe("");
});

test("reload NAME, add-dep and rm-dep, setenv/unsetenv/getallenv", async () => {
  const { work, control } = await start(
    {
      boot: "type = internal\n",
      job: "type = scripted\ncommand = /bin/sh $WORK/one.sh\n",
      envy: "type = scripted\ncommand = /bin/sh $WORK/envy.sh\n",
      web: "command = sleep 600\n",
      db: "command = sleep 600\n",
    },
    { "one.sh": 'echo one > "$WORK/job.out"\n', "two.sh": 'echo two > "$WORK/job.out"\n', "envy.sh": 'echo "[$GREETING]" > "$WORK/env.out"\n' },
  );
  const dir = join(work, "services");
  // A stopped service takes its new description at once.
  writeFileSync(join(dir, "job"), "type = scripted\ncommand = /bin/sh $WORK/two.sh\n");
  expect(await control.ctl("reload", "job")).toEqual({ code: 0, stdout: "reloaded job (stopped)\n", stderr: "" });
  expect((await control.ctl("start", "job")).code).toBe(0);
  expect(readFileSync(join(work, "job.out"), "utf8")).toBe("two\n");
  // A running one cannot change type.
  expect((await control.ctl("start", "web")).code).toBe(0);
  writeFileSync(join(dir, "web"), "type = scripted\ncommand = true\n");
  expect(await control.ctl("reload", "web")).toMatchObject({ code: 1, stderr: "initctl: not reloading web: web is started: its type (process) cannot change until it is stopped\n" });
  writeFileSync(join(dir, "web"), "command = sleep 600\nrestart = sometimes\n");
  expect((await control.ctl("reload", "web")).stderr).toContain(`${dir}/web:2: restart:`);

  // add-dep and rm-dep, as dinitctl names the kinds.
  expect(await control.ctl("add-dep", "waits-for", "web", "db")).toEqual({ code: 0, stdout: "added waits-for dependency: web -> db (db is stopped)\n", stderr: "" });
  expect((await control.ctl("dependents", "db")).stdout).toBe("NAME  KIND       STATE    HOLDS\nweb   waits-for  started  no\n");
  expect(await control.ctl("add-dep", "waits-for", "db", "web")).toMatchObject({ code: 1, stderr: "initctl: not adding the dependency: web already depends on db (directly or not): that would be a dependency cycle: db -> web -> db\n" });
  expect(await control.ctl("add-dep", "regular", "web", "job")).toMatchObject({ code: 0 });
  expect(await control.ctl("rm-dep", "regular", "web", "job")).toMatchObject({ code: 0, stdout: "removed regular dependency: web -> job (job is started)\n" });
  expect(await control.ctl("rm-dep", "regular", "web", "job")).toMatchObject({ code: 1, stderr: "initctl: not removing the dependency: web has no regular dependency on job\n" });
  expect((await control.ctl("add-dep", "hard", "web", "db")).code).toBe(2);

  // The activation environment reaches services started afterwards.
  expect(await control.ctl("setenv", "GREETING=hello there")).toEqual({ code: 0, stdout: "", stderr: "" });
  expect((await control.ctl("getallenv")).stdout).toContain("GREETING=hello there\n");
  expect((await control.ctl("start", "envy")).code).toBe(0);
  expect(readFileSync(join(work, "env.out"), "utf8")).toBe("[hello there]\n");
  expect((await control.ctl("unsetenv", "GREETING")).code).toBe(0);
  expect((await control.ctl("getallenv")).stdout).not.toContain("GREETING");
  expect((await control.ctl("restart", "envy")).code).toBe(0);
  expect(readFileSync(join(work, "env.out"), "utf8")).toBe("[]\n");
  expect((await control.asNobody("setenv", "X=1")).code).toBe(1);
  expect((await control.ctl("setenv", "UNSET_IN_INITCTL")).code).toBe(2);
  // dinitctl's setenv takes NAME=VALUE: a name with a space is bad usage, and the API refuses it too.
  const spaced = await control.ctl("setenv", "X Y=1");
  expect(spaced.code).toBe(2);
  expect(spaced.stderr).toStartWith('initctl: setenv: "X Y" is not a variable name: use a letter or _, then letters, digits and _ (up to 256 characters)\n');
  const raw = await fetch("http://tsinit/v1/env", { unix: control.socket, method: "POST", body: JSON.stringify({ set: { "X Y": "1" } }) });
  expect(raw.status).toBe(400);
  expect(((await raw.json()) as { error: { message: string } }).error.message).toStartWith('"X Y" is not a variable name');
  expect((await control.ctl("getallenv")).stdout).not.toContain("X Y");
});

test("catlog --clear, is-failed, signal", async () => {
  const { work, control } = await start(
    {
      boot: "type = internal\n",
      talk: "command = /bin/sh $WORK/talk.sh\nlog-type = buffer\n",
      bad: "type = scripted\ncommand = /bin/sh -c \"exit 3\"\n",
      // Ready once its trap is set: started at exec alone, it could get the signal before.
      hup: "command = /bin/sh $WORK/hup.sh\nready-notification = pipefd:3\n",
    },
    { "talk.sh": "echo hello\nexec sleep 600\n", "hup.sh": 'trap "echo got-hup > $WORK/hup.out" HUP\necho ready >&3; exec 3>&-\nwhile :; do sleep 0.05; done\n' },
  );
  expect((await control.ctl("start", "talk")).code).toBe(0);
  await poll("talk's output", async () => (await control.ctl("catlog", "talk")).stdout === "hello\n");
  expect(await control.ctl("catlog", "--clear", "talk")).toEqual({ code: 0, stdout: "hello\n", stderr: "" });
  expect(await control.ctl("catlog", "talk")).toEqual({ code: 0, stdout: "", stderr: "" });
  expect((await control.ctl("catlog", "bad")).code).toBe(1);

  expect((await control.ctl("start", "bad")).code).toBe(1);
  expect(await control.ctl("is-failed", "bad")).toEqual({ code: 0, stdout: "STOPPED\n", stderr: "" });
  expect(await control.ctl("is-failed", "talk")).toEqual({ code: 1, stdout: "STARTED\n", stderr: "" });
  expect(await control.ctl("--quiet", "is-started", "talk")).toEqual({ code: 0, stdout: "", stderr: "" });
  expect(await control.ctl("is-started", "nope")).toEqual({ code: 1, stdout: "", stderr: "initctl: no service named nope\n" });

  expect((await control.ctl("start", "hup")).code).toBe(0);
  const sent = await control.ctl("signal", "HUP", "hup");
  expect(sent).toMatchObject({ code: 0, stdout: expect.stringMatching(/^sent SIGHUP to hup \(pid \d+\)\n$/) });
  await waitFor("the service to get SIGHUP", () => existsSync(join(work, "hup.out")));
  expect(await stateOf(control, "hup")).toBe("started");
  expect(await control.ctl("signal", "HUP", "bad")).toMatchObject({ code: 1, stderr: "initctl: not sending SIGHUP: bad has no process (it is stopped)\n" });
  expect(await control.ctl("signal", "NOPE", "hup")).toMatchObject({ code: 1, stderr: 'initctl: "NOPE" is not a signal name or number\n' });
  expect((await control.ctl("signal", "--list")).stdout).toContain(" 1 HUP\n");
});

describe("supervisor mode's dinit conveniences", () => {
  test("--ready-fd gets the socket path once the control socket answers", async () => {
    const { dir, work } = servicesDir({ boot: "type = internal\n" });
    const socket = join(work, "ctl.sock");
    const ready = join(work, "ready");
    // fd 3 of the shell goes through unshare to tsinit.
    const proc = Bun.spawn(["sh", "-c", `exec unshare --pid --fork --mount-proc "$@" 3>"${ready}"`, "sh", TSINIT, "--services-dir", dir, "--socket", socket, "--ready-fd", "3"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      const line = await waitFor("the readiness line", () => (existsSync(ready) && readFileSync(ready, "utf8").endsWith("\n") ? readFileSync(ready, "utf8") : undefined));
      expect(line).toBe(`${socket}\n`);
      // Ready means answering: no retry here.
      const hello = await fetch("http://tsinit/v1", { unix: socket });
      expect(hello.status).toBe(200);
      expect((await run([TSINIT, "ctl", "--socket", socket, "shutdown"])).code).toBe(0);
      expect(await proc.exited).toBe(0);
    } finally {
      proc.kill("SIGKILL");
    }
  });

  test("--exit-when-idle exits 0 once no service is active; --quiet prints no status lines", async () => {
    const { dir } = servicesDir({ job: "command = sleep 0.2\n", bad: "command = /bin/sh -c \"exit 4\"\n", both: "type = internal\nwaits-for = job\nwaits-for = bad\n" });
    fixture.ns = await Namespace.start(["--services-dir", dir, "--target", "job", "--exit-when-idle", "--quiet"]);
    expect(await fixture.ns.exitCode()).toBe(0);
    expect(fixture.ns.log()).not.toContain("[  OK  ]");
    fixture.ns = await Namespace.start(["--services-dir", dir, "--target", "bad", "--exit-when-idle", "--quiet"]);
    expect(await fixture.ns.exitCode()).toBe(0);
    expect(fixture.ns.log()).toContain("[FAILED] bad: exited 4");
    expect(fixture.ns.log()).not.toContain("no service is active");
  });

  test("a user's supervisor reads $XDG_CONFIG_HOME/tsinit.d when no directory is named", async () => {
    const { work } = servicesDir({});
    chmodSync(work, 0o755);
    const out = join(work, "out");
    mkdirSync(out);
    chmodSync(out, 0o777);
    const config = join(work, "config");
    mkdirSync(join(config, "tsinit.d"), { recursive: true });
    // A process that ends at once: then nothing is active, and --exit-when-idle ends the supervisor.
    writeFileSync(join(config, "tsinit.d/boot"), "type = process\ncommand = /bin/sh -c \"id -u > $OUT/uid.out\"\n");
    const proc = Bun.spawn(["unshare", "--pid", "--fork", "--mount-proc", "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", TSINIT, "--exit-when-idle"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", XDG_CONFIG_HOME: config, OUT: out, HOME: "/nonexistent" },
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      const timeout = Bun.sleep(20_000).then(() => "timeout");
      expect(await Promise.race([proc.exited, timeout])).toBe(0);
      expect(readFileSync(join(out, "uid.out"), "utf8")).toBe("65534\n");
    } finally {
      proc.kill("SIGKILL");
    }
  });
});

test("trigger of a service that is not triggered, is-active, is-failed after a run that ended, an empty name", async () => {
  const { control } = await start({
    web: "command = sleep 600\n",
    net: "type = triggered\n",
    oneshot: 'command = /bin/sh -c "exit 3"\n',
  });
  expect((await control.ctl("start", "web")).code).toBe(0);
  // dinitctl: the service "must be a triggered service".
  expect(await control.ctl("trigger", "web")).toEqual({ code: 1, stdout: "", stderr: "initctl: not triggering web: it is a process service; only a triggered service has a trigger\n" });
  expect(await control.ctl("untrigger", "web")).toEqual({ code: 1, stdout: "", stderr: "initctl: not untriggering web: it is a process service; only a triggered service has a trigger\n" });
  expect(await control.ctl("start", "--no-wait", "net")).toMatchObject({ code: 0 });
  // Its status says what it waits for.
  const waiting = await control.ctl("status", "net");
  expect(waiting.stdout).toContain("\n  state:   starting (target started), waiting for its trigger (initctl trigger net)\n  trigger: not set\n");
  expect((await control.ctl("list")).stdout).toMatch(/\nnet +starting +started +- +- +0 +waiting for its trigger\n/);
  expect(await control.ctl("trigger", "net")).toEqual({ code: 0, stdout: "triggered net\n", stderr: "" });
  await poll("net to start once triggered", async () => (await stateOf(control, "net")) === "started");

  expect(await control.ctl("is-active", "web")).toEqual({ code: 0, stdout: "STARTED\n", stderr: "" });

  // A process service is started at exec; its exit 3 afterwards is dinit's "terminated", not a failure.
  expect((await control.ctl("start", "oneshot")).code).toBe(0);
  await poll("oneshot to end", async () => (await control.status("oneshot")).service.failed !== undefined);
  expect(await control.ctl("is-failed", "oneshot")).toEqual({ code: 1, stdout: "STOPPED\n", stderr: "" });

  const empty = await control.ctl("start", "");
  expect(empty.code).toBe(2);
  expect(empty.stderr).toStartWith("initctl: start: the service name is empty\n");
});
