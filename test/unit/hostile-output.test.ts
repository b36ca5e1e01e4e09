// Issue 9: a buffer service's output must not bloat or busy PID 1. The ring keeps bytes, not
// characters; appending costs the chunk, not the buffer; log-buffer-size has a ceiling.
import { describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../src/config/diagnostic.ts";
import { parseService } from "../../src/config/parse.ts";
import { RingLog } from "../../src/log/ring.ts";

describe("buffer logs count bytes", () => {
  it("keeps the newest capacity bytes of multi-byte text", () => {
    const log = new RingLog(4);
    log.append("héé"); // 5 bytes: h, then two 2-byte characters
    expect(log.since()).toEqual({ text: "éé", next: 5, dropped: 1 });
  });

  it("never starts the kept text inside a character", () => {
    const log = new RingLog(3);
    log.append("héé");
    expect(log.since().text).toBe("é");
  });

  it("wraps around: many small appends keep the newest bytes and offsets go on", () => {
    const log = new RingLog(10);
    for (let i = 0; i < 100; i++) log.append(`${i % 10}`);
    expect(log.since()).toEqual({ text: "0123456789", next: 100, dropped: 90 });
    expect(log.since(97)).toEqual({ text: "789", next: 100, dropped: 0 });
    log.append("abcdefghijklmno");
    expect(log.since(100)).toEqual({ text: "fghijklmno", next: 115, dropped: 5 });
  });

  it("appends to a 1 MiB buffer in copies proportional to the chunk, not the buffer", () => {
    const capacity = 1024 * 1024;
    const log = new RingLog(capacity);
    const line = "y\n".repeat(512);
    // 20,000 KiB through a full 1 MiB ring: copying the buffer on each append moves 20 GB. The
    // ring copies each byte kept once, and less than its capacity more while it grows; past that
    // bound the loop stops, at the first append that copied the whole ring.
    for (let i = 0; i < 20_000 && log.copied <= log.end + capacity; i++) log.append(line);
    expect(log.copied).toBeLessThanOrEqual(log.end + capacity);
    expect(log.end).toBe(20_000 * 1024);
    // Once full, an append copies its chunk and nothing more.
    const before = log.copied;
    log.append(line);
    expect(log.copied - before).toBe(line.length);
    expect(log.since(log.end - 4).text).toBe("y\ny\n");
  });
});

describe("log-buffer-size", () => {
  const parse = (value: string) => parseService(`command = /bin/x\nlog-type = buffer\nlog-buffer-size = ${value}\n`, { name: "x", file: "/etc/tsinit.d/x" });

  it("accepts up to 1 MiB", () => {
    expect(parse("1048576").spec?.logBufferSize).toBe(1_048_576);
  });

  it("refuses more than 1 MiB with file:line", () => {
    const result = parse("50000000");
    expect(result.spec).toBeUndefined();
    expect(result.diagnostics.map(formatDiagnostic)).toContain(
      "/etc/tsinit.d/x:3: log-buffer-size: 50000000 bytes is too large (at most 1048576, 1 MiB)",
    );
  });
});
