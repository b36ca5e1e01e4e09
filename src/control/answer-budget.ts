// How many bytes of answers the control server may hold for clients that have not read them yet.
// An answer the socket does not take at once stays in PID 1 until the client reads it, so a
// client that asks and never reads (or reads slowly) would otherwise make PID 1 hold every
// answer it asked for. Each uid has a budget, and all non-admins together have one; an answer
// past a budget is refused (503) instead of held. Pure: the server reports what it holds.

/** Bytes of unsent answers: per uid, and for all non-admins together. */
export interface AnswerLimits {
  /** One non-admin uid, over all its connections. */
  perUser: number;
  /** All non-admin uids together (and clients whose credentials are unknown). */
  nonAdmins: number;
  /** One admin uid, over all its connections. */
  perAdmin: number;
}

/**
 * A non-admin's list of 64 runtime services with 64 KiB commands is about 4 MB, and a list
 * of 10,000 loaded services with short commands about 3.5 MB (docs/control.md).
 */
export const ANSWER_LIMITS: AnswerLimits = {
  perUser: 8 * 1024 * 1024,
  nonAdmins: 32 * 1024 * 1024,
  perAdmin: 64 * 1024 * 1024,
};

/** Who an answer is for: a uid (undefined when its credentials are unknown) and whether it is an admin. */
export interface Holder {
  uid: number | undefined;
  admin: boolean;
}

export class AnswerBudget {
  private readonly byUid = new Map<number | "unknown", number>();
  private nonAdminBytes = 0;
  private totalBytes = 0;

  constructor(readonly limits: AnswerLimits = ANSWER_LIMITS) {}

  /** Bytes held for `uid`, over all its connections. */
  held(uid: number): number {
    return this.byUid.get(uid) ?? 0;
  }

  /** Bytes held for everyone. */
  get total(): number {
    return this.totalBytes;
  }

  /** Bytes held for all non-admins together. */
  get nonAdmins(): number {
    return this.nonAdminBytes;
  }

  /**
   * Why an answer of `bytes` may not be held for `holder` now, or undefined if it may. A holder
   * that holds nothing may always have one answer, whatever its size, so every user can read
   * every answer on one connection; a second one must fit in the budget. The non-admins' total
   * is kept the same way, and does not touch the admins': root is answered whatever others hold.
   */
  refusal(bytes: number, holder: Holder, estimated = false): string | undefined {
    const mine = this.byUid.get(key(holder)) ?? 0;
    const who = holder.uid === undefined ? "a client with unknown credentials" : `uid ${holder.uid}`;
    const limit = holder.admin ? this.limits.perAdmin : this.limits.perUser;
    if (mine > 0 && mine + bytes > limit) {
      return `${who} has ${mine} bytes of answers not yet read on other connections, and this one (${estimated ? "about " : ""}${bytes} bytes) would pass its ${limit}; read those first, then ask again`;
    }
    if (!holder.admin && this.nonAdminBytes > 0 && this.nonAdminBytes + bytes > this.limits.nonAdmins) {
      return `clients other than root hold ${this.nonAdminBytes} bytes of answers not yet read, and this one (${estimated ? "about " : ""}${bytes} bytes) would pass their ${this.limits.nonAdmins}; ask again later`;
    }
    return undefined;
  }

  take(bytes: number, holder: Holder): void {
    this.add(bytes, holder);
  }

  release(bytes: number, holder: Holder): void {
    this.add(-bytes, holder);
  }

  private add(bytes: number, holder: Holder): void {
    const uid = key(holder);
    const mine = (this.byUid.get(uid) ?? 0) + bytes;
    if (mine === 0) this.byUid.delete(uid);
    else this.byUid.set(uid, mine);
    if (!holder.admin) this.nonAdminBytes += bytes;
    this.totalBytes += bytes;
  }
}

function key(holder: Holder): number | "unknown" {
  return holder.uid ?? "unknown";
}
