// The control socket of the compiled tsinit, run as PID 1 of a PID namespace in supervisor
// mode with --socket, driven by the compiled initctl (`tsinit ctl`, or a link named initctl)
// from the host, as root and as uid 65534 (setpriv).
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { Control, namespacePerTest, NOBODY, procInfo, run, servicesDir, TSINIT, waitFor } from "./harness.ts";

const fixture = namespacePerTest();
const { start, poll } = fixture;

/** Real, effective, saved and filesystem ids of a process: "65534 65534 65534 65534". */
const idsOf = (hostPid: number, which: "Uid" | "Gid") =>
  readFileSync(`/proc/${hostPid}/status`, "utf8").match(new RegExp(`^${which}:\\s+(.*)$`, "m"))?.[1]?.trim().split(/\s+/).join(" ");

test("list, status, start, stop and restart, waiting for the service", async () => {
  const { work, control } = await start(
    {
      boot: "type = internal\n",
      web: "command = sleep 600\n",
      db: "command = /bin/sh $WORK/db.sh\nready-notification = pipefd:3\n",
    },
    { "db.sh": 'touch "$WORK/db-running"\nwhile [ ! -e "$WORK/go" ]; do sleep 0.02; done\necho ready >&3\nexec sleep 600\n' },
  );
  const list = await control.ctl("list");
  expect(list.code).toBe(0);
  expect(list.stdout).toMatch(/^NAME +STATE +TARGET +PID +UPTIME +CRASHES +NOTE\n/);
  expect(list.stdout).toMatch(/\nboot +started +started +- /);
  // As in dinit, the list is what is loaded: web is loaded once it is named.
  expect(list.stdout).not.toMatch(/\nweb /);

  const started = await control.ctl("start", "web");
  expect(started).toMatchObject({ code: 0, stderr: "" });
  expect(started.stdout).toMatch(/^started web \(pid \d+\)\n$/);
  const web = await control.status("web");
  expect(web.service).toMatchObject({ state: "started", target: "started", explicit: true });
  expect(fixture.ns!.hostPid(web.service.pid)).toBeDefined();

  // start db waits until db says it is ready.
  const startingDb = control.ctl("start", "db");
  let dbAnswered = false;
  void startingDb.then(() => (dbAnswered = true));
  await waitFor("db to run", () => existsSync(join(work, "db-running")));
  expect((await control.status("db")).service.state).toBe("starting");
  expect(dbAnswered).toBe(false);
  writeFileSync(join(work, "go"), "");
  const db = await startingDb;
  expect(db.code).toBe(0);
  expect(db.stdout).toMatch(/^started db \(pid \d+\)\n$/);

  const restarted = await control.ctl("restart", "db");
  expect(restarted.code).toBe(0);
  const newDb = await control.status("db");
  expect(newDb.service.state).toBe("started");
  expect(newDb.service.pid).not.toBe(Number(db.stdout.match(/pid (\d+)/)![1]));

  const stopped = await control.ctl("stop", "web");
  expect(stopped).toMatchObject({ code: 0, stdout: "stopped web\n" });
  expect((await control.status("web")).service).toMatchObject({ state: "stopped", target: "stopped" });
  expect(fixture.ns!.hostPid(web.service.pid)).toBeUndefined();

  const noWait = await control.ctl("start", "--no-wait", "web");
  expect(noWait.code).toBe(0);
  await poll("web to be started again", async () => (await control.status("web")).service.state === "started");
}, 60_000);

test("run and remove a runtime service, through a link named initctl", async () => {
  const { work, control } = await start({ boot: "type = internal\n" });
  const initctl = join(work, "initctl");
  symlinkSync(TSINIT, initctl);
  const ctl = (...args: string[]) => run([initctl, "--socket", control.socket, ...args]);

  const added = await ctl("run", "--name", "job", "--", "sh", "-c", 'echo "$0" > $WORK/job.out; exec sleep 300', "literal-$HOME");
  expect(added.code).toBe(0);
  expect(added.stdout).toMatch(/^started job \(pid \d+\)\n$/);
  await waitFor("job to write its output", () => existsSync(join(work, "job.out")));
  // The command ran as given: $HOME in it was not substituted by tsinit.
  expect(readFileSync(join(work, "job.out"), "utf8")).toBe("literal-$HOME\n");
  const status = await ctl("status", "job");
  expect(status.stdout).toContain("added by: uid 0 (with initctl run)");

  const busy = await ctl("remove", "job");
  expect(busy).toMatchObject({ code: 1, stderr: "initctl: job is started (target started); stop it before removing it\n" });
  expect((await ctl("stop", "job")).code).toBe(0);
  expect(await ctl("remove", "job")).toMatchObject({ code: 0, stdout: "removed job\n" });
  expect(await ctl("status", "job")).toMatchObject({ code: 1, stderr: "initctl: no service named job\n" });
  expect((await ctl("remove", "boot")).stderr).toMatch(/only services added with run can be removed/);
}, 60_000);

