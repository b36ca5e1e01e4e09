// Issue 9: a write to /dev/kmsg returns only once the kernel has printed the record on every
// console, so a slow serial line holds it. Records are written off the event loop, one at a
// time, from a bounded queue; what does not fit is dropped and counted, and said once the
// device has caught up.
import { execFileSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { consoleSink, type SinkFiles } from "../../src/sys/log-sink.ts";
import { nodeSinkFiles } from "./fakes/node-sink-files.ts";
import { RECORD_QUEUE_LIMIT, RecordQueue, type WriteResult } from "../../src/sys/record-queue.ts";

/** A device whose writes end only when the test says so. */
class HeldDevice {
  readonly written: string[] = [];
  private pending: { bytes: Uint8Array; done: (result: WriteResult) => void }[] = [];
  readonly start = (bytes: Uint8Array, done: (result: WriteResult) => void) => void this.pending.push({ bytes, done });
  get inFlight(): number {
    return this.pending.length;
  }
  /** Ends the write in flight with `result` (its length by default). */
  finish(result?: WriteResult): void {
    const write = this.pending.shift();
    if (write === undefined) throw new Error("no write in flight");
    if (result === undefined || typeof result === "number") this.written.push(Buffer.from(write.bytes).toString("utf8"));
    write.done(result ?? write.bytes.length);
  }
  finishAll(): void {
    while (this.inFlight > 0) this.finish();
  }
}

const note = (count: number) => `dropped ${count}`;

describe("the record queue", () => {
  it("writes one record at a time, in order, each as the previous one ends", () => {
    const device = new HeldDevice();
    const queue = new RecordQueue(device.start, () => {}, note);
    expect(queue.push("a")).toBe(true);
    expect(queue.push("b")).toBe(true);
    expect(device.inFlight).toBe(1);
    device.finish();
    expect(device.inFlight).toBe(1);
    device.finish();
    expect(device.written).toEqual(["a", "b"]);
    expect(queue.backlog).toEqual({ records: 0, dropped: 0 });
  });

  it("holds at most its limit while the device is slow; drops the rest with a count, said once it caught up", () => {
    const device = new HeldDevice();
    const queue = new RecordQueue(device.start, () => {}, note, () => {}, 3);
    const taken = ["1", "2", "3", "4", "5", "6"].map((record) => queue.push(record));
    expect(taken).toEqual([true, true, true, false, false, false]);
    expect(queue.backlog).toEqual({ records: 3, dropped: 3 });
    device.finishAll();
    expect(device.written).toEqual(["1", "2", "3", "dropped 3"]);
    // Room again: records are taken, and the count starts over.
    expect(queue.push("7")).toBe(true);
    device.finishAll();
    expect(device.written.at(-1)).toBe("7");
    expect(queue.backlog).toEqual({ records: 0, dropped: 0 });
  });

  it("the default bound holds against a flood", () => {
    const device = new HeldDevice();
    const queue = new RecordQueue(device.start, () => {}, note);
    for (let i = 0; i < 100_000; i++) queue.push(`record ${i}`);
    expect(queue.backlog).toEqual({ records: RECORD_QUEUE_LIMIT, dropped: 100_000 - RECORD_QUEUE_LIMIT });
    expect(device.inFlight).toBe(1);
  });

  it("a device that says 'not now' is tried again later with the same record", () => {
    const device = new HeldDevice();
    const retries: (() => void)[] = [];
    const queue = new RecordQueue(device.start, (_ms, retry) => void retries.push(retry), note);
    queue.push("a");
    queue.push("b");
    device.finish("again");
    expect(device.inFlight).toBe(0);
    expect(retries).toHaveLength(1);
    queue.push("c");
    // Nothing starts while the retry is armed.
    expect(device.inFlight).toBe(0);
    retries.shift()!();
    device.finishAll();
    expect(device.written).toEqual(["a", "b", "c"]);
  });

  it("a device that fails for good empties the queue, says so once with how many records were lost, and takes nothing more", () => {
    const device = new HeldDevice();
    const failures: number[] = [];
    const queue = new RecordQueue(device.start, () => {}, note, (discarded) => void failures.push(discarded), 2);
    queue.push("a");
    queue.push("b");
    queue.push("c");
    device.finish("failed");
    // "a" (being written), "b" (waiting) and "c" (dropped, not yet said).
    expect(failures).toEqual([3]);
    expect(queue.push("c")).toBe(false);
    expect(device.inFlight).toBe(0);
    expect(queue.backlog).toEqual({ records: 0, dropped: 0 });
  });
});

describe("the record queue under a load that never lets it empty", () => {
  it("says how many were dropped once a whole queue's worth was written since, not only when it empties", () => {
    const device = new HeldDevice();
    const queue = new RecordQueue(device.start, () => {}, note, () => {}, 3);
    let serial = 0;
    // Every time the device takes one record, two more arrive: the queue is never empty.
    for (let i = 0; i < 3; i++) queue.push(`r${++serial}`);
    for (let round = 0; round < 12; round++) {
      device.finish();
      queue.push(`r${++serial}`);
      queue.push(`r${++serial}`);
    }
    expect(queue.backlog.records).toBe(3);
    // Said while the load went on: the queue never emptied.
    expect(device.written.filter((record) => record.startsWith("dropped")).length).toBeGreaterThan(0);
    device.finishAll();
    // Every record was written or counted in a note.
    const notes = device.written.filter((record) => record.startsWith("dropped"));
    const said = notes.reduce((sum, record) => sum + Number(record.split(" ")[1]), 0);
    expect(device.written.length - notes.length + said).toBe(serial);
  });

  it("a write that throws instead of calling back fails the queue rather than wedging it", () => {
    const failures: number[] = [];
    const queue = new RecordQueue(
      () => {
        throw new Error("EBADF");
      },
      () => {},
      note,
      (discarded) => void failures.push(discarded),
    );
    expect(queue.push("a")).toBe(true);
    expect(failures).toEqual([1]);
    expect(queue.push("b")).toBe(false);
  });

  it("a retry that cannot be armed fails the queue rather than wedging it", async () => {
    const device = new HeldDevice();
    const failures: number[] = [];
    const queue = new RecordQueue(
      device.start,
      () => {
        throw new Error("no timers");
      },
      note,
      (discarded) => void failures.push(discarded),
    );
    queue.push("a");
    device.finish("again");
    expect(failures).toEqual([1]);
    expect(await queue.drained(5_000)).toBe(true);
  });
});

describe("/dev/kmsg through the console sink", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("a device whose writes block (a full FIFO) does not block the event loop; the count of dropped records follows", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsinit-kmsg-"));
    dirs.push(dir);
    const fifo = join(dir, "kmsg");
    execFileSync("mkfifo", [fifo]);
    // A reader that reads only when the test says, and a pipe already full: the sink's writes block.
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const filler = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    let filled = 0;
    for (;;) {
      try {
        filled += writeSync(filler, "#".repeat(4096));
      } catch {
        break;
      }
    }
    closeSync(filler);
    const watched = watchedFiles(fifo);
    const sink = consoleSink({ kmsg: true, fd: openSync("/dev/null", constants.O_WRONLY), files: watched.files, kmsgPath: fifo, kmsgQueueLimit: 8 });
    sink.openKmsg();
    const taken = Array.from({ length: 200 }, (_, i) => sink.kmsg(`<6>tsinit: ${i}`));
    // Every call returned, and none wrote in line: one write was started off the event loop, the
    // other records wait behind it or were dropped.
    expect(watched.calls).toEqual({ inLine: 0, started: 1, ended: 0 });
    expect(taken.filter(Boolean)).toHaveLength(8);
    // The event loop goes on while the first write is held.
    await new Promise((resolve) => setImmediate(resolve));
    expect(watched.calls).toEqual({ inLine: 0, started: 1, ended: 0 });
    expect(sink.kmsgBacklog()).toEqual({ records: 8, dropped: 192 });
    // Empty the pipe: the held write ends, the queue drains, and the drop count is the last record.
    let text = readAvailable(reader);
    await watched.idle(() => sink.kmsgBacklog());
    // Every write has ended, so every byte is in the pipe.
    text += readAvailable(reader);
    closeSync(reader);
    const records = text.slice(filled).split("\n").filter((line) => line !== "");
    expect(records).toEqual([...Array.from({ length: 8 }, (_, i) => `<6>tsinit: ${i}`), "<4>tsinit: 192 log records dropped: /dev/kmsg did not take them in time"]);
    // One write a record, one at a time.
    expect(watched.calls).toEqual({ inLine: 0, started: 9, ended: 9 });
  });
});

