// bun bench/services.ts (as root): tsinit in supervisor mode against runit's runsvdir, each as
// the PID 1 of a fresh PID namespace, watched from the host's /proc. Measures starting 200
// services (a DAG for tsinit), crash-to-respawn latency, and the supervisor's memory with the
// 200 services up; then, at scale, starting 2,000 services, crash-to-respawn with 2,000 loaded
// and `initctl list --json` over 2,000. Runs alternate ABBA, BENCH_RUNS times each (default
// 10; BENCH_LARGE_RUNS, default 3, for the 2,000); prints a markdown table of medians and
// ranges with the ratio tsinit/runit. Then, tsinit alone, 10,000 services (BENCH_HUGE_SERVICES)
// with no dependencies: launch to the first control answer, to all running, and the stop;
// BENCH_COMPARE=PATH runs another tsinit executable beside it, ABBA (a before-and-after).
// BENCH_PARTS=small, large or huge (comma-separated) runs some of them. Method:
// docs/bench-services.md.

import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { childrenOf } from "../test/ns/harness.ts";
import { layeredDag } from "../test/fixtures/dag.ts";

const RUNS = positiveInt("BENCH_RUNS", 10);
const CRASHES = positiveInt("BENCH_CRASHES", 100);
const LAYERS = 20;
const WIDTH = 10;
const SERVICES = LAYERS * WIDTH;
const LARGE_RUNS = positiveInt("BENCH_LARGE_RUNS", 3);
/** Crashes per large run (each after LONG_UP_MS up, so runsv restarts at once too). */
const LARGE_CRASHES = positiveInt("BENCH_LARGE_CRASHES", 5);
const LARGE_LAYERS = 20;
const LARGE_WIDTH = 100;
const LARGE_SERVICES = LARGE_LAYERS * LARGE_WIDTH;
/** `initctl list --json` calls per large tsinit run. */
const LISTS = 5;
const HUGE_SERVICES = positiveInt("BENCH_HUGE_SERVICES", 10_000);
const HUGE_RUNS = positiveInt("BENCH_HUGE_RUNS", 3);
const PARTS = new Set((process.env.BENCH_PARTS ?? "small,large,huge").split(","));
const TSINIT = resolve(process.env.TSINIT ?? join(import.meta.dir, "../dist/tsinit"));
/** Another tsinit executable run beside TSINIT in the huge part (say, the one before a change). */
const COMPARE = process.env.BENCH_COMPARE === undefined ? undefined : resolve(process.env.BENCH_COMPARE);

const START_TIMEOUT_MS = 30_000;
const RESPAWN_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 30_000;
/** 10,000 services: a start and a stop before the supervisor runtime rework took half a minute. */
const HUGE_TIMEOUT_MS = 120_000;
const TEARDOWN_TIMEOUT_MS = 10_000;
/** Between "all 200 running" and reading memory, so the supervisor is idle, not mid-burst. */
const SETTLE_MS = 1_000;
/** How long a crashing service runs before the bench kills it: under and over runsv's 1 s. */
const QUICK_UP_MS = 100;
const LONG_UP_MS = 1_200;
/** After a kill, poll without sleeping for this long, then every POLL_MS. */
const BUSY_POLL_MS = 20;
const POLL_MS = 1;

const TARGETS = { startMs: 1_000, respawnMs: 10, rssKB: 32_000_000 / 1024, largeStartMs: 1_000, largeRespawnMs: 5, listMs: 50 };

