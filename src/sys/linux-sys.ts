// The real Sys: libc through bun:ffi (files through file-calls.ts). Each method is one system
// call or a thin loop around one, and reports failure as a SysError value.
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeSync,
  readSync,
  statSync,
  writeFileSync,
} from "./file-calls.ts";
import type { FileStat } from "./file-calls.ts";
import { cstr, cstrArray, errno, libc } from "./libc.ts";
import { errnoName, ECHILD } from "../base/errno.ts";
import { listenUnix } from "./activation-socket.ts";
import { openConfinedDirectory } from "./confined-directory.ts";
import { bootCalls } from "./boot-calls.ts";
import { openWatchdog, stall } from "./watchdog-device.ts";
import { watchModified } from "./file-watch.ts";
import { randomBytes } from "./random.ts";
import { abandonedSocket } from "./notify-socket.ts";
import { check, failure, fsError } from "./call-errors.ts";
import { EXEC_HELPER_FLAG } from "./exec-helper.ts";
import { SysError } from "./sys.ts";
import type { ExitStatus, Reaped, StdioSpec } from "../base/process.ts";
import type { MountRequest, RebootCommand, SpawnRequest, SpawnResult, Sys } from "./sys.ts";

const WNOHANG = 1;
const F_DUPFD_CLOEXEC = 1030;
const F_SETFL = 4;
const EINTR = 4;
const PR_SET_CHILD_SUBREAPER = 36;

const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;

const ENOENT = 2;
const O_RDONLY = 0;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_NOCTTY = 0o400;
const O_APPEND = 0o2000;
const O_CLOEXEC = 0o2000000;
const O_NONBLOCK = 0o4000;
const O_PATH = 0o10000000;
/** 0o400000 on x86_64 but 0o100000 on arm64. */
const O_NOFOLLOW = constants.O_NOFOLLOW;

// glibc's reboot(2) magic values; `| 0` makes the ones above 2^31 fit the C int.
const REBOOT_COMMANDS: Record<RebootCommand, number> = {
  restart: 0x01234567,
  halt: 0xcdef0123 | 0,
  poweroff: 0x4321fedc,
  "cad-off": 0,
  "cad-on": 0x89abcdef | 0,
};

export function decodeWaitStatus(status: number): ExitStatus {
  const low = status & 0x7f;
  if (low === 0) return { kind: "exited", code: (status >> 8) & 0xff };
  return { kind: "signaled", signal: low, core: (status & 0x80) !== 0 };
}

/**
 * PATH lookup as execvp does it, so a missing program is reported before anything is forked:
 * ENOENT when no candidate exists, EACCES when one exists but cannot be executed (execvp goes
 * on searching after such a one and reports EACCES only if nothing else is found).
 */
function resolveExecutable(name: string, path: string | undefined): string | SysError {
  let denied = false;
  const isExecutable = (candidate: string) => {
    try {
      if (!statSync(candidate).isFile()) {
        denied = true;
        return false;
      }
    } catch {
      return false;
    }
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      denied = true;
      return false;
    }
  };
  const notFound = () => (denied ? new SysError("execve", 13, "EACCES", name) : new SysError("execve", 2, "ENOENT", name));
  if (name.includes("/")) return isExecutable(name) ? name : notFound();
  for (const dir of (path ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
    const candidate = `${dir || "."}/${name}`;
    if (isExecutable(candidate)) return candidate;
  }
  return notFound();
}

/**
 * Descriptors the parent opens for a child's stdio. Opening them here (close-on-exec) rather
 * than in the child tells "opening stdio" failures apart from exec failures.
 */
class StdioFds {
  private readonly opened: number[] = [];

  open(spec: StdioSpec, fd: number): SysError | number | undefined {
    if (spec.kind === "inherit" || spec.kind === "tty") return undefined;
    if (spec.kind === "fd") return spec.fd;
    if (spec.kind === "file") return this.openLogfile(spec);
    const opened = libc.open(cstr("/dev/null"), (fd === 0 ? O_RDONLY : O_WRONLY) | O_NOCTTY | O_CLOEXEC, 0);
    if (opened === -1) return failure("open", "/dev/null");
    this.opened.push(opened);
    return opened;
  }

