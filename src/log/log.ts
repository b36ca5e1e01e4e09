// Messages from init: to the console, and to /dev/kmsg with a syslog priority when init owns
// the machine. A line the kernel will itself echo to the console (its priority is below the
// console log level) is not printed twice.
import type { LogLevel, LogSink } from "../base/logging.ts";

/** syslog(3)'s LOG_DAEMON facility, as dinit logs. */
const SYSLOG_DAEMON = 3 << 3;


const PRIORITY: Record<LogLevel, number> = { error: 3, warn: 4, info: 6, debug: 7 };

export interface LogOptions {
  /** The most verbose priority shown on the console: 4 with `quiet`, 7 with `tsinit.debug`. */
  consoleThreshold: number;
  /** The kernel's console_loglevel (first field of /proc/sys/kernel/printk); 0 when not echoing. */
  kernelConsoleLevel: number;
}

export class Log {
  private observer: ((level: LogLevel, text: string) => void) | undefined;

  constructor(
    private readonly sink: LogSink,
    private options: LogOptions,
  ) {}

  /** Every line logged from now on is also handed to `observer` (the boot record). */
  observe(observer: (level: LogLevel, text: string) => void): void {
    this.observer = observer;
  }

  setOptions(options: Partial<LogOptions>): void {
    this.options = { ...this.options, ...options };
  }

  write(level: LogLevel, text: string): void {
    for (const line of text.split("\n")) {
      this.observer?.(level, line);
      this.emit(PRIORITY[level], `tsinit: ${line}`, line);
    }
  }

  /** A status line, `[  OK  ] started getty` or `[FAILED] getty: exited 1`. */
  status(ok: boolean, text: string): void {
    const line = ok ? `[  OK  ] ${text}` : `[FAILED] ${text}`;
    this.observer?.(ok ? "info" : "error", line);
    this.emit(ok ? PRIORITY.info : PRIORITY.error, line, line);
  }

  /** Debug lines reach kmsg only with tsinit.debug: state changes would bury dmesg. */
  private emit(priority: number, consoleLine: string, text: string): void {
    const shown = priority <= this.options.consoleThreshold;
    if (priority === PRIORITY.debug && !shown) return;
    // After starts-log, the system log daemon gets the record (facility daemon) instead of kmsg.
    if (this.sink.syslog?.(`<${SYSLOG_DAEMON | priority}>tsinit: ${text}`) === true) {
      if (shown) this.sink.console(consoleLine);
      return;
    }
    const echoed = this.sink.kmsg(`<${priority}>tsinit: ${text}`) && priority < this.options.kernelConsoleLevel;
    if (shown && !echoed) this.sink.console(consoleLine);
  }

  info(text: string): void {
    this.write("info", text);
  }
  warn(text: string): void {
    this.write("warn", text);
  }
  error(text: string): void {
    this.write("error", text);
  }
  debug(text: string): void {
    this.write("debug", text);
  }
}
