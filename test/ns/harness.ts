// Runs the compiled tsinit as PID 1 of a fresh PID namespace (unshare --pid --fork
// --mount-proc) in supervisor mode, and looks at it from outside through the host's /proc.
// Waits poll with a deadline; nothing sleeps a fixed time.
import { afterEach } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, chmodSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const TSINIT = resolve(import.meta.dir, "../../dist/tsinit");

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `tsinit-${prefix}-`));
}

/**
 * These tests were written when a file without `type` was a process service; dinit's default
 * (and tsinit's now) is internal. A file with a command and no type gets `type = process` at
 * its end, so that its line numbers stay as written. dinit-compat.test.ts writes its own files.
 */
export function asProcess(text: string): string {
  if (!/^\s*command\s*[=:]/m.test(text) || /^\s*type\s*[=:]/m.test(text)) return text;
  return `${text}${text === "" || text.endsWith("\n") ? "" : "\n"}type = process\n`;
}

/** Writes service files (name -> text) and executable scripts into a fresh directory. */
export function servicesDir(files: Record<string, string>, scripts: Record<string, string> = {}): { dir: string; work: string } {
  const work = tempDir("ns");
  const dir = join(work, "services");
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) {
    if (name.includes("/")) mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), asProcess(text));
  }
  for (const [name, text] of Object.entries(scripts)) {
    writeFileSync(join(work, name), text);
    chmodSync(join(work, name), 0o755);
  }
  return { dir, work };
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(delay);
  }
}

/**
 * A file's trimmed text, or undefined while it is missing or empty: a service's shell creates
 * the file (`> FILE`) before its command writes, so an empty file is one not written yet.
 */
export function readText(path: string): string | undefined {
  const text = existsSync(path) ? readFileSync(path, "utf8").trim() : "";
  return text === "" ? undefined : text;
}

