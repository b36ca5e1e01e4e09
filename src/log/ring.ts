// A service's output kept in memory (`log-type = buffer`): the last `capacity` characters,
// with a running offset so a follower can ask for what came after what it has seen. Pure.

export class RingLog {
  private text = "";
  private readonly listeners = new Set<() => void>();
  /** How many characters were ever appended; the offset just past the newest one. */
  private total = 0;

  constructor(private readonly capacity: number) {}

  append(chunk: string): void {
    this.total += chunk.length;
    this.text = (this.text + chunk).slice(-this.capacity);
    for (const listener of [...this.listeners]) listener();
  }

  /** Calls `listener` after each append; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Everything after `offset` that is still kept, and the offset to ask from next time. */
  since(offset = 0): { text: string; next: number; dropped: number } {
    const start = this.total - this.text.length;
    const from = Math.min(Math.max(offset, start), this.total);
    return { text: this.text.slice(from - start), next: this.total, dropped: from - Math.max(0, Math.min(offset, this.total)) };
  }

  get end(): number {
    return this.total;
  }
}
