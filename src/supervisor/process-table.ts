// The one owner of child processes: every spawn goes through here and every exit is reaped
// here, so no exit status is lost and no other waiter can steal one (PLATFORM.md: Bun.spawn
// mixed with waitpid(-1) kills the process). An exit is handed to whoever spawned the pid;
// a pid nobody spawned is an orphan re-parented to us, reaped and reported.
import type { ExitStatus, Reaped } from "../base/process.ts";
import type { SpawnRequest, SpawnResult, Sys } from "../sys/sys.ts";

export class ProcessTable<T> {
  private readonly owners = new Map<number, T>();
  private noChildren = true;

  constructor(
    private readonly sys: Sys,
    private readonly onExit: (owner: T, pid: number, status: ExitStatus) => void,
    private readonly onOrphan: (reaped: Reaped) => void,
  ) {}

  spawn(owner: T, request: SpawnRequest): SpawnResult {
    const result = this.sys.spawn(request);
    if (result.ok) {
      this.owners.set(result.pid, owner);
      this.noChildren = false;
    }
    return result;
  }

  /**
   * Adopt a live pid this process did not spawn (a bgprocess daemon named by its pid file,
   * checked alive just before): its exit, even as a zombie not reaped yet, goes to `owner`.
   */
  adopt(owner: T, pid: number): void {
    this.owners.set(pid, owner);
  }

  /** Whether `pid` is a process someone here already owns. */
  owns(pid: number): boolean {
    return this.owners.has(pid);
  }

  ownerOf(pid: number): T | undefined {
    return this.owners.get(pid);
  }

  /** Drain every exited child; call on SIGCHLD (and now and then, in case one was coalesced). */
  reap(): void {
    const { reaped, noChildren } = this.sys.reap();
    this.noChildren = noChildren;
    for (const exit of reaped) {
      const owner = this.owners.get(exit.pid);
      this.owners.delete(exit.pid);
      if (owner !== undefined) this.onExit(owner, exit.pid, exit.status);
      else this.onOrphan(exit);
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
