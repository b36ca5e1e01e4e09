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
