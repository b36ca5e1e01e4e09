// Rule #1 of PID 1: never exit, never throw to the top. Every uncaught exception or rejection
// is logged and the event loop carries on reaping and supervising.
import type { Log } from "./log/log.ts";

export function installNeverDie(log: Log): void {
  process.on("uncaughtException", (error) => {
    log.error(`uncaught exception: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  });
  process.on("unhandledRejection", (reason) => {
    log.error(`unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
  });
}
