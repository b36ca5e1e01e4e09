// A cgroup2 directory per service, so that stopping a service reaches whatever escaped its
// process group. posix_spawn cannot start a child in a cgroup: the main process is moved in
// just after it is spawned, so a process that forks in its first microseconds may leave a
// child outside (the process-group kill still reaches that child).
import { SIGNALS } from "../base/signals.ts";
import type { Log } from "../log/log.ts";
import type { Clock, Sys } from "../sys/sys.ts";

export class ServiceCgroups {
  /** The services whose cgroup was made or joined: what `prune` may remove. */
  private readonly joined = new Set<string>();
  /** Cgroups of services no longer loaded that still held processes: removed once they empty. */
  private readonly emptying = new Set<string>();
  /** Such cgroups that could not be watched (inotify's limits): tried again at each forget and prune. */
  private readonly unwatched = new Set<string>();

  /** `root` undefined: services get no cgroups and every method does nothing. */
  constructor(
    private readonly sys: Sys,
    private readonly log: Log,
    private readonly root: string | undefined,
  ) {}

  /** Whether services get cgroups of their own here. */
  get enabled(): boolean {
    return this.root !== undefined;
  }

  join(service: string, pid: number): void {
    if (this.root === undefined) return;
    // Loaded again under that name before its old cgroup emptied: the cgroup is the service's again.
    this.emptying.delete(service);
    this.unwatched.delete(service);
    const dir = `${this.root}/${service}`;
    const made = this.sys.isDirectory(dir) ? undefined : this.sys.mkdir(dir, 0o755);
    if (made === undefined) this.joined.add(service);
    const error = made ?? this.sys.writeFile(`${dir}/cgroup.procs`, String(pid));
    if (error !== undefined) this.log.warn(`${service}: joining cgroup ${dir}: ${error.message}`);
  }

  /**
   * Removes the cgroups of services no longer loaded, else every reload that brings new names
   * leaves empty cgroups behind. One that still holds processes (EBUSY: what the service left
   * and nothing killed yet) is removed when its last process leaves: the kernel then marks its
   * cgroup.events modified ("populated 0"), which tsinit watches. It is not left for a next
   * prune, which may never come.
   */
  prune(isLoaded: (service: string) => boolean): void {
    if (this.root === undefined) return;
    this.retryUnwatched();
    for (const service of [...this.joined]) if (!isLoaded(service)) this.forget(service);
  }

  /** One service no longer loaded: its cgroup goes, now or once its last process leaves. */
  forget(service: string): void {
    if (this.root === undefined) return;
    this.retryUnwatched();
    if (!this.joined.delete(service)) return;
    const dir = `${this.root}/${service}`;
    const error = this.sys.rmdir(dir);
    if (error?.code === "EBUSY") this.removeOnceEmpty(service, dir);
    else if (error !== undefined && error.code !== "ENOENT") this.log.warn(`${service}: removing cgroup ${dir}: ${error.message}`);
  }

  /** The busy cgroups no watch could be had for: removed if they have emptied since. */
  private retryUnwatched(): void {
    for (const service of [...this.unwatched]) {
      const dir = `${this.root}/${service}`;
      const error = this.sys.rmdir(dir);
      if (error?.code === "EBUSY") continue;
      this.unwatched.delete(service);
      if (error !== undefined && error.code !== "ENOENT") this.log.warn(`${service}: removing cgroup ${dir}: ${error.message}`);
    }
  }

  private removeOnceEmpty(service: string, dir: string): void {
    if (this.emptying.has(service)) return;
    const watch = this.sys.watchModified(`${dir}/cgroup.events`, () => this.removeIfEmpty(service, dir));
    if (watch !== undefined) {
      // No watch (inotify's limits): tried again whenever another service is forgotten or at a
      // reload, as it was before watches.
      this.log.debug(`${service}: cgroup ${dir} is removed later: ${watch.message}`);
      this.unwatched.add(service);
      return;
    }
    this.emptying.add(service);
    // Its last process may have left between the rmdir and the watch, which then sees no change.
    this.removeIfEmpty(service, dir);
  }

