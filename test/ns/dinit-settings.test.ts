// Issue 10: dinit's process-level settings seen on real processes, with the compiled tsinit as
// PID 1 of a PID namespace: nice, ioprio, oom-score-adj, rlimit-addrspace, capabilities,
// securebits, no-new-privs, run-in-cgroup, the pipe between a producer and its consumer across
// restarts of both, kill-all-on-stop, and a log file's mode and owner.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, readlinkSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Namespace, procInfo, readText, run, servicesDir, startWithControl, waitFor } from "./harness.ts";

let ns: Namespace | undefined;
afterEach(() => {
  ns?.kill();
  ns = undefined;
});

const statusField = (pid: number, field: string) => new RegExp(`^${field}:\\s+(.*)$`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];

/** The host pid of the namespace's process named `comm` whose parent chain leads to PID 1. */
function processNamed(comm: string): number | undefined {
  return ns?.descendants().find((pid) => procInfo(pid)?.comm === comm);
}

describe("process attributes set by the exec helper", () => {
  test("nice, ioprio, oom-score-adj, rlimit-addrspace, capabilities, securebits and no-new-privs reach the process", async () => {
    const { dir, work } = servicesDir({
      boot: "type = internal\nwaits-for = probe\n",
      probe: [
        "type = process",
        'command = /bin/sh -c "setpriv -d > $WORK/out/privs; exec sleep 600"',
        "run-as = nobody:nogroup",
        "nice = 7",
        "ioprio = best-effort:5",
        "oom-score-adj = 333",
        "rlimit-addrspace = 2000000000:3000000000",
        "capabilities = ^cap_net_bind_service,!cap_sys_admin",
        "securebits = noroot",
        "options = no-new-privs",
      ].join("\n"),
    });
    chmodSync(work, 0o755);
    mkdirSync(join(work, "out"), { mode: 0o777 });
    chmodSync(join(work, "out"), 0o777);
    process.env.WORK = work;
    ns = await Namespace.start(["--services-dir", dir]);
    const pid = await waitFor("the probe's sleep", () => processNamed("sleep")).catch((error) => {
      throw new Error(`${error}\n${ns?.log()}`);
    });
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    expect(Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16])).toBe(7);
    expect(readText(`/proc/${pid}/oom_score_adj`)).toBe("333");
    expect(readFileSync(`/proc/${pid}/limits`, "utf8")).toMatch(/^Max address space\s+2000000000\s+3000000000\s+bytes/m);
    expect((await run(["ionice", "-p", String(pid)])).stdout.trim()).toBe("best-effort: prio 5");
    const bit = (mask: string | undefined, n: number) => (BigInt(`0x${mask}`) >> BigInt(n)) & 1n;
    expect(bit(statusField(pid, "CapAmb"), 10)).toBe(1n);
    expect(bit(statusField(pid, "CapEff"), 10)).toBe(1n);
    expect(BigInt(`0x${statusField(pid, "CapEff")}`)).toBe(1n << 10n);
    expect(bit(statusField(pid, "CapBnd"), 21)).toBe(0n);
    expect(bit(statusField(pid, "CapBnd"), 0)).toBe(1n);
    expect(statusField(pid, "NoNewPrivs")).toBe("1");
    expect(statusField(pid, "Uid")?.split(/\s+/)[0]).toBe("65534");
    const privs = await waitFor("setpriv's dump", () => readText(join(work, "out/privs")));
    expect(privs).toMatch(/^Securebits: noroot$/m);
  }, 30_000);

  test("capabilities without ^ (inheritable only) reach a run-as user's process", async () => {
    const { dir, work } = servicesDir({
      boot: "type = internal\nwaits-for = probe\n",
      probe: "type = process\ncommand = /bin/sleep 600\nrun-as = nobody:nogroup\ncapabilities = cap_net_raw\n",
    });
    chmodSync(work, 0o755);
    ns = await Namespace.start(["--services-dir", dir]);
    const pid = await waitFor("the probe's sleep", () => processNamed("sleep")).catch((error) => {
      throw new Error(`${error}\n${ns?.log()}`);
    });
    // Inheritable only: nothing ambient, nothing effective or permitted for the user.
    expect(BigInt(`0x${statusField(pid, "CapInh")}`)).toBe(1n << 13n);
    expect(BigInt(`0x${statusField(pid, "CapAmb")}`)).toBe(0n);
    expect(BigInt(`0x${statusField(pid, "CapPrm")}`)).toBe(0n);
    expect(BigInt(`0x${statusField(pid, "CapEff")}`)).toBe(0n);
    expect(statusField(pid, "Uid")?.split(/\s+/)[0]).toBe("65534");
  }, 30_000);

  test("run-in-cgroup: the process joins the named cgroup, absolute or relative to tsinit's", async () => {
    const mount = readFileSync("/proc/mounts", "utf8").split("\n").map((l) => l.split(" ")).find((f) => f[2] === "cgroup2")?.[1];
    if (mount === undefined) throw new Error("this test needs cgroup2 mounted");
    const name = `tsinit-ns-cgroup-${process.pid}`;
    mkdirSync(join(mount, name, "rel"), { recursive: true });
    try {
      const own = /^0::(.*)$/m.exec(readFileSync("/proc/self/cgroup", "utf8"))?.[1] ?? "/";
      const relative = `${"../".repeat(own.split("/").filter(Boolean).length)}${name}/rel`;
      const { dir } = servicesDir({
        boot: "type = internal\nwaits-for = abs\nwaits-for = rel\n",
        abs: `command = /bin/sleep 601\nrun-in-cgroup = /${name}\n`,
        rel: `command = /bin/sleep 602\nrun-in-cgroup = ${relative}\n`,
      });
      ns = await Namespace.start(["--services-dir", dir]);
      const cgroupOf = (arg: string) => {
        // The program itself, not the exec helper before it (whose argv has the same words).
        const pid = ns?.descendants().find((p) => procInfo(p)?.comm === "sleep" && readFileSync(`/proc/${p}/cmdline`, "utf8").includes(arg));
        return pid === undefined ? undefined : /^0::(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, "utf8"))?.[1];
      };
      expect(await waitFor("the absolute one", () => cgroupOf("601"))).toBe(`/${name}`);
      expect(await waitFor("the relative one", () => cgroupOf("602"))).toBe(`/${name}/rel`);
    } finally {
      // The services die while tsinit still runs and reaps them at once: a namespace torn down
      // around them leaves them counted in their cgroups until its zombies are gone.
      writeFileSync(join(mount, name, "cgroup.kill"), "1");
      ns?.kill();
      await waitFor("the cgroups to empty", () => {
        try {
          if (existsSync(join(mount, name, "rel"))) rmdirSync(join(mount, name, "rel"));
          rmdirSync(join(mount, name));
          return true;
        } catch {
          return false;
        }
      });
    }
  }, 30_000);

  test("a cgroup that does not exist fails the start, naming it", async () => {
    const { dir } = servicesDir({ boot: "type = internal\nwaits-for = lost\n", lost: "command = /bin/sleep 600\nrun-in-cgroup = /no-such-tsinit-cgroup\n" });
    ns = await Namespace.start(["--services-dir", dir]);
    await waitFor("the failure", () => /\[FAILED\] lost: run-in-cgroup: joining \/\S*no-such-tsinit-cgroup: ENOENT/.test(ns!.log()));
  }, 30_000);
});

