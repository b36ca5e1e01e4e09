// Issue 10: dinit's process-level settings are read with dinit's syntax, refused with
// file:line when bad, and reach the spawn request (the exec helper acts on them); log-type =
// pipe and consumer-of share one pipe kept across restarts; kill-all-on-stop signals every
// process before the stop; restart = on-failure follows dinit's list of deliberate signals.
import { describe, expect, it } from "vitest";
import { parseCapabilities } from "../../src/base/capabilities.ts";
import { defaultSpec, type ServiceSpec, type ServiceType } from "../../src/base/service-spec.ts";
import { formatDiagnostic } from "../../src/config/diagnostic.ts";
import { parseService } from "../../src/config/parse.ts";
import { decideRestart, emptyCrashHistory } from "../../src/core/restart.ts";
import { encodeUtmp, UT_TYPE, UTMP_SIZE, utmpId, utmpSlot } from "../../src/base/utmp.ts";
import { Log } from "../../src/log/log.ts";
import { FakeRuntime } from "./fakes/fake-runtime.ts";

const F = "/etc/tsinit.d/web";
const PROC = "type = process\ncommand = /bin/web\n";
const parse = (text: string) => parseService(text, { name: "web", file: F });
const problems = (text: string) => parse(text).diagnostics.map(formatDiagnostic);

