// The event log and the boot timeline read off it: numbering, replay after a sequence number,
// what is lost past the capacity, a row a service with its times, and the SVG picture of them.
import { describe, expect, it } from "vitest";
import { EventLog, describeEvent } from "../../src/log/event-log.ts";
import { timeline } from "../../src/log/timeline.ts";
import { timelineSvg, timelineTable } from "../../src/cli/timeline-svg.ts";

describe("the event log", () => {
  it("numbers events from 1, replays after a number, and says how many were dropped", () => {
    let now = 1_000;
    const log = new EventLog(() => now, 3);
    const heard: number[] = [];
    log.subscribe((event) => heard.push(event.seq));
    for (const service of ["a", "b", "c", "d"]) {
      now += 10;
      log.emit({ kind: "ready", service });
    }
    expect(heard).toEqual([1, 2, 3, 4]);
    expect(log.after(2).events.map((e) => e.seq)).toEqual([3, 4]);
    expect(log.after(0)).toMatchObject({ lost: 1 });
    expect(log.next).toBe(5);
    expect(describeEvent(log.after(3).events[0]!)).toBe("[   1.040] #4 d: ready");
  });
});

describe("the boot timeline", () => {
  const log = new EventLog(() => at);
  let at = 0;
  const emit = (time: number, body: Parameters<EventLog["emit"]>[0]) => {
    at = time;
    log.emit(body);
  };
  emit(100, { kind: "state", service: "early", from: "stopped", to: "starting" });
  emit(300, { kind: "state", service: "early", from: "starting", to: "started" });
  emit(310, { kind: "state", service: "web", from: "stopped", to: "starting" });
  emit(350, { kind: "state", service: "web", from: "starting", to: "started" });
  emit(420, { kind: "ready", service: "web" });
  emit(360, { kind: "state", service: "boot", from: "stopped", to: "started" });
  emit(500, { kind: "state", service: "bad", from: "stopped", to: "starting" });
  emit(510, { kind: "failed", service: "bad", why: "bad: exited 1" });
  emit(900, { kind: "state", service: "web", from: "started", to: "stopping" });
  emit(950, { kind: "state", service: "web", from: "stopping", to: "stopped" });
  const rows = timeline(log.after(0).events, (name) => (name === "web" ? ["early"] : []));

  it("has a row a service, in the order they began starting, with their times", () => {
    expect(rows).toEqual([
      { service: "early", starting: 100, started: 300, dependsOn: [] },
      { service: "web", starting: 310, started: 350, ready: 420, stopped: 950, dependsOn: ["early"] },
      { service: "boot", starting: 360, started: 360, dependsOn: [] },
      { service: "bad", starting: 500, failed: "bad: exited 1", dependsOn: [] },
    ]);
    expect(timelineTable(rows).split("\n")[2]).toMatch(/^web +0\.310 +0\.350 +40 ms +0\.420 +0\.950 +early$/);
  });

  it("draws a picture that is well-formed SVG naming every service", () => {
    const svg = timelineSvg(rows);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    for (const service of ["early", "web", "bad"]) expect(svg).toContain(`>${service}</text>`);
    expect(svg).toContain('marker-end="url(#arrow)"');
    // Every element that opens is closed (a cheap well-formedness check; the qemu test parses it).
    const opened = (svg.match(/<(svg|g|defs|marker|text|title)\b/g) ?? []).length;
    const closed = (svg.match(/<\/(svg|g|defs|marker|text|title)>/g) ?? []).length;
    expect(opened).toBe(closed);
  });
});