function positiveInt(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name}=${process.env[name]}: want a positive integer`);
  return value;
}

// --- /proc -------------------------------------------------------------------

function commOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trimEnd();
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

function pidNamespace(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** Every host pid whose PID namespace is `ns` (a whole /proc scan: for checks, not for timing). */
function processesIn(ns: string): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => pidNamespace(pid) === ns);
}

/** Every process below `pid1`, by host pid. */
function descendants(pid1: number): number[] {
  const found: number[] = [];
  const work = [pid1];
  for (let pid = work.pop(); pid !== undefined; pid = work.pop()) {
    for (const child of childrenOf(pid)) {
      found.push(child);
      work.push(child);
    }
  }
  return found;
}

interface Memory {
  rssKB: number;
  pssKB: number;
  processes: number;
}

function smapsRollup(pid: number): { rssKB: number; pssKB: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text);
    if (!match) throw new Error(`no ${name} in /proc/${pid}/smaps_rollup`);
    return Number(match[1]);
  };
  return { rssKB: field("Rss"), pssKB: field("Pss") };
}

/** Rss and Pss summed over the supervision processes: PID 1 and every non-`sleep` below it. */
function supervisorMemory(pid1: number): Memory {
  const pids = [pid1, ...descendants(pid1).filter((pid) => commOf(pid) !== "sleep")];
  const total = { rssKB: 0, pssKB: 0, processes: pids.length };
  for (const pid of pids) {
    const { rssKB, pssKB } = smapsRollup(pid);
    total.rssKB += rssKB;
    total.pssKB += pssKB;
  }
  return total;
}

/**
 * Counts the `sleep` processes below a PID 1, cheaply enough to run every millisecond: a pid
 * seen as `sleep` is not read again, nor is a supervisor (runsv) whose `sleep` was seen.
 */
class SleepCounter {
  readonly sleeps = new Set<number>();
  private readonly settled = new Set<number>();

  count(pid1: number): number {
    const visit = (pid: number): void => {
      for (const child of childrenOf(pid)) {
        if (this.sleeps.has(child) || this.settled.has(child)) continue;
        const comm = commOf(child);
        if (comm === "sleep") {
          this.sleeps.add(child);
          if (pid !== pid1) this.settled.add(pid);
        } else if (comm !== undefined) {
          visit(child);
        }
      }
    };
    visit(pid1);
    return this.sleeps.size;
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {}
}

// --- namespaces --------------------------------------------------------------

/** One supervisor as the PID 1 of a fresh PID namespace (unshare --pid --fork --mount-proc). */
class Namespace {
  /** Every namespace not yet torn down, for the exit and signal handlers. */
  static readonly live = new Set<Namespace>();

  readonly proc: ReturnType<typeof Bun.spawn>;
  /** performance.now() just before spawning unshare. */
  readonly launchedAt: number;
  /** The host pid of the namespace's PID 1 once it has exec'd the supervisor. */
  pid1 = 0;
  /** /proc/PID/ns/pid of PID 1, e.g. pid:[4026532291]. */
  ns: string | undefined;
  exitCode: number | undefined;
  output = "";
  /** For tsinit: how many `[  OK  ] started sN-M` lines arrived, and when the last one did. */
  startedLines = 0;
  lastStartedAt = 0;

  constructor(readonly argv: string[]) {
    this.launchedAt = performance.now();
    this.proc = Bun.spawn(["unshare", "--pid", "--fork", "--mount-proc", ...argv], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    Namespace.live.add(this);
    void this.proc.exited.then((code) => (this.exitCode = code));
    void this.collect(this.proc.stdout as ReadableStream<Uint8Array>);
    void this.collect(this.proc.stderr as ReadableStream<Uint8Array>);
  }

  /** Looks for PID 1 (unshare's child once it no longer runs unshare); true once known. */
  findPid1(): boolean {
    if (this.pid1) return true;
    const child = childrenOf(this.proc.pid)[0];
    if (child === undefined) return false;
    this.ns ??= pidNamespace(child);
    const comm = commOf(child);
    if (comm === undefined || comm === "unshare") return false;
    this.pid1 = child;
    return true;
  }

  failure(what: string): Error {
    return new Error(`${this.argv[0]}: ${what}\n--- output ---\n${this.output.slice(-3000)}--- end ---`);
  }

  checkRunning(): void {
    if (this.exitCode !== undefined) throw this.failure(`unshare exited (${this.exitCode}) too early`);
  }

  /** SIGKILLs whatever is left: PID 1 (the kernel then kills the rest of the namespace) and unshare. */
  kill(): void {
    if (this.exitCode !== undefined) return;
    for (const pid of [this.pid1, this.proc.pid]) if (pid) killQuietly(pid);
  }

  /** Kills, waits for unshare to end and for no process to be left in the namespace. */
  async end(): Promise<void> {
    this.kill();
    const deadline = performance.now() + TEARDOWN_TIMEOUT_MS;
    for (;;) {
      const left = this.exitCode === undefined ? [this.proc.pid] : this.ns ? processesIn(this.ns) : [];
      if (left.length === 0) break;
      if (performance.now() > deadline) throw new Error(`namespace ${this.ns} not torn down: pids ${left.join(" ")} remain`);
      this.kill();
      // Only if unshare is gone: then these are the namespace's own, so ours to kill.
      if (this.exitCode !== undefined) for (const pid of left) killQuietly(pid);
      await Bun.sleep(10);
    }
    Namespace.live.delete(this);
  }

  private async collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let partial = "";
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      this.output += text;
      const lines = (partial + text).split("\n");
      partial = lines.pop()!;
      for (const line of lines) {
        if (/^\[  OK  \] started s\d+-\d+$/.test(line)) {
          this.startedLines++;
          this.lastStartedAt = performance.now();
        }
      }
    }
  }
}

/** Runs `body` with a namespace that is torn down afterwards whatever happens. */
async function withNamespace<T>(argv: string[], body: (ns: Namespace) => Promise<T>): Promise<T> {
  const ns = new Namespace(argv);
  let result: T;
  try {
    result = await body(ns);
  } catch (error) {
    await ns.end().catch((teardown) => console.error(`also: ${teardown}`));
    throw error;
  }
  await ns.end();
  return result;
}

/** The bench's scratch directory, removed at the end and on a signal. */
let scratch: string | undefined;

function killAllNamespaces(): void {
  for (const ns of Namespace.live) ns.kill();
}
process.on("exit", killAllNamespaces);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    killAllNamespaces();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const)[signal]);
  });
}

/** The promise's value, or undefined after `ms` (the timer is cleared, so it holds nothing alive). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, ms, undefined)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `probe` every POLL_MS (busily for the first `busyMs`) until it returns a value. */
async function poll<T>(what: string, ns: Namespace, probe: () => T | undefined, timeoutMs: number, busyMs = 0): Promise<T> {
  const start = performance.now();
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    const elapsed = performance.now() - start;
    if (elapsed > timeoutMs) throw ns.failure(`timed out after ${timeoutMs} ms waiting for ${what}`);
    ns.checkRunning();
    if (elapsed >= busyMs) await Bun.sleep(POLL_MS);
  }
}

// --- the two supervisors ------------------------------------------------------

/** A fixed pseudo-random DAG: 20 layers of 10, each service depending on 1 or 2 of the layer below. */
function dag(): Map<string, string[]> {
  return layeredDag(LAYERS, WIDTH, 2);
}

interface Supervisor {
  name: string;
  /**
   * Writes the service definitions under `dir`; returns the argv to run after unshare.
   * `restart`: every service restarts at once; or only the one named `restart`.
   */
  setup(dir: string, services: Map<string, string[]>, restart: boolean | string): string[];
  /** Ends PID 1 the way the supervisor is meant to be ended; returns how long it took, if that means anything. */
  stop(ns: Namespace, timeoutMs?: number): Promise<number | undefined>;
}

/** The crash service sleeps a second longer, so its process can be told from the others. */
const CRASH = "crash";
function sleepSeconds(name: string): number {
  return name === CRASH ? 601 : 600;
}

function write(path: string, text: string, mode = 0o644): void {
  writeFileSync(path, text);
  chmodSync(path, mode);
}

function tsinitSupervisor(binary: string, name = "tsinit"): Supervisor {
  return {
    name,
    setup(dir, services, restart) {
      mkdirSync(dir, { recursive: true });
      const names = [...services.keys()];
      write(join(dir, "boot"), `type = internal\n${names.map((name) => `waits-for = ${name}\n`).join("")}`);
      for (const [name, deps] of services) {
        const restarts = restart === true || restart === name;
        const restartLines = restarts ? "restart = yes\nrestart-delay = 0\nrestart-limit-count = 0\n" : "";
        // dinit's default type is internal: a process service must say so.
        write(join(dir, name), `type = process\ncommand = /bin/sleep ${sleepSeconds(name)}\n${restartLines}${deps.map((dep) => `depends-on = ${dep}\n`).join("")}`);
      }
      return [binary, "--services-dir", dir];
    },
    async stop(ns, timeoutMs = STOP_TIMEOUT_MS) {
      const start = performance.now();
      process.kill(ns.pid1, "SIGTERM");
      const code = await within(ns.proc.exited, timeoutMs);
      if (code === undefined) throw ns.failure(`did not exit within ${timeoutMs} ms of SIGTERM`);
      if (code !== 0) throw ns.failure(`exited ${code} after SIGTERM`);
      return performance.now() - start;
    },
  };
}

function runitSupervisor(runsvdir: string): Supervisor {
  return {
    name: "runit",
    // runit has no dependencies: the DAG's edges are dropped, every service starts at once.
    setup(dir, services) {
      mkdirSync(dir, { recursive: true });
      for (const name of services.keys()) {
        mkdirSync(join(dir, name));
        write(join(dir, name, "run"), `#!/bin/sh\nexec /bin/sleep ${sleepSeconds(name)}\n`, 0o755);
      }
      // runsvdir sleeps 1 s before a scan when the directory changed within the current second
      // (so as not to miss a service being created); a booted system's /etc/service is older.
      const past = Date.now() / 1000 - 60;
      utimesSync(dir, past, past);
      return [runsvdir, "-P", dir];
    },
    // runsvdir exits at once on SIGTERM without stopping its runsv; killing PID 1 is the same.
    async stop(ns) {
      process.kill(ns.pid1, "SIGKILL");
      return undefined;
    },
  };
}