  /**
   * A log file is opened by root in a directory its service's user may own, so whatever that
   * user put there must not lead root elsewhere. Its directory is opened a name at a time, and
   * a symbolic link is followed only where root alone could have put it (confined-directory.ts);
   * the file is then opened in that directory's descriptor, through a link only if every
   * directory on the way was root's alone (O_NOFOLLOW: ELOOP; `/dev/stdout` and the like, in
   * root's /dev, still work). Never a file with another hard link, never a FIFO (O_NONBLOCK: an
   * open that would wait for a reader fails instead of blocking PID 1). A regular file, new or
   * existing, gets its owner (logfile-uid, logfile-gid) and mode as dinit documents, through the
   * descriptor; but in a directory a user may change, an existing file that is not already the
   * new owner's is refused, and is not truncated: that user may have moved it there. A device
   * keeps its own.
   */
  private openLogfile(spec: Extract<StdioSpec, { kind: "file" }>): SysError | number {
    const { path } = spec;
    const slash = path.lastIndexOf("/");
    const dir = openConfinedDirectory(slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash));
    if (dir instanceof SysError) return new SysError(dir.call, dir.errno, dir.code, path);
    const name = cstr(path.slice(slash + 1));
    const follow = dir.rootsAlone ? 0 : O_NOFOLLOW;
    const flags = O_WRONLY | (spec.append ? O_APPEND : 0) | follow | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
    let created = false;
    let opened = libc.openat(dir.fd, name, flags, 0);
    if (opened === -1 && errno() === ENOENT) {
      opened = libc.openat(dir.fd, name, flags | O_CREAT | O_EXCL, spec.mode ?? 0o600);
      created = opened !== -1;
    }
    const openError = opened === -1 ? failure("open", path) : undefined;
    libc.close(dir.fd);
    if (openError !== undefined) return openError;
    this.opened.push(opened);
    try {
      const stat = fstatSync(opened);
      if (!stat.isFile() && !stat.isCharacterDevice()) return new SysError("open (not a regular file)", 22, "EINVAL", path);
      if (stat.isFile() && stat.nlink > 1) return new SysError(`open (a file with ${stat.nlink} hard links)`, 31, "EMLINK", path);
      if (stat.isFile()) {
        // dinit's rule: the log file, new or not, gets logfile-permissions and the owner of
        // logfile-uid/-gid (by default this process's own). A device (/dev/null, a tty) is left alone.
        const uid = spec.uid ?? process.getuid?.() ?? stat.uid;
        const gid = spec.gid ?? process.getgid?.() ?? stat.gid;
        if (!created && !dir.rootsAlone && stat.uid !== uid) {
          return new SysError(`open (a file of uid ${stat.uid} in a directory a user may change, not given to uid ${uid})`, 1, "EPERM", path);
        }
        if (!spec.append && !created) ftruncateSync(opened, 0);
        if (stat.uid !== uid || stat.gid !== gid) fchownSync(opened, uid, gid);
        const mode = spec.mode ?? 0o600;
        if ((stat.mode & 0o7777) !== mode || created) fchmodSync(opened, mode);
      }
    } catch (error) {
      return fsError("fchown/fchmod", path, error);
    }
    // The service's writes block as usual (a tty, say); only the open had to be non-blocking.
    if (libc.fcntl(opened, F_SETFL, spec.append ? O_APPEND : 0) === -1) return failure("fcntl(F_SETFL)", path);
    return opened;
  }

  /** A descriptor made for this spawn, closed with the others once the child has its copy. */
  adopt(fd: number): void {
    this.opened.push(fd);
  }

  closeAll(): void {
    for (const fd of this.opened) libc.close(fd);
  }
}

/**
 * Only tsinit's read end is non-blocking. The write end goes to a child, which must wait when
 * it writes faster than tsinit reads, not fail with EAGAIN (`yes` would exit after 64 KiB).
 */
function pipe(options?: { blocking?: boolean }): { read: number; write: number } | SysError {
  const fds = new Int32Array(2);
  if (libc.pipe2(fds, O_CLOEXEC) === -1) return failure("pipe2");
  if (options?.blocking === true) return { read: fds[0]!, write: fds[1]! };
  if (libc.fcntl(fds[0]!, F_SETFL, O_NONBLOCK) === -1) {
    const error = failure("fcntl(F_SETFL, O_NONBLOCK)");
    libc.close(fds[0]!);
    libc.close(fds[1]!);
    return error;
  }
  return { read: fds[0]!, write: fds[1]! };
}

