// The Linux watchdog API (Documentation/watchdog/watchdog-api.rst): a device opened write-only,
// its timeout set and read back with ioctls, petted with WDIOC_KEEPALIVE, and closed with the
// magic "V" when it is to stop. One call each, failures as SysError values; no policy (which
// devices, how often, when to disarm: src/boot/watchdog.ts).
import { closeSync, openSync, writeSync } from "./file-calls.ts";
import { check, fsError } from "./call-errors.ts";
import { GENERIC_IOCTL_ARCHES, WDIOC } from "./ioctl.ts";
import { libc, ptr } from "./libc.ts";
import { SysError, type WatchdogDevice } from "./sys.ts";

const O_WRONLY = 1;
const O_CLOEXEC = 0o2000000;

export function openWatchdog(path: string): WatchdogDevice | SysError {
  if (!GENERIC_IOCTL_ARCHES.has(process.arch)) {
    return new SysError("open", 38, "ENOSYS", path, `the watchdog ioctl numbers are not known for ${process.arch}`);
  }
  let fd: number;
  try {
    // Close-on-exec: no child holds it open, and switch_root's exec lets it go (still running).
    fd = openSync(path, O_WRONLY | O_CLOEXEC);
  } catch (error) {
    return fsError("open", path, error);
  }
  let closed = false;
  const value = new Int32Array(1);
  const ioctl = (request: number, name: string): SysError | undefined =>
    closed ? new SysError(`ioctl(${name})`, 9, "EBADF", path) : check(libc.ioctl(fd, request, ptr(value)), `ioctl(${name})`, path);
  const getTimeout = (): number | SysError => ioctl(WDIOC.GETTIMEOUT, "WDIOC_GETTIMEOUT") ?? value[0]!;
  return {
    path,
    setTimeoutSeconds(seconds) {
      value[0] = seconds;
      return ioctl(WDIOC.SETTIMEOUT, "WDIOC_SETTIMEOUT") ?? getTimeout();
    },
    getTimeoutSeconds: getTimeout,
    keepAlive() {
      value[0] = 0;
      return ioctl(WDIOC.KEEPALIVE, "WDIOC_KEEPALIVE");
    },
    close(disarm) {
      if (closed) return undefined;
      closed = true;
      let error: SysError | undefined;
      if (disarm) {
        try {
          writeSync(fd, "V");
        } catch (thrown) {
          error = fsError("write", path, thrown);
        }
      }
      try {
        closeSync(fd);
      } catch (thrown) {
        error ??= fsError("close", path, thrown);
      }
      return error;
    },
  };
}

/** The debug stall: the thread sleeps in a futex wait, so no callback, timer or signal handler runs. */
export function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
