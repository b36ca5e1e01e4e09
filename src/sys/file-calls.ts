// The file calls tsinit makes, through libc (bun:ffi) instead of node:fs: loading node:fs
// costs a compiled Bun program ~1.5 MiB of Rss and ~1.4 MiB of executable (docs/bench.md).
// Each function is one system call, or a loop around read or write, with the name and the
// arguments of the node:fs call it replaces (only the forms tsinit uses), and like that call
// it throws on failure: a SysError with the errno and its name ("ENOENT"), which callers turn
// into a value with call-errors.ts's fsError. No policy lives here.
import { encodeDeviceNumber } from "../base/device-number.ts";
import { errnoName } from "../base/errno.ts";
import { cstr, errno, libc, ptr } from "./libc.ts";
import { SysError } from "./sys.ts";

const arm64 = process.arch === "arm64";

/** open(2) flags and access(2) modes. O_DIRECTORY and O_NOFOLLOW differ on arm64. */
export const constants = {
  O_RDONLY: 0,
  O_WRONLY: 1,
  O_RDWR: 2,
  O_CREAT: 0o100,
  O_EXCL: 0o200,
  O_NOCTTY: 0o400,
  O_TRUNC: 0o1000,
  O_APPEND: 0o2000,
  O_NONBLOCK: 0o4000,
  O_DIRECTORY: arm64 ? 0o40000 : 0o200000,
  O_NOFOLLOW: arm64 ? 0o100000 : 0o400000,
  O_CLOEXEC: 0o2000000,
  O_PATH: 0o10000000,
  F_OK: 0,
  X_OK: 1,
  W_OK: 2,
  R_OK: 4,
} as const;

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_EMPTY_PATH = 0x1000;
const STATX_BASIC_STATS = 0x7ff;
/** struct statx: the same 256 bytes on every architecture (unlike struct stat). */
const STATX_SIZE = 256;
const EIO = 5;
const EINTR = 4;
const EEXIST = 17;
const ENOENT = 2;
const ENAMETOOLONG = 36;
const PATH_MAX = 4096;
const READ_CHUNK = 64 * 1024;
/** readFileSync's first buffer: enough for a /proc status or cgroup file. */
const SMALL_READ = 4 * 1024;

function thrown(call: string, path?: string, code = errno()): SysError {
  return new SysError(call, code, errnoName(code), path);
}

/** A libc return value: -1 throws the errno, anything else is the result. */
function checked(rc: number | bigint, call: string, path?: string): number {
  if (Number(rc) === -1) throw thrown(call, path);
  return Number(rc);
}

const S_IFMT = 0o170000;

/** What statx told of a file: the fields and tests of node:fs's Stats that tsinit reads. */
export class FileStat {
  constructor(
    /** The device as glibc's makedev() encodes it (encodeDeviceNumber), as node:fs's Stats.dev. */
    readonly dev: number,
    readonly ino: number,
    /** The file type bits and the permission bits, as st_mode. */
    readonly mode: number,
    readonly nlink: number,
    readonly uid: number,
    readonly gid: number,
    readonly size: number,
  ) {}
  private type(): number {
    return this.mode & S_IFMT;
  }
  isFile(): boolean {
    return this.type() === 0o100000;
  }
  isDirectory(): boolean {
    return this.type() === 0o040000;
  }
  isSymbolicLink(): boolean {
    return this.type() === 0o120000;
  }
  isSocket(): boolean {
    return this.type() === 0o140000;
  }
  isFIFO(): boolean {
    return this.type() === 0o010000;
  }
  isCharacterDevice(): boolean {
    return this.type() === 0o020000;
  }
  isBlockDevice(): boolean {
    return this.type() === 0o060000;
  }
}

/**
 * The FileStat a struct statx holds. statx gives the device as two numbers (stx_dev_major,
 * stx_dev_minor); FileStat.dev packs them as st_dev would be.
 */
export function fileStatOfStatx(bytes: Uint8Array): FileStat {
  const buffer = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (offset: number) => buffer.getUint32(offset, true);
  const u64 = (offset: number) => Number(buffer.getBigUint64(offset, true));
  const dev = encodeDeviceNumber(u32(136), u32(140));
  return new FileStat(dev, u64(32), buffer.getUint16(28, true), u32(16), u32(20), u32(24), u64(40));
}

function statx(dirfd: number, path: string, flags: number, call: string, shown?: string): FileStat {
  const bytes = new Uint8Array(STATX_SIZE);
  checked(libc.statx(dirfd, cstr(path), flags, STATX_BASIC_STATS, bytes), call, shown ?? path);
  return fileStatOfStatx(bytes);
}

export function statSync(path: string): FileStat {
  return statx(AT_FDCWD, path, 0, "stat");
}

export function lstatSync(path: string): FileStat {
  return statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, "lstat");
}

/** The file `fd` refers to; for an O_PATH descriptor of a link, the link itself. */
export function fstatSync(fd: number): FileStat {
  return statx(fd, "", AT_EMPTY_PATH, "fstat", `fd ${fd}`);
}

export function accessSync(path: string, mode: number): void {
  checked(libc.access(cstr(path), mode), "access", path);
}

export function existsSync(path: string): boolean {
  return libc.access(cstr(path), constants.F_OK) === 0;
}

export function openSync(path: string, flags: number, mode = 0o666): number {
  return checked(libc.open(cstr(path), flags, mode), "open", path);
}

export function closeSync(fd: number): void {
  checked(libc.close(fd), "close", `fd ${fd}`);
}

