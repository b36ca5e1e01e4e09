// systemd's NOTIFY_SOCKET for `ready-notification = notify` services. Each start of such a
// service gets a socket of its own (the configured path, a serial number never reused, and a
// random part), so the socket a datagram arrives on says which service it is for, even when its
// sender exited before tsinit read it (a helper such as `systemd-notify --no-block`, or a
// one-line sendto). The sender's credentials, which the kernel attaches and nobody but root can
// forge, then say whether it may speak for that service (see `mayNotify`).
import type { Log } from "../log/log.ts";
import type { ListenNotify, NotifyListener, NotifyMessage, Sys } from "../sys/sys.ts";
import { unguessable } from "./unguessable.ts";
import { cgroupPath, realUid, sessionId } from "./proc-stat.ts";

export interface NotifyRouting {
  /** The main process of `service`, if it has one. */
  mainPid: (service: string) => number | undefined;
  /** READY=1 for `service`. */
  ready: (service: string) => void;
  /** Whether `service`'s main process was put in a cgroup of the service's own (named after it). */
  ownCgroup?: (service: string) => boolean;
}

/** Lines about bad or refused datagrams said in full for each socket, before they are only counted. */
export const NOTIFY_WARNINGS_IN_FULL = 10;
/** After those, one line for each this many more. */
export const NOTIFY_WARNINGS_COUNTED_BY = 1000;

/**
 * The lines about one socket's bad or refused datagrams. Any user may send to a notify socket,
 * so a flood of garbage must not become a flood of log records: the first few are said in full,
 * then one line for each NOTIFY_WARNINGS_COUNTED_BY more, and what was left unsaid when the
 * socket closes.
 */
export class NotifyWarnings {
  private seen = 0;
  private unsaid = 0;

  constructor(
    private readonly path: string,
    private readonly say: (level: "warn" | "debug", line: string) => void,
  ) {}

  note(level: "warn" | "debug", line: string): void {
    this.seen += 1;
    if (this.seen <= NOTIFY_WARNINGS_IN_FULL) {
      this.say(level, this.seen === NOTIFY_WARNINGS_IN_FULL ? `${line} (further such lines about ${this.path} are only counted)` : line);
      return;
    }
    this.unsaid += 1;
    if (this.unsaid >= NOTIFY_WARNINGS_COUNTED_BY) this.sayCount();
  }

  /** The count of lines not said yet, if any (when the socket closes). */
  close(): void {
    if (this.unsaid > 0) this.sayCount();
  }

  private sayCount(): void {
    this.say("warn", `NOTIFY_SOCKET ${this.path}: ${this.unsaid} more datagram${this.unsaid === 1 ? "" : "s"} dropped or refused`);
    this.unsaid = 0;
  }
}

export class NotifySocket {
  /** Each service's socket, from its latest start. */
  private readonly listeners = new Map<string, NotifyListener & { path: string }>();
  private serial = 0;
  /** The last STATUS= each service sent. */
  readonly status = new Map<string, string>();

  constructor(
    private readonly sys: Sys,
    private readonly log: Log,
    private readonly listen: ListenNotify,
    /** Where the sockets go (PATH.1-RANDOM, PATH.2-RANDOM, ...); undefined: notify services cannot start. */
    private readonly path: string | undefined,
    private readonly routing: NotifyRouting,
    /** The unguessable part of each socket's name (tests pass a fixed one). */
    private readonly nonce: () => string = () => unguessable(sys),
  ) {}

  /**
   * A new socket for a start of `service`, for its NOTIFY_SOCKET; undefined when it cannot be
   * made. The socket of its previous start is closed: what a leftover of that start sends is
   * refused by the kernel rather than taken for the new start's.
   */
  open(service: string): string | undefined {
    if (this.path === undefined) return undefined;
    this.release(service);
    // Unguessable, so that no user can take the next name first where it can write (a supervisor's
    // sockets in /tmp) and make the start fail.
    const path = `${this.path}.${++this.serial}-${this.nonce()}`;
    const warnings = new NotifyWarnings(path, (level, line) => this.log.write(level, line));
    try {
      const listener = this.listen(
        path,
        (message) => this.received(service, message, warnings),
        // A socket read no more means no READY= will come: said at once, never rate-limited
        // behind a flood of bad datagrams.
        (error) => (error.stopped === true ? this.log.error(`NOTIFY_SOCKET: ${error.message}`) : warnings.note("warn", `NOTIFY_SOCKET: ${error.message}`)),
      );
      this.listeners.set(service, {
        path,
        close: () => {
          listener.close();
          warnings.close();
        },
      });
    } catch (error) {
      this.log.error(`NOTIFY_SOCKET ${path}: ${String(error)}`);
      return undefined;
    }
    return path;
  }

