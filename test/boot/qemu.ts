// A qemu guest for the boot tests and the bench: the serial console on
// stdio, the monitor on a unix socket, an expect() that awaits console
// output, and a hard time limit that qemu enforces on itself (it runs under
// `timeout -s KILL`), so no guest outlives its test, even if bun dies.
//
//   const vm = await Qemu.boot({ kernel, initrd, name: "login" });
//   await vm.expect(/login: /, 60_000);
//   await vm.login();
//   const { output } = await vm.run("echo hello");
//   await vm.send("poweroff\n");
//   expect(await vm.waitExit(60_000)).toBe(0);

import { createConnection } from "node:net";
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpioBytes, type Entry } from "../../scripts/mkcpio.ts";

/**
 * What every boot puts on the kernel command line to keep the kernel's own memory down: tracefs's
 * files for every trace event cost 9 MB of inodes and dentries that nothing frees, and at -m 128
 * they are what makes the kernel run out of memory while it unpacks, before the stub can say how
 * much RAM the image needs (qemu/arch.sh's lean_append; docs/image.md, "Too little RAM").
 */
const LEAN_APPEND = "initcall_blacklist=tracer_init_tracefs";

/**
 * The machine qemu emulates for each ARCH (as qemu/arch.sh, which qemu/boot.sh and qemu/smoke.sh
 * source): its qemu command and options, the guest's name of the serial console, and the
 * device_add option that puts a hot-plugged PCI device where the machine takes one. arm64 runs
 * -cpu max with pauth-impdef=on, since TCG's emulation of the architected pointer
 * authentication made the boot 4 times slower; its PCIe root bus takes no hot-plugged device,
 * so it has an empty root port for that (docs/arm64.md). `append` is what its kernel command line
 * always has: on amd64 no_timer_check, since on a loaded host TCG can be too slow for the
 * kernel's IO-APIC timer check, which then panics ("IO-APIC + timer doesn't work!") before
 * anything is booted (seen once in about 40 boots with the host's load at 15).
 */
export const machines = {
  amd64: { qemu: ["qemu-system-x86_64", "-cpu", "max"], console: "ttyS0", hotplug: "", append: `no_timer_check ${LEAN_APPEND}` },
  arm64: {
    qemu: ["qemu-system-aarch64", "-M", "virt", "-cpu", "max,pauth-impdef=on", "-device", "pcie-root-port,id=port1,chassis=1"],
    console: "ttyAMA0",
    hotplug: ",bus=port1",
    append: LEAN_APPEND,
  },
} as const;

export type Arch = keyof typeof machines;

/** ARCH from the environment (`make ARCH=arm64 test-boot` exports it); amd64 without it. */
export const arch: Arch = archNamed(process.env.ARCH ?? "amd64");

function archNamed(name: string): Arch {
  const aliases: Record<string, Arch> = { amd64: "amd64", x86_64: "amd64", arm64: "arm64", aarch64: "arm64" };
  if (!Object.hasOwn(aliases, name)) throw new Error(`ARCH=${name}: use amd64 or arm64`);
  return aliases[name]!;
}

export interface BootOptions {
  /** A name for logs and the saved transcript. */
  name: string;
  kernel: string;
  initrd: string;
  /** Words added to "console=ttyS0 panic=-1" and the machine's `append` (ttyAMA0 on arm64). */
  append?: string;
  /** Files for this test only: a small cpio appended to the base image. */
  extraFiles?: Entry[];
  /** The guest's RAM: QEMU_MEM, else the floor the default image is made to boot in (docs/image.md). */
  memoryMB?: number;
  /** Raw disk images attached as virtio disks, in order: /dev/vda, /dev/vdb, ... */
  disks?: string[];
  /** The guest's writes to the disks go to a throwaway overlay (qemu's snapshot=on). */
  diskSnapshot?: boolean;
  /**
   * The kernel may fail to unpack the whole image (the low-RAM test). Otherwise a boot that
   * prints `Initramfs unpacking failed` fails at once, naming it: a test's extra files, which
   * come last in the archive, would be the ones missing, with no clearer error.
   */
  unpackMayFail?: boolean;
  /** qemu is killed after this long, whatever happens (default 180 s). */
  hardTimeoutMs?: number;
}

/** What the kernel prints when the initramfs did not fit in RAM (init/initramfs.c). */
const UNPACK_FAILED = "Initramfs unpacking failed";

/**
 * The floor of the default image (tsinit in a zstd squashfs), as qemu/arch.sh's arch_memory:
 * 192 MB on amd64, 240 on arm64, whose cloud kernel sets 64 MB aside for CMA before it sizes
 * the rootfs (docs/arm64.md).
 */
