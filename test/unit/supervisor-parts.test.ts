// The PID-1 logic around the core, on the real Supervisor over a fake machine and clock:
// cgroups, leftovers after a stop, pid-file trust, NOTIFY_SOCKET sender mapping, activation
// sockets across restarts and reloads, the exec helper's report, and stopping with a deadline.
import { describe, expect, it } from "vitest";
import { defaultSpec, type ServiceSpec, type ServiceType } from "../../src/base/service-spec.ts";
import { FakeRuntime } from "./fakes/fake-runtime.ts";

const SIGTERM = 15;
const SIGKILL = 9;

function svc(name: string, type: ServiceType = "process", extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return { ...defaultSpec(name, type, `/etc/tsinit.d/${name}`), command: [`/bin/${name}`], ...extra };
}

/** Lets promise callbacks (pipe reads ending) run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("cgroups", () => {
  it("moves a new main process into the service's own cgroup", () => {
    const rt = new FakeRuntime([svc("web")], { cgroupRoot: "/cg" });
    rt.start("web");
    const pid = rt.set.get("web")!.pid!;
    expect(rt.sys.calls).toContain("mkdir /cg/web");
    expect(rt.sys.files.get("/cg/web/cgroup.procs")).toBe(String(pid));
  });

  it("signals each process once: the group, cgroup members outside it; SIGKILL is cgroup.kill", () => {
    const rt = new FakeRuntime([svc("web", "process", { stopTimeoutMs: 1_000 })], { cgroupRoot: "/cg" });
    rt.start("web");
    const pid = rt.set.get("web")!.pid!;
    rt.sys.files.set(`/proc/${pid}/stat`, `${pid} (web) S 1 ${pid} ${pid} 0`);
    rt.sys.files.set("/proc/4241/stat", `4241 (child) S ${pid} ${pid} ${pid} 0`);
    rt.sys.files.set("/proc/4242/stat", "4242 (escaped) S 1 4242 4242 0");
    rt.sys.files.set("/cg/web/cgroup.procs", `${pid}\n4241\n4242\n`);
    rt.stop("web");
    expect(rt.sys.calls.filter((c) => c.startsWith("kill"))).toEqual([`kill -${pid} ${SIGTERM}`, `kill 4242 ${SIGTERM}`]);
    rt.sys.files.delete("/cg/web/cgroup.kill");
    rt.advance(1_000);
    expect(rt.sys.calls).toContain(`kill -${pid} ${SIGKILL}`);
    expect(rt.sys.files.get("/cg/web/cgroup.kill")).toBe("1");
  });

  it("signals a leader that left its group once, though it is in the cgroup", () => {
    const rt = new FakeRuntime([svc("web")], { cgroupRoot: "/cg" });
    rt.start("web");
    const pid = rt.set.get("web")!.pid!;
    rt.sys.files.set(`/proc/${pid}/stat`, `${pid} (web) S 1 7777 7777 0`);
    rt.sys.files.set("/cg/web/cgroup.procs", `${pid}\n`);
    rt.stop("web");
    expect(rt.sys.calls.filter((c) => c.startsWith("kill"))).toEqual([`kill -${pid} ${SIGTERM}`, `kill ${pid} ${SIGTERM}`]);
  });

  it("signals the leader itself when it left its group, or the group is gone", () => {
    const rt = new FakeRuntime([svc("a"), svc("b")]);
    rt.start("a");
    rt.start("b");
    const a = rt.set.get("a")!.pid!;
    const b = rt.set.get("b")!.pid!;
    rt.sys.files.set(`/proc/${a}/stat`, `${a} (a) S 1 7777 7777 0`);
    rt.stop("a");
    expect(rt.sys.calls.filter((c) => c.startsWith("kill"))).toEqual([`kill -${a} ${SIGTERM}`, `kill ${a} ${SIGTERM}`]);
    rt.sys.gone.add(b);
    rt.stop("b");
    expect(rt.sys.calls.filter((c) => c.startsWith("kill")).slice(2)).toEqual([`kill -${b} ${SIGTERM}`, `kill ${b} ${SIGTERM}`]);
  });

  it("signals no cgroup without a cgroup root", () => {
    const rt = new FakeRuntime([svc("web")]);
    rt.start("web");
    rt.stop("web");
    expect(rt.sys.calls.some((c) => c.startsWith("mkdir"))).toBe(false);
    expect([...rt.sys.files.keys()].some((path) => path.includes("cgroup"))).toBe(false);
  });
});

describe("leftovers after a stop", () => {
  it("get stop-timeout, then SIGKILL to their group and cgroup", () => {
    const rt = new FakeRuntime([svc("d", "process", { stopTimeoutMs: 2_000 })], { cgroupRoot: "/cg" });
    rt.start("d");
    const pid = rt.set.get("d")!.pid!;
    leftIn(rt, pid);
    rt.stop("d");
    rt.exit("d", { kind: "signaled", signal: SIGTERM, core: false });
    expect(rt.state("d")).toBe("stopped");
    expect(rt.sys.calls).toContain(`kill -${pid} 0`);
    rt.advance(1_999);
    expect(rt.sys.calls).not.toContain(`kill -${pid} ${SIGKILL}`);
    rt.advance(1);
    expect(rt.sys.calls).toContain(`kill -${pid} ${SIGKILL}`);
    expect(rt.sys.files.get("/cg/d/cgroup.kill")).toBe("1");
  });

  it("are killed at once when the service starts again, and not armed when none are left", () => {
    const rt = new FakeRuntime([svc("d", "process", { stopTimeoutMs: 2_000 }), svc("e")]);
    rt.start("d");
    const pid = rt.set.get("d")!.pid!;
    leftIn(rt, pid);
    rt.stop("d");
    rt.exit("d", 0);
    rt.start("d");
    expect(rt.sys.calls).toContain(`kill -${pid} ${SIGKILL}`);
    expect(rt.set.get("d")?.pid).not.toBe(pid);

    rt.start("e");
    const ePid = rt.set.get("e")!.pid!;
    rt.sys.gone.add(ePid);
    rt.stop("e");
    rt.exit("e", 0);
    rt.advance(10_000);
    expect(rt.sys.calls).not.toContain(`kill -${ePid} ${SIGKILL}`);
  });
});

/** A process that stays in `pgid`'s group after the service's main process exited. */
function leftIn(rt: FakeRuntime, pgid: number, pid = 4300, started = "5000"): void {
  rt.sys.files.set(`/proc/${pid}/stat`, `${pid} (left) S 1 ${pgid} ${pgid} 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 ${started} 0 0`);
}