// --- measurements --------------------------------------------------------------

interface StartSample {
  /** unshare spawned -> 200 `sleep` processes seen in the namespace. */
  startMs: number;
  /** unshare spawned -> the first `sleep` seen: the supervisor's own start-up. */
  firstMs: number;
  /** tsinit only: unshare spawned -> the 200th `[  OK  ] started` line read. */
  lastLineMs?: number;
  memory: Memory;
  /** tsinit only: SIGTERM -> exit 0 (every service stopped in reverse order). */
  stopMs?: number;
}

let runCounter = 0;
function freshDir(work: string, label: string): string {
  return join(work, `${label}-${++runCounter}`);
}

async function startRun(supervisor: Supervisor, work: string): Promise<StartSample> {
  const argv = supervisor.setup(freshDir(work, `${supervisor.name}-start`), dag(), false);
  return withNamespace(argv, async (ns) => {
    const counter = new SleepCounter();
    let firstAt: number | undefined;
    const running = (): true | undefined => {
      if (!ns.findPid1()) return undefined;
      const count = counter.count(ns.pid1);
      if (count > 0) firstAt ??= performance.now();
      return count >= SERVICES ? true : undefined;
    };
    await poll(`${SERVICES} sleep processes`, ns, running, START_TIMEOUT_MS);
    const startMs = performance.now() - ns.launchedAt;
    const firstMs = firstAt! - ns.launchedAt;
    if (counter.sleeps.size !== SERVICES) throw ns.failure(`${counter.sleeps.size} sleep processes, want ${SERVICES}`);
    let lastLineMs: number | undefined;
    if (supervisor.name === "tsinit") {
      await poll(`${SERVICES} started lines`, ns, () => (ns.startedLines >= SERVICES ? true : undefined), 5_000);
      lastLineMs = ns.lastStartedAt - ns.launchedAt;
    }
    await Bun.sleep(SETTLE_MS);
    const dead = [...counter.sleeps].filter((pid) => !isAlive(pid));
    if (dead.length > 0) throw ns.failure(`${dead.length} services died after starting`);
    const memory = supervisorMemory(ns.pid1);
    const stopMs = await supervisor.stop(ns);
    return { startMs, firstMs, lastLineMs, memory, stopMs };
  });
}