describe("parsing dinit's process settings", () => {
  it("reads nice, ioprio, oom-score-adj, rlimit-addrspace, run-in-cgroup, inittab-*, consumer-of", () => {
    const result = parse(
      `${PROC}nice = 5\nioprio = best-effort:3\noom-score-adj = -500\nrlimit-addrspace = 1000000:-\nrun-in-cgroup = ../web\n` +
        "inittab-id = t1\ninittab-line = tty1\nconsumer-of = producer\n",
    );
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(result.spec).toMatchObject({
      nice: 5,
      ioPriority: { class: "best-effort", level: 3 },
      oomScoreAdj: -500,
      rlimitAddrspace: { soft: 1_000_000, hard: Infinity },
      runInCgroup: "../web",
      inittabId: "t1",
      inittabLine: "tty1",
      consumerOf: "producer",
    });
  });

  it("clamps nice into -20..19 without an error, as dinit does", () => {
    expect(parse(`${PROC}nice = 40\n`).spec?.nice).toBe(19);
    expect(parse(`${PROC}nice = -99\n`).spec?.nice).toBe(-20);
  });

  it("reads ioprio's classes: none and idle take no level", () => {
    expect(parse(`${PROC}ioprio = idle\n`).spec?.ioPriority).toEqual({ class: "idle", level: 0 });
    expect(parse(`${PROC}ioprio = realtime:0\n`).spec?.ioPriority).toEqual({ class: "realtime", level: 0 });
  });

  it("reads capabilities as libcap IAB text, += appending, and securebits by name", () => {
    const spec = parse(`${PROC}capabilities = ^cap_net_bind_service,!cap_sys_admin\ncapabilities += cap_chown\nsecurebits = noroot keep-caps\nsecurebits += no-setuid-fixup\n`).spec;
    expect(spec?.capabilities).toEqual({ inheritable: [10, 0], ambient: [10], dropBounding: [21] });
    expect(spec?.securebits).toBe(1 | 16 | 4);
    expect(parse(`${PROC}securebits = 0x11\n`).spec?.securebits).toBe(0x11);
  });

  it("reads kill-all-on-stop and no-new-privs as options acted on", () => {
    const spec = parse("type = internal\noptions = kill-all-on-stop no-new-privs\n").spec;
    expect([...(spec?.options ?? [])]).toEqual(["kill-all-on-stop", "no-new-privs"]);
    expect(problems("type = internal\noptions = kill-all-on-stop\n")).toEqual([]);
  });

  it("reads logfile-uid and logfile-gid as names or numbers", () => {
    expect(parse(`${PROC}logfile-uid = www\nlogfile-gid = adm\n`).spec).toMatchObject({ logfileUser: "www", logfileGroup: "adm" });
    expect(parse(`${PROC}logfile-uid = 33\n`).spec).toMatchObject({ logfileUid: 33 });
  });

  it.each([
    ["nice = high", `${F}:3: nice: "high" is not a whole number (-20 to 19)`],
    ["ioprio = best-effort", `${F}:3: ioprio: "best-effort" is not none, idle, realtime:N or best-effort:N (N from 0 to 7)`],
    ["ioprio = realtime:8", `${F}:3: ioprio: "realtime:8" is not none, idle, realtime:N or best-effort:N (N from 0 to 7)`],
    ["ioprio = idle:3", `${F}:3: ioprio: "idle:3" is not none, idle, realtime:N or best-effort:N (N from 0 to 7)`],
    ["oom-score-adj = 1001", `${F}:3: oom-score-adj: "1001" is not a whole number from -1000 to 1000`],
    ["oom-score-adj = x", `${F}:3: oom-score-adj: "x" is not a whole number from -1000 to 1000`],
    ["rlimit-addrspace = lots", `${F}:3: rlimit-addrspace: "lots" is not a limit (NUMBER, SOFT:HARD, or unlimited)`],
    ["capabilities = cap_flying", `${F}:3: capabilities: "cap_flying" is not a capability (e.g. cap_net_bind_service, ^cap_net_raw, !cap_sys_admin)`],
    ["capabilities = cap_chown,,cap_kill", `${F}:3: capabilities: an empty entry in "cap_chown,,cap_kill"`],
    ["securebits = noroot sometimes", `${F}:3: securebits: "sometimes" is not one of noroot, noroot-locked, no-setuid-fixup, no-setuid-fixup-locked, keep-caps, keep-caps-locked, no-cap-ambient-raise, no-cap-ambient-raise-locked, or a number up to 0xff`],
    ["inittab-id = toolong", `${F}:3: inittab-id: "toolong" is longer than 4 bytes (utmp's ut_id)`],
    ["consumer-of = a b", `${F}:3: consumer-of: expected one service name, found "a b"`],
    ["consumer-of = web", `${F}:3: consumer-of: a service cannot consume its own output`],
    ["nice += 1", `${F}:3: nice: "+=" cannot be used with this setting (only with command, stop-command, capabilities and securebits)`],
  ])("refuses %s with file:line", (line, message) => {
    expect(problems(`${PROC}${line}\n`)).toEqual([message]);
    expect(parse(`${PROC}${line}\n`).spec).toBeUndefined();
  });

  it("refuses consumer-of and kill-all-on-stop on types dinit refuses them for", () => {
    expect(problems("type = scripted\ncommand = /bin/x\nconsumer-of = p\n")).toEqual([`${F}:3: consumer-of: only a process or bgprocess service can be a consumer (this one is scripted)`]);
    expect(problems(`${PROC}options = kill-all-on-stop\n`)).toEqual([`${F}:3: options: kill-all-on-stop is for scripted and internal services only (this one is process)`]);
  });

  it("parses IAB prefixes: none or % inheritable, ^ ambient and inheritable, ! bounding, combined", () => {
    expect(parseCapabilities("%CAP_KILL,!^cap_net_raw,12")).toEqual({ inheritable: [5, 13, 12], ambient: [13], dropBounding: [13] });
  });
});

function svc(name: string, type: ServiceType = "process", extra: Partial<ServiceSpec> = {}): ServiceSpec {
  const command = type === "internal" ? undefined : [`/bin/${name}`];
  return { ...defaultSpec(name, type, `/etc/tsinit.d/${name}`), command, ...extra };
}