describe("log-type = pipe and consumer-of", () => {
  test("the consumer reads the producer's output through one pipe that outlives both", async () => {
    const { dir, work } = servicesDir({
      boot: "type = internal\nwaits-for = logger\nwaits-for = producer\n",
      // dinit's format quotes with double quotes only, and $$ is a literal $.
      producer: 'command = /bin/sh -c "echo hello-$$$$; exec sleep 600"\nlog-type = pipe\nrestart = yes\nrestart-delay = 0.05\n',
      logger: 'command = /bin/sh -c "while read line; do echo $$line >> $WORK/consumed; done"\nconsumer-of = producer\nrestart = yes\nrestart-delay = 0.05\n',
    });
    process.env.WORK = work;
    ns = await Namespace.start(["--services-dir", dir]);
    const lines = () => (readText(join(work, "consumed")) ?? "").split("\n").filter(Boolean);
    await waitFor("the first line", () => lines().length === 1);
    const producer = await waitFor("the producer", () => processNamed("sleep"));
    const logger = await waitFor("the logger", () => processNamed("sh"));
    const pipe = readlinkSync(`/proc/${producer}/fd/1`);
    expect(pipe).toMatch(/^pipe:\[\d+\]$/);
    expect(readlinkSync(`/proc/${producer}/fd/2`)).toBe(pipe);
    expect(readlinkSync(`/proc/${logger}/fd/0`)).toBe(pipe);

    // The consumer goes and comes back; then the producer: the new line reaches the new consumer.
    process.kill(logger, "SIGKILL");
    const logger2 = await waitFor("a new logger", () => {
      const pid = processNamed("sh");
      return pid !== undefined && pid !== logger ? pid : undefined;
    });
    expect(readlinkSync(`/proc/${logger2}/fd/0`)).toBe(pipe);
    process.kill(producer, "SIGKILL");
    await waitFor("the second line, read by the new consumer", () => lines().length === 2);
    const producer2 = await waitFor("a new producer", () => {
      const pid = processNamed("sleep");
      return pid !== undefined && pid !== producer ? pid : undefined;
    });
    expect(readlinkSync(`/proc/${producer2}/fd/1`)).toBe(pipe);
    expect(lines()).toEqual([expect.stringMatching(/^hello-\d+$/), expect.stringMatching(/^hello-\d+$/)]);
  }, 30_000);
});