/** read(2), or pread(2) at `position`; the bytes read (0 at end of file). */
export function readSync(fd: number, buffer: Uint8Array, offset = 0, length = buffer.length - offset, position: number | null = null): number {
  if (length <= 0) return 0;
  const at = ptr(buffer, offset);
  return checked(position === null ? libc.read(fd, at, length) : libc.pread(fd, at, length, position), "read", `fd ${fd}`);
}

/**
 * One write(2), or pwrite(2) at `position`; the bytes written, which may be fewer than given.
 * A string is written as UTF-8 from its start.
 */
export function writeSync(fd: number, data: Uint8Array | string, offset = 0, length?: number, position: number | null = null): number {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const count = length ?? bytes.length - offset;
  if (count <= 0) return 0;
  const at = ptr(bytes, offset);
  return checked(position === null ? libc.write(fd, at, count) : libc.pwrite(fd, at, count, position), "write", `fd ${fd}`);
}

/** The whole file (read until end of file: /proc files tell no size). */
export function readFileSync(path: string, encoding: "utf8" | "latin1"): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_CLOEXEC);
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    // One chunk is allocated only when the last one filled: most files here are small /proc files.
    let chunk = Buffer.allocUnsafe(SMALL_READ);
    let used = 0;
    for (;;) {
      if (used === chunk.length) {
        chunks.push(chunk);
        chunk = Buffer.allocUnsafe(READ_CHUNK);
        used = 0;
      }
      const n = Number(libc.read(fd, chunk.subarray(used), chunk.length - used));
      if (n === -1) {
        if (errno() === EINTR) continue;
        throw thrown("read", path);
      }
      if (n === 0) break;
      used += n;
      total += n;
    }
    chunks.push(chunk.subarray(0, used));
    return Buffer.concat(chunks, total).toString(encoding);
  } finally {
    libc.close(fd);
  }
}

/** Creates or truncates `path` (mode 0666 less the umask) and writes all of `data`. */
export function writeFileSync(path: string, data: string | Uint8Array): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_CLOEXEC);
  try {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    for (let done = 0; done < bytes.length; ) {
      const n = Number(libc.write(fd, ptr(bytes, done), bytes.length - done));
      if (n === -1) {
        if (errno() === EINTR) continue;
        throw thrown("write", path);
      }
      done += n;
    }
  } finally {
    libc.close(fd);
  }
}

/** mkdir -p: the missing directories on the way made with `mode`; an existing directory is no error. */
export function mkdirSync(path: string, options: { mode?: number; recursive: true }): void {
  const mode = options.mode ?? 0o777;
  if (libc.mkdir(cstr(path), mode) === 0) return;
  const code = errno();
  if (code === EEXIST) {
    if (statSync(path).isDirectory()) return;
    throw thrown("mkdir", path, code);
  }
  const parent = path.replace(/\/+[^/]*\/*$/, "");
  if (code !== ENOENT || parent === "" || parent === path) throw thrown("mkdir", path, code);
  mkdirSync(parent, options);
  if (libc.mkdir(cstr(path), mode) === -1 && errno() !== EEXIST) throw thrown("mkdir", path);
}

/** The names in a directory but "." and "..", in the order the file system gives them. */
export function readdirSync(path: string): string[] {
  const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_CLOEXEC);
  try {
    const names: string[] = [];
    const buffer = Buffer.allocUnsafe(32 * 1024);
    for (;;) {
      const n = Number(libc.getdents64(fd, buffer, buffer.length));
      if (n === -1) throw thrown("getdents64", path);
      if (n === 0) return names;
      // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name (NUL-ended).
      for (let at = 0, length = 0; at < n; at += length) {
        length = buffer.readUInt16LE(at + 16);
        // A record shorter than its own header would loop here forever; the kernel gives none.
        if (length < 20) throw thrown("getdents64 (a record of length < 20)", path, EIO);
        const end = buffer.indexOf(0, at + 19);
        const name = buffer.toString("utf8", at + 19, end);
        if (name !== "." && name !== "..") names.push(name);
      }
    }
  } finally {
    libc.close(fd);
  }
}

export function readlinkSync(path: string): string {
  const buffer = Buffer.allocUnsafe(PATH_MAX);
  const length = checked(libc.readlinkat(AT_FDCWD, cstr(path), buffer, buffer.length), "readlink", path);
  if (length >= buffer.length) throw thrown("readlink", path, ENAMETOOLONG);
  return buffer.toString("utf8", 0, length);
}

export function symlinkSync(target: string, path: string): void {
  checked(libc.symlink(cstr(target), cstr(path)), "symlink", path);
}

export function renameSync(from: string, to: string): void {
  checked(libc.rename(cstr(from), cstr(to)), "rename", to);
}

export function unlinkSync(path: string): void {
  checked(libc.unlink(cstr(path)), "unlink", path);
}

export function chmodSync(path: string, mode: number): void {
  checked(libc.chmod(cstr(path), mode), "chmod", path);
}

/** -1 for uid or gid leaves it as it is, as chown(2) does. */
export function chownSync(path: string, uid: number, gid: number): void {
  checked(libc.chown(cstr(path), uid >>> 0, gid >>> 0), "chown", path);
}

export function fchmodSync(fd: number, mode: number): void {
  checked(libc.fchmod(fd, mode), "fchmod", `fd ${fd}`);
}

export function fchownSync(fd: number, uid: number, gid: number): void {
  checked(libc.fchown(fd, uid >>> 0, gid >>> 0), "fchown", `fd ${fd}`);
}

export function ftruncateSync(fd: number, length: number): void {
  checked(libc.ftruncate(fd, length), "ftruncate", `fd ${fd}`);
}