test("status shows the crash count, last exit and next restart of a crashing service", async () => {
  const began = Date.now();
  const { control } = await start({
    boot: "type = internal\nwaits-for = crasher\n",
    crasher: 'command = /bin/sh -c "exit 3"\nrestart = yes\nrestart-delay = 0.5\nrestart-limit-count = 0\n',
  });
  const crashing = await poll("two crashes", async () => {
    const { service } = await control.status("crasher");
    return service.crashes >= 2 && service.restartPending ? service : undefined;
  });
  expect(crashing).toMatchObject({ lastExit: "exited 3", restart: "yes" });
  expect(crashing.nextRestartInMs).toBeGreaterThanOrEqual(0);
  // A wall-clock time (not the monotonic clock's count since boot): half a second after a crash
  // that came after the test began.
  expect(Date.parse(crashing.nextRestartAt)).toBeGreaterThan(began);

  const human = await poll("a status line with a pending restart", async () => {
    const result = await control.ctl("status", "crasher");
    return result.stdout.includes("next restart: in ") ? result : undefined;
  });
  expect(human.code).toBe(0);
  expect(human.stdout).toMatch(/\n  last exit: +exited 3\n/);
  expect(human.stdout).toMatch(/\n  crashes: +\d+ in a row \(\d+ restarts? in the last 10s; no limit\)\n/);
  expect(human.stdout).toMatch(/\n  next restart: in \d+\.\ds \(at \d{4}-\d\d-\d\dT/);
  const stop = await control.ctl("stop", "crasher");
  expect(stop.code).toBe(0);
  expect((await control.status("crasher")).service).toMatchObject({ restartPending: false, state: "stopped" });
}, 60_000);

test("shutdown stops every service and ends the namespace with exit 0", async () => {
  const { control } = await start({ boot: "type = internal\nwaits-for = web\n", web: "command = sleep 600\n" });
  await poll("web", async () => (await control.status("web")).service.state === "started");
  const answer = await control.ctl("shutdown");
  expect(answer).toMatchObject({ code: 0, stdout: "stopping every service; the supervisor will exit\n" });
  expect(await fixture.ns!.exitCode()).toBe(0);
  expect(existsSync(control.socket)).toBe(false);
  expect(fixture.ns!.log()).toContain("stopped web");
}, 60_000);

test("malformed requests and unknown services get JSON errors while tsinit keeps running", async () => {
  const { control } = await start({ boot: "type = internal\n" });
  const request = async (method: string, path: string, body?: string) => {
    const response = await fetch(`http://tsinit${path}`, { unix: control.socket, method, body });
    return { status: response.status, body: (await response.json()) as any };
  };

  expect(await control.ctl("status", "nope")).toMatchObject({ code: 1, stderr: "initctl: no service named nope\n" });
  const json = await control.ctl("--json", "start", "nope");
  expect(json.code).toBe(1);
  expect(JSON.parse(json.stdout)).toEqual({ error: { code: "unknown-service", message: "no service named nope" } });
  // A usage error is the one line that says what was wrong, and where the usage is (dinitctl's
  // short error), not the whole usage text; --help still prints it all, to stdout.
  expect(await control.ctl("frobnicate")).toEqual({ code: 2, stdout: "", stderr: "initctl: unknown command frobnicate\ninitctl --help for usage\n" });
  expect(await control.ctl("start")).toEqual({ code: 2, stdout: "", stderr: "initctl: start needs a service name\ninitctl --help for usage\n" });
  const help = await control.ctl("--help");
  expect(help).toMatchObject({ code: 0, stderr: "" });
  expect(help.stdout).toStartWith("usage: initctl ");
  expect(help.stdout.split("\n").length).toBeGreaterThan(40);
  expect(await control.ctl("wake", "nope")).toMatchObject({ code: 1, stderr: "initctl: no service named nope\n" });

  expect(await request("POST", "/v1/services", "{not json")).toMatchObject({ status: 400, body: { error: { code: "bad-request" } } });
  expect(await request("POST", "/v1/services", JSON.stringify({ command: "sleep 1" }))).toMatchObject({ status: 400 });
  expect(await request("GET", "/v2/everything")).toMatchObject({ status: 404, body: { error: { code: "not-found" } } });
  expect(await request("PATCH", "/v1/services")).toMatchObject({ status: 405, body: { error: { code: "method-not-allowed" } } });
  expect(await request("POST", "/v1/services", "x".repeat(100_000))).toMatchObject({ status: 413, body: { error: { code: "too-large" } } });
  const garbage = await new Promise<string>((resolve) => {
    let data = "";
    const socket = connect(control.socket, () => socket.write("NONSENSE\r\n\r\n"));
    socket.on("data", (chunk) => (data += chunk));
    socket.on("close", () => resolve(data));
    socket.on("error", () => resolve(data));
  });
  expect(garbage).toStartWith("HTTP/1.1 400");

  expect((await control.ctl("list")).code).toBe(0);
  expect(fixture.ns!.proc.exitCode).toBeNull();
  expect(fixture.ns!.log()).not.toMatch(/uncaught|unhandled/);
}, 60_000);

test("a user's run cannot tell whether a program exists in a directory it cannot read", async () => {
  const { work, control } = await start({ boot: "type = internal\n" });
  mkdirSync(join(work, "secret"), { mode: 0o700 });
  writeFileSync(join(work, "secret", "prog"), "#!/bin/sh\nexec sleep 600\n", { mode: 0o755 });
  const there = await control.asNobody("run", "--name", "a", "--", `${work}/secret/prog`);
  const missing = await control.asNobody("run", "--name", "b", "--", `${work}/secret/nothing`);
  expect(there).toMatchObject({ code: 1, stderr: `initctl: a: exec ${work}/secret/prog: EACCES\n` });
  expect(missing).toMatchObject({ code: 1, stderr: `initctl: b: exec ${work}/secret/nothing: EACCES\n` });
  // A bare name is looked up as the user too: a program only root could reach is not found.
  const bare = await control.asNobody("run", "--name", "c", "--", "sleep", "600");
  expect(bare.code).toBe(0);
}, 60_000);

test("a non-root client may list, is refused a root service, and runs its own as itself", async () => {
  const { control } = await start({ boot: "type = internal\nwaits-for = web\n", web: "command = sleep 600\n" });
  await poll("web", async () => (await control.status("web")).service.state === "started");

  const list = await control.asNobody("list");
  expect(list.code).toBe(0);
  expect(list.stdout).toMatch(/\nweb +started/);

  const refused = await control.asNobody("stop", "web");
  expect(refused).toMatchObject({ code: 1, stderr: "initctl: uid 65534 may not stop web: only root may control services it did not start\n" });
  const http = await run([...NOBODY, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "--unix-socket", control.socket, "http://tsinit/v1/services/web/stop"]);
  expect(http.stdout).toBe("403");
  expect((await control.status("web")).service.state).toBe("started");
  expect((await control.asNobody("shutdown")).code).toBe(1);

  const mine = await control.asNobody("run", "--name", "mine", "--", "sleep", "300");
  expect(mine.code).toBe(0);
  const status = await control.status("mine");
  expect(status.service.runtime).toEqual({ ownerUid: 65534, ownerGid: 65534 });
  const hostPid = await waitFor("mine's process", () => fixture.ns!.hostPid(status.service.pid));
  // run-as goes through the exec helper (`tsinit --exec-helper`), which starts as root, drops to
  // the owner's ids and then execs sleep. "started" means the exec happened (the helper's
  // close-on-exec status pipe closed), so the ids are the owner's as soon as run answers.
  expect(idsOf(hostPid, "Uid")).toBe("65534 65534 65534 65534");
  expect(idsOf(hostPid, "Gid")).toBe("65534 65534 65534 65534");
  await waitFor("mine's process to be sleep", () => procInfo(hostPid)?.comm === "sleep");

  expect(await control.asNobody("stop", "mine")).toMatchObject({ code: 0, stdout: "stopped mine\n" });
  expect(await control.asNobody("remove", "mine")).toMatchObject({ code: 0, stdout: "removed mine\n" });
  expect((await control.status("web")).service.state).toBe("started");
}, 60_000);

test("a start that fails at exec through the exec helper is a failed start, by stage, with no restart", async () => {
  const { work, control } = await start(
    {
      boot: "type = internal\n",
      // run-as takes the exec helper; the script's interpreter does not exist.
      web: "command = $WORK/web.sh\nrun-as = nobody\nrestart = yes\nrestart-delay = 0\n",
      limited: "command = sleep 600\nrlimit-nofile = 99999999999:99999999999\n",
    },
    { "web.sh": "#!/nonexistent/interpreter\n" },
  );
  const started = await control.ctl("start", "web");
  expect(started).toMatchObject({ code: 1, stdout: "" });
  expect(started.stderr).toBe(`initctl: web: exec ${work}/web.sh: ENOENT\n`);
  const status = (await control.status("web")).service;
  expect(status).toMatchObject({ state: "stopped", failed: `exec ${work}/web.sh: ENOENT` });
  // The restart decision would be logged with the failure; there is none, and one spawn only.
  expect(fixture.ns!.log()).toContain(`[FAILED] web: exec ${work}/web.sh: ENOENT`);
  expect(fixture.ns!.log()).not.toContain("web: exited");
  expect(fixture.ns!.log()).not.toContain("restarting in");

  const limited = await control.ctl("start", "limited");
  expect(limited.code).toBe(1);
  expect(limited.stderr).toBe("initctl: limited: rlimits: setrlimit(nofile): EPERM\n");
}, 60_000);

test("50 simultaneous clients all get answers", async () => {
  const { control } = await start({ boot: "type = internal\nwaits-for = web\n", web: "command = sleep 600\n" });
  const clients = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? control.ctl("list") : control.ctl("--json", "status", "web")));
  const results = await Promise.all(clients);
  expect(results.map((r) => r.code)).toEqual(Array(50).fill(0));
  for (const [i, result] of results.entries()) {
    if (i % 2 === 1) expect(JSON.parse(result.stdout).service.name).toBe("web");
    else expect(result.stdout).toContain("web");
  }
  expect(fixture.ns!.proc.exitCode).toBeNull();
}, 90_000);