describe("kill-all-on-stop", () => {
  test("stopping the service sends TERM to every other process, KILL to what ignores it, then stops", async () => {
    const { control } = await startWithControl(
      {
        boot: "type = internal\nwaits-for = victim\nwaits-for = stubborn\nwaits-for = final\n",
        victim: "command = /bin/sleep 603\n",
        stubborn: "command = /bin/sh -c \"trap '' TERM; echo $$ > $WORK/stubborn.pid; while :; do sleep 0.1; done\"\n",
        final: "type = internal\noptions = kill-all-on-stop\n",
      },
      {},
      (started) => (ns = started),
    );
    await waitFor("the victim", () => ns!.descendants().find((p) => procInfo(p)?.comm === "sleep" && readFileSync(`/proc/${p}/cmdline`, "utf8").includes("603")));
    await waitFor("the stubborn one", () => readText(join(process.env.WORK!, "stubborn.pid")));
    expect((await control.ctl("stop", "final")).code).toBe(0);
    // Only tsinit is left (the control client's connection is not a process of the namespace).
    await waitFor("every other process to be gone", () => ns!.descendants().length === 0);
    expect(ns!.log()).toContain("final: kill-all-on-stop: sending SIGTERM to every process");
    expect(ns!.log()).toContain("final: kill-all-on-stop: sending SIGKILL to what is left");
    expect((await control.status("final")).service.state).toBe("stopped");
  }, 30_000);
});

describe("a log file's mode and owner, as dinit documents", () => {
  test("an existing log file gets logfile-permissions and logfile-uid/-gid given by name; a new one too", async () => {
    const { dir, work } = servicesDir({
      boot: "type = internal\nwaits-for = old\nwaits-for = new\n",
      old: "type = scripted\ncommand = /bin/echo old\nlogfile = $WORK/old.log\nlogfile-permissions = 640\nlogfile-uid = nobody\nlogfile-gid = nogroup\n",
      new: "type = scripted\ncommand = /bin/echo new\nlogfile = $WORK/new.log\nlogfile-uid = 65534\n",
    });
    writeFileSync(join(work, "old.log"), "before\n", { mode: 0o666 });
    chmodSync(join(work, "old.log"), 0o666);
    process.env.WORK = work;
    ns = await Namespace.start(["--services-dir", dir]);
    await waitFor("both to run", () => readText(join(work, "old.log"))?.endsWith("old") && readText(join(work, "new.log")) === "new");
    const old = statSync(join(work, "old.log"));
    expect([old.mode & 0o777, old.uid, old.gid]).toEqual([0o640, 65534, 65534]);
    expect(readText(join(work, "old.log"))).toBe("before\nold");
    const created = statSync(join(work, "new.log"));
    expect([created.mode & 0o777, created.uid]).toEqual([0o600, 65534]);
  }, 30_000);
});