  /**
   * Closes the sockets of services no longer loaded (after a reload, remove or unload) and
   * forgets their last STATUS=, which outlives the socket: a stopped service's was released.
   */
  prune(isLoaded: (service: string) => boolean): void {
    for (const service of [...this.listeners.keys()]) if (!isLoaded(service)) this.release(service);
    for (const service of [...this.status.keys()]) if (!isLoaded(service)) this.status.delete(service);
  }

  /** One service no longer loaded: its socket and its last STATUS= go. */
  forget(service: string): void {
    this.release(service);
    this.status.delete(service);
  }

  close(): void {
    for (const service of [...this.listeners.keys()]) this.release(service);
  }

  /**
   * Closes the socket of `service`'s latest start (its descriptor, its file, the reader's
   * watch): when that start failed, and when the service stopped. Nothing it could still hear is
   * for anyone: with no main process, mayNotify refuses every sender.
   */
  release(service: string): void {
    this.listeners.get(service)?.close();
    this.listeners.delete(service);
  }

  /**
   * Whether the sender of `message` may speak for `service`: its main process; root; a process
   * in the session its main process leads (every service leads one: `systemd-notify` run as
   * another user from the service's script); a process in the service's own cgroup (a helper
   * that left the session). The session and the cgroup are read by the listener as the datagram
   * arrives. Only when the sender's /proc entry was gone by then (a helper that sent and exited
   * at once) does a weaker rule stand in: a process of the main process's user. That rule lets
   * any process of that uid (another service run as the same user, say) mark the service ready
   * and set its STATUS, which is why it is the fallback and not the rule.
   */
  private mayNotify(service: string, { pid, uid, session, cgroup, senderGone }: NotifyMessage): boolean {
    const main = this.routing.mainPid(service);
    if (main === undefined) return false;
    if (pid === main || uid === 0) return true;
    // A later look at /proc is the fallback for a listener that did not read the sender.
    if ((session ?? (senderGone === true ? undefined : sessionId(this.sys, pid))) === main) return true;
    if (this.routing.ownCgroup?.(service) === true) {
      // The main process is tsinit's child: its /proc entry stays until tsinit reaps it.
      const mains = cgroupPath(this.sys, main);
      const senders = cgroup ?? (senderGone === true ? undefined : cgroupPath(this.sys, pid));
      if (mains !== undefined && mains.endsWith(`/${service}`) && senders !== undefined && (senders === mains || senders.startsWith(`${mains}/`))) return true;
    }
    return senderGone === true && uid === realUid(this.sys, main);
  }

  private received(service: string, message: NotifyMessage, warnings: NotifyWarnings): void {
    if (!this.mayNotify(service, message)) {
      warnings.note("debug", `NOTIFY_SOCKET: message for ${service} from pid ${message.pid} (uid ${message.uid}), which may not speak for it`);
      return;
    }
    const { fields } = message;
    if (fields.STATUS !== undefined) this.status.set(service, fields.STATUS);
    if (fields.READY === "1") this.routing.ready(service);
  }
}

/** A start's socket beside the notify path `base`: `base.SERIAL-NONCE` (NotifySocket.open). */
const SOCKET_SUFFIX = String.raw`\.notify\.\d+-[0-9a-f]{16}`;

/**
 * The names in `dir` that a supervisor's NOTIFY_SOCKETs take: beside a control socket named
 * `controlName` (CONTROL.notify.N-NONCE), or, without one, tsinit-PID-NONCE.notify.N-NONCE.
 */
export function notifySocketNames(controlName: string | undefined): RegExp {
  const prefix = controlName === undefined ? String.raw`tsinit-\d+-[0-9a-f]{16}` : controlName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${prefix}${SOCKET_SUFFIX}$`);
}

/**
 * Removes the NOTIFY_SOCKET files in `dir` that a supervisor killed by SIGKILL (which unlinks
 * nothing) left there; else each such kill adds a file per notify service for good. Only names
 * tsinit gives its sockets, only sockets of this user, never through a link, and only those
 * nothing has bound any more: a live supervisor's (another one using the same directory) stay.
 */
export function removeAbandonedNotifySockets(sys: Sys, log: Log, dir: string, names: RegExp): void {
  let removed = 0;
  for (const name of sys.readDir(dir) ?? []) {
    if (!names.test(name)) continue;
    const path = `${dir}/${name}`;
    if (!sys.abandonedSocket(path)) continue;
    const error = sys.unlink(path);
    if (error === undefined) removed += 1;
    else if (error.code !== "ENOENT") log.warn(`removing an abandoned NOTIFY_SOCKET: ${error.message}`);
  }
  if (removed > 0) log.info(`removed ${removed} NOTIFY_SOCKET file${removed === 1 ? "" : "s"} an earlier supervisor left in ${dir}`);
}
