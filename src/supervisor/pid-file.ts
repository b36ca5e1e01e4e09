// A bgprocess's pid file, read after its launcher exited. A pid file can be stale or written by
// anyone the daemon runs as, so tsinit only adopts a live process that is its own child (the
// daemon was re-parented to it when the launcher exited) or is in the service's cgroup, and
// that no other service already owns. As PID 1 every orphan on the machine is tsinit's child,
// so for a service that runs as another user the process must also be that user's, or be in
// the launcher's session: such a service cannot name, say, a root process to be adopted.
import { substituteValue } from "../config/substitute.ts";
import type { Event } from "../core/events.ts";
import type { Sys } from "../sys/sys.ts";
import { parentPid, realUid, sessionId } from "./proc-stat.ts";

export interface PidFileContext {
  sys: Sys;
  env: Readonly<Record<string, string>>;
  /** Whether some service already owns `pid`. */
  owned: (pid: number) => boolean;
  /** The pids in the service's cgroup ([] without cgroups). */
  cgroupMembers: (service: string) => number[];
  /** The launcher that wrote the pid file: its pid (its session's id) and, with run-as, its uid. */
  launcher?: { pid: number; uid?: number };
}

/** A pid and a newline, with room to spare. */
const PID_FILE_MAX_BYTES = 4096;

/** The event the pid file comes to: the daemon's pid, or why it cannot be trusted. */
export function readPidFile(service: string, pidFile: string, context: PidFileContext): Extract<Event, { kind: "pid-file" | "pid-file-failed" }> {
  const path = substituteValue(pidFile, context.env);
  // The daemon may run as anyone and replace its pid file with a FIFO or a link to /dev/zero:
  // read it non-blocking, as a regular file only, and no more than a pid file ever holds.
  const text = context.sys.readRegularFile(path, PID_FILE_MAX_BYTES);
  if (typeof text !== "string") return { kind: "pid-file-failed", service, error: `pid-file ${path} cannot be read: ${text.reason}` };
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 1) return { kind: "pid-file-failed", service, error: `pid-file ${path} holds no pid` };
  const refused = untrusted(service, pid, context);
  if (refused !== undefined) return { kind: "pid-file-failed", service, error: `pid-file ${path}: ${refused}` };
  return { kind: "pid-file", service, pid };
}

function untrusted(service: string, pid: number, { sys, owned, cgroupMembers, launcher }: PidFileContext): string | undefined {
  const parent = parentPid(sys, pid);
  if (parent === undefined) return `pid ${pid} is not running`;
  if (owned(pid)) return `pid ${pid} belongs to another service`;
  if (parent !== sys.getpid() && !cgroupMembers(service).includes(pid)) return `pid ${pid} is not a child of tsinit (a stale pid file?)`;
  const uid = launcher?.uid;
  if (uid === undefined || uid === 0) return undefined;
  if (realUid(sys, pid) === uid || sessionId(sys, pid) === launcher!.pid) return undefined;
  return `pid ${pid} is neither uid ${uid}'s (run-as) nor in the launcher's session`;
}
