// Where init's messages physically go: the console (our stdout, which the kernel opened on
// /dev/console for PID 1) and /dev/kmsg. Writes are synchronous so a message printed just
// before a crash or a reboot is not lost, and never throw.
import { closeSync, constants, openSync, writeSync } from "node:fs";
import type { LogSink } from "../base/logging.ts";

/**
 * The kernel rate-limits writes to /dev/kmsg per open file (10 records in 5 s); PID 1's status
 * lines are no flood to damp, and the console depends on the kernel echoing them, so a fresh
 * descriptor is opened before the limit would drop one.
 */
const KMSG_BURST = 10;
const KMSG_INTERVAL_MS = 5_000;

/** `openKmsg()` once /dev is mounted; until then messages go to the console only. */
export function consoleSink(options: { kmsg: boolean; fd?: number }): LogSink & { openKmsg(): void } {
  const consoleFd = options.fd ?? 1;
  let kmsgFd: number | undefined;
  let windowStart = 0;
  let writtenInWindow = 0;
  const close = () => {
    try {
      if (kmsgFd !== undefined) closeSync(kmsgFd);
    } catch {}
    kmsgFd = undefined;
  };
  const openKmsg = () => {
    if (!options.kmsg || kmsgFd !== undefined) return;
    try {
      // Never O_CREAT: before devtmpfs is mounted that would make a plain file in the rootfs.
      kmsgFd = openSync("/dev/kmsg", constants.O_WRONLY | constants.O_NOCTTY);
      windowStart = performance.now();
      writtenInWindow = 0;
    } catch {
      kmsgFd = undefined;
    }
  };
  return {
    openKmsg,
    console(line) {
      try {
        writeSync(consoleFd, `${line}\n`);
      } catch {
        // A console that cannot be written to must not take init down.
      }
    },
    kmsg(record) {
      if (kmsgFd === undefined) return false;
      if (performance.now() - windowStart >= KMSG_INTERVAL_MS) {
        windowStart = performance.now();
        writtenInWindow = 0;
      } else if (writtenInWindow >= KMSG_BURST) {
        close();
        openKmsg();
        if (kmsgFd === undefined) return false;
      }
      try {
        // The newline ends the record; without it the kernel holds the last one back.
        writeSync(kmsgFd, `${record.slice(0, 1000)}\n`);
        writtenInWindow += 1;
        return true;
      } catch {
        close();
        return false;
      }
    },
  };
}