/** What a non-blocking reader can read now, until the pipe is empty. */
function readAvailable(fd: number): string {
  let text = "";
  const buffer = Buffer.alloc(1 << 16);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buffer);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EAGAIN") return text;
      throw error;
    }
    if (n === 0) return text;
    text += buffer.subarray(0, n).toString("utf8");
  }
}

/**
 * node:fs's file calls, watched on the kmsg device: writes made in line (counted and refused,
 * never made: on a full FIFO one would hold the test's only thread for good, so a sink that
 * wrote in line fails here rather than hanging), writes started off the event loop, and writes
 * ended. `idle` resolves once a write ended and the sink has nothing more to write.
 */
function watchedFiles(kmsgPath: string) {
  let kmsgFd: number | undefined;
  const calls = { inLine: 0, started: 0, ended: 0 };
  const onEnded: (() => void)[] = [];
  const files: SinkFiles = {
    ...nodeSinkFiles,
    openSync(path, flags) {
      const fd = nodeSinkFiles.openSync(path, flags);
      if (path === kmsgPath) kmsgFd = fd;
      return fd;
    },
    writeSync(fd, data) {
      if (fd !== kmsgFd) return nodeSinkFiles.writeSync(fd, data);
      calls.inLine += 1;
      throw Object.assign(new Error("EAGAIN: a write to /dev/kmsg made in line"), { code: "EAGAIN" });
    },
    writeLater(fd, bytes, done) {
      if (fd === kmsgFd) calls.started += 1;
      nodeSinkFiles.writeLater(fd, bytes, (result) => {
        if (fd === kmsgFd) calls.ended += 1;
        done(result);
        for (const listener of onEnded.slice()) listener();
      });
    },
  };
  const idle = (backlog: () => { records: number; dropped: number } | undefined) =>
    new Promise<void>((resolve) => {
      const listener = () => {
        const left = backlog();
        if (calls.started !== calls.ended || left?.records !== 0 || left.dropped !== 0) return;
        onEnded.splice(onEnded.indexOf(listener), 1);
        resolve();
      };
      onEnded.push(listener);
    });
  return { files, calls, idle };
}

describe("the record queue before a reboot", () => {
  it("drained() resolves once the last record is written, or false at its deadline", async () => {
    const device = new HeldDevice();
    const queue = new RecordQueue(device.start, () => {}, note);
    expect(await queue.drained(10)).toBe(true);
    queue.push("last words");
    expect(await queue.drained(20)).toBe(false);
    const drained = queue.drained(5_000);
    device.finish();
    expect(await drained).toBe(true);
    expect(device.written).toEqual(["last words"]);
  });

  it("a drained() that timed out is not kept waiting", async () => {
    const device = new HeldDevice();
    const queue = new RecordQueue(device.start, () => {}, note);
    queue.push("held");
    for (let i = 0; i < 3; i++) expect(await queue.drained(1)).toBe(false);
    expect(queue.waiting).toBe(0);
    device.finish();
  });
});