function spawn(request: SpawnRequest): SpawnResult {
  const program = request.argv[0];
  if (program === undefined) return { ok: false, stage: "exec", error: new SysError("spawn", 22, "EINVAL", "(empty command)") };
  // With credentials the helper looks the program up itself, as the user: root looking here
  // would tell a user whether a program exists in a directory that user cannot read.
  // A relative path with a slash is run from the working directory, as exec after chdir would.
  const fromCwd = program.includes("/") && !program.startsWith("/") && request.cwd !== undefined ? `${request.cwd}/${program}` : program;
  const path = request.credentials !== undefined ? program : resolveExecutable(fromCwd, request.env.PATH);
  if (path instanceof SysError) return { ok: false, stage: "exec", error: path };
  // With credentials the helper changes directory after dropping privileges, as the user.
  const cwdInHelper = request.credentials !== undefined;
  if (request.cwd !== undefined && !cwdInHelper && !isDirectory(request.cwd)) {
    return { ok: false, stage: "working-dir", error: new SysError("chdir", 2, "ENOENT", request.cwd) };
  }

  const attr = new Uint8Array(512);
  const actions = new Uint8Array(256);
  const defaults = new Uint8Array(128);
  const mask = new Uint8Array(128);
  const stdio = new StdioFds();
  libc.posix_spawnattr_init(attr);
  libc.posix_spawn_file_actions_init(actions);
  try {
    // A child starts with every signal at its default and nothing blocked, whatever Bun's
    // threads had set, in a session (and process group) of its own.
    libc.sigfillset(defaults);
    libc.sigemptyset(mask);
    libc.posix_spawnattr_setsigdefault(attr, defaults);
    libc.posix_spawnattr_setsigmask(attr, mask);
    const session = request.newSession === false ? 0 : POSIX_SPAWN_SETSID;
    libc.posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | session);

    const specs: StdioSpec[] = [request.stdin, request.stdout, request.stderr ?? request.stdout];
    for (const [fd, spec] of specs.entries()) {
      if (spec.kind === "tty") {
        // Opened in the child after setsid and without O_NOCTTY: it becomes the controlling tty.
        const flags = fd === 0 ? O_RDWR : O_WRONLY;
        libc.posix_spawn_file_actions_addopen(actions, fd, cstr(spec.path), flags, 0);
        continue;
      }
      const opened = stdio.open(spec, fd);
      if (opened instanceof SysError) return { ok: false, stage: "output", error: opened };
      if (opened !== undefined) libc.posix_spawn_file_actions_adddup2(actions, opened, fd);
    }
    const helper = request.credentials !== undefined || request.setListenPid === true || (request.rlimits?.length ?? 0) > 0 || request.attributes !== undefined;
    // The helper's status pipe: its write end goes to the helper just above the passed
    // descriptors, and closes on exec (the helper marks it close-on-exec).
    let status: { read: number; write: number } | undefined;
    if (helper) {
      const made = pipe();
      if (made instanceof SysError) return { ok: false, stage: "exec", error: new SysError("pipe2", made.errno, made.code, "(the exec helper's status pipe)") };
      status = made;
      stdio.adopt(made.write);
    }
    const statusTarget = Math.max(2, ...(request.passFds ?? []).map((p) => p.target)) + 1;
    // Readiness pipes and the like at their numbers; every other inherited descriptor closed.
    const wanted = [...(request.passFds ?? []), ...(status === undefined ? [] : [{ fd: status.write, target: statusTarget }])];
    const targets = new Set(wanted.map((p) => p.target));
    const highest = Math.max(2, ...targets);
    // The copies are made in order, so a source whose number is another entry's target would be
    // overwritten before it is copied: every source is first moved above all the targets.
    const passed: { fd: number; target: number }[] = [];
    for (const { fd, target } of wanted) {
      const moved = fd > highest ? fd : libc.fcntl(fd, F_DUPFD_CLOEXEC, highest + 1);
      if (moved === -1) {
        if (status !== undefined) libc.close(status.read);
        return { ok: false, stage: "exec", error: failure("fcntl(F_DUPFD_CLOEXEC)") };
      }
      if (moved !== fd) stdio.adopt(moved);
      passed.push({ fd: moved, target });
    }
    for (const { fd, target } of passed) libc.posix_spawn_file_actions_adddup2(actions, fd, target);
    for (let fd = 3; fd < highest; fd++) if (!targets.has(fd)) libc.posix_spawn_file_actions_addclose(actions, fd);
    libc.posix_spawn_file_actions_addclosefrom_np(actions, highest + 1);
    if (request.cwd !== undefined && !cwdInHelper) libc.posix_spawn_file_actions_addchdir_np(actions, cstr(request.cwd));

    const argvList = helper ? [...execHelperCommand(request, statusTarget), path, ...request.argv] : request.argv;
    const file = helper ? argvList[0]! : path;
    const argv = cstrArray(argvList);
    const envp = cstrArray(Object.entries(request.env).map(([key, value]) => `${key}=${value}`));
    const pid = new Int32Array(1);
    const rc = libc.posix_spawn(pid, cstr(file), actions, attr, argv.array, envp.array);
    // argv.keep and envp.keep must live until here: the child copied them during the call.
    void argv.keep;
    void envp.keep;
    if (rc !== 0) {
      if (status !== undefined) libc.close(status.read);
      // Named by the service's program, even when it was the helper that could not start.
      return { ok: false, stage: "exec", error: new SysError("execve", rc, errnoName(rc), path) };
    }
    return { ok: true, pid: pid[0]!, execStatusFd: status?.read };
  } finally {
    stdio.closeAll();
    libc.posix_spawn_file_actions_destroy(actions);
    libc.posix_spawnattr_destroy(attr);
  }
}