/** A `sleep` child of `parent` other than `old`, or undefined. */
function newSleep(parent: number, old: number): number | undefined {
  for (const child of childrenOf(parent)) if (child !== old && commOf(child) === "sleep") return child;
  return undefined;
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

interface CrashSample {
  /** SIGKILL sent -> the new `sleep` seen, one per crash. */
  latencies: number[];
  /** The supervision processes' memory with this one service up, after its crashes. */
  memory: Memory;
}

/** Starts one restarting service, kills its process `crashes` times `upMs` after each start. */
async function crashRun(supervisor: Supervisor, work: string, crashes: number, upMs: number): Promise<CrashSample> {
  const argv = supervisor.setup(freshDir(work, `${supervisor.name}-crash`), new Map([[CRASH, []]]), true);
  return withNamespace(argv, async (ns) => {
    const counter = new SleepCounter();
    const running = () => (ns.findPid1() && counter.count(ns.pid1) >= 1 ? true : undefined);
    await poll("the service's sleep", ns, running, START_TIMEOUT_MS);
    let current = [...counter.sleeps][0]!;
    let upSince = performance.now();
    // tsinit: PID 1 itself; runit: the service's runsv, which keeps its pid across restarts.
    const parent = parentOf(current);
    const latencies: number[] = [];
    for (let i = 0; i < crashes; i++) {
      await Bun.sleep(Math.max(0, upSince + upMs - performance.now()));
      const killedAt = performance.now();
      process.kill(current, "SIGKILL");
      current = await poll("the respawned sleep", ns, () => newSleep(parent, current), RESPAWN_TIMEOUT_MS, BUSY_POLL_MS);
      upSince = performance.now();
      latencies.push(upSince - killedAt);
    }
    await Bun.sleep(Math.max(0, upSince + upMs - performance.now()));
    const memory = supervisorMemory(ns.pid1);
    await supervisor.stop(ns);
    return { latencies, memory };
  });
}

interface LargeSample {
  /** unshare spawned -> all 2,001 `sleep` processes seen (2,000 in the DAG and the crash service). */
  startMs: number;
  /** tsinit only: unshare spawned -> the 2,000th `[  OK  ] started sN-M` line read. */
  lastLineMs?: number;
  /** SIGKILL of the crash service's `sleep` -> its new `sleep` seen, with 2,000 others up. */
  latencies: number[];
  /** tsinit only: `tsinit ctl --json list` run to exit, and the GET /v1/services alone. */
  listMs?: number[];
  getMs?: number[];
  /** tsinit only: SIGTERM -> exit 0, every service stopped in reverse order. */
  stopMs?: number;
}

/** The cmdline of a process, or "" once it is gone. */
function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
}

/** A `sleep` child of `parent` not in `known`, or undefined (reads only the new children). */
function newSleepAmong(parent: number, known: Set<number>): number | undefined {
  for (const child of childrenOf(parent)) {
    if (known.has(child)) continue;
    if (commOf(child) === "sleep") return child;
  }
  return undefined;
}

/**
 * 2,000 services in a layered DAG (no graph for runit) and one more that restarts at once:
 * the time to all running, then crashes of that one with the 2,000 loaded, then (tsinit)
 * `initctl list --json` over the 2,001.
 */
