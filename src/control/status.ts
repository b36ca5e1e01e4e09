// A live ServiceRecord as the API shows it. Monotonic times (Sys.now) become "in N ms" and a
// wall-clock ISO time, so a client needs neither clock. Pure.
import { describeExit } from "../base/process.ts";
import type { ServiceRecord } from "../core/service-set.ts";
import type { ServiceStatus } from "./api.ts";

export interface Clock {
  /** Monotonic ms, the clock the service set records times with. */
  monotonic(): number;
  /** Wall-clock ms since the epoch. */
  wall(): number;
}

export interface StatusContext {
  clock: Clock;
  wanted(record: Readonly<ServiceRecord>): boolean;
  notifyStatus(name: string): string | undefined;
  /** Who added a runtime service, and its command as given. */
  owner(name: string): { uid: number; gid: number; command: readonly string[] } | undefined;
}

export function serviceStatus(record: Readonly<ServiceRecord>, context: StatusContext): ServiceStatus {
  const { spec } = record;
  const now = context.clock.monotonic();
  const toWall = (monotonic: number) => new Date(context.clock.wall() + (monotonic - now)).toISOString();
  const owner = context.owner(spec.name);
  const status: ServiceStatus = {
    name: spec.name,
    type: spec.type,
    state: record.state,
    target: context.wanted(record) ? "started" : "stopped",
    explicit: record.explicit,
    requiredBy: record.requiredBy,
    crashes: record.crashes.consecutive,
    restartsInInterval: record.crashes.restartTimes.filter((time) => now - time < spec.restartLimitIntervalMs).length,
    restartLimit: { count: spec.restartLimitCount, intervalMs: spec.restartLimitIntervalMs },
    restartPending: record.restartPending,
    restart: spec.restart,
  };
  if (record.pid !== undefined) status.pid = record.pid;
  if (record.failed !== undefined) status.failed = record.failed;
  if (record.failed !== undefined && record.terminated === true) status.terminated = true;
  if (spec.type === "triggered") {
    status.triggered = record.triggered;
    // Its dependencies are up (it is starting, not stopped); only the trigger is missing.
    if (record.state === "starting" && !record.triggered) status.waitingForTrigger = true;
  }
  if (record.blocked !== undefined) status.blocked = record.blocked;
  if (record.lastExit !== undefined) status.lastExit = describeExit(record.lastExit);
  if (record.restartPending && record.nextRestartAt !== undefined) {
    status.nextRestartInMs = Math.max(0, Math.round(record.nextRestartAt - now));
    status.nextRestartAt = toWall(record.nextRestartAt);
  }
  if (record.state === "started" && record.startedAt !== undefined) {
    status.uptimeMs = Math.max(0, Math.round(now - record.startedAt));
    status.startedAt = toWall(record.startedAt);
  }
  const notify = context.notifyStatus(spec.name);
  if (notify !== undefined) status.notifyStatus = notify;
  if (spec.file !== "") status.file = spec.file;
  const command = owner?.command ?? spec.command;
  if (command !== undefined) status.command = [...command];
  if (owner !== undefined) status.runtime = { ownerUid: owner.uid, ownerGid: owner.gid };
  return status;
}
