// The output of `log-type = buffer` services, kept in memory for `initctl log`. A buffer
// outlives restarts of its service, and goes when the service is gone or keeps no buffer.
import { RingLog } from "../log/ring.ts";

export class OutputBuffers {
  private readonly buffers = new Map<string, RingLog>();

  /** `service`'s buffer, made with `capacity` bytes on first use and resized when that changed (a reload). */
  get(service: string, capacity: number): RingLog {
    let log = this.buffers.get(service);
    if (log === undefined) {
      log = new RingLog(capacity);
      this.buffers.set(service, log);
    }
    log.resize(capacity);
    return log;
  }

  /** Drops the buffers of services that `keep` says no longer have one (after a reload or removal). */
  prune(keep: (service: string) => boolean): void {
    for (const service of this.buffers.keys()) if (!keep(service)) this.buffers.delete(service);
  }

  /** One service no longer loaded: its buffer goes. */
  forget(service: string): void {
    this.buffers.delete(service);
  }

  /** How many buffers are held. */
  get size(): number {
    return this.buffers.size;
  }
}
