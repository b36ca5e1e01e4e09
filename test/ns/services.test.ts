// Service features with real processes: readiness, bgprocess, run-as, env-file, rlimits,
// crash-loop throttling, and stopping a daemon's whole process group.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmdirSync, symlinkSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { Control, Namespace, poll, procInfo, readText, servicesDir, waitFor } from "./harness.ts";

let ns: Namespace | undefined;
afterEach(() => {
  ns?.kill();
  ns = undefined;
});


/** Where cgroup2 is mounted on this machine (/sys/fs/cgroup, or .../unified on hybrid hosts). */
function cgroup2Mount(): string {
  const line = readFileSync("/proc/mounts", "utf8").split("\n").find((l) => l.split(" ")[2] === "cgroup2");
  if (line === undefined) throw new Error("this test needs cgroup2 mounted");
  return line.split(" ")[1]!;
}

/** rmdir a cgroup and its children; false while one is still populated. */
function removeCgroupTree(root: string): boolean {
  try {
    for (const entry of readdirSync(root, { withFileTypes: true })) if (entry.isDirectory()) rmdirSync(join(root, entry.name));
    rmdirSync(root);
    return true;
  } catch {
    return false;
  }
}

/** CPU time (user + system) of a process in clock ticks. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

// The NOTIFY_SOCKET sender is a child of the service's main process, as with systemd-notify run
// from the service's script. It stays until app runs only so that the test sees the order; one
// that exits at once is covered in hostile-processes.test.ts.
const SEND_READY = `python3 -c 'import os, socket, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"READY=1\\nSTATUS=serving", os.environ["NOTIFY_SOCKET"])
while not os.path.exists(os.environ["WORK"] + "/app-started"): time.sleep(0.01)'`;

describe("readiness", () => {
  test("a supervisor started after one killed by SIGKILL removes the NOTIFY_SOCKET files it left, and notify works", async () => {
    const { dir, work } = servicesDir(
      { boot: "type = internal\ndepends-on = db\n", db: "command = /bin/sh $WORK/db.sh\nready-notification = notify\n" },
      { "db.sh": `python3 -c 'import os, socket; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])'\nexec sleep 600\n` },
    );
    process.env.WORK = work;
    const socket = join(work, "ctl.sock");
    const notifyFiles = () => readdirSync(work).filter((name) => name.startsWith("ctl.sock.notify."));
    // Not tsinit's: a file with another name, and a link with a socket's name, stay. The link
    // leads to an abandoned socket (bound by a process that is gone), so following it would
    // take the link for one.
    writeFileSync(join(work, "ctl.sock.notify.keep"), "");
    const abandoned = join(work, "abandoned.sock");
    execFileSync("python3", ["-c", `import socket; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).bind(${JSON.stringify(abandoned)})`]);
    symlinkSync(abandoned, join(work, "ctl.sock.notify.9-0123456789abcdef"));
    const left: string[] = [];
    for (let run = 1; run <= 3; run++) {
      ns = await Namespace.start(["--services-dir", dir, "--socket", socket]);
      await waitFor(`db to be ready (run ${run})`, () => ns!.log().includes("[  OK  ] started db")).catch((error) => { throw new Error(`${error}\n${ns!.log()}`); });
      const live = notifyFiles().filter((name) => !["ctl.sock.notify.keep", "ctl.sock.notify.9-0123456789abcdef"].includes(name));
      // One socket for db's start: none of the earlier supervisors' are left.
      expect(live).toHaveLength(1);
      expect(left).not.toContain(live[0]);
      left.push(live[0]!);
      if (run > 1) expect(ns.log()).toContain("removed 1 NOTIFY_SOCKET file an earlier supervisor left");
      ns.kill();
      await ns.proc.exited;
      // SIGKILL: nothing unlinked it.
      expect(notifyFiles()).toContain(live[0]!);
      ns = undefined;
    }
    expect(notifyFiles()).toContain("ctl.sock.notify.keep");
    expect(notifyFiles()).toContain("ctl.sock.notify.9-0123456789abcdef");
    expect(existsSync(abandoned)).toBe(true);
  }, 60_000);

  for (const [kind, setting, write] of [
    ["pipefd", "pipefd:5", "echo ready >&5"],
    ["pipevar", "pipevar:READY_FD", 'echo ready >&"$READY_FD"'],
    ["NOTIFY_SOCKET", "notify", SEND_READY],
  ] as const) {
    test(`a ${kind} service is started only once it says it is ready`, async () => {
      const { dir, work } = servicesDir(
        {
          boot: "type = internal\ndepends-on = app\n",
          db: `command = /bin/sh $WORK/db.sh\nready-notification = ${setting}\n`,
          app: 'command = /bin/sh -c "touch $WORK/app-started; exec sleep 600"\ndepends-on = db\n',
        },
        { "db.sh": `touch "$WORK/db-running"\nwhile [ ! -e "$WORK/go" ]; do sleep 0.02; done\n${write}\nexec sleep 600\n` },
      );
      process.env.WORK = work;
      const control = new Control(join(work, "ctl.sock"));
      ns = await Namespace.start(["--services-dir", dir, "--socket", control.socket]);
      await control.ready(() => ns?.log() ?? "");
      await waitFor("db to run", () => existsSync(join(work, "db-running")));
      // db is running but has not said it is ready. tsinit answers after it has handled db's
      // spawn, the event on which it would have launched app too early: app must not be running.
      const db = (await control.status("db")).service;
      const app = (await control.status("app")).service;
      expect(db).toMatchObject({ state: "starting", target: "started" });
      expect(db.pid).toBeNumber();
      expect(app.state).not.toBe("started");
      expect(app.pid).toBeUndefined();
      expect(existsSync(join(work, "app-started"))).toBe(false);
      writeFileSync(join(work, "go"), "");
      await waitFor("app to start once db is ready", () => existsSync(join(work, "app-started")));
    }, 30_000);
  }
});

/** Connects to a unix socket and returns everything the server sends before closing. */
async function readFromSocket(path: string): Promise<string> {
  const { createConnection } = await import("node:net");
  return new Promise((resolve, reject) => {
    let text = "";
    const socket = createConnection(path);
    socket.on("data", (chunk) => (text += chunk.toString()));
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
  });
}

