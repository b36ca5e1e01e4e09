// Fields of /proc/PID/stat and /proc/PID/status. The command name (stat's field 2) is in
// parentheses and may hold spaces or parentheses itself, so fields are counted after the last ")".
import type { Sys } from "../sys/sys.ts";

function fieldsAfterName(sys: Sys, pid: number): string[] | undefined {
  const stat = sys.readFile(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** The parent's pid (field 4), or undefined when `pid` is not running. */
export function parentPid(sys: Sys, pid: number): number | undefined {
  const fields = fieldsAfterName(sys, pid);
  return fields === undefined ? undefined : Number(fields[1]);
}

/** The process group (field 5), or undefined when `pid` is not running. */
export function processGroup(sys: Sys, pid: number): number | undefined {
  const fields = fieldsAfterName(sys, pid);
  return fields === undefined ? undefined : Number(fields[2]);
}

/** The session id (field 6), or undefined when `pid` is not running. */
export function sessionId(sys: Sys, pid: number): number | undefined {
  const fields = fieldsAfterName(sys, pid);
  return fields === undefined ? undefined : Number(fields[3]);
}

/** The real uid (the first of /proc/PID/status's Uid line), or undefined when `pid` is not running. */
export function realUid(sys: Sys, pid: number): number | undefined {
  const uid = sys.readFile(`/proc/${pid}/status`)?.match(/^Uid:\s+(\d+)/m)?.[1];
  return uid === undefined ? undefined : Number(uid);
}

/** The cgroup2 path (/proc/PID/cgroup's "0::" line), or undefined when `pid` is not running. */
export function cgroupPath(sys: Sys, pid: number): string | undefined {
  return sys.readFile(`/proc/${pid}/cgroup`)?.match(/^0::(.*)$/m)?.[1];
}