describe("leftovers without cgroups (issue 9)", () => {
  it("are not SIGKILLed through a process group whose id was given to a new group meanwhile", () => {
    const rt = new FakeRuntime([svc("d", "process", { stopTimeoutMs: 2_000 })]);
    rt.start("d");
    const pgid = rt.set.get("d")!.pid!;
    leftIn(rt, pgid);
    rt.stop("d");
    rt.exit("d", { kind: "signaled", signal: SIGTERM, core: false });
    // The leftover exits; the pid is reused by another program's new session leader.
    rt.sys.files.delete("/proc/4300/stat");
    rt.sys.files.set(`/proc/${pgid}/stat`, `${pgid} (someone) S 1 ${pgid} ${pgid} 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 9999 0 0`);
    rt.advance(2_000);
    expect(rt.sys.calls).not.toContain(`kill -${pgid} ${SIGKILL}`);
  });

  it("are not SIGKILLed when the pid of a leftover now belongs to another process in the reused group", () => {
    const rt = new FakeRuntime([svc("d", "process", { stopTimeoutMs: 2_000 })]);
    rt.start("d");
    const pgid = rt.set.get("d")!.pid!;
    leftIn(rt, pgid, 4300, "5000");
    rt.stop("d");
    rt.exit("d", 0);
    // The group emptied, the main's pid went to a new session leader, and the leftover's pid to
    // a process in that new group.
    rt.sys.files.set(`/proc/${pgid}/stat`, `${pgid} (someone) S 1 ${pgid} ${pgid} 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 9999 0 0`);
    leftIn(rt, pgid, 4300, "7777");
    rt.advance(2_000);
    expect(rt.sys.calls).not.toContain(`kill -${pgid} ${SIGKILL}`);
  });

  it("are SIGKILLed while the group is still the service's, even through a child forked since", () => {
    const rt = new FakeRuntime([svc("d", "process", { stopTimeoutMs: 2_000 })]);
    rt.start("d");
    const pgid = rt.set.get("d")!.pid!;
    leftIn(rt, pgid, 4300);
    rt.stop("d");
    rt.exit("d", 0);
    // The leftover forked a cleanup child and exited: the child is in the group now.
    rt.sys.files.delete("/proc/4300/stat");
    leftIn(rt, pgid, 4310);
    rt.advance(2_000);
    expect(rt.sys.calls).toContain(`kill -${pgid} ${SIGKILL}`);
  });
});

