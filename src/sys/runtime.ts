// The real Runtime: linuxSys, the event loop's timers on a monotonic clock, process signals,
// the NOTIFY_SOCKET listener, the console and kmsg sink, and process.env. The only place
// outside the rest of src/sys/ where tsinit touches `process` and the timers.
import { openSyslogSocket } from "./syslog-socket.ts";
import type { HandledSignal, Runtime, Timer } from "./sys.ts";
import { errno, libc } from "./libc.ts";
import { linuxSys } from "./linux-sys.ts";
import { writeOffThread } from "./aio-write.ts";
import { closeSync, fstatSync, openSync, writeSync } from "./file-calls.ts";
import { consoleSink, deviceLineWriter, type SinkFiles } from "./log-sink.ts";
import { listenForNotifications } from "./notify-socket.ts";
import { listenUevents } from "./uevent-socket.ts";

export interface RuntimeOptions {
  /** Whether /dev/kmsg is a destination (PID 1 of a machine). */
  kmsg: boolean;
  /** The console's descriptor: 1 for PID 1, 2 (stderr) for the other modes. */
  consoleFd?: number;
}

const sinkFiles: SinkFiles = { openSync, writeSync, closeSync, fstatSync, writeLater: writeOffThread };

export function linuxRuntime(options: RuntimeOptions): Runtime {
  const sink = consoleSink({ kmsg: options.kmsg, fd: options.consoleFd, files: sinkFiles, sendNonBlocking });
  const env: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  return {
    sys: linuxSys,
    clock: {
      now: () => performance.now(),
      wallTime: () => Date.now(),
      sinceBoot,
      setTimer: (ms, fire): Timer => {
        // 0 is the loop's next turn, after what is ready to be read: setTimeout's floor is 1 ms.
        if (ms <= 0) {
          const immediate = setImmediate(fire);
          return { cancel: () => clearImmediate(immediate) };
        }
        const handle = setTimeout(fire, ms);
        return { cancel: () => clearTimeout(handle) };
      },
      setInterval: (ms, fire): Timer => {
        const handle = setInterval(fire, ms);
        return { cancel: () => clearInterval(handle) };
      },
    },
    onSignal: (signal: HandledSignal, handler) => void process.on(signal, handler),
    listenNotify: listenForNotifications,
    listenUevents,
    openLineWriter: (path) => deviceLineWriter(path, sinkFiles),
    sink,
    openKmsg: () => sink.openKmsg(),
    openSyslog: () => sink.useSyslog(openSyslogSocket()),
    env,
    neverDie: (report) => {
      const describe = (error: unknown) => (error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.on("uncaughtException", (error) => report(`uncaught exception: ${describe(error)}`));
      process.on("unhandledRejection", (reason) => report(`unhandled rejection: ${describe(reason)}`));
    },
    exit: (code) => {
      // Container and supervisor mode end here: what the console has not taken yet (their last
      // lines) gets up to a second, as a shutdown's queued lines do before reboot(2).
      sink.flushBeforeExit(EXIT_FLUSH_MS);
      process.exit(code);
    },
  };
}

/** How long an exiting tsinit waits for the console to take its last lines. */
const EXIT_FLUSH_MS = 1_000;

const CLOCK_MONOTONIC = 1;

function sinceBoot(): number {
  const time = new BigInt64Array(2);
  libc.clock_gettime(CLOCK_MONOTONIC, time);
  return Number(time[0]!) * 1000 + Number(time[1]!) / 1e6;
}

const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const EAGAIN = 11;
const EINTR = 4;

/** send(MSG_DONTWAIT) on a socket console, which leaves the socket itself blocking for others. */
function sendNonBlocking(fd: number, bytes: Uint8Array): number | "again" | "failed" {
  const sent = Number(libc.sendto(fd, bytes, bytes.length, MSG_DONTWAIT | MSG_NOSIGNAL, null, 0));
  if (sent >= 0) return sent;
  const code = errno();
  return code === EAGAIN || code === EINTR ? "again" : "failed";
}
