// A Sys that records the calls made through it and answers from scripted results.
import type { MountRequest, RebootCommand, SpawnRequest, SpawnResult, Sys } from "../../../src/sys/sys.ts";
import type { Reaped } from "../../../src/base/process.ts";
import { SysError } from "../../../src/sys/sys.ts";

const MS_REMOUNT = 32;
const MS_RDONLY = 1;

export class FakeSys implements Sys {
  readonly calls: string[] = [];
  readonly files = new Map<string, string>();
  readonly dirs = new Set<string>(["/"]);
  readonly failMount = new Map<string, SysError>();
  readonly failUmount = new Map<string, SysError>();
  /** Paths whose writeFile fails with the given error. */
  readonly failWrite = new Map<string, SysError>();
  readonly pending: Reaped[] = [];
  /** Every spawn request, in order, with the pid it got (undefined when it failed). */
  readonly spawns: { request: SpawnRequest; pid?: number; execStatusFd?: number }[] = [];
  /** Programs whose spawn fails as posix_spawn reports a missing executable. */
  readonly missingPrograms = new Set<string>(["/missing"]);
  /** Pids signalled by kill(2) that are no more: ESRCH. */
  readonly gone = new Set<number>();
  nextPid = 100;

  getpid(): number {
    return 1;
  }
  getuid(): number {
    return 0;
  }
  spawn(request: SpawnRequest): SpawnResult {
    this.calls.push(`spawn ${request.argv.join(" ")}`);
    const program = request.argv[0] ?? "";
    if (this.missingPrograms.has(program)) {
      this.spawns.push({ request });
      return { ok: false, stage: "exec", error: new SysError("execve", 2, "ENOENT", program) };
    }
    const pid = this.nextPid++;
    // As linuxSys: what needs the exec helper comes with the helper's status pipe.
    const helper = request.credentials !== undefined || request.setListenPid === true || (request.rlimits?.length ?? 0) > 0;
    const execStatusFd = helper ? this.nextFd++ : undefined;
    this.spawns.push({ request, pid, execStatusFd });
    return { ok: true, pid, execStatusFd };
  }
  reap(): { reaped: Reaped[]; noChildren: boolean } {
    return { reaped: this.pending.splice(0), noChildren: false };
  }
  kill(pid: number, signal: number): SysError | undefined {
    this.calls.push(`kill ${pid} ${signal}`);
    return this.gone.has(Math.abs(pid)) ? new SysError("kill", 3, "ESRCH") : undefined;
  }
  setChildSubreaper(): SysError | undefined {
    return undefined;
  }
  mount(request: MountRequest): SysError | undefined {
    const remount = (request.flags & MS_REMOUNT) !== 0 ? ((request.flags & MS_RDONLY) !== 0 ? " remount,ro" : " remount") : "";
    this.calls.push(`mount ${request.source} ${request.target}${remount}`);
    return this.failMount.get(request.target);
  }
  umount(target: string): SysError | undefined {
    this.calls.push(`umount ${target}`);
    return this.failUmount.get(target);
  }
  reboot(command: RebootCommand): SysError | undefined {
    this.calls.push(`reboot ${command}`);
    return undefined;
  }
  sync(): void {
    this.calls.push("sync");
  }
  sethostname(name: string): SysError | undefined {
    this.calls.push(`sethostname ${name}`);
    return undefined;
  }
  pipe(): { read: number; write: number } {
    return { read: this.nextFd++, write: this.nextFd++ };
  }
  listenUnix(path: string): number {
    this.calls.push(`listen ${path}`);
    return this.nextFd++;
  }
  close(fd: number): void {
    this.calls.push(`close ${fd}`);
  }
  /** Reads in progress: a test writes to them with `feed` and ends them with `endOfFile`. */
  readonly readers = new Map<number, { onData: (chunk: string) => void; end: () => void }>();
  private nextFd = 10;
  /** Whether an exec helper's status pipe closes by itself (exec succeeded) a moment after it is read. */
  execSucceeds = true;
  readUntilClosed(fd: number, onData: (chunk: string) => void): Promise<void> {
    if (this.execSucceeds && this.spawns.some((s) => s.execStatusFd === fd)) queueMicrotask(() => this.readers.get(fd)?.end());
    return new Promise((resolve) => {
      this.readers.set(fd, {
        onData,
        end: () => {
          this.readers.delete(fd);
          this.calls.push(`close ${fd}`);
          resolve();
        },
      });
    });
  }
  /** Data arriving on a descriptor being read. */
  feed(fd: number, chunk: string): void {
    const reader = this.readers.get(fd);
    if (reader === undefined) throw new Error(`nobody reads fd ${fd}`);
    reader.onData(chunk);
  }
  endOfFile(fd: number): void {
    const reader = this.readers.get(fd);
    if (reader === undefined) throw new Error(`nobody reads fd ${fd}`);
    reader.end();
  }
  readFile(path: string): string | undefined {
    return this.files.get(path);
  }
  /** Files that readRegularFile refuses, with its error (a FIFO, a device, a dangling link). */
  readonly unreadable = new Map<string, SysError>();
  readRegularFile(path: string, maxBytes: number): string | SysError {
    const refused = this.unreadable.get(path);
    if (refused !== undefined) return refused;
    const text = this.files.get(path);
    if (text === undefined) return new SysError("open", 2, "ENOENT", path);
    if (Buffer.byteLength(text) > maxBytes) return new SysError("read", 27, "EFBIG", path, `larger than ${maxBytes} bytes`);
    return text;
  }
  writeFile(path: string, data: string): SysError | undefined {
    const failure = this.failWrite.get(path);
    if (failure !== undefined) return failure;
    this.files.set(path, data);
    return undefined;
  }
  exists(path: string): boolean {
    return this.files.has(path) || this.dirs.has(path);
  }
  mkdir(path: string): SysError | undefined {
    this.calls.push(`mkdir ${path}`);
    this.dirs.add(path);
    return undefined;
  }
  /** The names under `path` that `files` and `dirs` hold (/proc from its stat files). */
  readDir(path: string): string[] | undefined {
    const prefix = path.endsWith("/") ? path : `${path}/`;
    const names = new Set<string>();
    for (const entry of [...this.files.keys(), ...this.dirs]) if (entry.startsWith(prefix)) names.add(entry.slice(prefix.length).split("/")[0]!);
    return names.size === 0 && !this.dirs.has(path) ? undefined : [...names];
  }
  isDirectory(path: string): boolean {
    return this.dirs.has(path);
  }
  readlink(_path: string): string | undefined {
    return undefined;
  }
}

export { SysError };
