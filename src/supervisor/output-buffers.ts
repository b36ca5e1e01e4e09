// The output of `log-type = buffer` services, kept in memory for `initctl log`. A buffer
// outlives restarts of its service.
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
}