describe("buffer logs", () => {
  test("initctl log prints a service's output, and log -f follows it", async () => {
    const { work, control } = await start(
      {
        boot: "type = internal\nwaits-for = chatty\n",
        chatty: "command = /bin/sh $WORK/chatty.sh\nlog-type = buffer\nlog-buffer-size = 1000\n",
      },
      { "chatty.sh": 'echo "line one"; echo "to stderr" >&2\nwhile [ ! -e "$WORK/more" ]; do sleep 0.02; done\necho "line two"\nexec sleep 600\n' },
    );
    const first = await poll("both lines in the log", async () => {
      const result = await control.ctl("log", "chatty");
      return result.stdout.includes("to stderr") ? result : undefined;
    });
    expect(first.code).toBe(0);
    expect(first.stdout).toBe("line one\nto stderr\n");

    // A follower prints what there is, then what comes.
    const follower = Bun.spawn([TSINIT, "ctl", "--socket", control.socket, "log", "-f", "chatty"], { stdout: "pipe", stderr: "pipe" });
    try {
      let seen = "";
      const reader = (follower.stdout as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      const readUntil = async (text: string) => {
        while (!seen.includes(text)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`log -f ended; it printed ${JSON.stringify(seen)}`);
          seen += decoder.decode(value);
        }
      };
      await readUntil("to stderr\n");
      writeFileSync(join(work, "more"), "");
      await readUntil("line two\n");
      expect(seen).toBe("line one\nto stderr\nline two\n");
    } finally {
      follower.kill();
    }

    const none = await control.ctl("log", "boot");
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("boot has no buffer log");
  }, 30_000);
});

