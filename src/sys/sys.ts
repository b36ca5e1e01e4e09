// The seam between tsinit and the machine. Everything outside src/sys/ receives a `Sys` and
// imports only the types below, so the core, the boot plans and the supervisor run under
// vitest with a fake. This file must stay free of bun:* and node:* imports.
import type { Credentials, Reaped, RLimitSetting, SpawnStage, StdioSpec } from "../base/process.ts";


/** A failed system call, as a value: which call, on what, and the errno. */
export class SysError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
    readonly code: string,
    readonly path?: string,
  ) {
    super(`${call}${path === undefined ? "" : ` ${path}`}: ${code}`);
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
}

export type SpawnResult =
  | { ok: true; pid: number }
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
  /** Monotonic milliseconds. */
  now(): number;

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

  /** A close-on-exec, non-blocking pipe. */
  pipe(): { read: number; write: number } | SysError;
  /** A listening unix stream socket at `path` with `mode`, close-on-exec (socket-listen). */
  listenUnix(path: string, mode: number): number | SysError;
  close(fd: number): void;
  /** Calls `onData` with each chunk read from `fd` until end of file, then closes it. */
  readUntilClosed(fd: number, onData: (chunk: string) => void): Promise<void>;

  readFile(path: string): string | undefined;
  writeFile(path: string, data: string): SysError | undefined;
  exists(path: string): boolean;
  mkdir(path: string, mode: number): SysError | undefined;
  /** Names in a directory, or undefined when it cannot be read. */
  readDir(path: string): string[] | undefined;
  isDirectory(path: string): boolean;
  readlink(path: string): string | undefined;
}