describe("pid-file trust", () => {
  const daemon = () => new FakeRuntime([svc("d", "bgprocess", { pidFile: "/run/d.pid" }), svc("other")]);

  it("adopts a live child of tsinit", () => {
    const rt = daemon();
    rt.writePidFile("/run/d.pid", 700);
    rt.start("d");
    rt.exit("d", 0);
    expect(rt.state("d")).toBe("started");
    // The daemon's exit now goes to d.
    rt.exit("d", 9);
    expect(rt.state("d")).toBe("stopped");
    expect(rt.statuses.at(-1)).toBe("FAILED d: exited 9 (restart = no)");
  });

  it("refuses a pid that is not running, not tsinit's child, or another service's", () => {
    const cases: [string, (rt: FakeRuntime) => void][] = [
      ["pid 700 is not running", (rt) => rt.sys.files.set("/run/d.pid", "700\n")],
      ["pid 700 is not a child of tsinit (a stale pid file?)", (rt) => {
        rt.sys.files.set("/run/d.pid", "700\n");
        rt.sys.files.set("/proc/700/stat", "700 (x (y)) S 55 700 700 0");
      }],
      ["pid 100 belongs to another service", (rt) => {
        rt.start("other");
        rt.writePidFile("/run/d.pid", rt.set.get("other")!.pid!);
      }],
    ];
    for (const [why, arrange] of cases) {
      const rt = daemon();
      arrange(rt);
      rt.start("d");
      rt.exit("d", 0);
      expect(rt.state("d")).toBe("stopped");
      expect(rt.set.get("d")?.failed).toBe(`pid-file /run/d.pid: ${why}`);
    }
  });

  it("for a run-as service, adopts only that user's process or one in the launcher's session", async () => {
    const cases: [string, (launcher: number) => string, string | undefined][] = [
      ["the user's", () => "Uid:\t1000\t1000\t1000\t1000\n", undefined],
      ["root's, in the launcher's session", () => "Uid:\t0\t0\t0\t0\n", undefined],
      ["root's, elsewhere", () => "Uid:\t0\t0\t0\t0\n", "pid 700 is neither uid 1000's (run-as) nor in the launcher's session"],
    ];
    for (const [what, status, refusal] of cases) {
      const rt = new FakeRuntime([svc("d", "bgprocess", { pidFile: "/run/d.pid", runAs: { user: "1000", group: "1000" } })]);
      rt.start("d");
      await settle();
      const launcher = rt.set.get("d")!.pid!;
      rt.sys.files.set("/run/d.pid", "700\n");
      const session = what.includes("launcher") ? launcher : 700;
      rt.sys.files.set("/proc/700/stat", `700 (daemon) S 1 700 ${session} 0`);
      rt.sys.files.set("/proc/700/status", status(launcher));
      rt.exit("d", 0);
      expect(rt.set.get("d")?.failed, what).toBe(refusal === undefined ? undefined : `pid-file /run/d.pid: ${refusal}`);
      expect(rt.state("d"), what).toBe(refusal === undefined ? "started" : "stopped");
    }
  });

  it("trusts a process in the service's cgroup that is not tsinit's child", () => {
    const rt = new FakeRuntime([svc("d", "bgprocess", { pidFile: "/run/d.pid" })], { cgroupRoot: "/cg" });
    rt.sys.files.set("/run/d.pid", "700\n");
    rt.sys.files.set("/proc/700/stat", "700 (d) S 55 700 700 0");
    rt.start("d");
    rt.sys.files.set("/cg/d/cgroup.procs", "700\n");
    rt.exit("d", 0);
    expect(rt.state("d")).toBe("started");
  });
});

