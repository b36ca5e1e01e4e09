// dinit's `log-type = pipe` and `consumer-of`: the producer's stdout and stderr go into a pipe
// whose read end is its consumer's stdin. tsinit holds both ends from the first start of either
// side, so the pipe outlives either process: a restarted producer writes into the same pipe, a
// restarted consumer reads what was left in it, and neither side ever sees EOF or SIGPIPE
// because the other one is down (a producer whose consumer is away blocks once the pipe is
// full, as dinit documents).
import type { ServiceSpec } from "../base/service-spec.ts";
import type { Sys } from "../sys/sys.ts";

export class LogPipes {
  private readonly pipes = new Map<string, { read: number; write: number }>();

  constructor(
    private readonly sys: Sys,
    /** The loaded service of that name, if any. */
    private readonly specOf: (name: string) => ServiceSpec | undefined,
    /** The loaded services that are consumer-of `producer`. */
    private readonly consumersOf: (producer: string) => string[],
  ) {}

  /** The pipe of `producer`, made on first use; or why `producer` has none to give. */
  pipeOf(producer: string): { read: number; write: number } | string {
    const spec = this.specOf(producer);
    if (spec === undefined) return `no service named ${JSON.stringify(producer)}`;
    if (spec.logType !== "pipe") return `${producer} has log-type = ${spec.logType}, not pipe`;
    const consumers = this.consumersOf(producer);
    if (consumers.length > 1) return `${producer} has more than one consumer (${consumers.join(", ")}); a pipe has one reader`;
    const known = this.pipes.get(producer);
    if (known !== undefined) return known;
    const made = this.sys.pipe({ blocking: true });
    if (!("read" in made)) return made.message;
    this.pipes.set(producer, made);
    return made;
  }

  /** Closes the pipes of services that are gone or no longer log to a pipe (after a reload). */
  prune(): void {
    for (const producer of [...this.pipes.keys()]) this.forget(producer);
  }

  /** Closes `producer`'s pipe unless it is a loaded service that logs to one. */
  forget(producer: string): void {
    const pipe = this.pipes.get(producer);
    if (pipe === undefined || this.specOf(producer)?.logType === "pipe") return;
    this.sys.close(pipe.read);
    this.sys.close(pipe.write);
    this.pipes.delete(producer);
  }
}
