// Random bytes from the kernel (getrandom(2)), for names other users must not guess. Not
// crypto.getRandomValues: its first call sets up BoringSSL's generator, which costs PID 1 about
// 0.3 MB of Rss for 8 bytes (measured: 0.25 to 0.45 MB of VmRSS, code and tables of the
// runtime's executable that nothing else of tsinit touches).
import { errno, libc } from "./libc.ts";
import { SysError } from "./sys.ts";
import { errnoName } from "../base/errno.ts";

const EINTR = 4;

/**
 * `count` bytes from the kernel's random source. Like crypto.getRandomValues it waits, once at
 * early boot, until the kernel's pool is ready; a read of at most 256 bytes is never cut short.
 */
export function randomBytes(count: number): Uint8Array {
  const bytes = new Uint8Array(count);
  for (let got = 0; got < count; ) {
    const n = Number(libc.getrandom(bytes.subarray(got), count - got, 0));
    if (n < 0) {
      const code = errno();
      if (code === EINTR) continue;
      throw new SysError("getrandom", code, errnoName(code));
    }
    got += n;
  }
  return bytes;
}