test("socket-listen: the service gets the listening socket as fd 3 with LISTEN_FDS and its own LISTEN_PID", async () => {
  const server = [
    "import os, socket",
    'ok = os.environ.get("LISTEN_PID") == str(os.getpid()) and os.environ.get("LISTEN_FDS") == "1"',
    "s = socket.socket(fileno=3)",
    "while True:",
    "    c, _ = s.accept()",
    '    c.sendall(("hello %s\\n" % ("ok" if ok else "bad-env")).encode())',
    "    c.close()",
  ].join("\n");
  const { dir, work } = servicesDir(
    {
      boot: "type = internal\nwaits-for = echo\n",
      echo: "command = python3 $WORK/server.py\nsocket-listen = $WORK/echo.sock\nsocket-permissions = 600\nrestart = yes\nrestart-delay = 0.05\n",
    },
    { "server.py": server + "\n" },
  );
  process.env.WORK = work;
  ns = await Namespace.start(["--services-dir", dir]);
  const socketPath = join(work, "echo.sock");
  await waitFor("the activation socket", () => existsSync(socketPath));
  expect((await import("node:fs")).statSync(socketPath).mode & 0o777).toBe(0o600);
  // The file appears at bind(), a moment before listen(): the first connect may be refused.
  const greeting = await poll("the first greeting", () => readFromSocket(socketPath).catch(() => undefined), 10_000, () => ns?.log() ?? "");
  expect(greeting).toBe("hello ok\n");
  // The socket outlives a crash of the service: the restarted one serves the same socket. Connect
  // only once the killed server is dead: until then it can still accept the connection (a
  // pending SIGKILL does not stop accept() from taking a queued one) and die holding it.
  const first = await waitFor("the server process", () => ns!.children().find((p) => p.comm.startsWith("python")));
  process.kill(first.pid, "SIGKILL");
  await waitFor("the killed server to be dead", () => [undefined, "Z"].includes(procInfo(first.pid)?.state));
  expect(await readFromSocket(socketPath)).toBe("hello ok\n");
}, 30_000);

