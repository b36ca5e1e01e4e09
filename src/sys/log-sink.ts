// Where init's messages physically go: the console (our stdout, which the kernel opened on
// /dev/console for PID 1) and /dev/kmsg. Writes are synchronous so a message printed just
// before a crash or a reboot is not lost, and never throw.
import { closeSync, constants, openSync, writeSync } from "node:fs";
import type { LogSink } from "../log/log.ts";

/** `openKmsg()` once /dev is mounted; until then messages go to the console only. */
export function consoleSink(options: { kmsg: boolean; fd?: number }): LogSink & { openKmsg(): void } {
  const consoleFd = options.fd ?? 1;
  let kmsgFd: number | undefined;
  const openKmsg = () => {
    if (!options.kmsg || kmsgFd !== undefined) return;
    try {
      // Never O_CREAT: before devtmpfs is mounted that would make a plain file in the rootfs.
      kmsgFd = openSync("/dev/kmsg", constants.O_WRONLY | constants.O_NOCTTY);
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
      try {
        writeSync(kmsgFd, record.slice(0, 1000));
        return true;
      } catch {
        try {
          closeSync(kmsgFd);
        } catch {}
        kmsgFd = undefined;
        return false;
      }
    },
  };
}
