// What is left of a stopped service: processes in its process group or cgroup after its main
// process exited. They already had the stop signal; they get the stop-timeout before SIGKILL,
// or less if the service starts again first (a new instance never shares its cgroup with the
// last one's leftovers). Without cgroups the group is all there is, and its id is a pid that
// the kernel may give to a new group once the old one is empty: the SIGKILL goes to the group
// only while a process that was in it when the service stopped is still there.
import { SIGNALS } from "../base/signals.ts";
import type { Clock, Sys, Timer } from "../sys/sys.ts";
import type { ServiceCgroups } from "./cgroups.ts";
import { groupMembers } from "./proc-stat.ts";

export class Leftovers {
  private readonly pending = new Map<string, { timer: Timer; kill: () => void }>();

  constructor(
    private readonly sys: Sys,
    private readonly clock: Clock,
    private readonly cgroups: ServiceCgroups,
  ) {}

  /** Arms the SIGKILL for `service`'s leftovers in group `pgid`, if anything is left. */
  killLater(service: string, pgid: number, graceMs: number): void {
    const groupAlive = this.sys.kill(-pgid, 0) === undefined;
    const left = groupAlive ? groupMembers(this.sys, pgid) : new Map<number, string>();
    if (left.size === 0 && this.cgroups.members(service).length === 0) return;
    this.killNow(service);
    const kill = () => {
      this.pending.delete(service);
      if (left.size > 0 && this.stillSameGroup(pgid, left)) this.sys.kill(-pgid, SIGNALS.KILL);
      this.cgroups.signal(service, SIGNALS.KILL);
    };
    this.pending.set(service, { timer: this.clock.setTimer(graceMs, kill), kill });
  }

  /** SIGKILL `service`'s leftovers now, if any wait. */
  killNow(service: string): void {
    const pending = this.pending.get(service);
    if (pending === undefined) return;
    pending.timer.cancel();
    pending.kill();
  }

  /** Whether a process of `left` (pid and start time) is still in group `pgid`. */
  private stillSameGroup(pgid: number, left: ReadonlyMap<number, string>): boolean {
    const now = groupMembers(this.sys, pgid);
    for (const [pid, started] of left) if (now.get(pid) === started) return true;
    return false;
  }

  killAll(): void {
    for (const service of [...this.pending.keys()]) this.killNow(service);
  }
}
