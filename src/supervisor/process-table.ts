// The one owner of child processes: every spawn goes through here and every exit is reaped
// here, so no exit status is lost and no other waiter can steal one (PLATFORM.md: Bun.spawn
// mixed with waitpid(-1) kills the process). An exit is handed to whoever spawned the pid;
// a pid nobody spawned is an orphan re-parented to us, reaped and reported.
import type { SpawnRequest, SpawnResult, Sys } from "../sys/sys.ts";
import type { ExitStatus, Reaped } from "../base/process.ts";

export interface ProcessOwner<T> {
  owner: T;
  startedAt: number;
}

/** How many orphan exits are remembered, for a daemon adopted just after it died. */
const RECENT_ORPHANS = 64;

export class ProcessTable<T> {
  private readonly owners = new Map<number, ProcessOwner<T>>();
  private readonly recentOrphans = new Map<number, ExitStatus>();
  private noChildren = true;

  constructor(
    private readonly sys: Sys,
    private readonly onExit: (owner: T, pid: number, status: ExitStatus) => void,
    private readonly onOrphan: (reaped: Reaped) => void,
  ) {}

  spawn(owner: T, request: SpawnRequest): SpawnResult {
    const result = this.sys.spawn(request);
    if (result.ok) {
      this.owners.set(result.pid, { owner, startedAt: this.sys.now() });
      this.noChildren = false;
    }
    return result;
  }

  /**
   * Adopt a pid this process did not spawn (a bgprocess daemon read from its pid file). A
   * daemon that already died and was reaped as an orphan has its exit delivered at once.
   */
  adopt(owner: T, pid: number, { alive = false } = {}): void {
    const status = this.recentOrphans.get(pid);
    this.recentOrphans.delete(pid);
    if (status !== undefined && !alive) {
      this.recentOrphans.delete(pid);
      this.onExit(owner, pid, status);
      return;
    }
    this.owners.set(pid, { owner, startedAt: this.sys.now() });
  }

  /** Whether `pid` is a process someone here already owns. */
  owns(pid: number): boolean {
    return this.owners.has(pid);
  }

  /** Drain every exited child; call on SIGCHLD (and now and then, in case one was coalesced). */
  reap(): void {
    const { reaped, noChildren } = this.sys.reap();
    this.noChildren = noChildren;
    for (const exit of reaped) {
      const entry = this.owners.get(exit.pid);
      this.owners.delete(exit.pid);
      if (entry !== undefined) {
        this.onExit(entry.owner, exit.pid, exit.status);
        continue;
      }
      this.recentOrphans.set(exit.pid, exit.status);
      if (this.recentOrphans.size > RECENT_ORPHANS) this.recentOrphans.delete(this.recentOrphans.keys().next().value!);
      this.onOrphan(exit);
    }
  }

  /** Whether the last reap found no children at all (ECHILD). */
  hasNoChildren(): boolean {
    return this.noChildren;
  }

  tracked(): number {
    return this.owners.size;
  }
}