async function largeRun(supervisor: Supervisor, work: string, crashes: number): Promise<LargeSample> {
  const dir = freshDir(work, `${supervisor.name}-large`);
  const services = layeredDag(LARGE_LAYERS, LARGE_WIDTH, 2);
  services.set(CRASH, []);
  const total = services.size;
  const socket = join(dir, "control.sock");
  const argv = supervisor.setup(dir, services, CRASH);
  if (supervisor.name === "tsinit") argv.push("--socket", socket);
  return withNamespace(argv, async (ns) => {
    const counter = new SleepCounter();
    const running = () => (ns.findPid1() && counter.count(ns.pid1) >= total ? true : undefined);
    await poll(`${total} sleep processes`, ns, running, START_TIMEOUT_MS);
    const startMs = performance.now() - ns.launchedAt;
    if (counter.sleeps.size !== total) throw ns.failure(`${counter.sleeps.size} sleep processes, want ${total}`);

    let lastLineMs: number | undefined;
    if (supervisor.name === "tsinit") {
      await poll(`${LARGE_SERVICES} started lines`, ns, () => (ns.startedLines >= LARGE_SERVICES ? true : undefined), 10_000);
      lastLineMs = ns.lastStartedAt - ns.launchedAt;
    }
    let current = [...counter.sleeps].find((pid) => cmdlineOf(pid).includes(String(sleepSeconds(CRASH))));
    if (current === undefined) throw ns.failure("the crash service's sleep was not found");
    // tsinit: PID 1 itself, with 2,000 other children; runit: the service's own runsv.
    const parent = parentOf(current);
    const known = new Set(childrenOf(parent));
    const latencies: number[] = [];
    let upSince = performance.now();
    for (let i = 0; i < crashes; i++) {
      await Bun.sleep(Math.max(0, upSince + LONG_UP_MS - performance.now()));
      const killedAt = performance.now();
      process.kill(current, "SIGKILL");
      current = await poll("the respawned sleep", ns, () => newSleepAmong(parent, known), RESPAWN_TIMEOUT_MS, BUSY_POLL_MS);
      upSince = performance.now();
      latencies.push(upSince - killedAt);
      known.add(current);
    }

    let listMs: number[] | undefined;
    let getMs: number[] | undefined;
    if (supervisor.name === "tsinit") {
      listMs = [];
      getMs = [];
      for (let i = 0; i < LISTS; i++) {
        const began = performance.now();
        const list = Bun.spawn([argv[0]!, "ctl", "--socket", socket, "--json", "list"], { stdout: "pipe", stderr: "pipe" });
        const text = await new Response(list.stdout).text();
        if ((await list.exited) !== 0) throw ns.failure(`initctl list exited ${list.exitCode}: ${await new Response(list.stderr).text()}`);
        listMs.push(performance.now() - began);
        const listed = (JSON.parse(text) as { services: unknown[] }).services.length;
        if (listed !== total + 1) throw ns.failure(`initctl list shows ${listed} services, want ${total + 1} (with boot)`);
        const gotAt = performance.now();
        const response = await fetch("http://tsinit/v1/services", { unix: socket });
        await response.arrayBuffer();
        getMs.push(performance.now() - gotAt);
      }
    }
    const stopMs = await supervisor.stop(ns);
    return { startMs, lastLineMs, latencies, listMs, getMs, stopMs };
  });
}


interface HugeSample {
  /** unshare spawned -> the first answer on the control socket (GET /v1). */
  answerMs: number;
  /** How many `sleep` processes were running when that answer arrived. */
  runningAtAnswer: number;
  /** unshare spawned -> all HUGE_SERVICES `sleep` processes seen. */
  startMs: number;
  /** SIGTERM -> exit 0, every service stopped. */
  stopMs: number;
}

/**
 * HUGE_SERVICES services with no dependencies (`boot` waits for them all): how soon the
 * control socket answers while they start, how long until all run, and the stop.
 */
async function hugeRun(supervisor: Supervisor, work: string): Promise<HugeSample> {
  const dir = freshDir(work, `${supervisor.name}-huge`);
  const services = new Map(Array.from({ length: HUGE_SERVICES }, (_, i): [string, string[]] => [`h${i}`, []]));
  const socket = join(dir, "control.sock");
  const argv = [...supervisor.setup(dir, services, false), "--socket", socket];
  return withNamespace(argv, async (ns) => {
    const counter = new SleepCounter();
    let answer: { at: number; running: number } | undefined;
    // Asked again every millisecond until a request gets through; one that got through waits
    // for its answer however long PID 1 takes to serve it.
    const asking = (async () => {
      while (ns.exitCode === undefined) {
        const response = await fetch("http://tsinit/v1", { unix: socket }).catch(() => undefined);
        if (response?.status === 200) {
          await response.text();
          answer = { at: performance.now(), running: ns.findPid1() ? counter.count(ns.pid1) : 0 };
          return;
        }
        await Bun.sleep(POLL_MS);
      }
    })();
    const running = () => (ns.findPid1() && counter.count(ns.pid1) >= HUGE_SERVICES ? true : undefined);
    await poll(`${HUGE_SERVICES} sleep processes`, ns, running, HUGE_TIMEOUT_MS);
    const startMs = performance.now() - ns.launchedAt;
    if (counter.sleeps.size !== HUGE_SERVICES) throw ns.failure(`${counter.sleeps.size} sleep processes, want ${HUGE_SERVICES}`);
    await within(asking, HUGE_TIMEOUT_MS);
    if (answer === undefined) throw ns.failure("the control socket never answered");
    const stopMs = await supervisor.stop(ns, HUGE_TIMEOUT_MS);
    return { answerMs: answer.at - ns.launchedAt, runningAtAnswer: answer.running, startMs, stopMs: stopMs! };
  });
}

// --- setup ---------------------------------------------------------------------------

function findRunsvdir(): string | undefined {
  return Bun.which("runsvdir", { PATH: `${process.env.PATH ?? ""}:/usr/sbin:/usr/bin:/sbin:/bin` }) ?? undefined;
}

/** runit's runsvdir, installed with apt-get (Debian's `runit` package) when missing. */
function ensureRunit(): string {
  const found = findRunsvdir();
  if (found) return found;
  const hint = "runsvdir (runit) is missing: install it with `apt-get install runit` and run the bench again";
  if (process.getuid?.() !== 0) throw new Error(`${hint} (the bench runs as root)`);
  console.error("runsvdir not found: apt-get install -y runit");
  const install = () =>
    Bun.spawnSync(["apt-get", "install", "-y", "--no-install-recommends", "runit"], {
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      stdout: "inherit",
      stderr: "inherit",
      timeout: 600_000,
    }).exitCode;
  if (install() !== 0) {
    Bun.spawnSync(["apt-get", "update"], { stdout: "inherit", stderr: "inherit", timeout: 600_000 });
    if (install() !== 0) throw new Error(`apt-get install runit failed; ${hint}`);
  }
  const installed = findRunsvdir();
  if (!installed) throw new Error(`apt-get install runit succeeded but runsvdir is not on PATH; ${hint}`);
  return installed;
}

