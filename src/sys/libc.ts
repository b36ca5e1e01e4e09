// The raw libc bindings: one dlopen, the symbols tsinit calls, and the helpers that turn JS
// values into the C shapes those calls take. No policy lives here; linux-sys.ts builds the
// Sys interface on top.
import { dlopen, FFIType, ptr, read } from "bun:ffi";

const { i32, u32, i64, u64, ptr: pointer, cstring, void: none } = FFIType;

export const libc = dlopen("libc.so.6", {
  __errno_location: { args: [], returns: pointer },
  getpid: { args: [], returns: i32 },
  getppid: { args: [], returns: i32 },
  getrandom: { args: [pointer, u64, u32], returns: i64 },
  kill: { args: [i32, i32], returns: i32 },
  waitpid: { args: [i32, pointer, i32], returns: i32 },
  prctl: { args: [i32, u64, u64, u64, u64], returns: i32 },
  mount: { args: [cstring, cstring, cstring, u64, cstring], returns: i32 },
  umount2: { args: [cstring, i32], returns: i32 },
  reboot: { args: [i32], returns: i32 },
  sync: { args: [], returns: none },
  sethostname: { args: [cstring, u64], returns: i32 },
  setrlimit: { args: [i32, pointer], returns: i32 },
  strerror: { args: [i32], returns: cstring },
  posix_spawn: { args: [pointer, cstring, pointer, pointer, pointer, pointer], returns: i32 },
  posix_spawnattr_init: { args: [pointer], returns: i32 },
  posix_spawnattr_destroy: { args: [pointer], returns: i32 },
  posix_spawnattr_setflags: { args: [pointer, i32], returns: i32 },
  posix_spawnattr_setsigmask: { args: [pointer, pointer], returns: i32 },
  posix_spawnattr_setsigdefault: { args: [pointer, pointer], returns: i32 },
  posix_spawn_file_actions_init: { args: [pointer], returns: i32 },
  posix_spawn_file_actions_destroy: { args: [pointer], returns: i32 },
  posix_spawn_file_actions_addopen: { args: [pointer, i32, cstring, i32, u32], returns: i32 },
  posix_spawn_file_actions_adddup2: { args: [pointer, i32, i32], returns: i32 },
  posix_spawn_file_actions_addchdir_np: { args: [pointer, cstring], returns: i32 },
  posix_spawn_file_actions_addclosefrom_np: { args: [pointer, i32], returns: i32 },
  posix_spawn_file_actions_addclose: { args: [pointer, i32], returns: i32 },
  getrlimit: { args: [i32, pointer], returns: i32 },
  sigemptyset: { args: [pointer], returns: i32 },
  sigfillset: { args: [pointer], returns: i32 },
  open: { args: [cstring, i32, u32], returns: i32 },
  openat: { args: [i32, cstring, i32, u32], returns: i32 },
  readlinkat: { args: [i32, cstring, pointer, u64], returns: i64 },
  pipe2: { args: [pointer, i32], returns: i32 },
  setuid: { args: [u32], returns: i32 },
  setgid: { args: [u32], returns: i32 },
  setgroups: { args: [u64, pointer], returns: i32 },
  execve: { args: [cstring, pointer, pointer], returns: i32 },
  sigprocmask: { args: [i32, pointer, pointer], returns: i32 },
  signal: { args: [i32, u64], returns: i64 },
  sigaction: { args: [i32, pointer, pointer], returns: i32 },
  close: { args: [i32], returns: i32 },
  fcntl: { args: [i32, i32, i32], returns: i32 },
  read: { args: [i32, pointer, u64], returns: i64 },
  write: { args: [i32, pointer, u64], returns: i64 },
  ioctl: { args: [i32, u64, i64], returns: i32 },
  socket: { args: [i32, i32, i32], returns: i32 },
  bind: { args: [i32, pointer, u32], returns: i32 },
  connect: { args: [i32, pointer, u32], returns: i32 },
  setsockopt: { args: [i32, i32, i32, pointer, u32], returns: i32 },
  recvmsg: { args: [i32, pointer, i32], returns: i64 },
  sendto: { args: [i32, pointer, u64, i32, pointer, u32], returns: i64 },
  shutdown: { args: [i32, i32], returns: i32 },
  unlink: { args: [cstring], returns: i32 },
  listen: { args: [i32, i32], returns: i32 },
  chdir: { args: [cstring], returns: i32 },
  chmod: { args: [cstring, u32], returns: i32 },
  getsockopt: { args: [i32, i32, i32, pointer, pointer], returns: i32 },
  poll: { args: [pointer, u64, i32], returns: i32 },
  dup2: { args: [i32, i32], returns: i32 },
  chroot: { args: [cstring], returns: i32 },
  rmdir: { args: [cstring], returns: i32 },
  inotify_init1: { args: [i32], returns: i32 },
  inotify_add_watch: { args: [i32, cstring, u32], returns: i32 },
  statfs: { args: [cstring, pointer], returns: i32 },
  close_range: { args: [u32, u32, i32], returns: i32 },
  clock_gettime: { args: [i32, pointer], returns: i32 },
  recv: { args: [i32, pointer, u64, i32], returns: i64 },
  // For finit_module, which glibc has no wrapper for: syscall(nr, fd, params, flags).
  syscall: { args: [i64, i32, cstring, i32], returns: i64 },
  setpriority: { args: [i32, u32, i32], returns: i32 },
  capget: { args: [pointer, pointer], returns: i32 },
  capset: { args: [pointer, pointer], returns: i32 },
  // Files (file-calls.ts): what node:fs did for tsinit, without loading node:fs.
  pread: { args: [i32, pointer, u64, i64], returns: i64 },
  pwrite: { args: [i32, pointer, u64, i64], returns: i64 },
  aio_write: { args: [pointer], returns: i32 },
  aio_error: { args: [pointer], returns: i32 },
  aio_return: { args: [pointer], returns: i64 },
  aio_suspend: { args: [pointer, i32, pointer], returns: i32 },
  statx: { args: [i32, cstring, i32, u32, pointer], returns: i32 },
  access: { args: [cstring, i32], returns: i32 },
  rename: { args: [cstring, cstring], returns: i32 },
  chown: { args: [cstring, u32, u32], returns: i32 },
  fchown: { args: [i32, u32, u32], returns: i32 },
  fchmod: { args: [i32, u32], returns: i32 },
  ftruncate: { args: [i32, i64], returns: i32 },
  mkdir: { args: [cstring, u32], returns: i32 },
  symlink: { args: [cstring, cstring], returns: i32 },
  getdents64: { args: [i32, pointer, u64], returns: i64 },
}).symbols;

/** syscall(2) with three integer arguments (ioprio_set, which glibc has no wrapper for). */
export const syscall3 = dlopen("libc.so.6", {
  syscall: { args: [i64, i64, i64, i64], returns: i64 },
}).symbols.syscall;

/** errno of the libc call just made; read it before any other call can overwrite it. */
export function errno(): number {
  const where = libc.__errno_location();
  return where === null ? 0 : read.i32(where, 0);
}

/** A NUL-terminated copy of a string, for `cstring` arguments and argv/envp arrays. */
export function cstr(text: string): Buffer {
  return Buffer.from(text + "\0", "utf8");
}

/**
 * A NULL-terminated array of pointers to C strings (argv, envp). The returned `keep` holds the
 * string buffers: the caller must keep it reachable until the C call has returned.
 */
export function cstrArray(items: readonly string[]): { array: BigUint64Array; keep: Buffer[] } {
  const keep = items.map(cstr);
  const array = new BigUint64Array(keep.length + 1);
  keep.forEach((buffer, index) => {
    array[index] = BigInt(ptr(buffer));
  });
  return { array, keep };
}

export { ptr };