export const DEFAULT_MEMORY_MB = Number(process.env.QEMU_MEM ?? (arch === "arm64" ? 240 : 192));

interface Chunk {
  /** Offset in the transcript where the chunk ends. */
  end: number;
  /** performance.now() when it arrived. */
  at: number;
}

const live = new Set<Qemu>();

/** Kills every guest still running: call it from afterEach/afterAll. */
export function killAll(): void {
  for (const vm of live) vm.kill();
}
process.on("exit", killAll);

export class TimeoutError extends Error {}

export class Qemu {
  /** Everything the console printed, as text. */
  transcript = "";
  /** When qemu was started (performance.now()). */
  readonly startedAt: number;
  /** expect() searches from here; each match moves it past the match. */
  cursor = 0;
  exitCode: number | null = null;
  /** When qemu exited (performance.now()), once it has. */
  exitedAt: number | null = null;

  private readonly chunks: Chunk[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly proc: ReturnType<typeof Bun.spawn>;
  private readonly exited: Promise<number>;
  private commandCount = 0;

  private constructor(
    readonly options: BootOptions,
    private readonly dir: string,
    private readonly monitorPath: string,
    initrd: string,
  ) {
    const hardTimeoutS = Math.ceil((options.hardTimeoutMs ?? 180_000) / 1000);
    const machine = machines[arch];
    const append = `console=${machine.console} panic=-1 ${machine.append} ${options.append ?? ""}`.trim();
    const argv = [
      "timeout", "-s", "KILL", String(hardTimeoutS),
      ...machine.qemu,
      "-m", String(options.memoryMB ?? DEFAULT_MEMORY_MB), "-smp", "1",
      // No NIC: the default one wants an iPXE ROM (ipxe-qemu is only recommended).
      "-display", "none", "-serial", "stdio", "-nic", "none",
      "-monitor", `unix:${monitorPath},server=on,wait=off`,
      "-no-reboot", "-pidfile", join(dir, "qemu.pid"),
      "-kernel", options.kernel, "-initrd", initrd, "-append", append,
      ...(options.disks ?? []).flatMap((file) => ["-drive", `file=${file},format=raw,if=virtio${options.diskSnapshot ? ",snapshot=on" : ""}`]),
    ];
    this.startedAt = performance.now();
    this.proc = Bun.spawn(argv, { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    live.add(this);
    void this.pump(this.proc.stdout as ReadableStream<Uint8Array>);
    void this.pump(this.proc.stderr as ReadableStream<Uint8Array>);
    this.exited = this.proc.exited.then((code) => {
      this.exitCode = code;
      this.exitedAt = performance.now();
      live.delete(this);
      this.wake();
      return code;
    });
  }

  static async boot(options: BootOptions): Promise<Qemu> {
    const dir = mkdtempSync(join(tmpdir(), "tsinit-qemu-"));
    let initrd = options.initrd;
    if (options.extraFiles?.length) {
      // The kernel unpacks concatenated archives; each must start on a
      // 4-byte boundary (zero bytes between them are skipped).
      initrd = join(dir, "initrd");
      copyFileSync(options.initrd, initrd);
      appendFileSync(initrd, new Uint8Array((4 - (statSync(initrd).size % 4)) % 4));
      appendFileSync(initrd, cpioBytes(options.extraFiles));
    }
    return new Qemu(options, dir, join(dir, "monitor.sock"), initrd);
  }

  private async pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const bytes of stream) {
      this.transcript += decoder.decode(bytes, { stream: true });
      this.chunks.push({ end: this.transcript.length, at: performance.now() });
      this.wake();
    }
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** When the console output up to `offset` had arrived (performance.now()). */
  arrivalOf(offset: number): number {
    const chunk = this.chunks.find((c) => c.end >= offset);
    return chunk?.at ?? performance.now();
  }

  /**
   * Waits until the console shows `pattern` after the cursor, then moves the
   * cursor past the match. Rejects on timeout or when qemu exits first.
   */
  expect(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray & { at: number }> {
    const flags = pattern.flags.includes("g") ? pattern.flags : `${pattern.flags}g`;
    const re = new RegExp(pattern.source, flags);
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        re.lastIndex = this.cursor;
        const match = re.exec(this.transcript);
        if (match) {
          done();
          this.cursor = match.index + match[0].length;
          resolve(Object.assign(match, { at: this.arrivalOf(this.cursor) }));
          return true;
        }
        if (this.exitCode !== null) {
          done();
          reject(new Error(`${this.options.name}: qemu exited (${this.exitCode}) before ${pattern}`));
          return true;
        }
        if (!this.options.unpackMayFail && this.transcript.includes(UNPACK_FAILED)) {
          done();
          reject(new Error(`${this.options.name}: the kernel printed "${UNPACK_FAILED}" at -m ${this.options.memoryMB ?? DEFAULT_MEMORY_MB} (waiting for ${pattern}): the image and the test's files do not fit`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new TimeoutError(`${this.options.name}: no ${pattern} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const waiter = (): void => void check();
      if (!check()) this.waiters.add(waiter);
    });
  }

  /** Types on the serial console. */
  send(text: string): void {
    const stdin = this.proc.stdin as import("bun").FileSink;
    stdin.write(text);
    stdin.flush();
  }

  /**
   * From a `login:` prompt to a root shell. Handles both an empty password
   * that login does not ask for and a `Password:` prompt.
   */
  async login(timeoutMs = 30_000): Promise<void> {
    await this.expect(/login: /, timeoutMs);
    this.send("root\n");
    const answer = await this.expect(/Password: |# /, timeoutMs);
    if (answer[0] === "Password: ") {
      this.send("\n");
      await this.expect(/# /, timeoutMs);
    }
  }

  /**
   * Runs a shell command line in the logged-in console shell and returns its
   * output and exit status. The markers are quoted so that the shell's echo
   * of the typed line never matches them.
   */
  async run(command: string, timeoutMs = 30_000): Promise<{ output: string; status: number }> {
    const n = ++this.commandCount;
    const separator = /&\s*$/.test(command) ? " " : "; "; // "cmd & ;" is a syntax error
    this.send(`echo '<'"S${n}"'>'; ${command}${separator}echo '<'"E${n}:$?"'>'\n`);
    // Kernel messages on the console can land between the markers, even on the start marker's
    // own line (the kernel stamps them with six decimals; `initctl boot` uses three).
    const match = await this.expect(new RegExp(`<S${n}>[^\\n]*\\n([\\s\\S]*?)<E${n}:(\\d+)>`), timeoutMs);
    const output = (match[1] ?? "")
      .replace(/\r/g, "")
      .split("\n")
      .filter((line) => !/^\[\s*\d+\.\d{6}\] /.test(line))
      .join("\n");
    return { output, status: Number(match[2]) };
  }

  /** Sends one command to the qemu monitor and returns its reply. */
  async monitor(command: string, timeoutMs = 10_000): Promise<string> {
    return new Promise((resolve, reject) => {
      let reply = "";
      let sent = false;
      const socket = createConnection(this.monitorPath);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new TimeoutError(`${this.options.name}: monitor did not answer ${command}`));
      }, timeoutMs);
      socket.setEncoding("utf8");
      socket.on("data", (data: string) => {
        reply += data;
        // The banner ends with a prompt; so does the answer to the command.
        if (!sent && reply.includes("(qemu) ")) {
          sent = true;
          reply = "";
          socket.write(`${command}\n`);
        } else if (sent && (reply.includes("(qemu) ") || command === "quit")) {
          clearTimeout(timer);
          socket.end();
          resolve(reply);
        }
      });
      socket.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.on("close", () => {
        clearTimeout(timer);
        if (sent) resolve(reply);
      });
    });
  }

  /** Waits for qemu to exit on its own and returns its exit code. */
  async waitExit(timeoutMs: number): Promise<number> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TimeoutError(`${this.options.name}: qemu still running after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  get running(): boolean {
    return this.exitCode === null;
  }

  /**
   * Asks qemu to stop. SIGTERM, not SIGKILL: qemu runs under `timeout`,
   * which passes SIGTERM on to qemu but cannot pass on a SIGKILL, which
   * would leave qemu running with nobody to stop it. close() falls back to
   * SIGKILL on qemu itself (its pid file) if that is not enough.
   */
  kill(): void {
    if (this.exitCode === null) this.proc.kill("SIGTERM");
  }

  /** qemu's own pid (the spawned process is `timeout`), from its pid file. */
  qemuPid(): number {
    return Number(readFileSync(join(this.dir, "qemu.pid"), "utf8").trim());
  }

  /** Ends qemu if needed, waits for it, removes its scratch directory. */
  async close(): Promise<void> {
    this.kill();
    try {
      await this.waitExit(10_000);
    } catch {
      try {
        process.kill(this.qemuPid(), "SIGKILL");
      } catch {
        // qemu is gone already, or never wrote its pid file.
      }
      this.proc.kill("SIGKILL");
      await this.exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The last `lines` lines of the console, for failure reports. */
  tail(lines = 200): string {
    return this.transcript.split("\n").slice(-lines).join("\n");
  }

  /** Saves the whole transcript under `dir` and returns the file's path. */
  saveTranscript(dir: string): string {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${this.options.name.replace(/[^\w.-]+/g, "_")}.log`);
    writeFileSync(file, this.transcript);
    return file;
  }
}