describe("NOTIFY_SOCKET", () => {
  const notifying = () => new FakeRuntime([svc("n", "process", { readyNotification: { kind: "notify" } })], { notifyPath: "/run/n.notify" });

  it("binds a socket for each start and maps READY=1 from the main pid", () => {
    const rt = notifying();
    expect(rt.machine.notifySockets).toHaveLength(0);
    rt.start("n");
    expect(rt.machine.notifySockets.map((s) => s.path)).toEqual(["/run/n.notify.1-0"]);
    expect(rt.sys.spawns[0]?.request.env.NOTIFY_SOCKET).toBe("/run/n.notify.1-0");
    expect(rt.state("n")).toBe("starting");
    rt.machine.notify(rt.set.get("n")!.pid!, { STATUS: "warming up" });
    expect(rt.supervisor.notifyStatus.get("n")).toBe("warming up");
    expect(rt.state("n")).toBe("starting");
    rt.machine.notify(rt.set.get("n")!.pid!, { READY: "1" });
    expect(rt.state("n")).toBe("started");
  });

  it("maps a sender in the service's session (systemd-notify as another user) and ignores strangers", () => {
    const rt = notifying();
    rt.start("n");
    const pid = rt.set.get("n")!.pid!;
    rt.machine.notify(999, { READY: "1" });
    expect(rt.state("n")).toBe("starting");
    expect(rt.machine.lines).toContain("tsinit: NOTIFY_SOCKET: message for n from pid 999 (uid 65534), which may not speak for it");
    rt.sys.files.set("/proc/998/stat", `998 (systemd-notify) S ${pid} ${pid} ${pid} 0`);
    rt.machine.notify(998, { READY: "1" });
    expect(rt.state("n")).toBe("started");
  });

  it("maps a sender that is gone by the session the listener read as the datagram arrived", () => {
    const rt = notifying();
    rt.start("n");
    const pid = rt.set.get("n")!.pid!;
    // No /proc/997 any more: systemd-notify exited right after sending.
    rt.machine.notify(997, { READY: "1" }, { session: pid });
    expect(rt.state("n")).toBe("started");
  });

  it("takes a sender that is gone, without its session, when it ran as the main process's user or as root", () => {
    const rt = new FakeRuntime(
      [svc("a", "process", { readyNotification: { kind: "notify" } }), svc("b", "process", { readyNotification: { kind: "notify" } })],
      { notifyPath: "/run/n.notify" },
    );
    rt.start("a");
    rt.start("b");
    const [a, b] = [rt.set.get("a")!.pid!, rt.set.get("b")!.pid!];
    rt.sys.files.set(`/proc/${a}/status`, "Name:\tsh\nUid:\t1000\t1000\t1000\t1000\n");
    rt.sys.files.set(`/proc/${b}/status`, "Name:\tsh\nUid:\t1001\t1001\t1001\t1001\n");
    const [socketA, socketB] = rt.machine.notifySockets.map((s) => s.path);
    // The socket says whose message it is: uid 1000's on b's socket is refused, on a's taken.
    rt.machine.notify(5000, { READY: "1" }, { uid: 1000, path: socketB, gone: true });
    expect(rt.state("b")).toBe("starting");
    rt.machine.notify(5001, { READY: "1" }, { uid: 1000, path: socketA, gone: true });
    expect(rt.state("a")).toBe("started");
    rt.machine.notify(5002, { READY: "1" }, { uid: 0, path: socketB });
    expect(rt.state("b")).toBe("started");
  });

  it("a live sender of the main process's user outside its session and cgroup is refused (another service of that user)", () => {
    const rt = new FakeRuntime([svc("n", "process", { readyNotification: { kind: "notify" } })], { notifyPath: "/run/n.notify", cgroupRoot: "/cg" });
    rt.start("n");
    const pid = rt.set.get("n")!.pid!;
    rt.sys.files.set(`/proc/${pid}/status`, "Name:\tsh\nUid:\t65534\t65534\t65534\t65534\n");
    rt.sys.files.set(`/proc/${pid}/cgroup`, "0::/tsinit/n\n");
    rt.machine.notify(6000, { READY: "1", STATUS: "forged" }, { uid: 65534, session: 6000, cgroup: "/tsinit/other" });
    expect(rt.state("n")).toBe("starting");
    expect(rt.supervisor.notifyStatus.get("n")).toBeUndefined();
    // A helper of the service that left its session is still in its cgroup.
    rt.machine.notify(6001, { READY: "1" }, { uid: 65534, session: 6001, cgroup: "/tsinit/n" });
    expect(rt.state("n")).toBe("started");
  });

  it("a sender in the main process's cgroup counts only where that cgroup is the service's own", () => {
    const rt = notifying();
    rt.start("n");
    const pid = rt.set.get("n")!.pid!;
    // No cgroups here: the main process shares tsinit's cgroup with everything else.
    rt.sys.files.set(`/proc/${pid}/cgroup`, "0::/user.slice\n");
    rt.machine.notify(6002, { READY: "1" }, { uid: 1000, session: 6002, cgroup: "/user.slice" });
    expect(rt.state("n")).toBe("starting");
  });

  it("a new start gets a new socket; the old one is closed, and a reload that drops the service closes its socket", () => {
    const rt = notifying();
    rt.start("n");
    rt.exit("n", 1);
    rt.start("n");
    expect(rt.machine.notifySockets.map((s) => [s.path, s.open])).toEqual([
      ["/run/n.notify.1-0", false],
      ["/run/n.notify.2-0", true],
    ]);
    rt.stop("n");
    rt.exit("n", 0);
    rt.supervisor.reload(new Map(), new Map(), new Set());
    expect(rt.machine.notifySockets.every((s) => !s.open)).toBe(true);
  });

  it("a start that fails to spawn closes its socket at once", () => {
    const rt = new FakeRuntime([svc("n", "process", { readyNotification: { kind: "notify" }, command: ["/missing"] })], { notifyPath: "/run/n.notify" });
    rt.start("n");
    expect(rt.set.get("n")?.failed).toContain("/missing");
    expect(rt.machine.notifySockets.map((s) => [s.path, s.open])).toEqual([["/run/n.notify.1-0", false]]);
  });

  it("a start whose exec helper reports a failure closes its socket", async () => {
    const rt = new FakeRuntime([svc("n", "process", { readyNotification: { kind: "notify" }, runAs: { user: "1000", group: "1000" } })], { notifyPath: "/run/n.notify" });
    rt.sys.execSucceeds = false;
    rt.start("n");
    expect(rt.machine.notifySockets.map((s) => s.open)).toEqual([true]);
    const fd = rt.sys.spawns[0]!.execStatusFd!;
    rt.sys.feed(fd, `${JSON.stringify({ stage: "run-as", detail: "setuid(1000): EPERM" })}\n`);
    rt.sys.endOfFile(fd);
    await settle();
    expect(rt.state("n")).toBe("stopped");
    expect(rt.machine.notifySockets.map((s) => s.open)).toEqual([false]);
  });

  it("a service that stopped, or whose main process died, has its socket closed before any reload", () => {
    const rt = notifying();
    rt.start("n");
    rt.stop("n");
    rt.exit("n", 0);
    expect(rt.state("n")).toBe("stopped");
    expect(rt.machine.notifySockets.map((s) => s.open)).toEqual([false]);
    rt.start("n");
    rt.exit("n", 1);
    expect(rt.state("n")).toBe("stopped");
    expect(rt.machine.notifySockets.map((s) => s.open)).toEqual([false, false]);
  });

  it("a flood of refused datagrams is said in full ten times, then counted by the thousand, and the rest at close", () => {
    const rt = notifying();
    rt.start("n");
    const before = rt.machine.lines.length;
    for (let i = 0; i < 2_510; i++) rt.machine.notify(999, { READY: "1" });
    const lines = rt.machine.lines.slice(before);
    expect(lines.filter((line) => line.includes("which may not speak for it"))).toHaveLength(10);
    expect(lines.filter((line) => line.includes("1000 more datagrams dropped or refused"))).toHaveLength(2);
    rt.stop("n");
    rt.exit("n", 0);
    expect(rt.machine.lines.slice(before).filter((line) => line.includes("500 more datagrams dropped or refused"))).toHaveLength(1);
  });

  it("the socket's reading stopping is said at once, even after a flood of bad datagrams", () => {
    const rt = notifying();
    rt.start("n");
    const before = rt.machine.lines.length;
    const socket = rt.machine.notifySockets.at(-1)!;
    for (let i = 0; i < 50; i++) socket.fail(new Error("a datagram with a NUL byte, dropped"));
    socket.fail(Object.assign(new Error(`notify socket ${socket.path}: listener stopped: EBADF`), { stopped: true }));
    const lines = rt.machine.lines.slice(before);
    expect(lines.filter((line) => line.includes("NUL byte"))).toHaveLength(10);
    expect(lines.filter((line) => line.includes("listener stopped: EBADF"))).toHaveLength(1);
  });

  it("without a socket path, a notify service fails to start by its stage", () => {
    const rt = new FakeRuntime([svc("n", "process", { readyNotification: { kind: "notify" } })]);
    rt.start("n");
    expect(rt.set.get("n")?.failed).toBe("readiness: no NOTIFY_SOCKET listener");
  });
});

