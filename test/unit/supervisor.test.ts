import { describe, expect, it } from "vitest";
import { defaultSpec } from "../../src/base/service-spec.ts";
import { SPAWN_TURN_MS } from "../../src/supervisor/supervisor.ts";
import { FakeRuntime } from "./fakes/fake-runtime.ts";
import { SysError } from "../../src/sys/sys.ts";

describe("supervisor loop", () => {
  it("logs an event that throws and goes on with the next one", () => {
    const spec = { ...defaultSpec("a", "process"), command: ["/bin/a"] };
    const rt = new FakeRuntime([spec, { ...spec, name: "b", command: ["/bin/b"] }]);
    const handle = rt.set.handle.bind(rt.set);
    let thrown = false;
    rt.set.handle = (event) => {
      if (!thrown) {
        thrown = true;
        throw new Error("boom");
      }
      return handle(event);
    };
    rt.start("a");
    rt.start("b");
    expect(rt.machine.lines).toContain("tsinit: handling command for a: Error: boom");
    expect(rt.state("b")).toBe("started");
    expect(rt.sys.calls).toContain("spawn /bin/b");
  });

  it("answers a command whose handling throws, so no client waits for ever", async () => {
    const rt = new FakeRuntime([{ ...defaultSpec("a", "process"), command: ["/bin/a"] }]);
    rt.set.handle = () => {
      throw new Error("boom");
    };
    expect(await rt.supervisor.command("start", "a")).toEqual({ kind: "failed", reason: "internal error: Error: boom" });
  });

  it("removes only a stopped service that nothing holds", () => {
    const rt = new FakeRuntime([
      { ...defaultSpec("db", "process"), command: ["/bin/db"] },
      { ...defaultSpec("app", "process"), command: ["/bin/app"], dependsOn: ["db"] },
    ]);
    rt.start("app");
    expect(rt.supervisor.remove("db")).toBe(false);
    rt.stop("db");
    rt.exit("app", 0);
    rt.exit("db", 0);
    expect(rt.state("db")).toBe("stopped");
    expect(rt.supervisor.remove("db")).toBe(true);
    expect(rt.supervisor.service("db")).toBeUndefined();
    expect(rt.supervisor.serviceList().map((r) => r.spec.name)).toEqual(["app"]);
  });

  it("routes a child's exit to its service and reaps orphans quietly", () => {
    const rt = new FakeRuntime([{ ...defaultSpec("a", "process"), command: ["/bin/a"], restart: "no" }]);
    rt.start("a");
    const pid = rt.set.get("a")!.pid!;
    rt.sys.pending.push({ pid: 9999, status: { kind: "exited", code: 0 } }, { pid, status: { kind: "exited", code: 4 } });
    rt.supervisor.reap();
    expect(rt.state("a")).toBe("stopped");
    expect(rt.machine.lines).toContain("[FAILED] a: exited 4 (restart = no)");
  });
});