describe("what reaches the spawn request", () => {
  it("nice, ioprio, oom-score-adj, cgroup, capabilities, securebits and no-new-privs go to the exec helper", () => {
    const rt = new FakeRuntime([
      svc("web", "process", {
        nice: 5,
        ioPriority: { class: "idle", level: 0 },
        oomScoreAdj: 300,
        runInCgroup: "/web",
        capabilities: { inheritable: [10], ambient: [10], dropBounding: [] },
        securebits: 1,
        rlimitAddrspace: { soft: 4096, hard: 8192 },
        options: new Set(["no-new-privs"]),
      }),
    ]);
    rt.start("web");
    const request = rt.machine.sys.spawns.at(-1)!.request;
    expect(request.attributes).toEqual({ nice: 5, ioprio: 3 << 13, oomScoreAdj: 300, cgroup: "/web", capabilities: { inheritable: [10], ambient: [10], dropBounding: [] }, securebits: 1, noNewPrivs: true });
    expect(request.rlimits).toEqual([{ resource: "addrspace", soft: 4096, hard: 8192 }]);
    // Started through the helper: started once exec is confirmed.
    expect(rt.machine.sys.spawns.at(-1)!.execStatusFd).toBeDefined();
  });

  it("a service without them needs no helper", () => {
    const rt = new FakeRuntime([svc("plain")]);
    rt.start("plain");
    expect(rt.machine.sys.spawns.at(-1)!.request.attributes).toBeUndefined();
  });

  it("keeps its own oom-score-adj: tsinit does not write its old value over it, nor move a run-in-cgroup service", () => {
    const rt = new FakeRuntime([svc("web", "process", { oomScoreAdj: 300, runInCgroup: "/x" })], { childOomScoreAdj: "0", cgroupRoot: "/sys/fs/cgroup/tsinit" });
    rt.start("web");
    const pid = rt.machine.sys.spawns.at(-1)!.pid!;
    expect(rt.machine.sys.files.get(`/proc/${pid}/oom_score_adj`)).toBeUndefined();
    expect(rt.machine.sys.files.get(`/sys/fs/cgroup/tsinit/web/cgroup.procs`)).toBeUndefined();
  });
});

describe("log-type = pipe and consumer-of", () => {
  const producer = svc("producer", "process", { logType: "pipe", restart: "yes" });
  const consumer = svc("logger", "process", { consumerOf: "producer", restart: "yes" });

  it("gives the producer's stdout and the consumer's stdin the two ends of one pipe, the same across restarts", () => {
    const rt = new FakeRuntime([producer, consumer]);
    rt.start("logger");
    rt.start("producer");
    const [first, second] = rt.machine.sys.spawns.map((s) => s.request);
    expect(first!.stdin.kind).toBe("fd");
    expect(second!.stdout.kind).toBe("fd");
    const read = first!.stdin.kind === "fd" ? first!.stdin.fd : -1;
    const write = second!.stdout.kind === "fd" ? second!.stdout.fd : -1;
    expect(write).toBe(read + 1);
    // Both sides restart: the same pipe, and tsinit never closed it.
    rt.exit("producer", 1);
    rt.exit("logger", 1);
    rt.advance(1_000);
    const again = rt.machine.sys.spawns.slice(2).map((s) => s.request);
    expect(again.find((r) => r.argv[0] === "/bin/logger")?.stdin).toEqual({ kind: "fd", fd: read });
    expect(again.find((r) => r.argv[0] === "/bin/producer")?.stdout).toEqual({ kind: "fd", fd: write });
    expect(rt.machine.sys.calls.filter((c) => c === `close ${read}` || c === `close ${write}`)).toEqual([]);
  });

  /** Starts logger and producer (not restarting), stops both; the pipe's two fds. */
  function pipedThenStopped(): { rt: FakeRuntime; fds: string[] } {
    const once = { restart: "no" as const };
    const rt = new FakeRuntime([{ ...producer, ...once }, { ...consumer, ...once }]);
    rt.start("logger");
    rt.start("producer");
    const stdin = rt.machine.sys.spawns[0]!.request.stdin;
    const read = stdin.kind === "fd" ? stdin.fd : -1;
    rt.command("stop", "producer");
    rt.exit("producer", { kind: "signaled", signal: 15, core: false });
    rt.command("stop", "logger");
    rt.exit("logger", { kind: "signaled", signal: 15, core: false });
    expect([rt.state("producer"), rt.state("logger")]).toEqual(["stopped", "stopped"]);
    const fds = [`close ${read}`, `close ${read + 1}`];
    expect(rt.machine.sys.calls.filter((c) => fds.includes(c))).toEqual([]);
    return { rt, fds };
  }

  it("closes the pipe when reload NAME takes the producer off log-type = pipe", () => {
    const { rt, fds } = pipedThenStopped();
    expect(rt.supervisor.reloadService(svc("producer"))).toBeUndefined();
    expect(rt.machine.sys.calls.filter((c) => fds.includes(c))).toEqual(fds);
  });

  it("closes the pipe when the producer is unloaded", () => {
    const { rt, fds } = pipedThenStopped();
    expect(rt.supervisor.unload("logger")).toBeUndefined();
    expect(rt.supervisor.unload("producer")).toBeUndefined();
    expect(rt.machine.sys.calls.filter((c) => fds.includes(c))).toEqual(fds);
  });

  it("fails the consumer's start, naming why, when the producer does not log to a pipe", () => {
    const rt = new FakeRuntime([svc("producer"), consumer]);
    rt.start("logger");
    expect(rt.statuses).toEqual(["FAILED logger: consumer-of: producer has log-type = none, not pipe"]);
  });

  it("refuses a second consumer of one producer", () => {
    const rt = new FakeRuntime([producer, consumer, svc("other", "process", { consumerOf: "producer" })]);
    rt.start("logger");
    expect(rt.statuses).toEqual(["FAILED logger: consumer-of: producer has more than one consumer (logger, other); a pipe has one reader"]);
  });
});