/**
 * This executable in exec-helper mode: it sets limits and ids, then execs the service
 * (src/sys/exec-helper.ts). Under `bun src/main.ts` that is bun plus the script.
 */
function execHelperCommand(request: SpawnRequest, statusFd: number): string[] {
  const compiled = (process.argv[1] ?? "").startsWith("/$bunfs/");
  const self = compiled ? [process.execPath] : [process.execPath, process.argv[1] ?? ""];
  const settings = {
    credentials: request.credentials,
    rlimits: request.rlimits,
    listenPid: request.setListenPid,
    attributes: request.attributes,
    cwd: request.credentials === undefined ? undefined : request.cwd,
    statusFd,
  };
  return [...self, EXEC_HELPER_FLAG, JSON.stringify(settings, (_, v) => (v === Infinity ? -1 : v))];
}

function reap(): { reaped: Reaped[]; noChildren: boolean } {
  const reaped: Reaped[] = [];
  const status = new Int32Array(1);
  for (;;) {
    const pid = libc.waitpid(-1, status, WNOHANG);
    if (pid > 0) {
      reaped.push({ pid, status: decodeWaitStatus(status[0]!) });
      continue;
    }
    if (pid === 0) return { reaped, noChildren: false };
    const code = errno();
    if (code === EINTR) continue;
    return { reaped, noChildren: code === ECHILD };
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** What a file that is not a regular file is, for "not a regular file (a FIFO)". */
function fileKind(stat: FileStat): string {
  if (stat.isFIFO()) return "a FIFO";
  if (stat.isCharacterDevice()) return "a character device";
  if (stat.isBlockDevice()) return "a block device";
  if (stat.isSocket()) return "a socket";
  return "not a regular file";
}

const READ_CHUNK = 64 * 1024;

/** See Sys.readRegularFile: O_NONBLOCK, fstat after open, and at most `maxBytes`. */
function readRegularFile(path: string, maxBytes: number): string | SysError {
  // Looked at before it is opened for reading: opening a device runs its driver's open (a
  // watchdog starts counting), so a link to one must be refused without opening it.
  let handle: number;
  try {
    handle = openSync(path, O_PATH | O_CLOEXEC);
  } catch (error) {
    return fsError("open", path, error);
  }
  let fd: number;
  try {
    const stat = fstatSync(handle);
    if (stat.isDirectory()) return new SysError("read", 21, "EISDIR", path);
    if (!stat.isFile()) return new SysError("read", 0, "ENOTREG", path, `not a regular file (${fileKind(stat)})`);
    fd = openSync(`/proc/self/fd/${handle}`, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  } catch (error) {
    return fsError("open", path, error);
  } finally {
    closeSync(handle);
  }
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK, maxBytes + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > maxBytes) return new SysError("read", 27, "EFBIG", path, `larger than ${maxBytes} bytes`);
    }
    return Buffer.concat(chunks, total).toString("utf8");
  } catch (error) {
    return fsError("read", path, error);
  } finally {
    closeSync(fd);
  }
}

