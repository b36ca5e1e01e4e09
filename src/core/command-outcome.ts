// When has a command reached its goal? The service set keeps each command that carried an id
// with its service and asks this after every event that touched that service. Pure.
import type { CommandOp, CommandOutcome } from "./events.ts";

/** What the verdict needs of a live service. */
export interface CommandSubject {
  state: "stopped" | "starting" | "started" | "stopping";
  restartPending: boolean;
  restartRequested: boolean;
  failed?: string;
  blocked?: string;
}

const DONE: CommandOutcome = { kind: "done" };

/**
 * The outcome of `op` on a service in this state, or undefined while it is still on its way.
 * `wanted` is the service set's verdict (explicit, or held by a dependent). A start has failed
 * when the service is stopped and no longer wanted: a failure unmarks it (its own, a
 * dependency's, a crash loop that gave up), and so does a stop from someone else.
 */
export function commandVerdict(op: CommandOp, subject: CommandSubject, wanted: boolean): CommandOutcome | undefined {
  const settledStopped = subject.state === "stopped" && !subject.restartPending;
  switch (op) {
    case "start":
    case "wake":
    case "restart":
      // A restart asked of a running service clears restartRequested only on its way through
      // stopped, so "started and not requested" means it went through stop and start.
      if (subject.state === "started" && !subject.restartRequested) return DONE;
      if (settledStopped && !wanted) return { kind: "failed", reason: subject.failed ?? subject.blocked ?? "it was stopped before it started" };
      return undefined;
    case "release":
      // Still held by a dependent: releasing only dropped the explicit mark.
      if (wanted) return DONE;
      return settledStopped ? DONE : undefined;
    case "trigger":
    case "untrigger":
      // Setting the flag is the whole command; a wanted triggered service starts on its own.
      return DONE;
    case "stop":
      if (settledStopped) return DONE;
      if (wanted && subject.state !== "stopping") return { kind: "failed", reason: "it was started again before it stopped" };
      return undefined;
  }
}