describe("activation sockets", () => {
  const listening = (path = "/run/s.sock") => svc("s", "process", { socketListen: path, restart: "yes", restartDelayMs: 100 });

  it("are made on the first start and passed again, the same, after a crash", async () => {
    const rt = new FakeRuntime([listening()]);
    rt.start("s");
    // socket-listen goes through the exec helper: let its exec be confirmed.
    await settle();
    const first = rt.sys.spawns[0]!.request.passFds;
    expect(rt.sys.calls.filter((c) => c.startsWith("listen"))).toEqual(["listen /run/s.sock"]);
    expect(rt.sys.spawns[0]!.request.env.LISTEN_FDS).toBe("1");
    rt.exit("s", 1);
    rt.advance(100);
    await settle();
    expect(rt.sys.spawns).toHaveLength(2);
    expect(rt.sys.spawns[1]!.request.passFds).toEqual(first);
    expect(rt.sys.calls.filter((c) => c.startsWith("listen"))).toHaveLength(1);
  });

  it("are replaced once a reload that changed the path applies, and closed when the service goes", async () => {
    const rt = new FakeRuntime([listening()]);
    rt.start("s");
    await settle();
    const fd = rt.sys.spawns[0]!.request.passFds![0]!.fd;
    rt.supervisor.reload(new Map([["s", listening("/run/new.sock")]]), new Map(), new Set());
    expect(rt.sys.calls).not.toContain(`close ${fd}`);
    rt.stop("s");
    rt.exit("s", 0);
    expect(rt.sys.calls).toContain(`close ${fd}`);
    rt.start("s");
    await settle();
    expect(rt.sys.calls.filter((c) => c.startsWith("listen"))).toEqual(["listen /run/s.sock", "listen /run/new.sock"]);
    const newFd = rt.sys.spawns[1]!.request.passFds![0]!.fd;
    rt.stop("s");
    rt.exit("s", 0);
    rt.supervisor.reload(new Map(), new Map(), new Set());
    expect(rt.set.get("s")).toBeUndefined();
    expect(rt.sys.calls).toContain(`close ${newFd}`);
  });
});

