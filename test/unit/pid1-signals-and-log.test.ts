import { describe, expect, it } from "vitest";
import type { LogSink } from "../../src/base/logging.ts";
import { Log } from "../../src/log/log.ts";
import { signalRequest } from "../../src/shutdown/requests.ts";

describe("PID 1 signals (busybox init's numbers)", () => {
  it("maps halt, poweroff and reboot as busybox's applets send them", () => {
    expect(signalRequest("SIGUSR1", false)).toEqual({ kind: "shutdown", shutdown: "halt" });
    expect(signalRequest("SIGUSR2", false)).toEqual({ kind: "shutdown", shutdown: "poweroff" });
    expect(signalRequest("SIGTERM", false)).toEqual({ kind: "shutdown", shutdown: "reboot" });
    expect(signalRequest("SIGHUP", false)).toEqual({ kind: "reload" });
  });

  it("ctrl-alt-del reboots, or starts the ctrlaltdel service when there is one", () => {
    expect(signalRequest("SIGINT", false)).toEqual({ kind: "shutdown", shutdown: "reboot" });
    expect(signalRequest("SIGINT", true)).toEqual({ kind: "ctrlaltdel" });
  });
});

class RecordingSink implements LogSink {
  readonly consoleLines: string[] = [];
  readonly kmsgRecords: string[] = [];
  constructor(private readonly hasKmsg: boolean) {}
  console(line: string): void {
    this.consoleLines.push(line);
  }
  kmsg(record: string): boolean {
    if (this.hasKmsg) this.kmsgRecords.push(record);
    return this.hasKmsg;
  }
}

describe("log routing", () => {
  it("writes kmsg with a priority and lets the kernel echo what it will print", () => {
    const sink = new RecordingSink(true);
    const log = new Log(sink, { consoleThreshold: 7, kernelConsoleLevel: 7 });
    log.info("hello");
    log.debug("details");
    log.status(false, "getty: exited 1");
    expect(sink.kmsgRecords).toEqual(["<6>tsinit: hello", "<7>tsinit: details", "<3>tsinit: [FAILED] getty: exited 1"]);
    expect(sink.consoleLines).toEqual(["tsinit: details"]);
  });

  it("prints to the console itself when there is no kmsg", () => {
    const sink = new RecordingSink(false);
    const log = new Log(sink, { consoleThreshold: 6, kernelConsoleLevel: 0 });
    log.status(true, "started getty");
    log.debug("hidden");
    log.warn("two\nlines");
    expect(sink.consoleLines).toEqual(["[  OK  ] started getty", "tsinit: two", "tsinit: lines"]);
  });

  it("keeps debug lines out of kmsg unless debugging", () => {
    const sink = new RecordingSink(true);
    const log = new Log(sink, { consoleThreshold: 6, kernelConsoleLevel: 7 });
    log.debug("state change");
    log.info("kept");
    expect(sink.kmsgRecords).toEqual(["<6>tsinit: kept"]);
  });

  it("quiet shows only warnings and failures", () => {
    const sink = new RecordingSink(false);
    const log = new Log(sink, { consoleThreshold: 4, kernelConsoleLevel: 0 });
    log.status(true, "started getty");
    log.info("info");
    log.status(false, "x: exited 1");
    log.warn("careful");
    expect(sink.consoleLines).toEqual(["[FAILED] x: exited 1", "tsinit: careful"]);
  });
});
