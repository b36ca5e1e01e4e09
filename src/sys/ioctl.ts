// ioctl request numbers, encoded as Linux's _IOC() does. Pure (no imports), so the numbers are
// unit-tested under vitest.
//
// The encoding is asm-generic's (include/uapi/asm-generic/ioctl.h): nr in bits 0-7, type in
// 8-15, the argument's size in 16-29, the direction in 30-31 (write 1, read 2). x86_64 and
// arm64 both use it (as do arm and riscv64); powerpc, mips, sparc and alpha do not (3 direction
// bits, a 13-bit size), and tsinit is not built for them.

/** The architectures (Node's process.arch names) whose ioctl numbers follow asm-generic. */
export const GENERIC_IOCTL_ARCHES: ReadonlySet<string> = new Set(["x64", "arm64", "arm", "riscv64"]);

const IOC_WRITE = 1;
const IOC_READ = 2;

/** _IOC(dir, type, nr, size); multiplication, not shifts, so bit 31 stays unsigned. */
function ioc(dir: number, type: string, nr: number, size: number): number {
  return dir * 2 ** 30 + size * 2 ** 16 + type.charCodeAt(0) * 2 ** 8 + nr;
}

const SIZEOF_INT = 4;
/** include/uapi/linux/watchdog.h: WATCHDOG_IOCTL_BASE. */
const WATCHDOG = "W";

/** The watchdog ioctls tsinit uses (their argument is an int). */
export const WDIOC = {
  /** _IOR('W', 5, int): ping; the argument is ignored. */
  KEEPALIVE: ioc(IOC_READ, WATCHDOG, 5, SIZEOF_INT),
  /** _IOWR('W', 6, int): seconds in; the driver writes back the timeout it took. */
  SETTIMEOUT: ioc(IOC_READ | IOC_WRITE, WATCHDOG, 6, SIZEOF_INT),
  /** _IOR('W', 7, int): the current timeout in seconds. */
  GETTIMEOUT: ioc(IOC_READ, WATCHDOG, 7, SIZEOF_INT),
} as const;
