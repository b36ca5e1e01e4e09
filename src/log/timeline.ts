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

/** One row per service that began starting, in the order they began; `dependencies` from their specs. */
export function timeline(events: readonly TsinitEvent[], dependencies: (service: string) => string[]): TimelineRow[] {
  const rows = new Map<string, TimelineRow>();
  const row = (service: string) => {
    let found = rows.get(service);
    if (found === undefined) {
      found = { service, dependsOn: dependencies(service) };
      rows.set(service, found);
    }
    return found;
  };
  for (const event of events) {
    if (event.kind === "state") {
      // An internal service (a milestone) goes from stopped to started at once.
      if ((event.to === "starting" || event.to === "started") && !rows.has(event.service)) row(event.service).starting = event.at;
      const known = rows.get(event.service);
      if (known === undefined) continue;
      if (event.to === "started") known.started ??= event.at;
      if (event.to === "stopped" && known.started !== undefined) known.stopped = event.at;
    } else if (event.kind === "ready") {
      const known = rows.get(event.service);
      if (known !== undefined) known.ready ??= event.at;
    } else if (event.kind === "failed") {
      const known = rows.get(event.service);
      if (known !== undefined) known.failed ??= event.why;
    }
  }
  return [...rows.values()];
}
