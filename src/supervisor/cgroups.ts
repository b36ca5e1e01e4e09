// A cgroup2 directory per service, so that stopping a service reaches whatever escaped its
// process group. posix_spawn cannot start a child in a cgroup: the main process is moved in
// just after it is spawned, so a process that forks in its first microseconds may leave a
// child outside (the process-group kill still reaches that child).
import { SIGNALS } from "../base/signals.ts";
import type { Log } from "../log/log.ts";
import type { Sys } from "../sys/sys.ts";

export class ServiceCgroups {
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
    const dir = `${this.root}/${service}`;
    const error = (this.sys.isDirectory(dir) ? undefined : this.sys.mkdir(dir, 0o755)) ?? this.sys.writeFile(`${dir}/cgroup.procs`, String(pid));
    if (error !== undefined) this.log.warn(`${service}: joining cgroup ${dir}: ${error.message}`);
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
