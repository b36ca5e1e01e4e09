// The system calls of the switch to the real root: reading block devices, loading modules,
// walking and deleting the initramfs, chroot, and the exec that keeps PID 1. One call or a
// thin loop around one each, failures as SysError values; linux-sys.ts puts them in linuxSys.
import { closeSync, lstatSync, openSync, readSync } from "./file-calls.ts";
import { check, failure, fsError } from "./call-errors.ts";
import { cstr, cstrArray, libc } from "./libc.ts";
import { SysError, type FileStatus, type Sys } from "./sys.ts";

const O_RDONLY = 0;
const O_RDWR = 2;
const O_NOCTTY = 0o400;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const CLOSE_RANGE_CLOEXEC = 1 << 2;
const SIG_SETMASK = 2;
const SIG_DFL = 0n;
const SIG_IGN = 1n;
/** glibc's struct sigaction (x86_64 and arm64): handler (8), mask (128), flags (4 + pad 4), restorer (8). */
const SIGACTION_SIZE = 152;
/** SIGKILL and SIGSTOP cannot be caught or ignored; signal() refuses them. */
const UNCHANGEABLE = new Set([9, 19]);
const LAST_STANDARD_SIGNAL = 31;
/** finit_module's number: 313 on x86_64, 273 on arm64 (the generic table). */
const SYS_FINIT_MODULE = process.arch === "arm64" ? 273 : 313;
/** struct statfs is 120 bytes on 64-bit Linux; f_type is its first field (a long). */
const STATFS_SIZE = 120;

function readAt(path: string, offset: number, length: number): Uint8Array | SysError {
  let fd: number;
  try {
    // Non-blocking, so a FIFO put where a device was expected cannot stall PID 1.
    fd = openSync(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  } catch (error) {
    return fsError("open", path, error);
  }
  try {
    const buffer = new Uint8Array(length);
    let total = 0;
    while (total < length) {
      const n = readSync(fd, buffer, total, length - total, offset + total);
      if (n === 0) break;
      total += n;
    }
    return buffer.subarray(0, total);
  } catch (error) {
    return fsError("read", path, error);
  } finally {
    closeSync(fd);
  }
}

/** finit_module's flag: the file is compressed; the kernel decompresses it (CONFIG_MODULE_DECOMPRESS). */
const MODULE_INIT_COMPRESSED_FILE = 4;

function loadModule(path: string, params: string): SysError | undefined {
  let fd: number;
  try {
    fd = openSync(path, O_RDONLY | O_CLOEXEC);
  } catch (error) {
    return fsError("open", path, error);
  }
  try {
    const flags = /\.ko\.(xz|zst|gz)$/.test(path) ? MODULE_INIT_COMPRESSED_FILE : 0;
    return check(libc.syscall(SYS_FINIT_MODULE, fd, cstr(params), flags), "finit_module", path);
  } finally {
    closeSync(fd);
  }
}

function lstat(path: string): FileStatus | SysError {
  try {
    const stat = lstatSync(path);
    const kind = stat.isFile() ? "file" : stat.isDirectory() ? "directory" : stat.isSymbolicLink() ? "symlink" : "other";
    return { device: stat.dev, kind, mode: stat.mode & 0o7777, size: stat.size };
  } catch (error) {
    return fsError("lstat", path, error);
  }
}

function filesystemType(path: string): number | SysError {
  const buffer = new BigInt64Array(STATFS_SIZE / 8);
  if (libc.statfs(cstr(path), buffer) === -1) return failure("statfs", path);
  return Number(buffer[0]);
}

function reopenConsole(path: string): SysError | undefined {
  const fd = libc.open(cstr(path), O_RDWR | O_NOCTTY | O_CLOEXEC, 0);
  if (fd === -1) return failure("open", path);
  for (const target of [0, 1, 2]) {
    // dup2 clears close-on-exec on the copy, as the standard descriptors need.
    if (libc.dup2(fd, target) === -1) {
      const error = failure("dup2", path);
      libc.close(fd);
      return error;
    }
  }
  if (fd > 2) libc.close(fd);
  return undefined;
}

function exec(path: string, argv: readonly string[], env: Readonly<Record<string, string>>): SysError {
  const argvC = cstrArray(argv);
  const envC = cstrArray(Object.entries(env).map(([key, value]) => `${key}=${value}`));
  // Bun's own descriptors (its event loop, the control socket's listener) must not leak into
  // the next init; marked rather than closed, so a failed exec leaves this process working.
  libc.close_range(3, 0xffffffff, CLOSE_RANGE_CLOEXEC);
  // Handlers go back to default at exec anyway; ignored signals and the mask would not.
  const ignored: number[] = [];
  const action = new BigUint64Array(SIGACTION_SIZE / 8);
  for (let signal = 1; signal <= LAST_STANDARD_SIGNAL; signal++) {
    if (UNCHANGEABLE.has(signal) || libc.sigaction(signal, null, action) === -1) continue;
    // sa_handler is the first field of glibc's struct sigaction.
    if (action[0] === SIG_IGN && Number(libc.signal(signal, SIG_DFL)) !== -1) ignored.push(signal);
  }
  const empty = new Uint8Array(128);
  const saved = new Uint8Array(128);
  libc.sigemptyset(empty);
  libc.sigprocmask(SIG_SETMASK, empty, saved);
  libc.execve(cstr(path), argvC.array, envC.array);
  const error = failure("execve", path);
  libc.sigprocmask(SIG_SETMASK, saved, null);
  for (const signal of ignored) libc.signal(signal, SIG_IGN);
  return error;
}

export const bootCalls: Pick<Sys, "readAt" | "loadModule" | "lstat" | "filesystemType" | "unlink" | "rmdir" | "chdir" | "chroot" | "reopenConsole" | "exec"> = {
  readAt,
  loadModule,
  lstat,
  filesystemType,
  unlink: (path) => check(libc.unlink(cstr(path)), "unlink", path),
  rmdir: (path) => check(libc.rmdir(cstr(path)), "rmdir", path),
  chdir: (path) => check(libc.chdir(cstr(path)), "chdir", path),
  chroot: (path) => check(libc.chroot(cstr(path)), "chroot", path),
  reopenConsole,
  exec,
};