describe("inittab-id and inittab-line", () => {
  test("a process service's utmp record: INIT_PROCESS while it runs, DEAD_PROCESS (and a wtmp line) once it ended", async () => {
    // /run and /var/log are tmpfs inside the namespace's own mounts: the host's utmp is untouched.
    const { control, work } = await startWithControl(
      {
        boot: "type = internal\nwaits-for = term\n",
        mounts: "type = scripted\ncommand = /bin/sh -c \"mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var/log\"\n",
        term: "command = /bin/sleep 605\ninittab-id = s9\ninittab-line = ttyS9\ndepends-on = mounts\n",
        copy: "type = scripted\ncommand = /bin/sh -c \"cp /var/run/utmp $WORK/utmp; cp /var/log/wtmp $WORK/wtmp 2>/dev/null; true\"\n",
      },
      {},
      (started) => (ns = started),
    );
    const records = (path: string) => {
      const bytes = existsSync(path) ? readFileSync(path) : Buffer.alloc(0);
      const list: { type: number; pid: number; line: string; id: string; exit: number }[] = [];
      for (let at = 0; at + 384 <= bytes.length; at += 384) {
        const text = (from: number, size: number) => bytes.subarray(at + from, at + from + size).toString("utf8").replace(/\0.*$/s, "");
        list.push({ type: bytes.readInt16LE(at), pid: bytes.readInt32LE(at + 4), line: text(8, 32), id: text(40, 4), exit: bytes.readInt16LE(at + 334) });
      }
      return list;
    };
    const sleeper = await waitFor("the term service", () => processNamed("sleep"));
    const nsPid = Number(/^NSpid:.*\s(\d+)$/m.exec(readFileSync(`/proc/${sleeper}/status`, "utf8"))?.[1]);
    expect((await control.ctl("start", "copy")).code).toBe(0);
    expect(records(join(work, "utmp"))).toEqual([{ type: 5, pid: nsPid, line: "ttyS9", id: "s9", exit: 0 }]);
    expect(existsSync(join(work, "wtmp"))).toBe(false);
    expect((await control.ctl("stop", "term")).code).toBe(0);
    await control.ctl("stop", "copy");
    expect((await control.ctl("start", "copy")).code).toBe(0);
    // Stopped with SIGTERM: one record, now DEAD_PROCESS, with the signal in ut_exit.e_termination.
    expect(records(join(work, "utmp"))).toEqual([{ type: 8, pid: nsPid, line: "ttyS9", id: "s9", exit: 0 }]);
    expect(records(join(work, "wtmp"))).toEqual([{ type: 8, pid: nsPid, line: "ttyS9", id: "s9", exit: 0 }]);
  }, 30_000);
});

describe("socket-uid, socket-gid", () => {
  test("the activation socket is owned as the settings say, with socket-permissions", async () => {
    const { dir, work } = servicesDir({
      boot: "type = internal\nwaits-for = web\n",
      web: "command = /bin/sleep 606\nsocket-listen = $WORK/web.sock\nsocket-uid = nobody\nsocket-permissions = 600\n",
    });
    process.env.WORK = work;
    ns = await Namespace.start(["--services-dir", dir]);
    await waitFor("the service", () => ns!.log().includes("[  OK  ] started web"));
    const socket = statSync(join(work, "web.sock"));
    expect([socket.isSocket(), socket.mode & 0o777, socket.uid, socket.gid]).toEqual([true, 0o600, 65534, 65534]);
  }, 30_000);
});