describe("kill-all-on-stop", () => {
  it("sends TERM to every process, then the stop goes on once none is left (or KILL after the pause)", async () => {
    const rt = new FakeRuntime([svc("final", "scripted", { stopCommand: ["/bin/umount-all"], options: new Set(["kill-all-on-stop"]) })]);
    rt.start("final");
    rt.exit("final", 0);
    expect(rt.state("final")).toBe("started");
    rt.stop("final");
    expect(rt.state("final")).toBe("stopping");
    expect(rt.machine.sys.calls).toContain("kill -1 15");
    expect(rt.machine.sys.spawns.map((s) => s.request.argv[0])).toEqual(["/bin/final"]);
    rt.advance(1_000);
    await Promise.resolve();
    await Promise.resolve();
    expect(rt.machine.sys.calls).toContain("kill -1 9");
    expect(rt.machine.sys.spawns.map((s) => s.request.argv[0])).toEqual(["/bin/final", "/bin/umount-all"]);
  });
});

describe("restart = on-failure, as dinit documents", () => {
  const spec = svc("web", "process", { restart: "on-failure" });
  const decide = (status: Parameters<typeof decideRestart>[1]) => decideRestart(spec, status, 5_000, emptyCrashHistory(), 0, () => 0).restart;

  it("restarts after a non-zero exit or a signal that is not a deliberate end", () => {
    expect(decide({ kind: "exited", code: 2 })).toBe(true);
    for (const signal of [9, 11, 6, 3]) expect(decide({ kind: "signaled", signal, core: false })).toBe(true);
  });

  it("does not restart after exit 0 or SIGHUP, SIGINT, SIGUSR1, SIGUSR2, SIGTERM", () => {
    expect(decide({ kind: "exited", code: 0 })).toBe(false);
    for (const signal of [1, 2, 10, 12, 15]) expect(decide({ kind: "signaled", signal, core: false })).toBe(false);
  });
});