function checkPrerequisites(): void {
  if (process.getuid?.() !== 0) throw new Error("run the bench as root: it makes PID namespaces (unshare --pid --mount-proc)");
  try {
    statSync(TSINIT);
  } catch {
    throw new Error(`${TSINIT} is missing: run \`make build\` first (or set TSINIT=path)`);
  }
}

function describeMachine(): string {
  const debian = (() => {
    try {
      return `Debian ${readFileSync("/etc/debian_version", "utf8").trim()}`;
    } catch {
      return "Linux";
    }
  })();
  const kernel = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  return `${debian}, kernel ${kernel}, ${cpus().length} CPUs`;
}

function runitVersion(): string {
  const query = Bun.spawnSync(["dpkg-query", "-W", "-f", "${Version}", "runit"]);
  return query.exitCode === 0 ? `runit ${query.stdout.toString().trim()}` : "runit";
}

// --- report --------------------------------------------------------------------------

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : value >= 10 ? `${value.toFixed(0)} ms` : `${value.toFixed(1)} ms`;
}
function mib(kB: number): string {
  return `${(kB / 1024).toFixed(1)} MiB`;
}
function spread(values: number[], format: (v: number) => string): string {
  return `${format(median(values))} (${format(Math.min(...values))}–${format(Math.max(...values))})`;
}

interface Results {
  starts: Map<Supervisor, StartSample[]>;
  /** Crash -> respawn latencies after QUICK_UP_MS and LONG_UP_MS up. */
  quick: Map<Supervisor, number[]>;
  long: Map<Supervisor, number[]>;
  /** Memory with the one crashing service up (the LONG_UP_MS runs). */
  oneService: Map<Supervisor, Memory[]>;
}

/** The markdown table: one row per figure, tsinit beside runit, the ratio and the target. */
function report(results: Results, a: Supervisor, b: Supervisor): string {
  type Pick = (supervisor: Supervisor) => number[] | undefined;
  const start = (field: (s: StartSample) => number | undefined): Pick => (supervisor) => {
    const values = results.starts.get(supervisor)!.map(field);
    return values.every((v) => v !== undefined) ? (values as number[]) : undefined;
  };
  const memory = (field: (m: Memory) => number): Pick => (supervisor) => results.oneService.get(supervisor)!.map(field);
  const ratio = (x: number[], y: number[]): string => {
    const value = median(x) / median(y);
    return value < 0.1 ? value.toPrecision(2) : value.toFixed(2);
  };
  /** A target as met or missed, judged on tsinit's median. */
  const target = (limit: number, label: string, format: (v: number) => string) => (x: number[]) =>
    median(x) <= limit ? `${label}: met` : `${label}: missed by ${format(median(x) - limit)}`;
  const row = (label: string, pick: Pick, format: (v: number) => string, judge?: (x: number[]) => string): string => {
    const x = pick(a)!;
    const y = pick(b);
    const peer = y ? spread(y, format) : "—";
    return `| ${label} | ${spread(x, format)} | ${peer} | ${y ? ratio(x, y) : "—"} | ${judge ? judge(x) : ""} |`;
  };
  const processes = (supervisor: Supervisor) => results.starts.get(supervisor)![0]!.memory.processes;
  const tsinitMiB = (statSync(TSINIT).size / 1024 / 1024).toFixed(0);
  return [
    `Services benchmark, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${describeMachine()}.`,
    `tsinit (${TSINIT}, ${tsinitMiB} MiB) vs ${runitVersion()} (runsvdir -P), each as PID 1 of a fresh PID namespace.`,
    `Starts: ${RUNS} runs each, ABBA; crashes: ${CRASHES} per supervisor and case, in ${RUNS} ABBA blocks.`,
    "Figures: median (min–max).",
    "",
    "| metric | tsinit | runit | tsinit / runit | target (tsinit) |",
    "| --- | --- | --- | --- | --- |",
    row(`start ${SERVICES} services (launch → ${SERVICES} \`sleep\` running)`, start((s) => s.startMs), ms,
      target(TARGETS.startMs, "≤ 1 s", ms)),
    row("launch → first `sleep` running", start((s) => s.firstMs), ms),
    row(`launch → ${SERVICES}th \`[  OK  ] started\` line`, start((s) => s.lastLineMs), ms),
    row(`crash → respawn, after ${ms(QUICK_UP_MS)} up`, (sv) => results.quick.get(sv), ms,
      target(TARGETS.respawnMs, "median ≤ 10 ms", ms)),
    row(`crash → respawn, after ${ms(LONG_UP_MS)} up`, (sv) => results.long.get(sv), ms,
      target(TARGETS.respawnMs, "median ≤ 10 ms", ms)),
    row(`supervision Rss, ${SERVICES} services up`, start((s) => s.memory.rssKB), mib,
      target(TARGETS.rssKB, "≤ 32 MB (30.5 MiB)", mib)),
    row(`supervision Pss, ${SERVICES} services up`, start((s) => s.memory.pssKB), mib),
    `| supervision processes | ${processes(a)} (PID 1) | ${processes(b)} (runsvdir + runsv) | — | |`,
    row("supervision Rss, 1 service up", memory((m) => m.rssKB), mib),
    row("supervision Pss, 1 service up", memory((m) => m.pssKB), mib),
    row(`SIGTERM → exit, ${SERVICES} services stopped in reverse order`, start((s) => s.stopMs), ms),
  ].join("\n");
}