describe("spawning in turns", () => {
  /**
   * Every spawn costs 1 ms, as a real one costs about that: the clock the supervisor reads moves
   * on by it (timers stay where the fake clock has them, so a turn is `advance(0)`).
   */
  function slowSpawns(specs: ReturnType<typeof defaultSpec>[]): FakeRuntime {
    const rt = new FakeRuntime(specs);
    const { clock } = rt.machine;
    let spent = 0;
    const now = clock.now.bind(clock);
    clock.now = () => now() + spent;
    const spawn = rt.sys.spawn.bind(rt.sys);
    rt.sys.spawn = (request) => {
      spent += 1;
      return spawn(request);
    };
    return rt;
  }
  const processes = (count: number) => Array.from({ length: count }, (_, i) => ({ ...defaultSpec(`s${i}`, "process"), command: [`/bin/s${i}`] }));
  const boot = (names: string[]) => ({ ...defaultSpec("boot", "internal"), waitsFor: names });

  it(`lets the event loop turn after ${SPAWN_TURN_MS} ms of spawns, and spawns each service once`, () => {
    const specs = processes(100);
    const rt = slowSpawns([...specs, boot(specs.map((s) => s.name)), defaultSpec("extra", "internal")]);
    rt.start("boot");
    // One turn's worth is spawned; the rest waits for the next turn of the loop.
    expect(rt.sys.spawns.length).toBe(SPAWN_TURN_MS);
    // Meanwhile a command (a control request, a signal) is handled at once.
    const id = rt.command("start", "extra");
    expect(rt.outcome(id)).toEqual([{ kind: "done" }]);
    expect(rt.sys.spawns.length).toBe(SPAWN_TURN_MS);
    for (let turns = 0; rt.sys.spawns.length < 100 && turns < 100; turns++) rt.advance(0);
    expect(rt.sys.spawns.map((s) => s.request.argv[0])).toEqual(specs.map((s) => `/bin/${s.name}`));
    expect(specs.every((s) => rt.state(s.name) === "started")).toBe(true);
    expect(rt.state("boot")).toBe("started");
  });

  /**
   * As slowSpawns, but the spawns' cost is the fake clock's own time, so that timers armed
   * meanwhile fall due while services still wait for their turn (`advance(0)` then serves one
   * turn: the next one is due SPAWN_TURN_MS later).
   */
  function timedSpawns(specs: ReturnType<typeof defaultSpec>[]): FakeRuntime {
    const rt = new FakeRuntime(specs);
    const spawn = rt.sys.spawn.bind(rt.sys);
    rt.sys.spawn = (request) => {
      rt.machine.clock.time += 1;
      return spawn(request);
    };
    return rt;
  }
  const spawnsOf = (rt: FakeRuntime) => rt.sys.spawns.map((s) => s.request.argv[0]);

  it("counts start-timeout from the spawn, not from when the spawn was queued", () => {
    const specs = processes(100);
    const late = { ...defaultSpec("late", "process"), command: ["/bin/late"], readyNotification: { kind: "pipefd", fd: 3 } as const, startTimeoutMs: 5 };
    const rt = timedSpawns([...specs, late, boot([...specs.map((s) => s.name), "late"])]);
    rt.start("boot");
    expect(rt.sys.spawns.length).toBe(SPAWN_TURN_MS);
    // Its turn comes about 100 ms later, long after 5 ms: it is spawned all the same.
    for (let turns = 0; turns < 100 && !spawnsOf(rt).includes("/bin/late"); turns++) rt.advance(0);
    expect(rt.state("late")).toBe("starting");
    expect(rt.set.get("late")!.failed).toBeUndefined();
    const spawnedAt = rt.spawns.find((s) => s.service === "late")!.at;
    expect(spawnedAt).toBeGreaterThanOrEqual(100);
    // From its spawn it has its 5 ms.
    rt.advance(spawnedAt + 4 - rt.now);
    expect(rt.state("late")).toBe("starting");
    rt.advance(1);
    expect(rt.set.get("late")!.failed).toBe("not ready within 0.005s");
    expect(spawnsOf(rt).length).toBe(101);
  });

  /** db (with a stop-command and a stop-timeout of 5 ms) stopping while 100 boot spawns wait: its stop-command waits behind them. */
  function dbStoppingBehindBoot() {
    const specs = processes(100);
    const db = { ...defaultSpec("db", "process", "/etc/tsinit.d/db"), command: ["/bin/db"], stopCommand: ["/bin/db-stop"], stopTimeoutMs: 5 };
    const rt = timedSpawns([db, ...specs, boot(specs.map((s) => s.name))]);
    rt.start("db");
    const dbPid = rt.set.get("db")!.pid!;
    rt.start("boot");
    rt.stop("db");
    expect(rt.state("db")).toBe("stopping");
    return { rt, db, dbPid };
  }

  it("counts stop-timeout from the stop-command's spawn, not from when it was queued", () => {
    const { rt, dbPid } = dbStoppingBehindBoot();
    for (let turns = 0; turns < 100 && !spawnsOf(rt).includes("/bin/db-stop"); turns++) rt.advance(0);
    const stopSpawnedAt = rt.spawns.find((s) => s.role === "stop")!.at;
    expect(stopSpawnedAt).toBeGreaterThanOrEqual(100);
    // Nothing was killed while the stop-command waited for its turn.
    expect(rt.signals.filter((s) => s.signal === 9)).toEqual([]);
    rt.advance(stopSpawnedAt + 5 - rt.now);
    expect(rt.signals.filter((s) => s.signal === 9).map((s) => s.pid)).toContain(dbPid);
  });

  it("spawns nothing of the queued services when a stop comes first (a shutdown during boot)", async () => {
    const specs = processes(50);
    // start-interruptible too: with no process yet there is nothing to send SIGINT to.
    const script = { ...defaultSpec("script", "scripted"), command: ["/bin/script"], options: new Set(["start-interruptible"]) } as ReturnType<typeof defaultSpec>;
    const rt = slowSpawns([...specs, script, boot([...specs.map((s) => s.name), "script"])]);
    rt.start("boot");
    expect(rt.sys.spawns.length).toBe(SPAWN_TURN_MS);
    const stopped = rt.supervisor.stopAll();
    for (let turns = 0; turns < 100; turns++) rt.advance(0);
    expect(rt.sys.spawns.length).toBe(SPAWN_TURN_MS);
    expect(rt.state("script")).toBe("stopped");
    expect(rt.state("s49")).toBe("stopped");
    expect(rt.signals.filter((s) => s.signal === 2)).toEqual([]);
    // The services that were spawned got their stop signal; once they are gone, all is down.
    for (const spec of specs.slice(0, SPAWN_TURN_MS)) rt.exit(spec.name, { kind: "signaled", signal: 15, core: false });
    expect(await stopped).toBe(true);
  });

  it("spawns a queued service under the description that a reload NAME gave it meanwhile", () => {
    const specs = processes(30);
    const piped = { ...defaultSpec("piped", "process", "/etc/tsinit.d/piped"), command: ["/bin/piped"], logType: "pipe" as const };
    const rt = slowSpawns([...specs, piped, boot([...specs.map((s) => s.name), "piped"])]);
    rt.start("boot");
    expect(rt.state("piped")).toBe("starting");
    // Its log-type changes while its spawn waits: the spawn is made under the new one.
    expect(rt.supervisor.reloadService({ ...piped, logType: "buffer", command: ["/bin/piped", "--new"] })).toBeUndefined();
    for (let turns = 0; turns < 100; turns++) rt.advance(0);
    expect(rt.set.get("piped")!.failed).toBeUndefined();
    expect(rt.state("piped")).toBe("started");
    expect(rt.sys.spawns.filter((s) => s.request.argv[0] === "/bin/piped").map((s) => s.request.argv)).toEqual([["/bin/piped", "--new"]]);
    expect(rt.supervisor.bufferLogs).toBe(1);
  });

  it("drops a queued stop-command that a reload NAME took away, and stops by the signal instead", () => {
    const { rt, db } = dbStoppingBehindBoot();
    expect(rt.supervisor.reloadService({ ...db, stopCommand: undefined })).toBeUndefined();
    // (The signal goes out through the reload's actions, which rt.signals does not see.)
    expect(rt.sys.calls.filter((call) => call.startsWith("kill ") && call.endsWith(" 15"))).not.toEqual([]);
    for (let turns = 0; turns < 100; turns++) rt.advance(0);
    expect(spawnsOf(rt)).not.toContain("/bin/db-stop");
    rt.exit("db", { kind: "signaled", signal: 15, core: false });
    expect(rt.state("db")).toBe("stopped");
  });

  it("spawns nothing more once a shutdown stops waiting (a second SIGTERM, or out of time)", async () => {
    const specs = processes(50);
    const rt = slowSpawns([...specs, boot(specs.map((s) => s.name))]);
    rt.start("boot");
    const hurry = new AbortController();
    const stopped = rt.supervisor.stopAll(hurry.signal);
    hurry.abort();
    expect(await stopped).toBe(false);
    for (let turns = 0; turns < 100; turns++) rt.advance(0);
    expect(rt.sys.spawns.length).toBe(SPAWN_TURN_MS);
  });

  it("spawns nothing more once everything is killed (a shutdown out of time)", () => {
    const specs = processes(50);
    const rt = slowSpawns([...specs, boot(specs.map((s) => s.name))]);
    rt.start("boot");
    rt.supervisor.killEverything();
    for (let turns = 0; turns < 100; turns++) rt.advance(0);
    expect(rt.sys.spawns.length).toBe(SPAWN_TURN_MS);
  });
});