describe("restart-limit-interval and restart-limit-count, as dinit documents", () => {
  it("restarts at most restart-limit-count times within the interval, then not again", () => {
    const spec = svc("web", "process", { restart: "yes", restartLimitCount: 3, restartLimitIntervalMs: 10_000, restartDelayMs: 0 });
    let history = emptyCrashHistory();
    const restarted: boolean[] = [];
    for (const now of [1_000, 2_000, 3_000, 4_000]) {
      const decision = decideRestart(spec, { kind: "exited", code: 1 }, 100, history, now, () => 0);
      restarted.push(decision.restart);
      history = decision.history;
    }
    expect(restarted).toEqual([true, true, true, false]);
  });

  it("counts only the restarts within the last interval, and 0 means no limit", () => {
    const spec = svc("web", "process", { restart: "yes", restartLimitCount: 2, restartLimitIntervalMs: 10_000, restartDelayMs: 0 });
    let history = emptyCrashHistory();
    const restarted: boolean[] = [];
    for (const now of [0, 1_000, 11_500, 12_000, 12_500]) {
      const decision = decideRestart(spec, { kind: "exited", code: 1 }, 100, history, now, () => 0);
      restarted.push(decision.restart);
      history = decision.history;
    }
    expect(restarted).toEqual([true, true, true, true, false]);
    const unlimited = svc("web", "process", { restart: "yes", restartLimitCount: 0, restartDelayMs: 0 });
    let h = emptyCrashHistory();
    for (let i = 0; i < 50; i++) {
      const d = decideRestart(unlimited, { kind: "exited", code: 1 }, 100, h, i, () => 0);
      expect(d.restart).toBe(true);
      h = d.history;
    }
  });
});

describe("utmp records for inittab-id and inittab-line", () => {
  it("lays a record out as glibc's struct utmp, and reuses the slot of the same ut_id", () => {
    const record = encodeUtmp({ type: UT_TYPE.INIT_PROCESS, pid: 42, line: "ttyS0", id: "s0", session: 42, timeMs: 1_500 });
    expect(record.length).toBe(UTMP_SIZE);
    const view = new DataView(record.buffer);
    expect([view.getInt16(0, true), view.getInt32(4, true), view.getInt32(336, true), view.getInt32(340, true), view.getInt32(344, true)]).toEqual([5, 42, 42, 1, 500_000]);
    expect(new TextDecoder().decode(record.subarray(8, 13))).toBe("ttyS0");
    expect(new TextDecoder().decode(record.subarray(40, 42))).toBe("s0");
    const file = new Uint8Array([...encodeUtmp({ type: UT_TYPE.BOOT_TIME, pid: 0, line: "~", id: "~~", timeMs: 0 }), ...record]);
    expect(utmpSlot(file, "s0")).toBe(1);
    expect(utmpSlot(file, "s1")).toBe(2);
    expect(utmpId(undefined, "ttyS1")).toBe("tyS1");
  });

  it("the supervisor writes INIT_PROCESS at start and DEAD_PROCESS (utmp and wtmp) at the end", () => {
    const rt = new FakeRuntime([svc("getty", "process", { inittabId: "s1", inittabLine: "ttyS1" })]);
    rt.start("getty");
    const utmp = () => rt.machine.sys.written.get("/var/run/utmp")!;
    expect(utmp().length).toBe(UTMP_SIZE);
    expect(new DataView(utmp().buffer).getInt16(0, true)).toBe(UT_TYPE.INIT_PROCESS);
    rt.exit("getty", 3);
    expect(utmp().length).toBe(UTMP_SIZE);
    expect(new DataView(utmp().buffer).getInt16(0, true)).toBe(UT_TYPE.DEAD_PROCESS);
    expect(new DataView(utmp().buffer).getInt16(334, true)).toBe(3);
    expect(rt.machine.sys.written.get("/var/log/wtmp")?.length).toBe(UTMP_SIZE);
  });
});

/** Every utmp record of a utmp or wtmp file as [ut_type, ut_pid], in file order. */
function utmpRecords(rt: FakeRuntime, path: string): [number, number][] {
  const bytes = rt.machine.sys.written.get(path) ?? new Uint8Array(0);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: [number, number][] = [];
  for (let at = 0; at + UTMP_SIZE <= bytes.length; at += UTMP_SIZE) records.push([view.getInt16(at, true), view.getInt32(at + 4, true)]);
  return records;
}

