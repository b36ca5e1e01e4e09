// A Sys that records the calls made through it and answers from scripted results.
import type { FileStatus, MountRequest, RebootCommand, SpawnRequest, SpawnResult, Sys, WatchdogDevice } from "../../../src/sys/sys.ts";
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
  /** Bytes handed out by randomBytes, in order, before it falls back to the test runner's crypto. */
  readonly random: number[] = [];
  randomBytes(count: number): Uint8Array {
    const bytes = globalThis.crypto.getRandomValues(new Uint8Array(count));
    bytes.set(this.random.splice(0, count));
    return bytes;
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
    const helper = request.credentials !== undefined || request.setListenPid === true || (request.rlimits?.length ?? 0) > 0 || request.attributes !== undefined;
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
  umount(target: string, flags = 0): SysError | undefined {
    // MNT_DETACH (2) is said: a lazy unmount is not a plain one that would fail with EBUSY.
    this.calls.push(`umount ${target}${(flags & 2) !== 0 ? " detach" : ""}`);
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
  /** The owner each listenUnix asked for (socket-uid, socket-gid). */
  readonly listenOwners: ({ uid?: number; gid?: number } | undefined)[] = [];
  listenUnix(path: string, _mode?: number, owner?: { uid?: number; gid?: number }): number {
    this.listenOwners.push(owner);
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
    for (const entry of [...this.files.keys(), ...this.dirs, ...this.links.keys(), ...this.devices.keys()]) {
      if (entry.startsWith(prefix) && entry !== prefix) names.add(entry.slice(prefix.length).split("/")[0]!);
    }
    return names.size === 0 && !this.dirs.has(path) ? undefined : [...names];
  }
  isDirectory(path: string): boolean {
    return this.dirs.has(path);
  }
  readlink(path: string): string | undefined {
    return this.links.get(path);
  }
  symlink(target: string, path: string): SysError | undefined {
    this.calls.push(`symlink ${target} ${path}`);
    if (this.links.has(path) || this.files.has(path)) return new SysError("symlink", 17, "EEXIST", path);
    this.links.set(path, target);
    return undefined;
  }
  /** What writeFd wrote, by descriptor. */
  readonly fdWrites = new Map<number, string>();
  writeFd(fd: number, text: string): SysError | undefined {
    this.fdWrites.set(fd, (this.fdWrites.get(fd) ?? "") + text);
    return undefined;
  }

  // --- the switch to the real root ---
  /** Block devices and their bytes, for readAt. */
  readonly devices = new Map<string, Uint8Array>();
  /** Symbolic links: path -> target. */
  readonly links = new Map<string, string>();
  /** Directories that are mount points of another filesystem: path -> st_dev. */
  readonly deviceOf = new Map<string, number>();
  /** statfs f_type by path (default: ramfs, as the initramfs). */
  readonly filesystemTypes = new Map<string, number>();
  /** Programs whose exec fails, with the error. */
  readonly failExec = new Map<string, SysError>();
  readonly failLoadModule = new Map<string, SysError>();

  /** Bytes written with writeAt, by path (utmp, wtmp). */
  readonly written = new Map<string, Uint8Array>();
  writeAt(path: string, offset: number | "end", data: Uint8Array): SysError | undefined {
    const old = this.written.get(path) ?? new Uint8Array(0);
    const at = offset === "end" ? old.length : offset;
    const next = new Uint8Array(Math.max(old.length, at + data.length));
    next.set(old);
    next.set(data, at);
    this.written.set(path, next);
    return undefined;
  }
  readAt(path: string, offset: number, length: number): Uint8Array | SysError {
    const bytes = this.devices.get(path) ?? this.written.get(path);
    if (bytes === undefined) return new SysError("open", 2, "ENOENT", path);
    return bytes.subarray(Math.min(offset, bytes.length), Math.min(offset + length, bytes.length));
  }
  loadModule(path: string, params: string): SysError | undefined {
    this.calls.push(`finit_module ${path}${params ? ` ${params}` : ""}`);
    return this.failLoadModule.get(path);
  }
  lstat(path: string): FileStatus | SysError {
    const device = this.deviceAt(path);
    if (this.links.has(path)) return { device, kind: "symlink", mode: 0o777, size: 0 };
    if (this.dirs.has(path)) return { device, kind: "directory", mode: 0o755, size: 0 };
    const text = this.files.get(path);
    if (text !== undefined) return { device, kind: "file", mode: 0o755, size: Buffer.byteLength(text) };
    if (this.devices.has(path)) return { device, kind: "other", mode: 0o600, size: 0 };
    return new SysError("lstat", 2, "ENOENT", path);
  }
  /** st_dev of `path`: that of the deepest mount point above it, else 1 (the initramfs). */
  private deviceAt(path: string): number {
    let best = "";
    let device = 1;
    for (const [mountPoint, dev] of this.deviceOf) {
      if ((path === mountPoint || path.startsWith(`${mountPoint}/`)) && mountPoint.length > best.length) {
        best = mountPoint;
        device = dev;
      }
    }
    return device;
  }
  filesystemType(path: string): number | SysError {
    return this.filesystemTypes.get(path) ?? 0x858458f6;
  }
  unlink(path: string): SysError | undefined {
    this.calls.push(`unlink ${path}`);
    if (!this.files.delete(path) && !this.links.delete(path) && !this.devices.delete(path)) return new SysError("unlink", 2, "ENOENT", path);
    return undefined;
  }
  /** inotify watches by path; `modified(path)` fires one. */
  readonly watches = new Map<string, () => void>();
  /** watchModified's answer for a path (an inotify limit), instead of a watch. */
  readonly failWatch = new Map<string, SysError>();
  watchModified(path: string, onModified: () => void): SysError | undefined {
    this.calls.push(`watch ${path}`);
    const error = this.failWatch.get(path);
    if (error === undefined) this.watches.set(path, onModified);
    return error;
  }
  /** The kernel's IN_MODIFY on `path` (a cgroup's cgroup.events when "populated" changed). */
  modified(path: string): void {
    this.watches.get(path)?.();
  }
  /** Socket files that nothing has bound any more (abandonedSocket says true). */
  readonly abandonedSockets = new Set<string>();
  abandonedSocket(path: string): boolean {
    return this.abandonedSockets.has(path);
  }
  rmdir(path: string): SysError | undefined {
    this.calls.push(`rmdir ${path}`);
    // A cgroup (it has cgroup.procs) goes with its interface files unless processes are in it.
    const procs = this.files.get(`${path}/cgroup.procs`);
    if (procs !== undefined) {
      if (procs.trim() !== "") return new SysError("rmdir", 16, "EBUSY", path);
      for (const file of [...this.files.keys()]) if (file.startsWith(`${path}/`)) this.files.delete(file);
      // Its watches go with it (IN_IGNORED).
      for (const watched of [...this.watches.keys()]) if (watched.startsWith(`${path}/`)) this.watches.delete(watched);
    }
    if (this.readDir(path)?.length) return new SysError("rmdir", 39, "ENOTEMPTY", path);
    return this.dirs.delete(path) ? undefined : new SysError("rmdir", 2, "ENOENT", path);
  }
  chdir(path: string): SysError | undefined {
    this.calls.push(`chdir ${path}`);
    return undefined;
  }
  chroot(path: string): SysError | undefined {
    this.calls.push(`chroot ${path}`);
    return undefined;
  }
  reopenConsole(path: string): SysError | undefined {
    this.calls.push(`reopen console ${path}`);
    return undefined;
  }
  /** A successful exec never returns: here it throws ExecCalled, for the test to catch. */
  exec(path: string, argv: readonly string[], env: Readonly<Record<string, string>>): SysError {
    this.calls.push(`exec ${path} ${argv.join(" ")}`);
    const failure = this.failExec.get(path);
    if (failure !== undefined) return failure;
    throw new ExecCalled(path, argv, env);
  }

  // --- watchdogs ---
  /** Watchdog devices that exist, by path: what each takes (a timeout it rounds to, failures). */
  readonly watchdogs = new Map<string, FakeWatchdogDriver>();
  /** Paths whose open fails, with the error (EBUSY: someone has it open). */
  readonly failOpenWatchdog = new Map<string, SysError>();
  openWatchdog(path: string): WatchdogDevice | SysError {
    const refused = this.failOpenWatchdog.get(path);
    if (refused !== undefined) return refused;
    const driver = this.watchdogs.get(path);
    if (driver === undefined) return new SysError("open", 2, "ENOENT", path);
    this.calls.push(`watchdog open ${path}`);
    driver.open = true;
    const call = (text: string) => this.calls.push(`watchdog ${path} ${text}`);
    return {
      path,
      setTimeoutSeconds: (seconds) => {
        call(`settimeout ${seconds}`);
        if (driver.refuseTimeout) return new SysError("ioctl(WDIOC_SETTIMEOUT)", 22, "EINVAL", path);
        driver.timeout = Math.min(seconds, driver.maxTimeout);
        return driver.timeout;
      },
      getTimeoutSeconds: () => (driver.noGetTimeout ? new SysError("ioctl(WDIOC_GETTIMEOUT)", 95, "EOPNOTSUPP", path) : driver.timeout),
      keepAlive: () => {
        call("keepalive");
        return driver.failKeepAlive;
      },
      close: (disarm) => {
        call(disarm ? "magic close" : "close");
        driver.open = false;
        driver.disarmed = disarm;
        return undefined;
      },
    };
  }
  /** Each debug stall, in ms. */
  readonly stalls: number[] = [];
  stall(ms: number): void {
    this.calls.push(`stall ${ms}`);
    this.stalls.push(ms);
  }
}

/** A watchdog driver behind a fake device node. */
export class FakeWatchdogDriver {
  open = false;
  disarmed = false;
  refuseTimeout = false;
  noGetTimeout = false;
  failKeepAlive: SysError | undefined;
  constructor(
    public timeout = 60,
    readonly maxTimeout = 65_535,
  ) {}
}

export class ExecCalled extends Error {
  constructor(
    readonly path: string,
    readonly argv: readonly string[],
    readonly env: Readonly<Record<string, string>>,
  ) {
    super(`exec ${path}`);
  }
}

export { SysError };
