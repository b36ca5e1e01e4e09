import { describe, expect, it } from "vitest";
import { RingLog } from "../../src/log/ring.ts";

describe("buffer logs", () => {
  it("keeps the newest characters and an offset for followers", () => {
    const log = new RingLog(10);
    log.append("hello ");
    expect(log.since()).toEqual({ text: "hello ", next: 6, dropped: 0 });
    log.append("world, again\n");
    expect(log.since()).toEqual({ text: "ld, again\n", next: 19, dropped: 9 });
    expect(log.since(17)).toEqual({ text: "n\n", next: 19, dropped: 0 });
    expect(log.since(19)).toEqual({ text: "", next: 19, dropped: 0 });
    // An offset from the future (a follower of an earlier tsinit) asks for nothing dropped.
    expect(log.since(100)).toEqual({ text: "", next: 19, dropped: 0 });
  });
});

describe("a buffer log resized (a reload changed log-buffer-size)", () => {
  it("keeps the newest bytes that fit and goes on with the same offsets", () => {
    const log = new RingLog(10);
    log.append("0123456789abcdef");
    log.resize(4);
    expect(log.limit).toBe(4);
    expect(log.since()).toEqual({ text: "cdef", next: 16, dropped: 12 });
    log.append("XY");
    expect(log.since(14)).toEqual({ text: "efXY", next: 18, dropped: 0 });
    log.resize(3000);
    expect(log.since()).toEqual({ text: "efXY", next: 18, dropped: 14 });
    log.append("z".repeat(2000));
    expect(log.since(17).text).toBe(`Y${"z".repeat(2000)}`);
  });

  it("grows in place while small, with nothing dropped", () => {
    const log = new RingLog(8);
    log.append("abc");
    log.resize(5000);
    log.append("d".repeat(3000));
    expect(log.since()).toEqual({ text: `abc${"d".repeat(3000)}`, next: 3003, dropped: 0 });
  });
});