describe("every utmp record tsinit wrote is closed when its process is reaped", () => {
  const KILLED = { kind: "signaled", signal: 9, core: false } as const;
  /** A getty that never says it is ready: its start-timeout (1 s) fails it and SIGKILLs it. */
  const getty = (extra: Partial<ServiceSpec> = {}) =>
    svc("getty", "process", { inittabId: "s1", inittabLine: "ttyS1", readyNotification: { kind: "pipefd", fd: 3 }, startTimeoutMs: 1_000, ...extra });

  it("a start that fails: the process killed at the start-timeout is reaped after the failure", () => {
    const rt = new FakeRuntime([getty()]);
    rt.start("getty");
    const pid = rt.set.get("getty")!.pid!;
    expect(utmpRecords(rt, "/var/run/utmp")).toEqual([[UT_TYPE.INIT_PROCESS, pid]]);
    rt.advance(1_000);
    expect(rt.state("getty")).toBe("stopped");
    // The failure let go of the pid; the process is reaped only now.
    expect(rt.set.get("getty")!.pid).toBeUndefined();
    rt.exitPid(pid, KILLED);
    expect(utmpRecords(rt, "/var/run/utmp")).toEqual([[UT_TYPE.DEAD_PROCESS, pid]]);
    expect(utmpRecords(rt, "/var/log/wtmp")).toEqual([[UT_TYPE.DEAD_PROCESS, pid]]);
  });

  it("a service removed and forgotten before its process is reaped", () => {
    const rt = new FakeRuntime([getty()]);
    rt.start("getty");
    const pid = rt.set.get("getty")!.pid!;
    rt.supervisor.reload(new Map(), new Map(), new Set());
    rt.advance(1_000);
    expect(rt.set.get("getty")).toBeUndefined();
    rt.exitPid(pid, KILLED);
    expect(utmpRecords(rt, "/var/run/utmp")).toEqual([[UT_TYPE.DEAD_PROCESS, pid]]);
  });

  it("an exec that fails in the helper: the record is closed as the helper is reaped", async () => {
    const rt = new FakeRuntime([getty({ runAs: { user: "1000", group: "1000" } })]);
    rt.sys.execSucceeds = false;
    rt.start("getty");
    const pid = rt.set.get("getty")!.pid!;
    expect(utmpRecords(rt, "/var/run/utmp")).toEqual([[UT_TYPE.INIT_PROCESS, pid]]);
    await rt.failExec("getty", "run-as", "setuid(1000): EPERM");
    expect(rt.state("getty")).toBe("stopped");
    rt.exitPid(pid, 127);
    expect(utmpRecords(rt, "/var/run/utmp")).toEqual([[UT_TYPE.DEAD_PROCESS, pid]]);
  });

  it("a service started again before its old process is reaped: each record closes with its own process", () => {
    const rt = new FakeRuntime([getty()]);
    rt.start("getty");
    const first = rt.set.get("getty")!.pid!;
    rt.advance(1_000);
    // Failed at its start-timeout, and started again at once.
    rt.start("getty");
    const second = rt.set.get("getty")!.pid!;
    expect(second).not.toBe(first);
    rt.exitPid(first, KILLED);
    // The same ut_id's slot: the second process's record is the one in utmp, untouched.
    expect(utmpRecords(rt, "/var/run/utmp")).toEqual([[UT_TYPE.INIT_PROCESS, second]]);
    expect(utmpRecords(rt, "/var/log/wtmp")).toEqual([[UT_TYPE.DEAD_PROCESS, first]]);
    rt.exit("getty", 0);
    expect(utmpRecords(rt, "/var/log/wtmp")).toEqual([[UT_TYPE.DEAD_PROCESS, first], [UT_TYPE.DEAD_PROCESS, second]]);
  });

  it("a process that was never given a record gets no DEAD_PROCESS", () => {
    const rt = new FakeRuntime([svc("plain")]);
    rt.start("plain");
    rt.exit("plain", 0);
    expect(rt.machine.sys.written.has("/var/run/utmp")).toBe(false);
  });
});