/** The table of the 2,000-service runs. */
function largeReport(samples: Map<Supervisor, LargeSample[]>, a: Supervisor, b: Supervisor): string {
  const all = (supervisor: Supervisor, field: (s: LargeSample) => number[] | number | undefined): number[] | undefined => {
    const values = samples.get(supervisor)!.flatMap((s) => field(s) ?? []);
    return values.length > 0 ? values : undefined;
  };
  const row = (label: string, field: (s: LargeSample) => number[] | number | undefined, limit?: number, limitLabel?: string): string => {
    const x = all(a, field)!;
    const y = b === a ? undefined : all(b, field);
    const judged = limit === undefined ? "" : median(x) <= limit ? `${limitLabel}: met` : `${limitLabel}: missed by ${ms(median(x) - limit)}`;
    const ratio = y ? (median(x) / median(y)).toFixed(2) : "—";
    return `| ${label} | ${spread(x, ms)} | ${y ? spread(y, ms) : "—"} | ${ratio} | ${judged} |`;
  };
  return [
    "",
    `At scale: ${LARGE_SERVICES} services (${LARGE_LAYERS} layers of ${LARGE_WIDTH}, each depending on 1 or 2 of the layer below; no graph for runit) and one that restarts at once.`,
    `${LARGE_RUNS} runs; ${LARGE_CRASHES} crashes per run, each after ${ms(LONG_UP_MS)} up; ${LISTS} lists per run.`,
    "runit has no column here: runsvdir supervises at most 1,000 services (its MAXSERVICES).",
    "",
    "| metric | tsinit | runit | tsinit / runit | target (tsinit) |",
    "| --- | --- | --- | --- | --- |",
    row(`start ${LARGE_SERVICES + 1} services (launch → all \`sleep\` running)`, (s) => s.startMs, TARGETS.largeStartMs, "≤ 1 s"),
    row(`launch → ${LARGE_SERVICES}th \`[  OK  ] started\` line`, (s) => s.lastLineMs),
    row(`crash → respawn, ${LARGE_SERVICES} others up`, (s) => s.latencies, TARGETS.largeRespawnMs, "median ≤ 5 ms"),
    row(`\`tsinit ctl --json list\`, ${LARGE_SERVICES + 2} services (run → exit)`, (s) => s.listMs, TARGETS.listMs, "≤ 50 ms"),
    row("GET /v1/services alone (the list's request)", (s) => s.getMs),
    row(`SIGTERM → exit, ${LARGE_SERVICES + 1} services stopped in reverse order`, (s) => s.stopMs),
  ].join("\n");
}

/** The table of the 10,000-service runs: tsinit, and beside it the BENCH_COMPARE executable. */
function hugeReport(samples: Map<Supervisor, HugeSample[]>, a: Supervisor, b: Supervisor | undefined): string {
  const row = (label: string, field: (s: HugeSample) => number, format: (v: number) => string = ms): string => {
    const x = samples.get(a)!.map(field);
    const y = b === undefined ? undefined : samples.get(b)!.map(field);
    return `| ${label} | ${spread(x, format)} |${y === undefined ? "" : ` ${spread(y, format)} | ${(median(x) / median(y)).toFixed(2)} |`}`;
  };
  const count = (v: number) => v.toFixed(0);
  return [
    "",
    `${HUGE_SERVICES} services with no dependencies (\`command = /bin/sleep 600\`), \`boot\` waiting for all; ${HUGE_RUNS} runs${b === undefined ? "" : " each, ABBA"}.`,
    ...(b === undefined ? [] : [`compare: ${COMPARE}`]),
    "",
    b === undefined ? "| metric | tsinit |" : "| metric | tsinit | compare | tsinit / compare |",
    b === undefined ? "| --- | --- |" : "| --- | --- | --- | --- |",
    row("launch → first control answer (GET /v1)", (s) => s.answerMs),
    row("`sleep` processes running at that answer", (s) => s.runningAtAnswer, count),
    row(`launch → all ${HUGE_SERVICES} \`sleep\` running`, (s) => s.startMs),
    row(`SIGTERM → exit, ${HUGE_SERVICES} services stopped`, (s) => s.stopMs),
  ].join("\n");
}

