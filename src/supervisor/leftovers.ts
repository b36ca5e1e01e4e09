// What is left of a stopped service: processes in its process group or cgroup after its main
// process exited. They already had the stop signal; they get the stop-timeout before SIGKILL,
// or less if the service starts again first (a new instance never shares its cgroup with the
// last one's leftovers). Without cgroups the group is all there is, and its id is the pid of the
// service's main process, which has exited. The kernel gives no new group that id while any
// process is still in the old one; once it is empty, a new process with that pid may start a
// group of its own. So the SIGKILL goes to the group unless a process with the group's pid
// leads a group of that id again: that one is a new group, not the service's.
import { SIGNALS } from "../base/signals.ts";
import type { Clock, Sys, Timer } from "../sys/sys.ts";
import type { ServiceCgroups } from "./cgroups.ts";
import { processGroup } from "./proc-stat.ts";

export class Leftovers {
  private readonly pending = new Map<string, { timer: Timer; kill: () => void }>();

  constructor(
    private readonly sys: Sys,
    private readonly clock: Clock,
    private readonly cgroups: ServiceCgroups,
  ) {}

  /** Arms the SIGKILL for `service`'s leftovers in group `pgid`, if anything is left. */
  killLater(service: string, pgid: number, graceMs: number): void {
    const groupLeft = this.sys.kill(-pgid, 0) === undefined;
    if (!groupLeft && this.cgroups.members(service).length === 0) return;
    this.killNow(service);
    const kill = () => {
      this.pending.delete(service);
      if (groupLeft && processGroup(this.sys, pgid) !== pgid) this.sys.kill(-pgid, SIGNALS.KILL);
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

  killAll(): void {
    for (const service of [...this.pending.keys()]) this.killNow(service);
  }
}
