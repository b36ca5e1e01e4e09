// When has a command reached its goal? `start`, `stop`, `restart` and `release` answer once the
// service is there or has failed. The supervisor calls its subscribers after every batch of
// events, so the check runs on the settled state after each batch, never mid-transition. Pure.
import type { ServiceRecord } from "../core/service-set.ts";
import type { ServiceCommand } from "./api.ts";

export type Outcome = { kind: "pending" } | { kind: "done" } | { kind: "failed"; reason: string };

const PENDING: Outcome = { kind: "pending" };
const DONE: Outcome = { kind: "done" };

/**
 * `wanted` is the service set's verdict for the record (explicit or held by a dependent).
 * A start has failed when the service is stopped and no longer wanted: a failure unmarks it
 * (its own, a dependency's, a crash loop that gave up), and so does a stop from someone else.
 */
export function commandOutcome(command: ServiceCommand, record: ServiceRecord | undefined, wanted: boolean): Outcome {
  if (record === undefined) return { kind: "failed", reason: "the service was removed" };
  const settledStopped = record.state === "stopped" && !record.restartPending;
  switch (command) {
    case "start":
    case "restart":
      if (record.state === "started" && !record.restartRequested) return DONE;
      if (settledStopped && !wanted) return { kind: "failed", reason: record.failed ?? record.blocked ?? "it was stopped before it started" };
      return PENDING;
    case "release":
      // Still held by a dependent: releasing only dropped the explicit mark.
      if (wanted) return DONE;
      return settledStopped ? DONE : PENDING;
    case "trigger":
    case "untrigger":
      // Setting the flag is the whole command; a wanted triggered service starts on its own.
      return DONE;
    case "stop":
      if (settledStopped) return DONE;
      if (wanted && record.state !== "stopping") return { kind: "failed", reason: "it was started again before it stopped" };
      return PENDING;
  }
}

export interface Subscribable {
  /** Calls the listener after every batch of events; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
}

/**
 * Resolves with the first outcome that is not pending, checking now and after each batch of
 * events. An abort (the client went away) resolves with "pending" and stops listening.
 */
export function waitForOutcome(events: Subscribable, check: () => Outcome, signal?: AbortSignal): Promise<Outcome> {
  const first = safeCheck(check);
  if (first.kind !== "pending" || signal?.aborted) return Promise.resolve(first);
  return new Promise((resolve) => {
    let unsubscribe = () => {};
    const finish = (result: Outcome) => {
      unsubscribe();
      signal?.removeEventListener("abort", onAbort);
      resolve(result);
    };
    const onAbort = () => finish(PENDING);
    unsubscribe = events.subscribe(() => {
      const result = safeCheck(check);
      if (result.kind !== "pending") finish(result);
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A check that throws must not leave a subscriber behind or throw into the supervisor. */
function safeCheck(check: () => Outcome): Outcome {
  try {
    return check();
  } catch (error) {
    return { kind: "failed", reason: `internal error while waiting: ${String(error)}` };
  }
}
