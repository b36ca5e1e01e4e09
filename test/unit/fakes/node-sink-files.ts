// The log sink's file calls from node:fs, for unit tests under Node: tsinit gives the sink
// libc's (file-calls.ts, aio-write.ts), which Node cannot load.
import { closeSync, fstatSync, openSync, write, writeSync } from "node:fs";
import type { SinkFiles } from "../../../src/sys/log-sink.ts";

export const nodeSinkFiles: SinkFiles = {
  openSync,
  closeSync,
  fstatSync,
  writeSync: (fd, data) => (typeof data === "string" ? writeSync(fd, data) : writeSync(fd, data)),
  // node:fs's asynchronous write runs on a thread of its own, as glibc's AIO does for tsinit.
  writeLater: (fd, bytes, done) =>
    write(fd, bytes, 0, bytes.length, null, (error, written) => {
      if (error === null) return done(written);
      const code = (error as NodeJS.ErrnoException).code;
      done(code === "EAGAIN" || code === "EINTR" ? "again" : "failed");
    }),
};

const O_NONBLOCK = 0o4000;

/**
 * `files`, with every write checked: a write to a descriptor that `files.openSync` did not open
 * with O_NONBLOCK (one the sink was given, say a parent's blocking stderr) is counted in
 * `blocking` and refused with EAGAIN instead of made. On a pipe nobody reads such a write would
 * hold the test's only thread for good, so a sink that made one fails its test rather than
 * hanging it, and no clock is needed to tell.
 */
export function refuseBlockingWrites(files: SinkFiles): { files: SinkFiles; counts: { blocking: number; nonBlocking: number } } {
  const nonBlocking = new Set<number>();
  const counts = { blocking: 0, nonBlocking: 0 };
  return {
    counts,
    files: {
      ...files,
      openSync(path, flags) {
        const fd = files.openSync(path, flags);
        if ((flags & O_NONBLOCK) !== 0) nonBlocking.add(fd);
        else nonBlocking.delete(fd);
        return fd;
      },
      closeSync(fd) {
        nonBlocking.delete(fd);
        files.closeSync(fd);
      },
      writeSync(fd, data) {
        if (nonBlocking.has(fd)) {
          counts.nonBlocking += 1;
          return files.writeSync(fd, data);
        }
        counts.blocking += 1;
        throw Object.assign(new Error(`EAGAIN: a write to descriptor ${fd}, which may block`), { code: "EAGAIN" });
      },
    },
  };
}