describe("reload", () => {
  test("initctl reload and SIGHUP re-read what is loaded; a new file loads when it is named", async () => {
    const { work, control } = await start({ boot: "type = internal\n", web: "command = /bin/sleep 600\n" });
    const dir = join(work, "services");
    // Naming a service loads it (status does not start it).
    expect((await control.status("web")).service).toMatchObject({ state: "stopped", command: ["/bin/sleep", "600"] });
    writeFileSync(join(dir, "late"), "type = process\ncommand = /bin/sleep 601\n");
    writeFileSync(join(dir, "web"), "type = process\ncommand = /bin/sleep 602\n");
    const reloaded = await control.ctl("reload");
    expect(reloaded.code).toBe(0);
    // late is not loaded (nothing names it), as in dinit; starting it by name loads it.
    expect(reloaded.stdout).toBe("reloaded; changed: web\n");
    expect((await control.ctl("start", "late")).code).toBe(0);
    expect((await control.ctl("start", "web")).code).toBe(0);
    expect((await control.status("web")).service.command).toEqual(["/bin/sleep", "602"]);

    // SIGHUP does the same; a change to a running service waits until it is stopped.
    writeFileSync(join(dir, "late"), "type = process\ncommand = /bin/sleep 603\n");
    writeFileSync(join(dir, "web"), "type = process\ncommand = /bin/sleep 604\n");
    fixture.ns!.signal("SIGHUP");
    await waitFor("the reload", () => fixture.ns?.log().includes("web, late: will change once stopped"));
    expect((await control.status("web")).service.command).toEqual(["/bin/sleep", "602"]);
    expect((await control.ctl("stop", "web")).code).toBe(0);
    expect((await control.status("web")).service.command).toEqual(["/bin/sleep", "604"]);
  }, 30_000);

  test("a reload finds cycles again: one fixed lets its members start, one made blocks them", async () => {
    const { work, control } = await start({
      boot: "type = internal\n",
      a: "command = /bin/sleep 600\ndepends-on = b\n",
      b: "command = /bin/sleep 601\ndepends-on = a\n",
    });
    const dir = join(work, "services");
    const blocked = await control.ctl("start", "a");
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toContain("dependency cycle");
    expect((await control.status("b")).service.blocked).toContain("dependency cycle");
    // b no longer needs a: the reload lifts the block.
    writeFileSync(join(dir, "b"), "command = /bin/sleep 601\n");
    expect((await control.ctl("reload")).code).toBe(0);
    expect(await control.ctl("start", "a")).toMatchObject({ code: 0, stdout: expect.stringMatching(/^started a/) });
    const b = (await control.status("b")).service;
    expect(b.state).toBe("started");
    expect(b).not.toHaveProperty("blocked");
    // Stopped again, and the cycle put back: the next reload blocks both again.
    expect((await control.ctl("stop", "a")).code).toBe(0);
    await poll("b released", async () => (await control.status("b")).service.state === "stopped");
    writeFileSync(join(dir, "b"), "command = /bin/sleep 601\ndepends-on = a\n");
    expect((await control.ctl("reload")).code).toBe(0);
    expect((await control.ctl("start", "b")).code).toBe(1);
    for (const name of ["a", "b"]) expect((await control.status(name)).service).toMatchObject({ state: "stopped", blocked: expect.stringContaining("dependency cycle") });
  }, 30_000);

  test("a reload never binds root's service to a user's run-time service of its dependency's name", async () => {
    const { work, control } = await start({ boot: "type = internal\n" });
    const dir = join(work, "services");
    // uid 65534 takes the name before root adds the files.
    const taken = await control.asNobody("run", "--name", "later", "--", "/bin/sleep", "600");
    expect(taken.code).toBe(0);
    writeFileSync(join(dir, "later"), "type = process\ncommand = /bin/sleep 601\n");
    writeFileSync(join(dir, "app"), "type = process\ncommand = /bin/sleep 602\ndepends-on = later\n");
    expect((await control.ctl("reload")).code).toBe(0);
    // Starting app loads it; its dependency's name is taken by the user's service, which it
    // never binds to.
    const app = await control.ctl("start", "app");
    expect(app.code).toBe(1);
    expect(app.stderr).toContain("depends on later, which is a service added with initctl run by uid 65534");
    // The user's stop stops the user's service, and nothing of root's.
    expect((await control.asNobody("stop", "later")).code).toBe(0);
    expect((await control.status("app")).service).toMatchObject({ state: "stopped" });
    // Once the user's service is gone, a reload takes root's file and app starts on it.
    expect((await control.asNobody("remove", "later")).code).toBe(0);
    expect((await control.ctl("reload")).code).toBe(0);
    expect((await control.ctl("start", "app")).code).toBe(0);
    expect((await control.status("later")).service).toMatchObject({ state: "started", command: ["/bin/sleep", "601"] });
  }, 30_000);
});