async function main(): Promise<void> {
  checkPrerequisites();
  // Only the comparisons with runit need it.
  const runsvdir = PARTS.has("small") || PARTS.has("large") ? ensureRunit() : "runsvdir";
  const work = mkdtempSync(join(tmpdir(), "tsinit-bench-services-"));
  scratch = work;
  try {
    // A private copy: a concurrent `make build` cannot swap it mid-run, and its pages are
    // shared with no other tsinit, so its Pss is its own.
    const binary = join(work, "tsinit");
    copyFileSync(TSINIT, binary);
    chmodSync(binary, 0o755);
    const a = tsinitSupervisor(binary);
    const b = runitSupervisor(runsvdir);
    const starts = new Map<Supervisor, StartSample[]>([[a, []], [b, []]]);
    const quick = new Map<Supervisor, number[]>([[a, []], [b, []]]);
    const long = new Map<Supervisor, number[]>([[a, []], [b, []]]);
    const oneService = new Map<Supervisor, Memory[]>([[a, []], [b, []]]);
    const order = (round: number) => (round % 2 === 0 ? [a, b] : [b, a]);

    if (PARTS.has("small")) {
      // Warm-up, not counted: the page cache, the first exec of a 100 MB binary.
      for (const supervisor of [a, b]) await startRun(supervisor, work);

      for (let round = 0; round < RUNS; round++) {
        for (const supervisor of order(round)) {
          const s = await startRun(supervisor, work);
          starts.get(supervisor)!.push(s);
          console.error(
            `${supervisor.name.padEnd(6)} start #${round + 1}: ${ms(s.startMs)} (first sleep ${ms(s.firstMs)})` +
              (s.lastLineMs !== undefined ? ` (${SERVICES}th started line ${ms(s.lastLineMs)})` : "") +
              `, ${s.memory.processes} supervision processes, Rss ${mib(s.memory.rssKB)}, Pss ${mib(s.memory.pssKB)}` +
              (s.stopMs !== undefined ? `, SIGTERM -> exit ${ms(s.stopMs)}` : ""),
          );
        }
      }

      // The crashes, in RUNS blocks per supervisor, ABBA like the starts.
      for (const [label, upMs, into] of [
        ["quick", QUICK_UP_MS, quick],
        ["long", LONG_UP_MS, long],
      ] as const) {
        for (let round = 0; round < RUNS; round++) {
          const crashes = Math.floor(CRASHES / RUNS) + (round < CRASHES % RUNS ? 1 : 0);
          if (crashes === 0) continue;
          for (const supervisor of order(round)) {
            const { latencies, memory } = await crashRun(supervisor, work, crashes, upMs);
            into.get(supervisor)!.push(...latencies);
            if (label === "long") oneService.get(supervisor)!.push(memory);
            console.error(
              `${supervisor.name.padEnd(6)} crash (${label}, up ${ms(upMs)}) block ${round + 1}: ` +
                `${latencies.map(ms).join(", ")}; 1 service: Rss ${mib(memory.rssKB)}, Pss ${mib(memory.pssKB)}`,
            );
          }
        }
      }

      console.log(report({ starts, quick, long, oneService }, a, b));
    }

    if (PARTS.has("large")) {
      // runsvdir supervises at most 1,000 services (runit's MAXSERVICES): it has no equivalent
      // here, so these runs are tsinit's alone.
      const large = new Map<Supervisor, LargeSample[]>([[a, []], [b, []]]);
      for (let round = 0; round < LARGE_RUNS; round++) {
        for (const supervisor of [a]) {
          const sample = await largeRun(supervisor, work, LARGE_CRASHES);
          large.get(supervisor)!.push(sample);
          console.error(
            `${supervisor.name.padEnd(6)} large #${round + 1}: start ${ms(sample.startMs)} (last started line ${ms(sample.lastLineMs ?? NaN)}), respawns ${sample.latencies.map(ms).join(", ")}` +
              (sample.listMs ? `, list ${sample.listMs.map(ms).join(", ")} (GET ${sample.getMs!.map(ms).join(", ")})` : "") +
              (sample.stopMs !== undefined ? `, SIGTERM -> exit ${ms(sample.stopMs)}` : ""),
          );
        }
      }
      console.log(largeReport(large, a, b));
    }

    if (PARTS.has("huge")) {
      const supervisors = [a];
      if (COMPARE !== undefined) {
        const copy = join(work, "tsinit-compare");
        copyFileSync(COMPARE, copy);
        chmodSync(copy, 0o755);
        supervisors.push(tsinitSupervisor(copy, "compare"));
      }
      const huge = new Map<Supervisor, HugeSample[]>(supervisors.map((s) => [s, []]));
      for (let round = 0; round < HUGE_RUNS; round++) {
        for (const supervisor of round % 2 === 0 ? supervisors : [...supervisors].reverse()) {
          const s = await hugeRun(supervisor, work);
          huge.get(supervisor)!.push(s);
          console.error(
            `${supervisor.name.padEnd(7)} huge #${round + 1}: first answer ${ms(s.answerMs)} (${s.runningAtAnswer} running), ` +
              `all ${HUGE_SERVICES} running ${ms(s.startMs)}, SIGTERM -> exit ${ms(s.stopMs)}`,
          );
        }
      }
      console.log(hugeReport(huge, a, supervisors[1]));
    }
  } finally {
    killAllNamespaces();
    rmSync(work, { recursive: true, force: true });
  }
}

await main().catch((error: unknown) => {
  console.error(`bench/services.ts: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