describe("service settings", () => {
  test("bgprocess: the daemon from the pid file is supervised and restarted", async () => {
    const { dir, work } = servicesDir(
      {
        boot: "type = internal\nwaits-for = daemon\n",
        daemon: "type = bgprocess\ncommand = /bin/sh $WORK/launch.sh\npid-file = $WORK/daemon.pid\nrestart = yes\nrestart-delay = 0.05\n",
      },
      { "launch.sh": 'sleep 600 &\necho $! > "$WORK/daemon.pid"\n' },
    );
    process.env.WORK = work;
    ns = await Namespace.start(["--services-dir", dir]);
    const daemonPid = () => {
      const nsPid = Number(readText(join(work, "daemon.pid")));
      return nsPid ? ns!.hostPid(nsPid) : undefined;
    };
    const first = await waitFor("the daemon", daemonPid);
    await waitFor("the status line", () => ns!.log().includes("[  OK  ] started daemon"));
    process.kill(first, "SIGKILL");
    await waitFor("a new daemon", () => {
      const pid = daemonPid();
      return pid !== undefined && pid !== first && procInfo(pid)?.comm === "sleep";
    });
  }, 30_000);

  test("bgprocess: a pid file naming a process that is not tsinit's child is refused", async () => {
    // The pid file names a grandchild whose own parent lives on: not a daemon re-parented to
    // tsinit, so not adopted (a stale or forged pid file looks the same).
    const { dir, work } = servicesDir(
      { boot: "type = internal\nwaits-for = stale\n", stale: "type = bgprocess\ncommand = /bin/sh $WORK/launch.sh\npid-file = $WORK/stale.pid\n" },
      { "launch.sh": `(sh -c 'sleep 600 & echo $! > "$WORK/stale.tmp"; mv "$WORK/stale.tmp" "$WORK/stale.pid"; wait' &)\nuntil [ -s "$WORK/stale.pid" ]; do sleep 0.01; done\n` },
    );
    process.env.WORK = work;
    ns = await Namespace.start(["--services-dir", dir]);
    await waitFor("the refusal", () => ns!.log().includes("[FAILED] stale: pid-file"));
    expect(ns.log()).toMatch(/pid \d+ is not a child of tsinit/);
  }, 30_000);

  test("run-as, env-file, working-dir and rlimit-nofile apply to the process", async () => {
    const { dir, work } = servicesDir(
      {
        boot: "type = internal\nwaits-for = probe\n",
        probe: [
          "type = scripted",
          'command = /bin/sh -c "echo $$(id -u):$$(id -g) $GREETING $$(pwd) $$(ulimit -n) > $WORK/out/probe"',
          "run-as = nobody:nogroup",
          "env-file = $WORK/probe.env",
          "working-dir = /tmp",
          "rlimit-nofile = 123",
        ].join("\n"),
      },
      { "probe.env": "# greeting\nGREETING=hello-from-env-file\n" },
    );
    process.env.WORK = work;
    const { mkdirSync, chmodSync } = await import("node:fs");
    // nobody must be able to reach the output directory.
    chmodSync(work, 0o755);
    mkdirSync(join(work, "out"));
    chmodSync(join(work, "out"), 0o777);
    ns = await Namespace.start(["--services-dir", dir]);
    const out = await waitFor("the probe's output", () => readText(join(work, "out/probe")));
    expect(out).toBe("65534:65534 hello-from-env-file /tmp 123");
  }, 30_000);

  test("working-dir is entered as the run-as user, not as root", async () => {
    const { dir, work } = servicesDir({
      boot: "type = internal\nwaits-for = snoop\n",
      snoop: "type = scripted\ncommand = /bin/sh -c \"ls > $WORK/listing\"\nrun-as = nobody:nogroup\nworking-dir = $WORK/private\n",
    });
    const { mkdirSync, chmodSync } = await import("node:fs");
    chmodSync(work, 0o755);
    mkdirSync(join(work, "private"), { mode: 0o700 });
    process.env.WORK = work;
    ns = await Namespace.start(["--services-dir", dir]);
    // The exec helper reports the stage and errno when it cannot enter the directory as nobody.
    await waitFor("the failure", () => ns!.log().includes(`[FAILED] snoop: working-dir: chdir(${join(work, "private")}): EACCES`));
    expect(existsSync(join(work, "listing"))).toBe(false);
  }, 30_000);

  test("a failure to start names the stage: a missing env-file", async () => {
    const { dir } = servicesDir({
      boot: "type = internal\nwaits-for = broken\n",
      broken: "command = /bin/true\nenv-file = /nonexistent.env\n",
    });
    ns = await Namespace.start(["--services-dir", dir]);
    await waitFor("the failure line", () => ns!.log().includes("[FAILED] broken: env-file: /nonexistent.env: cannot be read"));
  }, 30_000);
});