describe("starts-rwfs", () => {
  it("once such a service started: the boot's wtmp record (once), and the control socket is tried again", () => {
    let retried = 0;
    const rt = new FakeRuntime([svc("rootrw", "scripted", { options: new Set(["starts-rwfs"]) }), svc("late", "scripted", { options: new Set(["starts-rwfs"]) })], { startsRwfs: () => retried++ });
    rt.start("rootrw");
    expect(rt.machine.sys.written.get("/var/log/wtmp")).toBeUndefined();
    rt.exit("rootrw", 0);
    const wtmp = rt.machine.sys.written.get("/var/log/wtmp")!;
    expect(wtmp.length).toBe(UTMP_SIZE);
    expect(new DataView(wtmp.buffer).getInt16(0, true)).toBe(UT_TYPE.BOOT_TIME);
    expect(new TextDecoder().decode(wtmp.subarray(44, 50))).toBe("reboot");
    rt.start("late");
    rt.exit("late", 0);
    expect(rt.machine.sys.written.get("/var/log/wtmp")!.length).toBe(UTMP_SIZE);
    expect(retried).toBe(2);
  });
});

describe("starts-log", () => {
  it("calls the supervisor's startsLog once such a service has started", () => {
    let opened = 0;
    const rt = new FakeRuntime([svc("syslogd", "process", { options: new Set(["starts-log"]) }), svc("other")], { startsLog: () => opened++ });
    rt.start("other");
    expect(opened).toBe(0);
    rt.start("syslogd");
    expect(opened).toBe(1);
  });

  it("a log whose sink takes syslog records sends them there (facility daemon) instead of kmsg; kmsg again when it does not", () => {
    const records: string[] = [];
    const kmsg: string[] = [];
    const consoleLines: string[] = [];
    let takes = true;
    const log = new Log(
      { console: (line) => void consoleLines.push(line), kmsg: (record) => (kmsg.push(record), true), syslog: (record) => (records.push(record), takes) },
      { consoleThreshold: 6, kernelConsoleLevel: 0 },
    );
    log.warn("disk nearly full");
    expect(records).toEqual(["<28>tsinit: disk nearly full"]);
    expect(kmsg).toEqual([]);
    expect(consoleLines).toEqual(["tsinit: disk nearly full"]);
    takes = false;
    log.error("gone");
    expect(kmsg).toEqual(["<3>tsinit: gone"]);
  });
});

describe("signal-process-only", () => {
  it("signals the main process alone when stopping, and leaves what it left behind", () => {
    const rt = new FakeRuntime([svc("web", "process", { options: new Set(["signal-process-only"]) })]);
    rt.start("web");
    const pid = rt.machine.sys.spawns.at(-1)!.pid!;
    rt.stop("web");
    expect(rt.machine.sys.calls.filter((c) => c.startsWith("kill "))).toEqual([`kill ${pid} 15`]);
    rt.exit("web", { kind: "signaled", signal: 15, core: false });
    expect(rt.state("web")).toBe("stopped");
    // No SIGKILL to its group after stop-timeout: only the one TERM to the process.
    rt.advance(20_000);
    expect(rt.machine.sys.calls.filter((c) => c.startsWith("kill "))).toEqual([`kill ${pid} 15`]);
  });
});

describe("socket-uid and socket-gid", () => {
  it("are read as names or numbers, and the socket is made with that owner (a name brings its primary group)", () => {
    expect(parse(`${PROC}socket-listen = /run/web.sock\nsocket-uid = www\nsocket-gid = 4\n`).spec).toMatchObject({ socketUser: "www", socketGid: 4 });
    const rt = new FakeRuntime([svc("web", "process", { socketListen: "/run/web.sock", socketUser: "www" })]);
    rt.machine.sys.files.set("/etc/passwd", "root:x:0:0::/root:/bin/sh\nwww:x:33:34::/var/www:/bin/sh\n");
    rt.machine.sys.files.set("/etc/group", "root:x:0:\nwww:x:34:\n");
    rt.start("web");
    expect(rt.machine.sys.listenOwners).toEqual([{ uid: 33, gid: 34 }]);
  });

  it("a name that is not in /etc/passwd fails the start, naming it", () => {
    const rt = new FakeRuntime([svc("web", "process", { socketListen: "/run/web.sock", socketUser: "ghost" })]);
    rt.machine.sys.files.set("/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
    rt.start("web");
    expect(rt.statuses).toEqual(["FAILED web: socket-listen: socket-uid: no user ghost in /etc/passwd"]);
  });
});
