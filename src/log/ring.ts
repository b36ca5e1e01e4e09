// A service's output kept in memory (`log-type = buffer`): the newest `capacity` bytes, with a
// running byte offset so a follower can ask for what came after what it has seen. Appending
// costs the chunk, not the buffer: the bytes go into a ring that grows up to `capacity` and then
// overwrites its oldest bytes in place. Pure.

const encoder = new TextEncoder();
/** A buffer starts this small and doubles as output arrives, up to its capacity. */
const INITIAL_BYTES = 1024;

export class RingLog {
  private bytes: Uint8Array;
  private readonly listeners = new Set<() => void>();
  /** How many bytes were ever appended; the offset just past the newest one. */
  private total = 0;
  /** How many of the newest bytes are held (fewer than the buffer's size after a resize). */
  private held = 0;
  /** Bytes copied so far, into the ring or out of it (see `copied`). */
  private moved = 0;

  constructor(private capacity: number) {
    this.bytes = new Uint8Array(Math.min(capacity, INITIAL_BYTES));
  }

  /** How many bytes it keeps at most. */
  get limit(): number {
    return this.capacity;
  }

  /**
   * A new capacity (a reload changed `log-buffer-size`): the newest bytes that fit are kept, and
   * offsets go on, so a follower notices nothing but what was dropped.
   */
  resize(capacity: number): void {
    if (capacity === this.capacity) return;
    const keep = Math.min(this.held, capacity);
    const newest = this.slice(this.total - keep, this.total);
    this.capacity = capacity;
    // Byte `offset` lives at `offset % size`; a buffer smaller than its capacity has not
    // wrapped yet, so it must hold every byte from offset 0.
    const small = Math.min(capacity, INITIAL_BYTES);
    const size = keep === this.total && this.total <= small ? small : capacity;
    this.bytes = new Uint8Array(size);
    const at = (this.total - keep) % size;
    const first = Math.min(keep, size - at);
    this.copy(this.bytes, newest.subarray(0, first), at);
    if (first < keep) this.copy(this.bytes, newest.subarray(first), 0);
    this.held = keep;
  }

  append(chunk: string | Uint8Array): void {
    const data = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
    if (data.length === 0) return;
    this.grow(this.total + data.length);
    // Only the newest `capacity` bytes of the chunk can survive.
    const kept = data.length > this.capacity ? data.subarray(data.length - this.capacity) : data;
    const skipped = data.length - kept.length;
    const size = this.bytes.length;
    const at = (this.total + skipped) % size;
    const first = Math.min(kept.length, size - at);
    this.copy(this.bytes, kept.subarray(0, first), at);
    if (first < kept.length) this.copy(this.bytes, kept.subarray(first), 0);
    this.total += data.length;
    this.held = Math.min(this.held + data.length, this.bytes.length);
    for (const listener of [...this.listeners]) listener();
  }

  /** Calls `listener` after each append; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Everything after byte `offset` that is still kept, as text, and the offset to ask from next
   * time. `dropped` counts the bytes between `offset` and the oldest byte kept.
   */
  since(offset = 0): { text: string; next: number; dropped: number } {
    const start = this.total - this.held;
    const from = Math.min(Math.max(offset, start), this.total);
    let slice = this.slice(from, this.total);
    // The oldest bytes kept may begin inside a character whose first bytes were overwritten.
    if (from === start && start > 0) {
      let skip = 0;
      while (skip < slice.length && skip < 3 && (slice[skip]! & 0xc0) === 0x80) skip++;
      slice = slice.subarray(skip);
    }
    return { text: new TextDecoder().decode(slice), next: this.total, dropped: from - Math.max(0, Math.min(offset, this.total)) };
  }

  /** Forget what is kept (catlog --clear); offsets go on, so a follower sees only new output. */
  clear(): void {
    this.held = 0;
  }

  get end(): number {
    return this.total;
  }

  /**
   * How many bytes the ring has copied: appended bytes kept, its growth and resizes, and what
   * was read out. An append costs its chunk, so this stays near the bytes appended plus the
   * bytes read, however full the ring is.
   */
  get copied(): number {
    return this.moved;
  }

  /** Every copy of bytes goes through here, so that `copied` counts them. */
  private copy(to: Uint8Array, from: Uint8Array, at: number): void {
    to.set(from, at);
    this.moved += from.length;
  }

  /** Bytes [from, to) of the stream, which must still be kept. */
  private slice(from: number, to: number): Uint8Array {
    const size = this.bytes.length;
    const out = new Uint8Array(to - from);
    const at = from % size;
    const first = Math.min(out.length, size - at);
    this.copy(out, this.bytes.subarray(at, at + first), 0);
    if (first < out.length) this.copy(out, this.bytes.subarray(0, out.length - first), first);
    return out;
  }

  /** While nothing has wrapped yet, make room for `needed` bytes (at most the capacity). */
  private grow(needed: number): void {
    if (this.bytes.length >= this.capacity || needed <= this.bytes.length) return;
    let size = this.bytes.length;
    while (size < needed && size < this.capacity) size *= 2;
    const bigger = new Uint8Array(Math.min(size, this.capacity));
    this.copy(bigger, this.bytes.subarray(0, this.total), 0);
    this.bytes = bigger;
  }
}
