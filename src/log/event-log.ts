// What happens in PID 1, as numbered events: boot steps, service state changes, spawns, exits
// with their status, readiness, reloads, the first runner, the shutdown. `initctl events`
// follows them (GET /v1/events), the JSON boot report on ttyS1 is made of them, and `initctl
// analyze` reads a service's start, ready and stop times off them. The newest CAPACITY are kept
// for a client that comes late. Pure.

export type EventBody =
  | { kind: "boot-step"; stage: string; text: string; ms: number; ok: boolean }
  | { kind: "state"; service: string; from: string; to: string }
  | { kind: "spawned"; service: string; role: string; pid: number }
  | { kind: "exited"; service: string; role: string; pid: number; code?: number; signal?: number }
  | { kind: "ready"; service: string }
  | { kind: "failed"; service: string; why: string }
  | { kind: "reload"; added: string[]; changed: string[]; removed: string[] }
  | { kind: "runner"; argv: string[] }
  | { kind: "runner-exit"; status: number }
  | { kind: "shutdown"; what: string }
  | { kind: "shutdown-step"; text: string }
  /** The last line of a boot report: the runner's status. */
  | { kind: "done"; status: number };

/** An event with its sequence number (from 1) and when it happened (ms since the kernel started). */
export type TsinitEvent = { seq: number; at: number } & EventBody;

export const EVENT_CAPACITY = 10_000;

export class EventLog {
  /** A ring: event `seq` is at (seq - 1) % capacity while it is kept. */
  private readonly ring: TsinitEvent[] = [];
  private nextSeq = 1;
  private readonly subscribers = new Set<(event: TsinitEvent) => void>();

  constructor(
    private readonly now: () => number,
    private readonly capacity = EVENT_CAPACITY,
    /** Told when a subscriber throws: its failure is its own, the next one still hears the event. */
    private readonly onSubscriberError: (error: unknown) => void = () => {},
  ) {}

  emit(body: EventBody): TsinitEvent {
    const event = { seq: this.nextSeq++, at: Math.round(this.now() * 1000) / 1000, ...body } as TsinitEvent;
    this.ring[(event.seq - 1) % this.capacity] = event;
    for (const subscriber of [...this.subscribers]) {
      try {
        subscriber(event);
      } catch (error) {
        this.onSubscriberError(error);
      }
    }
    return event;
  }

  /**
   * At most `limit` events after `seq` (0: from the oldest kept), and how many after `seq` were
   * no longer kept. A client pages on with the last one's seq.
   */
  after(seq: number, limit = Infinity): { events: TsinitEvent[]; lost: number } {
    const oldest = Math.max(1, this.nextSeq - this.capacity);
    const from = Math.max(seq + 1, oldest);
    const events: TsinitEvent[] = [];
    for (let at = from; at < this.nextSeq && events.length < limit; at++) events.push(this.ring[(at - 1) % this.capacity]!);
    return { events, lost: Math.max(0, oldest - seq - 1) };
  }

  /** The sequence number the next event will get. */
  get next(): number {
    return this.nextSeq;
  }

  subscribe(subscriber: (event: TsinitEvent) => void): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }
}

/** One event as a line for people: `[   3.120] #42 started getty (pid 118)`. */
export function describeEvent(event: TsinitEvent): string {
  const time = `[${(event.at / 1000).toFixed(3).padStart(8)}] #${event.seq}`;
  switch (event.kind) {
    case "boot-step":
      return `${time} ${event.stage}: ${event.text} (${event.ok ? "" : "FAILED, "}${Math.round(event.ms)} ms)`;
    case "state":
      return `${time} ${event.service}: ${event.from} -> ${event.to}`;
    case "spawned":
      return `${time} ${event.service}: ${event.role === "main" ? "" : `${event.role} `}pid ${event.pid}`;
    case "exited":
      return `${time} ${event.service}: pid ${event.pid} ${event.signal !== undefined ? `killed by signal ${event.signal}` : `exited ${event.code}`}`;
    case "ready":
      return `${time} ${event.service}: ready`;
    case "failed":
      return `${time} ${event.service}: failed: ${event.why}`;
    case "reload":
      return `${time} reload: added ${event.added.length}, changed ${event.changed.length}, removed ${event.removed.length}`;
    case "runner":
      return `${time} runner: ${event.argv.join(" ")}`;
    case "runner-exit":
      return `${time} runner: exit status ${event.status}`;
    case "shutdown":
      return `${time} shutdown: ${event.what}`;
    case "shutdown-step":
      return `${time} shutdown: ${event.text}`;
    case "done":
      return `${time} done: status ${event.status}`;
  }
}
