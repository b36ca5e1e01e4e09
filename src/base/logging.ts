// What a log line is and where it can go: shared by the core (its log actions), the log router
// and the system's sinks. The ground floor: imports nothing.

export type LogLevel = "debug" | "info" | "warn" | "error";

/** The two places a line from init can go. */
export interface LogSink {
  /** Write one line to the console (or stderr); must not throw. */
  console(line: string): void;
  /** Write one record to /dev/kmsg; false when there is no kmsg. */
  kmsg(record: string): boolean;
  /** Send one record to the system log (/dev/log, after starts-log); false when it was not taken. */
  syslog?(record: string): boolean;
  /** Resolves true once the console took every queued line, false after `timeoutMs`. */
  drained?(timeoutMs: number): Promise<boolean>;
}