describe("the exec helper's report", () => {
  const runAs = (extra: Partial<ServiceSpec> = {}) => svc("web", "process", { runAs: { user: "1000", group: "1000" }, restart: "yes", ...extra });

  it("a failure by stage fails the start, and the helper's exit that follows is no crash", async () => {
    const rt = new FakeRuntime([runAs()]);
    rt.sys.execSucceeds = false;
    rt.start("web");
    const spawned = rt.sys.spawns[0]!;
    expect(spawned.request.credentials).toEqual({ uid: 1000, gid: 1000, groups: [1000] });
    // The helper exits before its report is read: the exit waits for the report.
    rt.exit("web", 126);
    rt.sys.feed(spawned.execStatusFd!, `${JSON.stringify({ stage: "run-as", detail: "setuid(1000): EPERM" })}\n`);
    rt.sys.endOfFile(spawned.execStatusFd!);
    await settle();
    expect(rt.state("web")).toBe("stopped");
    expect(rt.set.get("web")?.failed).toBe("run-as: setuid(1000): EPERM");
    expect(rt.statuses).toContain("FAILED web: run-as: setuid(1000): EPERM");
    rt.advance(60_000);
    expect(rt.sys.spawns).toHaveLength(1);
  });

  it("a garbled report is an exec failure, not silence", async () => {
    const rt = new FakeRuntime([runAs()]);
    rt.sys.execSucceeds = false;
    rt.start("web");
    const fd = rt.sys.spawns[0]!.execStatusFd!;
    rt.sys.feed(fd, "rubbish");
    rt.sys.endOfFile(fd);
    await settle();
    expect(rt.set.get("web")?.failed).toBe('exec the exec helper reported "rubbish"');
  });
});

