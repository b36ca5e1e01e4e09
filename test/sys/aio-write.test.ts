// writeOffThread (src/sys/aio-write.ts): a write that blocks (here a FIFO nobody reads, as
// /dev/kmsg blocks on a slow console) is made by glibc's AIO thread while the event loop goes
// on; it ends once the reader reads, with the count taken.
import { afterAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeOffThread } from "../../src/sys/aio-write.ts";
import * as calls from "../../src/sys/file-calls.ts";
import { consoleSink } from "../../src/sys/log-sink.ts";
import type { WriteResult } from "../../src/sys/record-queue.ts";

const dir = fs.mkdtempSync(join(tmpdir(), "tsinit-aio-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const ended = (fd: number, bytes: Uint8Array) => new Promise<WriteResult>((resolve) => writeOffThread(fd, bytes, resolve));

test("a regular file gets the bytes, and the count comes back", async () => {
  const path = join(dir, "file");
  const fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND, 0o600);
  expect(await ended(fd, new TextEncoder().encode("one\n"))).toBe(4);
  expect(await ended(fd, new TextEncoder().encode("two\n"))).toBe(4);
  fs.closeSync(fd);
  expect(fs.readFileSync(path, "utf8")).toBe("one\ntwo\n");
});

test("a write that blocks does not block the event loop; it ends when the reader reads", async () => {
  const fifo = join(dir, "fifo");
  execFileSync("mkfifo", [fifo]);
  const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const writer = fs.openSync(fifo, fs.constants.O_WRONLY);
  // Fill the pipe through a non-blocking description of it, so that the next write(2) on the
  // blocking one waits for the reader.
  const chunk = Buffer.alloc(4096, 120);
  const nonBlocking = fs.openSync(`/proc/self/fd/${writer}`, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  let filled = 0;
  for (;;) {
    try {
      filled += fs.writeSync(nonBlocking, chunk);
    } catch {
      break;
    }
  }
  const record = new TextEncoder().encode("a record\n");
  let result: WriteResult | undefined;
  writeOffThread(writer, record, (value) => (result = value));
  // The event loop turns many times while the write waits.
  let turns = 0;
  while (turns < 50) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    turns += 1;
  }
  expect(result).toBeUndefined();
  // The reader drains the pipe: the write goes through, and its count comes back.
  const buffer = Buffer.alloc(1 << 16);
  let read = 0;
  while (result === undefined || read < filled + record.length) {
    try {
      read += fs.readSync(reader, buffer);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
  expect(result).toBe(record.length);
  expect(read).toBe(filled + record.length);
  for (const fd of [reader, writer, nonBlocking]) fs.closeSync(fd);
});

test("a descriptor that is not open fails", async () => {
  const fd = fs.openSync("/dev/null", fs.constants.O_WRONLY);
  fs.closeSync(fd);
  expect(await ended(fd, new TextEncoder().encode("x"))).toBe("failed");
});

test("the log sink writes kernel log records through it, in order, one record a write", async () => {
  // A FIFO stands in for /dev/kmsg: a write is taken whole, at no offset (a regular file would be
  // written at offset 0 each time, since glibc's AIO uses pwrite unless the file appends).
  const kmsg = join(dir, "kmsg");
  execFileSync("mkfifo", [kmsg]);
  const reader = fs.openSync(kmsg, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const files = { openSync: calls.openSync, writeSync: calls.writeSync, closeSync: calls.closeSync, fstatSync: calls.fstatSync, writeLater: writeOffThread };
  const sink = consoleSink({ kmsg: true, fd: fs.openSync("/dev/null", fs.constants.O_WRONLY), files, kmsgPath: kmsg });
  sink.openKmsg();
  for (let i = 0; i < 200; i++) expect(sink.kmsg(`<6>tsinit: record ${i}`)).toBe(true);
  expect(await sink.drained!(10_000)).toBe(true);
  const buffer = Buffer.alloc(1 << 16);
  const lines = buffer.toString("utf8", 0, fs.readSync(reader, buffer)).split("\n").filter(Boolean);
  fs.closeSync(reader);
  expect(lines).toEqual(Array.from({ length: 200 }, (_, i) => `<6>tsinit: record ${i}`));
});
