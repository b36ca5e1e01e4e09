// systemd's NOTIFY_SOCKET for `ready-notification = notify` services. The listener starts when
// the first such service launches. A datagram belongs to the service whose main process sent
// it, or whose session the sender is in (systemd-notify run as another user sends its own pid,
// and every service is the leader of a session of its own).
import type { Log } from "../log/log.ts";
import type { ListenNotify, NotifyListener, NotifyMessage, Sys } from "../sys/sys.ts";
import { sessionId } from "./proc-stat.ts";

export interface NotifyRouting {
  /** The service whose main process is `pid`, if any. */
  serviceOfMainPid: (pid: number) => string | undefined;
  /** READY=1 from `service`'s process. */
  ready: (service: string) => void;
}

export class NotifySocket {
  private listener: NotifyListener | undefined;
  /** The last STATUS= each service sent. */
  readonly status = new Map<string, string>();

  constructor(
    private readonly sys: Sys,
    private readonly log: Log,
    private readonly listen: ListenNotify,
    /** Where the socket goes; undefined: notify services cannot start. */
    private readonly path: string | undefined,
    private readonly routing: NotifyRouting,
  ) {}

  /** The socket's path for a service's NOTIFY_SOCKET, listening from now on; undefined when it cannot. */
  open(): string | undefined {
    if (this.path === undefined) return undefined;
    if (this.listener === undefined) {
      try {
        this.listener = this.listen(this.path, (message) => this.received(message), (error) => this.log.warn(`NOTIFY_SOCKET: ${error.message}`));
      } catch (error) {
        this.log.error(`NOTIFY_SOCKET ${this.path}: ${String(error)}`);
        return undefined;
      }
    }
    return this.path;
  }

  close(): void {
    this.listener?.close();
    this.listener = undefined;
  }

  /** Which service sent `message`: its main pid, or the session its main pid leads. */
  private received({ pid, session, fields }: NotifyMessage): void {
    const { serviceOfMainPid } = this.routing;
    let service = serviceOfMainPid(pid);
    if (service === undefined) {
      // Read by the listener as the datagram arrived; a later look at /proc is the fallback.
      const sender = session ?? sessionId(this.sys, pid);
      if (sender !== undefined) service = serviceOfMainPid(sender);
    }
    if (service === undefined) {
      this.log.debug(`NOTIFY_SOCKET: message from pid ${pid}, which is no service's`);
      return;
    }
    if (fields.STATUS !== undefined) this.status.set(service, fields.STATUS);
    if (fields.READY === "1") this.routing.ready(service);
  }
}