describe("stopping everything", () => {
  it("resolves false after the longest stop-timeout plus the grace, true when all stopped", async () => {
    const rt = new FakeRuntime([svc("a", "process", { stopTimeoutMs: 1_000 }), svc("b", "process", { stopTimeoutMs: 0, options: new Set(["no-sigterm"]) })]);
    rt.start("a");
    rt.start("b");
    const done = rt.supervisor.stopAll();
    rt.exit("a", 0);
    rt.advance(6_000);
    expect(await done).toBe(false);
    expect(rt.state("b")).toBe("stopping");

    const rt2 = new FakeRuntime([svc("a")]);
    rt2.start("a");
    const stopped = rt2.supervisor.stopAll();
    rt2.exit("a", 0);
    expect(await stopped).toBe(true);
    rt2.start("a");
    expect(rt2.state("a")).toBe("stopped");
  });

  it("stops waiting when hurried (a second SIGTERM)", async () => {
    const rt = new FakeRuntime([svc("a", "process", { stopTimeoutMs: 0, options: new Set(["no-sigterm"]) })]);
    rt.start("a");
    const hurry = new AbortController();
    const done = rt.supervisor.stopAll(hurry.signal);
    hurry.abort();
    expect(await done).toBe(false);
  });
});

describe("buffer logs across a reload", () => {
  it("a reloaded log-buffer-size applies from the next start, keeping what fits", () => {
    const buffered = (size: number) => svc("b", "process", { logType: "buffer", logBufferSize: size });
    const rt = new FakeRuntime([buffered(100)]);
    rt.start("b");
    expect(rt.supervisor.bufferLog("b").limit).toBe(100);
    rt.supervisor.reload(new Map([["b", buffered(50)]]), new Map(), new Set());
    rt.stop("b");
    rt.exit("b", 0);
    rt.start("b");
    expect(rt.supervisor.bufferLog("b").limit).toBe(50);
  });
});

describe("commands nobody waits for", () => {
  it("a command whose waiter left is let go: 1,000 of them on a service that stays starting keep nothing", async () => {
    // A triggered service stays starting until it is triggered.
    const rt = new FakeRuntime([svc("t", "triggered")]);
    for (let i = 0; i < 1_000; i++) {
      const gone = new AbortController();
      const outcome = rt.supervisor.command("start", "t", gone.signal);
      gone.abort();
      expect(await outcome).toBeUndefined();
    }
    expect(rt.state("t")).toBe("starting");
    expect(rt.set.pendingCommands).toBe(0);
    // A command that is waited for still gets its outcome.
    const waited = rt.supervisor.command("start", "t");
    expect(rt.set.pendingCommands).toBe(1);
    rt.supervisor.command("trigger", "t");
    expect(await waited).toEqual({ kind: "done" });
    expect(rt.set.pendingCommands).toBe(0);
  });

  it("one abandoned while still queued goes to the core without an id", async () => {
    const rt = new FakeRuntime([svc("t", "triggered"), svc("other")]);
    let outcome: Promise<unknown> | undefined;
    // Commands dispatched while a batch drains wait in the queue: abandon one there.
    const gone = new AbortController();
    const original = rt.set.handle.bind(rt.set);
    let once = true;
    rt.set.handle = (event) => {
      if (once) {
        once = false;
        outcome = rt.supervisor.command("start", "t", gone.signal);
        gone.abort();
      }
      return original(event);
    };
    rt.start("other");
    expect(await outcome).toBeUndefined();
    expect(rt.state("t")).toBe("starting");
    expect(rt.set.pendingCommands).toBe(0);
  });
});
