// The seam between tsinit and the machine. Everything outside src/sys/ receives a `Runtime`
// (or just its `Sys`) and imports only the types below, so the core, the boot plans and the
// supervisor run under vitest with a fake. This file must stay free of bun:* and node:* imports.
import type { LogSink } from "../base/logging.ts";
import type { SignalName } from "../base/signals.ts";
import type { Credentials, ProcessAttributes, Reaped, RLimitSetting, SpawnStage, StdioSpec } from "../base/process.ts";


/** A failed system call, as a value: which call, on what, and the errno. */
export class SysError extends Error {
  /** What went wrong without the call and path: the errno name, or words when there are some. */
  readonly reason: string;
  constructor(
    readonly call: string,
    readonly errno: number,
    readonly code: string,
    readonly path?: string,
    /** Words for a failure that is not just an errno ("not a regular file (a FIFO)"). */
    detail?: string,
  ) {
    const reason = detail ?? code;
    super(`${call}${path === undefined ? "" : ` ${path}`}: ${reason}`);
    this.reason = reason;
    this.name = "SysError";
  }
}

export interface SpawnRequest {
  /** argv[0] is looked up in PATH of `env` when it has no slash. */
  argv: readonly string[];
  env: Readonly<Record<string, string>>;
  cwd?: string;
  stdin: StdioSpec;
  stdout: StdioSpec;
  /** Defaults to a duplicate of stdout. */
  stderr?: StdioSpec;
  /**
   * false: the child stays in this process's session and process group (container mode's
   * command keeps the terminal). Default: a session of its own.
   */
  newSession?: boolean;
  /** Descriptors of this process to place at fixed numbers in the child (readiness pipes). */
  passFds?: { fd: number; target: number }[];
  /** Applied just before exec, which takes tsinit's exec helper (posix_spawn cannot). */
  credentials?: Credentials;
  /** Set LISTEN_PID to the child's own pid (socket activation); also takes the exec helper. */
  setListenPid?: boolean;
  rlimits?: RLimitSetting[];
  /** nice, ioprio, oom-score-adj, cgroup, capabilities...: also take the exec helper. */
  attributes?: ProcessAttributes;
}

export type SpawnResult =
  | { ok: true; pid: number; execStatusFd?: number }
  | { ok: false; stage: SpawnStage; error: SysError };

export interface MountRequest {
  source: string;
  target: string;
  fstype: string;
  flags: number;
  data?: string;
}

export type RebootCommand = "restart" | "halt" | "poweroff" | "cad-off" | "cad-on";

export interface Sys {
  getpid(): number;
  getuid(): number;
  /** `count` bytes from the kernel's random source (getrandom(2)), for names no other user may guess. */
  randomBytes(count: number): Uint8Array;

  /**
   * posix_spawn. A program that needs the exec helper (credentials, rlimits, LISTEN_PID) is
   * not executed yet when this returns: `execStatusFd` then reads, until it closes, the
   * helper's report of a failure before or at exec, and nothing when exec succeeded.
   */
  spawn(request: SpawnRequest): SpawnResult;
  /**
   * Collect every exited child with waitpid(-1, WNOHANG). `noChildren` is true when the kernel
   * said ECHILD, i.e. this process has no children left at all.
   */
  reap(): { reaped: Reaped[]; noChildren: boolean };
  /** kill(2); a negative pid signals a process group. ESRCH is an error value, not a throw. */
  kill(pid: number, signal: number): SysError | undefined;
  setChildSubreaper(): SysError | undefined;

  mount(request: MountRequest): SysError | undefined;
  umount(target: string, flags: number): SysError | undefined;
  reboot(command: RebootCommand): SysError | undefined;
  sync(): void;
  sethostname(name: string): SysError | undefined;

  /**
   * A close-on-exec pipe; the read end (tsinit's) is non-blocking, the write end (a child's)
   * blocks. With `blocking`, both ends block: both go to children (log-type = pipe).
   */
  pipe(options?: { blocking?: boolean }): { read: number; write: number } | SysError;
  /** A listening unix stream socket at `path` with `mode` (and owner), close-on-exec (socket-listen). */
  listenUnix(path: string, mode: number, owner?: { uid?: number; gid?: number }): number | SysError;
  close(fd: number): void;
  /**
   * Calls `onData` with each chunk read from `fd` until end of file, then closes it. With
   * `bytesPerSecond`, reading pauses for the rest of a second once that much was read in it, so
   * a writer faster than that waits on the full pipe.
   */
  readUntilClosed(fd: number, onData: (chunk: string) => void, options?: { bytesPerSecond?: number }): Promise<void>;

