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