describe("crash loops and stopping", () => {
  test("a crash loop backs off and PID 1 stays nearly idle", async () => {
    const { dir } = servicesDir({
      boot: "type = internal\nwaits-for = crasher\n",
      crasher: "command = /bin/false\nrestart = yes\nrestart-delay = 0.05\nrestart-delay-max = 0.8\nrestart-limit-count = 0\n",
    });
    ns = await Namespace.start(["--services-dir", dir]);
    await waitFor("the delay to reach restart-delay-max", () => /crasher: exited 1; restarting in (8\d\d|9\d\d|1\d\d\d) ms/.test(ns!.log()));
    const restarts = ns.log().match(/restarting in \d+ ms/g) ?? [];
    // 50, 100, 200, 400, 800: five restarts in ~1.5 s, not hundreds.
    expect(restarts.length).toBeGreaterThanOrEqual(5);
    expect(restarts.length).toBeLessThanOrEqual(6);
    expect(cpuTicks(ns.pid1)).toBeLessThan(100); // under 1 s of CPU for all of it, start-up included
  }, 30_000);

  test("stopping a service kills what its process left in its process group", async () => {
    // forker is stopped because its dependency ends for good; tsinit goes on running.
    const { dir, work } = servicesDir(
      {
        boot: "type = internal\nwaits-for = forker\n",
        dep: "command = /bin/sleep 600\n",
        forker: "command = /bin/sh $WORK/forker.sh\ndepends-on = dep\nstop-timeout = 0.5\n",
      },
      // The child ignores SIGTERM; the main process exits on it.
      { "forker.sh": `sh -c 'trap "" TERM; echo $$ > "$WORK/child.pid"; while :; do sleep 0.05; done' &\nwait\n` },
    );
    process.env.WORK = work;
    ns = await Namespace.start(["--services-dir", dir]);
    const child = await waitFor("the child", () => {
      const nsPid = Number(readText(join(work, "child.pid")));
      return nsPid ? ns!.hostPid(nsPid) : undefined;
    });
    const dep = ns.children().find((p) => p.comm === "sleep")!;
    process.kill(dep.pid, "SIGKILL");
    await waitFor("forker to be stopped", () => ns!.log().includes("[  OK  ] stopped forker"));
    await waitFor("the child that ignored SIGTERM to be gone", () => procInfo(child) === undefined);
    // The group kill also ended the child's last `sleep`: a zombie for the moment until tsinit,
    // its new parent, reaps it on SIGCHLD.
    await waitFor("no zombie among tsinit's children", () => ns!.children().every((p) => p.state !== "Z"));
  }, 30_000);

  test("with cgroups, stopping kills a process that left its process group", async () => {
    const cgroup = join(cgroup2Mount(), `tsinit-test-${process.pid}-${Date.now()}`);
    const { dir, work } = servicesDir(
      {
        boot: "type = internal\nwaits-for = escaper\n",
        dep: "command = /bin/sleep 600\n",
        escaper: "command = /bin/sh $WORK/escaper.sh\ndepends-on = dep\nstop-timeout = 0.5\n",
      },
      // setsid: the child has a session and process group of its own, and ignores SIGTERM. The
      // script first waits to be in its cgroup: tsinit moves a service there just after
      // posix_spawn, and a fork in the first microseconds would be outside (docs/service-format.md).
      { "escaper.sh": `until grep -q escaper /proc/$$/cgroup; do sleep 0.01; done\nsetsid sh -c 'trap "echo got-TERM >> $WORK/child.log" TERM; echo $$ > "$WORK/child.pid"; while :; do sleep 0.05; done' &\nwait\n` },
    );
    process.env.WORK = work;
    ns = await Namespace.start(["--services-dir", dir, "--cgroup", cgroup]);
    const child = await waitFor("the escaped child", () => {
      const nsPid = Number(readText(join(work, "child.pid")));
      return nsPid ? ns!.hostPid(nsPid) : undefined;
    });
    expect(readFileSync(join(cgroup, "escaper", "cgroup.procs"), "utf8")).toContain(String(child));
    const dep = ns.children().find((p) => p.comm === "sleep")!;
    process.kill(dep.pid, "SIGKILL");
    await waitFor("escaper to be stopped", () => ns!.log().includes("[  OK  ] stopped escaper"));
    await waitFor("the escaped child to be gone", () => procInfo(child) === undefined || procInfo(child)?.state === "Z");
    // It had SIGTERM through its cgroup first, and SIGKILL only after stop-timeout.
    expect(readText(join(work, "child.log"))).toBe("got-TERM");
    ns.kill();
    await waitFor("the test cgroups to be removed", () => removeCgroupTree(cgroup));
  }, 30_000);

  test("with cgroups, an unloaded service's cgroup that still held a leftover is removed once the leftover dies", async () => {
    const cgroup = join(cgroup2Mount(), `tsinit-test-${process.pid}-${Date.now()}`);
    const { dir, work } = servicesDir(
      // signal-process-only: tsinit leaves the child alone, so it outlives the stop in the
      // service's cgroup until the test kills it.
      { lingerer: "command = /bin/sh $WORK/lingerer.sh\noptions = signal-process-only\n" },
      { "lingerer.sh": `until grep -q lingerer /proc/$$/cgroup; do sleep 0.01; done\nsetsid sh -c 'echo $$ > "$WORK/child.pid"; while :; do sleep 0.05; done' &\nexec sleep 600\n` },
    );
    process.env.WORK = work;
    const socket = join(work, "ctl.sock");
    ns = await Namespace.start(["--services-dir", dir, "--socket", socket, "--cgroup", cgroup, "--target", "none"]);
    const control = new Control(socket);
    await control.ready(() => ns!.log());
    expect((await control.ctl("start", "lingerer")).code).toBe(0);
    const child = await waitFor("the lingering child", () => {
      const nsPid = Number(readText(join(work, "child.pid")));
      return nsPid ? ns!.hostPid(nsPid) : undefined;
    });
    expect((await control.ctl("stop", "lingerer")).code).toBe(0);
    expect((await control.ctl("unload", "lingerer")).code).toBe(0);
    // Unloaded while its child is still in the cgroup (rmdir: EBUSY)...
    expect(readFileSync(join(cgroup, "lingerer", "cgroup.procs"), "utf8")).toContain(String(child));
    // ...and removed once the child's death empties it, with no further reload, removal or unload.
    process.kill(child, "SIGKILL");
    await waitFor("the emptied cgroup to be removed", () => !existsSync(join(cgroup, "lingerer")));
    expect(ns.log()).not.toContain("removing cgroup");
    ns.kill();
    await waitFor("the test cgroups to be removed", () => removeCgroupTree(cgroup));
  }, 30_000);

  test("with cgroups, a clean exit removes the services' cgroups and the --cgroup folder it made", async () => {
    const cgroup = join(cgroup2Mount(), `tsinit-test-${process.pid}-${Date.now()}`);
    const { dir, work } = servicesDir(
      {
        boot: "type = internal\nwaits-for = a\nwaits-for = b\n",
        a: "command = /bin/sleep 600\n",
        // A child in a session of its own that ignores SIGTERM: only the cgroup's SIGKILL at the
        // end of the stop reaches it, so it may still be in b's cgroup as the supervisor exits.
        b: "command = /bin/sh $WORK/b.sh\nstop-timeout = 0.2\n",
      },
      { "b.sh": `until grep -q /b$ /proc/$$/cgroup; do sleep 0.01; done\nsetsid sh -c 'trap "" TERM; echo $$ > "$WORK/child.pid"; while :; do sleep 0.05; done' &\nwait\n` },
    );
    process.env.WORK = work;
    ns = await Namespace.start(["--services-dir", dir, "--cgroup", cgroup]);
    await waitFor("both services to run", () => ns!.log().includes("[  OK  ] started a") && ns!.log().includes("[  OK  ] started b"));
    await waitFor("b's child", () => readText(join(work, "child.pid")));
    expect(readdirSync(cgroup).filter((name) => name === "a" || name === "b").sort()).toEqual(["a", "b"]);
    ns.signal("SIGTERM");
    expect(await ns.exitCode(10_000)).toBe(0);
    const left = existsSync(cgroup);
    if (left) removeCgroupTree(cgroup);
    expect(left).toBe(false);
    expect(ns.log()).not.toContain("left in place");
  }, 30_000);

  test("a second SIGTERM ends a shutdown stuck on a service that ignores SIGTERM", async () => {
    const { dir } = servicesDir({
      boot: "type = internal\nwaits-for = stubborn\n",
      stubborn: 'command = /bin/sh -c "trap \\"\\" TERM; while :; do sleep 0.05; done"\nstop-timeout = 0\n',
    });
    ns = await Namespace.start(["--services-dir", dir]);
    await waitFor("stubborn to run", () => ns!.log().includes("[  OK  ] started stubborn"));
    ns.signal("SIGTERM");
    await waitFor("the shutdown to begin", () => ns!.log().includes("stopping all services"));
    ns.signal("SIGTERM");
    expect(await ns.exitCode(10_000)).toBe(0);
    expect(ns.log()).toContain("killing what is left");
  }, 30_000);
});
