// A fake Runtime: a FakeSys, a FakeClock, signals a test raises, a NOTIFY_SOCKET a test sends
// to, log lines kept in memory, and an exit that throws instead of ending the test runner.
import type { LogSink } from "../../../src/base/logging.ts";
import type { HandledSignal, LineWriter, ListenNotify, ListenUevents, NotifyMessage, Runtime, Uevent } from "../../../src/sys/sys.ts";
import { FakeClock } from "./fake-clock.ts";
import { FakeSys } from "./fake-sys.ts";

export class ExitCalled extends Error {
  constructor(readonly code: number) {
    super(`exit(${code})`);
  }
}

export class FakeMachine implements Runtime {
  readonly clock = new FakeClock();
  readonly lines: string[] = [];
  readonly sink: LogSink = { console: (line) => void this.lines.push(line), kmsg: () => false };
  readonly env: Record<string, string> = {};
  /** Where NOTIFY_SOCKET listeners were bound, and whether each is still open. */
  readonly notifySockets: { path: string; open: boolean; deliver: (message: NotifyMessage) => void; fail: (error: Error & { stopped?: boolean }) => void }[] = [];
  private readonly handlers = new Map<HandledSignal, (() => void)[]>();

  constructor(readonly sys: FakeSys = new FakeSys()) {}

  onSignal(signal: HandledSignal, handler: () => void): void {
    this.handlers.set(signal, [...(this.handlers.get(signal) ?? []), handler]);
  }

  /** Delivers `signal` as the kernel would: every handler, in order. */
  raise(signal: HandledSignal): void {
    for (const handler of this.handlers.get(signal) ?? []) handler();
  }

  readonly listenNotify: ListenNotify = (path, onMessage, onError) => {
    const socket = { path, open: true, deliver: (message: NotifyMessage) => socket.open && onMessage(message), fail: (error: Error & { stopped?: boolean }) => onError(error) };
    this.notifySockets.push(socket);
    return { close: () => void (socket.open = false) };
  };

  /** The open uevent listeners; `uevent()` delivers to them. */
  readonly ueventListeners = new Set<(event: Uevent) => void>();
  private readonly ueventLostListeners = new Set<() => void>();

  readonly listenUevents: ListenUevents = (onEvent, _onError, onLost) => {
    this.ueventListeners.add(onEvent);
    this.ueventLostListeners.add(onLost);
    return {
      close: () => {
        this.ueventListeners.delete(onEvent);
        this.ueventLostListeners.delete(onLost);
      },
    };
  };

  /** The kernel dropped uevents (ENOBUFS on the netlink socket). */
  ueventsLost(): void {
    for (const listener of [...this.ueventLostListeners]) listener();
  }

  /** What was written to each device through openLineWriter. */
  readonly deviceLines = new Map<string, string[]>();

  openLineWriter(path: string): LineWriter {
    const lines: string[] = [];
    this.deviceLines.set(path, lines);
    return { push: (line) => void lines.push(line), drained: async () => true };
  }

  /** A kernel uevent, as the netlink socket would deliver it. */
  uevent(event: Uevent): void {
    for (const listener of [...this.ueventListeners]) listener(event);
  }

  /**
   * A datagram from `pid` (by default as uid 65534, in no session the listener could read) on the
   * NOTIFY_SOCKET at `path`, by default the one opened last.
   */
  notify(pid: number, fields: Record<string, string>, from: { session?: number; uid?: number; path?: string; cgroup?: string; gone?: boolean } = {}): void {
    const socket = [...this.notifySockets].reverse().find((s) => s.open && (from.path === undefined || s.path === from.path));
    if (socket === undefined) throw new Error(`no NOTIFY_SOCKET is listening${from.path === undefined ? "" : ` at ${from.path}`}`);
    socket.deliver({ pid, uid: from.uid ?? 65534, session: from.session, cgroup: from.cgroup, senderGone: from.gone, fields });
  }

  openKmsg(): void {}

  neverDie(): void {}

  exit(code: number): never {
    throw new ExitCalled(code);
  }
}
