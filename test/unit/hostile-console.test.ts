// Issue 9: a console or stderr that stops taking lines must never block PID 1. Lines wait in a
// bounded queue, what does not fit is dropped and counted, and the count is told once the
// console takes lines again.
import { execFileSync } from "node:child_process";
import { closeSync, constants, fstatSync, mkdtempSync, openSync, readSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONSOLE_QUEUE_BYTES, ConsoleQueue, consoleSink } from "../../src/sys/log-sink.ts";

import { nodeSinkFiles as files, refuseBlockingWrites } from "./fakes/node-sink-files.ts";

/** A console that takes `room` bytes, then says "not now" until given more room. */
class SlowConsole {
  taken = "";
  constructor(public room: number) {}
  readonly tryWrite = (bytes: Uint8Array): number | "again" => {
    if (this.room === 0) return "again";
    const n = Math.min(this.room, bytes.length);
    this.room -= n;
    this.taken += Buffer.from(bytes.subarray(0, n)).toString("utf8");
    return n;
  };
}

describe("the console queue", () => {
  it("writes at once while the console takes lines", () => {
    const console = new SlowConsole(1_000);
    const queue = new ConsoleQueue(console.tryWrite, () => {});
    queue.push("one");
    queue.push("two");
    expect(console.taken).toBe("one\ntwo\n");
  });

  it("queues what the console does not take, drops and counts beyond the bound, and says so later", () => {
    const console = new SlowConsole(6);
    const retries: (() => void)[] = [];
    const queue = new ConsoleQueue(console.tryWrite, (_ms, retry) => void retries.push(retry), 18);
    for (const line of ["first", "second", "third", "fourth", "fifth"]) queue.push(line);
    expect(console.taken).toBe("first\n");
    // "second\nthird\n" (13 bytes) wait; "fourth" and "fifth" did not fit in 18.
    expect(queue.backlog).toEqual({ lines: 2, dropped: 2 });
    expect(retries).toHaveLength(1);
    console.room = 1_000;
    retries.shift()!();
    expect(console.taken).toBe("first\nsecond\nthird\ntsinit: 2 log lines dropped: the console did not take them\n");
    expect(queue.backlog).toEqual({ lines: 0, dropped: 0 });
  });

  it("before an exit, tries the console until it took everything, or gives up at the deadline", () => {
    // Takes nothing on the first two tries, then everything.
    let tries = 0;
    const console = new SlowConsole(0);
    const queue = new ConsoleQueue((bytes) => (++tries > 2 ? ((console.room = 1_000), console.tryWrite(bytes)) : "again"), () => {});
    queue.push("the command ended");
    expect(queue.flushBeforeExit(1_000)).toBe(true);
    expect(console.taken).toBe("the command ended\n");

    // One that never takes anything: the wait ends at the deadline (a fake clock, 10 ms a look).
    let now = 0;
    const stuck = new ConsoleQueue(() => "again", () => {});
    stuck.push("lost");
    expect(stuck.flushBeforeExit(50, () => (now += 10))).toBe(false);
    expect(now).toBeLessThan(100);
  });

  it("as the boot report's queue: a JSON note of what was lost, the last line always kept, and a wait until it is out", () => {
    const port = new SlowConsole(0);
    const retries: (() => void)[] = [];
    const queue = new ConsoleQueue(port.tryWrite, (_ms, retry) => void retries.push(retry), 12, (count) => JSON.stringify({ kind: "lost", count }));
    for (const line of ["{a:1}", "{b:2}", "{c:3}"]) queue.push(line);
    queue.push('{"kind":"done"}', true);
    let out = false;
    queue.whenEmpty(() => (out = true));
    expect(out).toBe(false);
    port.room = 1_000;
    retries.shift()!();
    expect(port.taken).toBe('{a:1}\n{b:2}\n{"kind":"lost","count":1}\n{"kind":"done"}\n');
    expect(out).toBe(true);
  });

  it("keeps a partly written line's rest first", () => {
    const console = new SlowConsole(3);
    const retries: (() => void)[] = [];
    const queue = new ConsoleQueue(console.tryWrite, (_ms, retry) => void retries.push(retry));
    queue.push("hello");
    queue.push("world");
    console.room = 100;
    retries.shift()!();
    expect(console.taken).toBe("hello\nworld\n");
  });
});

describe("consoleSink on a pipe nobody reads", () => {
  it("returns at once for every line instead of blocking, and the reader later learns what was dropped", () => {
    const fifo = join(mkdtempSync(join(tmpdir(), "tsinit-console-")), "fifo");
    execFileSync("mkfifo", [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    // The writer's own description blocks, as a parent's stderr would.
    const writer = openSync(fifo, constants.O_WRONLY);
    const retries: (() => void)[] = [];
    const watched = refuseBlockingWrites(files);
    const sink = consoleSink({ kmsg: false, fd: writer, files: watched.files, retryLater: (_ms, retry) => void retries.push(retry) });
    const lines = 10_000;
    for (let i = 0; i < lines; i++) sink.console(`line ${i} ${"x".repeat(60)}`);
    // Every write went to a description of its own made non-blocking, none to the blocking one,
    // and at most one a line: a pipe that is full is not tried again and again.
    expect(watched.counts.blocking).toBe(0);
    expect(watched.counts.nonBlocking).toBeGreaterThan(0);
    expect(watched.counts.nonBlocking).toBeLessThanOrEqual(lines);

    let read = "";
    const buffer = Buffer.alloc(1 << 16);
    const drain = () => {
      for (;;) {
        try {
          const n = readSync(reader, buffer);
          if (n <= 0) return;
          read += buffer.subarray(0, n).toString("utf8");
        } catch {
          return;
        }
      }
    };
    for (let round = 0; round < 100 && !read.includes("dropped"); round++) {
      drain();
      retries.splice(0).forEach((retry) => retry());
    }
    drain();
    const got = read.split("\n").filter((l) => l.startsWith("line ")).length;
    const note = read.match(/tsinit: (\d+) log lines dropped: the console did not take them\n/);
    expect(note).not.toBeNull();
    expect(got + Number(note![1])).toBe(lines);
    // Pipe buffer plus the queue's bound, not all 700 kB.
    expect(got * 70).toBeLessThan(65_536 + CONSOLE_QUEUE_BYTES + 1_000);
    closeSync(reader);
    closeSync(writer);
  });
});