  readFile(path: string): string | undefined;
  /**
   * A file that someone else may have written (a service file, an env-file, a pid file): opened
   * non-blocking, so a FIFO cannot stall the caller; refused unless fstat says it is a regular
   * file, so /dev/zero cannot feed it forever; and never more than `maxBytes` read. The error's
   * code is the errno name (ENOENT, ELOOP, EACCES, EISDIR), or `EFBIG` past `maxBytes`, or
   * `ENOTREG` for a FIFO, device or socket; its message says which in words.
   */
  readRegularFile(path: string, maxBytes: number): string | SysError;
  writeFile(path: string, data: string): SysError | undefined;
  exists(path: string): boolean;
  mkdir(path: string, mode: number): SysError | undefined;
  /** Names in a directory, or undefined when it cannot be read. */
  readDir(path: string): string[] | undefined;
  isDirectory(path: string): boolean;
  readlink(path: string): string | undefined;
  /** symlink(2): a link at `path` naming `target` (enable's waits-for.d entries). */
  symlink(target: string, path: string): SysError | undefined;
  /** Writes all of `text` to an open descriptor (a readiness fd); an error value, never a throw. */
  writeFd(fd: number, text: string): SysError | undefined;

  // --- what the switch to the real root needs (src/boot/) ---
  /** Up to `length` bytes of a file or block device from `offset` (pread); fewer at its end. */
  readAt(path: string, offset: number, length: number): Uint8Array | SysError;
  /**
   * pwrite(2) of `data` at `offset` (or appended, "end") in a regular file created 0644 if
   * missing; never through a symbolic link (utmp and wtmp).
   */
  writeAt(path: string, offset: number | "end", data: Uint8Array): SysError | undefined;
  /** finit_module(2) of the module file at `path`; EEXIST (already loaded) is an error value too. */
  loadModule(path: string, params: string): SysError | undefined;
  /** lstat(2), as much of it as a walk over a directory tree needs. */
  lstat(path: string): FileStatus | SysError;
  /** statfs(2)'s f_type: which kind of filesystem holds `path` (FS_MAGIC in src/base/mounts.ts). */
  filesystemType(path: string): number | SysError;
  unlink(path: string): SysError | undefined;
  rmdir(path: string): SysError | undefined;
  /**
   * inotify's IN_MODIFY: `onModified` each time the file at `path` is modified (a cgroup's
   * cgroup.events when its "populated" changes), until the file is removed. A second watch of
   * the same file takes the first one's place.
   */
  watchModified(path: string, onModified: () => void): SysError | undefined;
  /**
   * Whether `path` (never followed if a link) is a datagram socket of this user that nothing has
   * bound any more (connect says ECONNREFUSED): left by a process killed before it unlinked it.
   */
  abandonedSocket(path: string): boolean;
  chdir(path: string): SysError | undefined;
  chroot(path: string): SysError | undefined;
  /** Opens `path` read-write, not as a controlling terminal, and puts it on descriptors 0, 1 and 2. */
  reopenConsole(path: string): SysError | undefined;
  /**
   * execve(2) in this very process, so PID 1 stays PID 1. Just before it, every descriptor above
   * 2 is made close-on-exec, ignored signals are set back to their default and the signal mask is
   * emptied: the new program starts as the kernel starts an init. Returns only on failure, with
   * nothing else changed that matters (descriptors stay open until an exec succeeds).
   */
  exec(path: string, argv: readonly string[], env: Readonly<Record<string, string>>): SysError;

  // --- hardware watchdogs (src/boot/watchdog.ts) ---
  /** Opens a watchdog device (/dev/watchdog0) write-only and close-on-exec: from now on it must be petted. */
  openWatchdog(path: string): WatchdogDevice | SysError;

  /**
   * Blocks this thread, and with it the event loop, for `ms` (nothing is read, reaped or
   * answered meanwhile): `initctl debug stall`, to see a watchdog reset a stalled PID 1.
   */
  stall(ms: number): void;
}

/** An open watchdog device (the Linux watchdog API: ioctls on /dev/watchdogN). */
export interface WatchdogDevice {
  readonly path: string;
  /** WDIOC_SETTIMEOUT, then WDIOC_GETTIMEOUT: the timeout in seconds the driver took (it may round). */
  setTimeoutSeconds(seconds: number): number | SysError;
  /** WDIOC_GETTIMEOUT: the driver's timeout in seconds. */
  getTimeoutSeconds(): number | SysError;
  /** WDIOC_KEEPALIVE: the timeout starts again. */
  keepAlive(): SysError | undefined;
  /**
   * Closes the device. `disarm`: the magic close, "V" written first, so the driver stops the
   * timer (unless it was built with nowayout); without it the timer keeps running after close.
   */
  close(disarm: boolean): SysError | undefined;
}

export interface FileStatus {
  /** st_dev: which filesystem the entry is on. */
  device: number;
  kind: "file" | "directory" | "symlink" | "other";
  /** Permission bits (st_mode & 07777). */
  mode: number;
  size: number;
}

