// Summarises a boot report saved by `qemu/smoke.sh --report FILE`: how many events, which
// services started and which failed, and the runner's status. Exits 1 when a service failed or
// the report is not whole (no `done` line, or a line that is not JSON), else 0.
// Usage: node_modules/.bin/bun qemu/report.ts FILE
import { readFileSync } from "node:fs";
import type { TsinitEvent } from "../src/log/event-log.ts";

const file = process.argv[2];
if (file === undefined) {
  console.error("usage: bun qemu/report.ts REPORT.ndjson");
  process.exit(2);
}
const events: TsinitEvent[] = [];
const problems: string[] = [];
readFileSync(file, "utf8")
  .split("\n")
  .filter((line) => line.trim() !== "")
  .forEach((line, index) => {
    try {
      events.push(JSON.parse(line) as TsinitEvent);
    } catch {
      problems.push(`line ${index + 1} is not JSON: ${line.slice(0, 80)}`);
    }
  });
const started = new Set(events.filter((e) => e.kind === "state" && e.to === "started").map((e) => (e as { service: string }).service));
// The runner's own end is its status, below, not a failed service.
const failed = events.filter((e) => e.kind === "failed" && e.service !== "runner") as Extract<TsinitEvent, { kind: "failed" }>[];
const done = [...events].reverse().find((e) => e.kind === "done") as Extract<TsinitEvent, { kind: "done" }> | undefined;
if (done === undefined) problems.push("no done line: the report is not whole");
for (const line of events as { kind: string; count?: number }[]) {
  if (line.kind === "lost") problems.push(`${line.count} events were lost on the way out (the port did not take them)`);
}
console.log(`${events.length} events; started: ${[...started].sort().join(", ") || "none"}`);
for (const event of failed) console.log(`FAILED ${event.service}: ${event.why}`);
console.log(`runner status: ${done?.status ?? "unknown"}`);
for (const problem of problems) console.log(problem);
process.exit(failed.length > 0 || problems.length > 0 ? 1 : 0);
