// The boot timeline that `initctl analyze` shows: for each service, when it began starting, when
// it was started and ready, and when it stopped, read off the event log, with what it depends
// on. Pure.
import type { TsinitEvent } from "./event-log.ts";

export interface TimelineRow {
  service: string;
  /** Milliseconds since the kernel started; undefined when it never got there. */
  starting?: number;
  started?: number;
  /** A readiness notice (pipe or NOTIFY_SOCKET); undefined when none came. */
  ready?: number;
  stopped?: number;
  failed?: string;
  dependsOn: string[];
}

/** Rows kept at most: services added at run time (`initctl run`) must not grow PID 1 without end. */
export const MAX_TIMELINE_ROWS = 10_000;

/**
 * The timeline kept up to date as events happen, so that it outlives the event log's replay
 * (which keeps only the newest events): a row a service, in the order they began starting.
 */
export class BootTimeline {
  private readonly rows = new Map<string, Omit<TimelineRow, "dependsOn">>();

  add(event: TsinitEvent): void {
    if (event.kind === "state") {
      // An internal service (a milestone) goes from stopped to started at once.
      if ((event.to === "starting" || event.to === "started") && !this.rows.has(event.service) && this.rows.size < MAX_TIMELINE_ROWS) {
        this.rows.set(event.service, { service: event.service, starting: event.at });
      }
      const row = this.rows.get(event.service);
      if (row === undefined) return;
      if (event.to === "started") row.started ??= event.at;
      if (event.to === "stopped" && row.started !== undefined) row.stopped = event.at;
    } else if (event.kind === "ready") {
      const row = this.rows.get(event.service);
      if (row !== undefined) row.ready ??= event.at;
    } else if (event.kind === "failed") {
      const row = this.rows.get(event.service);
      if (row !== undefined) row.failed ??= event.why;
    }
  }

  /** The rows, each with what it depends on (from its spec, now). */
  list(dependencies: (service: string) => string[]): TimelineRow[] {
    return [...this.rows.values()].map((row) => ({ ...row, dependsOn: dependencies(row.service) }));
  }
}

/** One row per service that began starting, in the order they began; `dependencies` from their specs. */
export function timeline(events: readonly TsinitEvent[], dependencies: (service: string) => string[]): TimelineRow[] {
  const built = new BootTimeline();
  for (const event of events) built.add(event);
  return built.list(dependencies);
}
