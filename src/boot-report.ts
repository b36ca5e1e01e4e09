// The JSON boot report (`tsinit.report=ttyS1`): every event of the event log as one line of JSON
// on a device the host reads, such as qemu's second serial port, from the first event on (the
// ones before the port was open are replayed), ending with the `done` line that carries the
// first runner's status. Never on a port nobody asked for: a router's ttyS1 may be a modem.
import type { EventLog, TsinitEvent } from "./log/event-log.ts";
import type { Log } from "./log/log.ts";
import { SysError, type LineWriter, type Runtime } from "./sys/sys.ts";

/** How long a shutdown waits for the report to get out before the machine goes down. */
export const REPORT_DRAIN_MS = 3_000;

export interface BootReport {
  /** Resolves once every line is out, or after REPORT_DRAIN_MS. */
  drained(): Promise<boolean>;
}

/** `tsinit.report=ttyS1` names a device under /dev; anything with a slash or dots is refused. */
export function reportDevice(name: string | undefined): string | undefined {
  return name !== undefined && /^[A-Za-z0-9_-]+$/.test(name) ? `/dev/${name}` : undefined;
}

export function startBootReport(runtime: Runtime, log: Log, events: EventLog, device: string): BootReport | undefined {
  const writer: LineWriter | SysError = runtime.openLineWriter(device);
  if (writer instanceof SysError) {
    log.warn(`boot report: ${writer.message}`);
    return undefined;
  }
  const write = (event: TsinitEvent) => writer.push(JSON.stringify(event), event.kind === "done");
  for (const event of events.after(0).events) write(event);
  events.subscribe(write);
  log.info(`boot report: every event as JSON on ${device}`);
  return {
    drained: async () => {
      const out = await writer.drained(REPORT_DRAIN_MS);
      if (!out) log.warn(`boot report: ${device} did not take the last lines within ${REPORT_DRAIN_MS / 1000} s`);
      return out;
    },
  };
}
