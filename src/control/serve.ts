// The control socket as PID 1 and supervisor mode start it: fills in what both share (the
// clock, who counts as admin), logs a failure instead of returning it, since boot goes on
// without a control socket, and gives back a handle to close it on exit.
import type { BootEntry } from "../boot/boot-record.ts";
import type { EventLog } from "../log/event-log.ts";
import type { BootTimeline } from "../log/timeline.ts";
import type { ReloadSummary } from "../core/service-set.ts";
import type { Log } from "../log/log.ts";
import type { ShutdownKind } from "../shutdown/requests.ts";
import type { Runtime } from "../sys/sys.ts";
import type { ControlledSupervisor, ControlOptions } from "./handlers.ts";
import type { ServiceFiles } from "./verbs.ts";
import { startControlServer, type ControlServer } from "./server.ts";

export interface ServeOptions {
  path: string;
  supervisor: ControlledSupervisor;
  runtime: Runtime;
  log: Log;
  mode: "init" | "supervisor";
  shutdown: (kind: ShutdownKind | undefined) => void;
  /** Re-reads the service directories (what SIGHUP does). */
  reload?: () => ReloadSummary;
  /** Loads a service that a client names and that is not loaded yet (dinit's on-demand loading). */
  load?: ControlOptions["load"];
  /** Whether a service file exists for a name, without loading it (run --name). */
  hasServiceFile?: ControlOptions["hasServiceFile"];
  /** The boot record, for GET /v1/boot (PID 1 only). */
  bootRecord?: () => BootEntry[];
  /** The event log, for GET /v1/events, and the boot timeline, for GET /v1/analyze (PID 1 only). */
  events?: EventLog;
  timeline?: BootTimeline;
  /** Debug requests (PID 1 only): see ControlOptions.debug. */
  debug?: { enabled: boolean; stall: (ms: number) => void };
  /** The services directories, for reload NAME, enable and disable. */
  files?: ServiceFiles;
  /** Called once the socket listens, or could not be made (supervisor mode's --ready-fd). */
  onListening?: (listening: boolean) => void;
}

export interface ControlSocketHandle {
  /** dinit's starts-rwfs: a socket that could not be made (a read-only /run) is tried again. */
  retry(): void;
  /** Stops serving and removes the socket file; safe to call before the server is up. */
  close(): Promise<void>;
}

export function serveControlSocket(options: ServeOptions): ControlSocketHandle {
  const { path, runtime, log } = options;
  const { sys, clock } = runtime;
  let server: ControlServer | undefined;
  let closing = false;
  // Root may do everything; so may the user a non-root supervisor runs as (its own services).
  const admins = new Set([0, sys.getuid()]);
  const start = () =>
    startControlServer({
      ...options,
      pid: sys.getpid(),
      clock: { monotonic: () => clock.now(), wall: () => clock.wallTime() },
      timers: clock,
      admins,
    })
      .then((result) => {
        if (!result.ok) {
          log.error(`control socket: ${result.error}; initctl will not work`);
          options.onListening?.(false);
          return;
        }
        server = result.server;
        if (closing) return server.close();
        log.debug(`control socket listening on ${path}`);
        options.onListening?.(true);
      })
      .catch((error) => log.error(`control socket ${path}: ${String(error)}`));
  let started = start();
  return {
    retry() {
      started = started.then(() => (server === undefined && !closing ? start() : undefined));
    },
    async close() {
      closing = true;
      await started;
      await server?.close();
    },
  };
}