/** A timer or interval; cancelling twice is harmless. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Milliseconds since the epoch, for what users read. */
  wallTime(): number;
  /**
   * Milliseconds since the kernel started (CLOCK_MONOTONIC): one clock for both boot stages,
   * across the exec of switch_root, and the one the kernel's own log lines are stamped with.
   */
  sinceBoot(): number;
  /** Calls `fire` once, `ms` from now; 0: in the event loop's next turn, after pending I/O and signals. */
  setTimer(ms: number, fire: () => void): Timer;
  /** Calls `fire` every `ms` until cancelled. */
  setInterval(ms: number, fire: () => void): Timer;
}

/** One sd_notify datagram, with the sender's pid and uid from its credentials. */
export interface NotifyMessage {
  /**
   * The sender's pid in this process's pid namespace (0 if the sender's namespace is not
   * visible from here). Root may name another live process: `systemd-notify` run as root sends
   * its parent's pid; run as another user it sends its own, a short-lived child of the service.
   */
  pid: number;
  uid: number;
  /** The sender's session, read as the datagram arrived (undefined when it was gone already). */
  session?: number;
  /** The sender's cgroup2 path (/proc/PID/cgroup's "0::" line), read as the datagram arrived. */
  cgroup?: string;
  /** The sender's /proc entry was gone as the datagram arrived (or its pid is not visible here). */
  senderGone?: boolean;
  /** "READY=1\nSTATUS=up" -> { READY: "1", STATUS: "up" } */
  fields: Record<string, string>;
}

export interface NotifyListener {
  /** Stops delivery at once and removes the socket file. Idempotent. */
  close(): void;
}

/** Lines to a device, queued when it does not take them at once. */
export interface LineWriter {
  /** `mustKeep`: queued even when the queue is full (the report's last line). */
  push(line: string, mustKeep?: boolean): void;
  /** Resolves true once every line is out, false after `timeoutMs`. */
  drained(timeoutMs: number): Promise<boolean>;
}

/** One kernel uevent: `add@/devices/...` then KEY=value fields (ACTION, DEVPATH, SUBSYSTEM...). */
export type Uevent = Readonly<Record<string, string>>;

export interface UeventListener {
  close(): void;
}

/**
 * Listens to the kernel's uevents (netlink, NETLINK_KOBJECT_UEVENT): what a device that appears
 * says about itself. `onLost` is called when the kernel dropped events because they were not
 * read fast enough (ENOBUFS): whoever waits for a device must look again. Throws a SysError
 * when the socket cannot be made.
 */
export type ListenUevents = (onEvent: (event: Uevent) => void, onError: (error: Error) => void, onLost: () => void) => UeventListener;

/** Binds NOTIFY_SOCKET at `path`; throws a SysError when it cannot. */
/**
 * `onError` gets each datagram it could not take, and once, with `stopped` set, the reading of
 * the socket stopping: the one that means no READY= will come.
 */
export type ListenNotify = (path: string, onMessage: (message: NotifyMessage) => void, onError: (error: Error & { stopped?: boolean }) => void) => NotifyListener;

/** The signals tsinit handles (the rest keep their defaults, or stay blocked by Bun). */
export type HandledSignal = `SIG${SignalName}`;

/**
 * Everything PID 1, supervisor mode and container mode need from the machine or from time,
 * in one injected object: system calls, the clock and timers, signals, the NOTIFY_SOCKET
 * listener, the log sink and the environment. The real one is `linuxRuntime`; tests use a fake
 * with a clock they advance.
 */
export interface Runtime {
  readonly sys: Sys;
  readonly clock: Clock;
  /** Calls `handler` on each delivery of `signal` to this process. */
  onSignal(signal: HandledSignal, handler: () => void): void;
  readonly listenNotify: ListenNotify;
  /** The kernel's device events, for finding the root device and the modules it needs. */
  readonly listenUevents: ListenUevents;
  /** Lines to a device (the boot report on a second serial port), never blocking PID 1. */
  openLineWriter(path: string): LineWriter | SysError;
  /** Where log lines go: the console (or stderr) and, once opened, /dev/kmsg. */
  readonly sink: LogSink;
  /** Start writing to /dev/kmsg too (PID 1, once /dev is mounted). */
  openKmsg(): void;
  /** dinit's starts-log: from now on records go to /dev/log (kmsg when it does not take one). */
  openSyslog?(): void;
  /** This process's environment as it started. */
  readonly env: Readonly<Record<string, string>>;
  /** Logs uncaught exceptions and rejections through `report` instead of dying. */
  neverDie(report: (what: string) => void): void;
  /** Ends this process (supervisor and container mode; never PID 1 of a machine). */
  exit(code: number): never;
}