describe("reloads forget what was kept by name", () => {
  // Loaded from files: a reload replaces them (a service added at run time has no file).
  const fromFile = (name: string) => ({ ...defaultSpec(name, "process", `/etc/tsinit.d/${name}`), command: [`/bin/${name}`] });

  it("drops the buffer log of a service once it is gone: at a reload, or at the stop that ends a pending removal", () => {
    const buffered = (name: string) => ({ ...fromFile(name), logType: "buffer" as const });
    const rt = new FakeRuntime([buffered("r0")]);
    rt.start("r0");
    expect(rt.supervisor.bufferLogs).toBe(1);
    for (let round = 1; round <= 50; round++) {
      rt.supervisor.reload(new Map([[`r${round}`, buffered(`r${round}`)]]), new Map(), new Set());
      rt.start(`r${round}`);
      // The old one ran when the reload left it out: it goes once it has stopped.
      rt.stop(`r${round - 1}`);
      rt.exit(`r${round - 1}`, 0);
      expect(rt.set.get(`r${round - 1}`)).toBeUndefined();
      expect(rt.supervisor.bufferLogs).toBe(1);
    }
    rt.stop("r50");
    rt.exit("r50", 0);
    rt.supervisor.reload(new Map([["r50", buffered("r50")]]), new Map(), new Set());
    expect(rt.supervisor.bufferLogs).toBe(1);
    rt.supervisor.reload(new Map(), new Map(), new Set());
    expect(rt.supervisor.bufferLogs).toBe(0);
  });

  it("drops the last STATUS= of a notify service once it is gone", () => {
    const notifying = (name: string) => ({ ...fromFile(name), readyNotification: { kind: "notify" as const } });
    const rt = new FakeRuntime([notifying("r0")], { notifyPath: "/run/n.notify" });
    for (let round = 0; round <= 50; round++) {
      if (round > 0) rt.supervisor.reload(new Map([[`r${round}`, notifying(`r${round}`)]]), new Map(), new Set());
      rt.start(`r${round}`);
      rt.machine.notify(rt.set.get(`r${round}`)!.pid!, { READY: "1", STATUS: `round ${round}` });
      if (round > 0) {
        rt.stop(`r${round - 1}`);
        rt.exit(`r${round - 1}`, 0);
      }
      // The one the reload left out goes with its stop, not at the next reload.
      expect([...rt.supervisor.notifyStatus]).toEqual([[`r${round}`, `round ${round}`]]);
    }
    rt.supervisor.reload(new Map([["r50", notifying("r50")]]), new Map(), new Set());
    expect([...rt.supervisor.notifyStatus]).toEqual([["r50", "round 50"]]);
  });

  it("drops the launcher of a bgprocess whose pid file was never read once a reload finds it gone", () => {
    const daemon = (name: string) => ({ ...fromFile(name), type: "bgprocess" as const, pidFile: `/run/${name}.pid` });
    const rt = new FakeRuntime([daemon("r0")]);
    for (let round = 0; round <= 50; round++) {
      if (round > 0) rt.supervisor.reload(new Map([[`r${round}`, daemon(`r${round}`)]]), new Map(), new Set());
      // The launcher is spawned and its pid file not read yet: then the service is stopped, the
      // launcher killed.
      rt.start(`r${round}`);
      rt.stop(`r${round}`);
      rt.exit(`r${round}`, { kind: "signaled", signal: 15, core: false });
      expect(rt.state(`r${round}`)).toBe("stopped");
    }
    expect(rt.supervisor.bgprocessLaunchers).toBeLessThanOrEqual(2);
    rt.supervisor.reload(new Map(), new Map(), new Set());
    expect(rt.supervisor.bgprocessLaunchers).toBe(0);
  });

  it("removes the cgroups of services no longer loaded, and one still busy once its last process leaves", () => {
    const rt = new FakeRuntime([fromFile("r0")], { cgroupRoot: "/cg" });
    rt.start("r0");
    expect(rt.sys.isDirectory("/cg/r0")).toBe(true);
    for (let round = 1; round <= 20; round++) {
      rt.supervisor.reload(new Map([[`r${round}`, fromFile(`r${round}`)]]), new Map(), new Set());
      rt.start(`r${round}`);
      rt.stop(`r${round - 1}`);
      // The process has left its cgroup by the time it is reaped (the kernel takes an exited
      // process out); in the last round a leftover process stays in r19's.
      rt.sys.files.set(`/cg/r${round - 1}/cgroup.procs`, round === 20 ? "4242\n" : "");
      rt.exit(`r${round - 1}`, 0);
      // The old one goes with its stop, not at the next reload.
      if (round < 20) expect(rt.sys.isDirectory(`/cg/r${round - 1}`)).toBe(false);
    }
    // r19's leftover: rmdir said EBUSY, and its cgroup.events is watched.
    expect(rt.sys.isDirectory("/cg/r19")).toBe(true);
    expect(rt.supervisor.serviceCgroups).toBe(1);
    expect(rt.machine.lines.filter((line) => line.includes("removing cgroup"))).toEqual([]);
    // A change that leaves it populated (another process forked in): still there, and no busy loop.
    const rmdirs = () => rt.sys.calls.filter((call) => call === "rmdir /cg/r19").length;
    const before = rmdirs();
    rt.sys.modified("/cg/r19/cgroup.events");
    expect(rmdirs()).toBe(before + 1);
    expect(rt.sys.isDirectory("/cg/r19")).toBe(true);
    // The last process leaves: populated 0 modifies cgroup.events, and the cgroup goes with no
    // further reload, removal or unload.
    rt.sys.files.set("/cg/r19/cgroup.procs", "");
    rt.sys.modified("/cg/r19/cgroup.events");
    expect(rt.sys.isDirectory("/cg/r19")).toBe(false);
    expect(rt.sys.isDirectory("/cg/r20")).toBe(true);
    expect(rt.supervisor.serviceCgroups).toBe(1);
    expect(rt.machine.lines.filter((line) => line.includes("removing cgroup"))).toEqual([]);
  });

  it("removes every service cgroup at close, waiting for a killed leftover to leave, then leaving one still busy with a note", async () => {
    const rt = new FakeRuntime([fromFile("a"), fromFile("b"), fromFile("c")], { cgroupRoot: "/cg" });
    for (const name of ["a", "b", "c"]) rt.start(name);
    for (const name of ["a", "b", "c"]) {
      rt.stop(name);
      // b's leftover was just killed and leaves soon; c's never does.
      rt.sys.files.set(`/cg/${name}/cgroup.procs`, name === "a" ? "" : "4242\n");
      rt.exit(name, 0);
    }
    let closed = false;
    const closing = rt.supervisor.close().then(() => (closed = true));
    expect(rt.sys.isDirectory("/cg/a")).toBe(false);
    expect(rt.sys.isDirectory("/cg/b")).toBe(true);
    rt.sys.files.set("/cg/b/cgroup.procs", "");
    rt.sys.modified("/cg/b/cgroup.events");
    expect(rt.sys.isDirectory("/cg/b")).toBe(false);
    await Promise.resolve();
    expect(closed).toBe(false);
    rt.advance(999);
    await Promise.resolve();
    expect(closed).toBe(false);
    rt.advance(1);
    await closing;
    expect(rt.sys.isDirectory("/cg/c")).toBe(true);
    expect(rt.machine.lines.filter((line) => line.includes("cgroup /cg/c still holds processes; left in place"))).toHaveLength(1);
    expect(rt.machine.lines.filter((line) => line.includes("/cg/b"))).toEqual([]);
    expect(rt.supervisor.serviceCgroups).toBe(0);
  });

  it("a removal's stop lets go of only its own name's state, looking at no other name", () => {
    // 1,000 services stay. Letting go of what all gone names hold (a whole prune) at each
    // removal's stop asks after every loaded name: a thousand removals cost a million looks.
    const buffered = (name: string) => ({ ...fromFile(name), logType: "buffer" as const });
    const kept = Array.from({ length: 1000 }, (_, i) => `kept${i}`);
    const rt = new FakeRuntime([buffered("gone"), ...kept.map(buffered)], { cgroupRoot: "/cg" });
    rt.start("gone");
    for (const name of kept) rt.start(name);
    rt.supervisor.reload(new Map(kept.map((name) => [name, buffered(name)])), new Map(), new Set());
    const rmdirsBefore = rt.sys.calls.filter((call) => call.startsWith("rmdir")).length;
    rt.stop("gone");
    rt.sys.files.set("/cg/gone/cgroup.procs", "");
    // Each look at whether a name is loaded, from whichever part asks.
    let looks = 0;
    const get = rt.set.get.bind(rt.set);
    rt.set.get = (name: string) => (looks++, get(name));
    rt.exit("gone", 0);
    rt.set.get = get;
    expect(rt.sys.calls.filter((call) => call.startsWith("rmdir")).slice(rmdirsBefore)).toEqual(["rmdir /cg/gone"]);
    expect(rt.supervisor.bufferLogs).toBe(1000);
    expect(rt.sys.isDirectory("/cg/kept0")).toBe(true);
    expect(looks).toBeLessThanOrEqual(20);
  });

  it("removes a busy cgroup that empties between its rmdir and its watch", () => {
    const rt = new FakeRuntime([fromFile("a")], { cgroupRoot: "/cg" });
    rt.start("a");
    rt.stop("a");
    rt.exit("a", 0);
    rt.sys.files.set("/cg/a/cgroup.procs", "4242\n");
    // The last process leaves as the watch is made: no change is seen after it.
    const watch = rt.sys.watchModified.bind(rt.sys);
    rt.sys.watchModified = (path, onModified) => {
      rt.sys.files.set("/cg/a/cgroup.procs", "");
      return watch(path, onModified);
    };
    rt.supervisor.reload(new Map(), new Map(), new Set());
    expect(rt.sys.isDirectory("/cg/a")).toBe(false);
  });

  it("without a watch (an inotify limit), a busy cgroup is tried again at the next prune", () => {
    const rt = new FakeRuntime([fromFile("a")], { cgroupRoot: "/cg" });
    rt.start("a");
    rt.stop("a");
    rt.exit("a", 0);
    rt.sys.files.set("/cg/a/cgroup.procs", "4242\n");
    rt.sys.failWatch.set("/cg/a/cgroup.events", new SysError("inotify_add_watch", 28, "ENOSPC", "/cg/a/cgroup.events"));
    rt.supervisor.reload(new Map(), new Map(), new Set());
    expect(rt.sys.isDirectory("/cg/a")).toBe(true);
    rt.sys.files.set("/cg/a/cgroup.procs", "");
    rt.supervisor.reload(new Map(), new Map(), new Set());
    expect(rt.sys.isDirectory("/cg/a")).toBe(false);
  });

  it("without a watch, a busy cgroup is tried again when another service is forgotten, not only at a reload", () => {
    const rt = new FakeRuntime([fromFile("a"), fromFile("b")], { cgroupRoot: "/cg" });
    rt.start("a");
    rt.start("b");
    // Both removed by a reload while they run: each goes when its stop completes.
    rt.supervisor.reload(new Map(), new Map(), new Set());
    rt.stop("a");
    rt.sys.files.set("/cg/a/cgroup.procs", "4242\n");
    rt.sys.failWatch.set("/cg/a/cgroup.events", new SysError("inotify_add_watch", 28, "ENOSPC", "/cg/a/cgroup.events"));
    rt.exit("a", 0);
    expect(rt.sys.isDirectory("/cg/a")).toBe(true);
    rt.sys.files.set("/cg/a/cgroup.procs", "");
    rt.stop("b");
    rt.sys.files.set("/cg/b/cgroup.procs", "");
    rt.exit("b", 0);
    expect(rt.sys.isDirectory("/cg/a")).toBe(false);
    expect(rt.sys.isDirectory("/cg/b")).toBe(false);
  });

  it("a service loaded again before its old cgroup empties keeps the cgroup", () => {
    const rt = new FakeRuntime([fromFile("a")], { cgroupRoot: "/cg" });
    rt.start("a");
    rt.stop("a");
    rt.exit("a", 0);
    rt.sys.files.set("/cg/a/cgroup.procs", "4242\n");
    rt.supervisor.reload(new Map(), new Map(), new Set());
    rt.supervisor.reload(new Map([["a", fromFile("a")]]), new Map(), new Set());
    rt.start("a");
    rt.sys.files.set("/cg/a/cgroup.procs", "");
    rt.sys.modified("/cg/a/cgroup.events");
    expect(rt.sys.isDirectory("/cg/a")).toBe(true);
    expect(rt.supervisor.serviceCgroups).toBe(1);
  });

});