/** waitFor for probes that must ask something asynchronously (a control client, a socket). */
export async function poll<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000, context = () => ""): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${context()}`);
    await Bun.sleep(delay);
  }
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a client to its end (killed after `timeoutMs`), with TSINIT_SOCKET unset. */
export async function run(argv: string[], timeoutMs = 20_000): Promise<Run> {
  const child = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, TSINIT_SOCKET: "" } });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

export const NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];

/** The compiled initctl (`tsinit ctl`) against one control socket, as root or as uid 65534. */
export class Control {
  constructor(readonly socket: string) {}
  ctl(...args: string[]): Promise<Run> {
    return run([TSINIT, "ctl", "--socket", this.socket, ...args]);
  }
  asNobody(...args: string[]): Promise<Run> {
    return run([...NOBODY, TSINIT, "ctl", "--socket", this.socket, ...args]);
  }
  /**
   * Waits until the server answers, which is what a test needs (the socket file itself now
   * appears only once the server listens).
   */
  async ready(context = () => ""): Promise<void> {
    await poll(
      `the control socket ${this.socket} to answer`,
      async () => {
        const response = await fetch("http://tsinit/v1", { unix: this.socket }).catch(() => undefined);
        await response?.text();
        return response?.status === 200;
      },
      15_000,
      context,
    );
  }
  /** The service's status as the supervisor sees it now (`initctl --json status`). */
  async status(name: string): Promise<any> {
    const result = await this.ctl("--json", "status", name);
    return JSON.parse(result.stdout);
  }
}

export function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

export interface ProcInfo {
  pid: number;
  comm: string;
  state: string;
}


/** The resident set of process `pid` in KiB (VmRSS); it throws when the process is gone, so a gone process never passes a bound. */
export function rssKb(pid: number): number {
  const kb = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb);
}
export function procInfo(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    return { pid, comm: stat.slice(stat.indexOf("(") + 1, close), state: stat.slice(close + 2, close + 3) };
  } catch {
    return undefined;
  }
}

/** The pid as the namespace sees it (the last NSpid field), from the host's /proc. */
export function namespacePid(hostPid: number): number | undefined {
  try {
    const line = readFileSync(`/proc/${hostPid}/status`, "utf8").match(/^NSpid:\s+(.*)$/m)?.[1];
    const last = line?.trim().split(/\s+/).at(-1);
    return last === undefined ? undefined : Number(last);
  } catch {
    return undefined;
  }
}

export class Namespace {
  readonly proc: ReturnType<typeof Bun.spawn>;
  private output = "";
  /** The host pid of tsinit, PID 1 inside; 0 when the namespace had ended before it was seen. */
  pid1 = 0;

  private constructor(args: string[], cwd?: string) {
    this.proc = Bun.spawn(["unshare", "--pid", "--fork", "--mount-proc", TSINIT, ...args], {
      stdin: "ignore",
      ...(cwd !== undefined && { cwd }),
      env: { ...process.env },
      stdout: "pipe",
      stderr: "pipe",
    });
    void this.collect(this.proc.stdout as ReadableStream<Uint8Array>);
    void this.collect(this.proc.stderr as ReadableStream<Uint8Array>);
  }

  /** `cwd`: tsinit's working directory (default: the test's). */
  static async start(args: string[], cwd?: string): Promise<Namespace> {
    const ns = new Namespace(args, cwd);
    ns.pid1 = await waitFor("tsinit to start as PID 1 of the namespace", () => {
      const child = childrenOf(ns.proc.pid)[0];
      if (child !== undefined && procInfo(child)?.comm !== "unshare") return child;
      // A tsinit that ends at once (--exit-when-idle, a bad option) may be gone before it is seen.
      return ns.proc.exitCode !== null ? 0 : undefined;
    });
    return ns;
  }

  /** What tsinit printed so far (stdout and stderr). */
  log(): string {
    return this.output;
  }

  children(): ProcInfo[] {
    return childrenOf(this.pid1).flatMap((pid) => procInfo(pid) ?? []);
  }

  /** Every process in the namespace but PID 1, by host pid. */
  descendants(): number[] {
    const found: number[] = [];
    const work = [this.pid1];
    for (let pid = work.pop(); pid !== undefined; pid = work.pop()) {
      for (const child of childrenOf(pid)) {
        found.push(child);
        work.push(child);
      }
    }
    return found;
  }

  /** The host pid of a pid that a process inside wrote down (pids inside are the namespace's). */
  hostPid(nsPid: number): number | undefined {
    return this.descendants().find((pid) => namespacePid(pid) === nsPid);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.pid1 === 0) throw new Error(`no tsinit to send ${signal} to: the namespace has ended\n${this.output}`);
    process.kill(this.pid1, signal);
  }

  async exitCode(timeoutMs = 20_000): Promise<number> {
    const timeout = Bun.sleep(timeoutMs).then(() => "timeout" as const);
    const result = await Promise.race([this.proc.exited, timeout]);
    if (result === "timeout") throw new Error(`namespace did not end within ${timeoutMs} ms\n${this.output}`);
    return result;
  }

  /** Ends the namespace whatever state it is in (for afterEach). */
  kill(): void {
    try {
      if (this.pid1) process.kill(this.pid1, "SIGKILL");
    } catch {}
    try {
      this.proc.kill("SIGKILL");
    } catch {}
  }

  private async collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) this.output += decoder.decode(chunk);
  }
}

/**
 * The supervisor on `files`, with a control socket in a directory that uid 65534 may enter,
 * once it answers. `started` gets the namespace as soon as it runs, so a test's afterEach can
 * end it even when the socket never answers.
 */
export async function startWithControl(
  files: Record<string, string>,
  scripts: Record<string, string>,
  started: (ns: Namespace) => void,
): Promise<{ work: string; control: Control; ns: Namespace }> {
  const { dir, work } = servicesDir(files, scripts);
  chmodSync(work, 0o755);
  process.env.WORK = work;
  const socket = join(work, "ctl.sock");
  const ns = await Namespace.start(["--services-dir", dir, "--socket", socket]);
  started(ns);
  const control = new Control(socket);
  await control.ready(() => ns.log());
  return { work, control, ns };
}

/** Whether a process here may lower its oom_score_adj (needs CAP_SYS_RESOURCE). */
export function mayLowerOomScore(): boolean {
  return Bun.spawnSync(["sh", "-c", "echo -1000 > /proc/self/oom_score_adj"], { stderr: "ignore" }).exitCode === 0;
}

export const oomScoreAdj = (pid: number | "self") => readFileSync(`/proc/${pid}/oom_score_adj`, "utf8").trim();

/**
 * One namespace per test, killed after it: `start` runs tsinit with a control socket and
 * remembers it in `ns` (a test may also put one it started itself there), and `poll` shows its
 * output when a wait fails.
 */
export interface NamespacePerTest {
  ns: Namespace | undefined;
  start(files: Record<string, string>, scripts?: Record<string, string>): ReturnType<typeof startWithControl>;
  poll<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs?: number): Promise<T>;
}

export function namespacePerTest(): NamespacePerTest {
  const fixture: NamespacePerTest = {
    ns: undefined,
    start: (files, scripts = {}) => startWithControl(files, scripts, (started) => (fixture.ns = started)),
    poll: (what, probe, timeoutMs = 15_000) => poll(what, probe, timeoutMs, () => fixture.ns?.log() ?? ""),
  };
  afterEach(() => {
    fixture.ns?.kill();
    fixture.ns = undefined;
  });
  return fixture;
}