/** pwrite (or append) into a regular file, made 0644 if missing, never through a link (utmp, wtmp). */
function writeAt(path: string, offset: number | "end", data: Uint8Array): SysError | undefined {
  let fd: number;
  try {
    fd = openSync(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | (offset === "end" ? O_APPEND : 0), 0o644);
  } catch (error) {
    return fsError("open", path, error);
  }
  try {
    if (!fstatSync(fd).isFile()) return new SysError("open", 22, "EINVAL", path, "not a regular file");
    writeSync(fd, data, 0, data.length, offset === "end" ? null : offset);
    return undefined;
  } catch (error) {
    return fsError("write", path, error);
  } finally {
    closeSync(fd);
  }
}

export const linuxSys: Sys = {
  writeAt,
  getpid: () => libc.getpid(),
  getuid: () => process.getuid?.() ?? 0,
  randomBytes,
  spawn,
  reap,
  kill: (pid, signal) => check(libc.kill(pid, signal), "kill", String(pid)),
  setChildSubreaper: () => check(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(PR_SET_CHILD_SUBREAPER)"),

  mount: (m: MountRequest) =>
    check(libc.mount(cstr(m.source), cstr(m.target), cstr(m.fstype), m.flags, m.data === undefined ? null : cstr(m.data)), "mount", m.target),
  umount: (target, flags) => check(libc.umount2(cstr(target), flags), "umount", target),
  reboot: (command) => check(libc.reboot(REBOOT_COMMANDS[command]), `reboot(${command})`),
  sync: () => libc.sync(),
  sethostname: (name) => {
    const bytes = Buffer.from(name, "utf8");
    return check(libc.sethostname(cstr(name), bytes.length), "sethostname", name);
  },

  pipe,
  close: (fd) => void libc.close(fd),
  listenUnix,
  readUntilClosed: async (fd, onData, options) => {
    const decoder = new TextDecoder();
    const budget = options?.bytesPerSecond;
    let windowStart = performance.now();
    let inWindow = 0;
    try {
      for await (const chunk of Bun.file(fd).stream()) {
        onData(decoder.decode(chunk, { stream: true }));
        if (budget === undefined) continue;
        // Past the budget, stop reading for the rest of the second: the stream reads nothing
        // ahead meanwhile, so the writer blocks on a full pipe instead of costing a core.
        const elapsed = performance.now() - windowStart;
        inWindow += chunk.length;
        if (elapsed >= 1_000) {
          windowStart = performance.now();
          inWindow = 0;
        } else if (inWindow >= budget) {
          await Bun.sleep(1_000 - elapsed);
          windowStart = performance.now();
          inWindow = 0;
        }
      }
    } catch {
      // A read error ends the watch like end of file does.
    } finally {
      libc.close(fd);
    }
  },

  readFile: (path) => {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return undefined;
    }
  },
  readRegularFile,
  writeFile: (path, data) => {
    try {
      writeFileSync(path, data);
      return undefined;
    } catch (error) {
      return fsError("write", path, error);
    }
  },
  exists: (path) => existsSync(path),
  mkdir: (path, mode) => {
    try {
      mkdirSync(path, { mode, recursive: true });
      return undefined;
    } catch (error) {
      return fsError("mkdir", path, error);
    }
  },
  readDir: (path) => {
    try {
      return readdirSync(path);
    } catch {
      return undefined;
    }
  },
  isDirectory,
  readlink: (path) => {
    try {
      return readlinkSync(path);
    } catch {
      return undefined;
    }
  },
  symlink: (target, path) => {
    try {
      symlinkSync(target, path);
      return undefined;
    } catch (error) {
      return fsError("symlink", path, error);
    }
  },
  writeFd: (fd, text) => {
    try {
      const bytes = new TextEncoder().encode(text);
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done);
      return undefined;
    } catch (error) {
      return fsError("write", `fd ${fd}`, error);
    }
  },
  ...bootCalls,
  watchModified,
  abandonedSocket,
  openWatchdog,
  stall,
};