  /** On each change of a busy cgroup's cgroup.events: removed once nothing is in it. */
  private removeIfEmpty(service: string, dir: string): void {
    if (!this.emptying.has(service)) return;
    const error = this.sys.rmdir(dir);
    // Still populated: its next change calls again.
    if (error?.code === "EBUSY") return;
    this.emptying.delete(service);
    if (error !== undefined && error.code !== "ENOENT") this.log.warn(`${service}: removing cgroup ${dir}: ${error.message}`);
  }

  /**
   * A supervisor's clean exit: every service cgroup it made goes, as its services have stopped.
   * One still holding a process (a leftover just sent SIGKILL, which the kernel has not taken
   * out yet) is removed once it empties, waited for at most `graceMs`; one still busy then (a
   * process a signal-process-only service left) stays, with a note naming it.
   */
  removeAll(clock: Clock, graceMs: number): Promise<void> {
    if (this.root === undefined) return Promise.resolve();
    const root = this.root;
    const busy = new Set<string>();
    const remove = (service: string): void => {
      const error = this.sys.rmdir(`${root}/${service}`);
      if (error?.code === "EBUSY") return;
      busy.delete(service);
      if (error !== undefined && error.code !== "ENOENT") this.log.warn(`${service}: removing cgroup ${root}/${service}: ${error.message}`);
    };
    for (const service of [...this.joined, ...this.emptying, ...this.unwatched]) {
      busy.add(service);
      remove(service);
    }
    this.joined.clear();
    this.emptying.clear();
    this.unwatched.clear();
    if (busy.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        timer.cancel();
        for (const service of [...busy]) remove(service);
        for (const service of busy) this.log.info(`${service}: cgroup ${root}/${service} still holds processes; left in place`);
        resolve();
      };
      const timer = clock.setTimer(graceMs, finish);
      for (const service of [...busy]) {
        // A change of cgroup.events: a process left. No watch: only the grace's end looks again.
        this.sys.watchModified(`${root}/${service}/cgroup.events`, () => {
          if (done || !busy.has(service)) return;
          remove(service);
          if (busy.size === 0) finish();
        });
        // It may have emptied between the rmdir and the watch.
        remove(service);
      }
      if (busy.size === 0) finish();
    });
  }

  /** How many cgroups of services no longer loaded wait for their last process to leave (tests). */
  get emptyingCount(): number {
    return this.emptying.size;
  }

  /** How many service cgroups are kept (tests). */
  get size(): number {
    return this.joined.size;
  }

  /** The pids in a service's cgroup, or [] where services get no cgroups. */
  members(service: string): number[] {
    if (this.root === undefined) return [];
    const text = this.sys.readFile(`${this.root}/${service}/cgroup.procs`) ?? "";
    return text.split("\n").filter(Boolean).map(Number);
  }

  /**
   * SIGKILL is cgroup.kill, which also catches what forks meanwhile; others go pid by pid,
   * except to the pids `alreadySignalled` says have had it (a process gets one signal, not two:
   * to many programs a second SIGTERM means "stop now").
   */
  signal(service: string, signal: number, alreadySignalled: (pid: number) => boolean = () => false): void {
    if (this.root === undefined) return;
    if (signal === SIGNALS.KILL) {
      const dir = `${this.root}/${service}`;
      if (this.sys.isDirectory(dir)) this.sys.writeFile(`${dir}/cgroup.kill`, "1");
      return;
    }
    for (const pid of this.members(service)) if (!alreadySignalled(pid)) this.sys.kill(pid, signal);
  }
}

/** `parent`/tsinit made if missing, or undefined (with a warning) when cgroups cannot be had. */
export function serviceCgroupRoot(sys: Sys, log: Log, dir: string): string | undefined {
  const error = sys.isDirectory(dir) ? undefined : sys.mkdir(dir, 0o755);
  if (error === undefined) return dir;
  log.warn(`services get no cgroups: ${error.message}`);
  return undefined;
}
