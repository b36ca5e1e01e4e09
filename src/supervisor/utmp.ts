// dinit's inittab-id and inittab-line: a process service's main process gets an INIT_PROCESS
// record in utmp when it starts, turned into DEAD_PROCESS (and appended to wtmp) when it is
// reaped. busybox's getty and login then find their own record by pid and change it in place
// (LOGIN_PROCESS, USER_PROCESS), so `who` and `last` list the logins. A record is closed by the
// process it was written for, not by its service: the service may have let go of the pid long
// before the reap (a failed start kills its process and stops at once), or be gone (removed),
// or run a newer process already.
import type { ExitStatus } from "../base/process.ts";
import type { ServiceSpec } from "../base/service-spec.ts";
import { encodeUtmp, UT_TYPE, UTMP_PATH, UTMP_SIZE, utmpDeadSlot, utmpId, utmpSlot, WTMP_PATH, type UtmpEntry } from "../base/utmp.ts";
import type { Log } from "../log/log.ts";
import type { Clock, Sys } from "../sys/sys.ts";

/** The largest utmp file read: 4096 records. */
const MAX_UTMP_BYTES = 4096 * UTMP_SIZE;

export class UtmpRecords {
  /** One warning, not one per start, when utmp cannot be written (a read-only /var, say). */
  private warned = false;
  /** The records written and not yet closed, by the pid they were written for. */
  private readonly open = new Map<number, { id: string; line: string }>();

  constructor(
    private readonly sys: Sys,
    private readonly clock: Clock,
    private readonly log: Log,
  ) {}

  private bootWritten = false;

  /** The boot's record in wtmp (BOOT_TIME, user "reboot"), once, dated when the kernel started. */
  bootRecord(clock: Clock): void {
    if (this.bootWritten) return;
    this.bootWritten = true;
    const timeMs = clock.wallTime() - clock.sinceBoot();
    const record = encodeUtmp({ type: UT_TYPE.BOOT_TIME, pid: 0, line: "~", id: "~~", user: "reboot", timeMs });
    const error = this.sys.writeAt(WTMP_PATH, "end", record);
    if (error !== undefined) this.log.warn(`starts-rwfs: the boot's wtmp record: ${error.message}`);
  }

  /** A main process was spawned: its INIT_PROCESS record. */
  started(spec: ServiceSpec, pid: number): void {
    if (!hasEntry(spec)) return;
    const key = { id: utmpId(spec.inittabId, spec.inittabLine), line: spec.inittabLine ?? "" };
    this.open.set(pid, key);
    this.write({ type: UT_TYPE.INIT_PROCESS, pid, ...key, session: pid, timeMs: this.clock.wallTime() });
  }

  /** Any process was reaped: if it got a record, that record becomes DEAD_PROCESS, in utmp and wtmp. */
  reaped(pid: number, status: ExitStatus): void {
    const key = this.open.get(pid);
    if (key === undefined) return;
    this.open.delete(pid);
    const entry: UtmpEntry = { type: UT_TYPE.DEAD_PROCESS, pid, ...key, session: pid, timeMs: this.clock.wallTime() };
    if (status.kind === "signaled") entry.termination = status.signal;
    else entry.exit = status.code;
    this.write(entry);
  }

  private write(entry: UtmpEntry): void {
    const record = encodeUtmp(entry);
    const read = this.sys.readAt(UTMP_PATH, 0, MAX_UTMP_BYTES);
    const file = read instanceof Uint8Array ? read : new Uint8Array(0);
    const dead = entry.type === UT_TYPE.DEAD_PROCESS;
    const slot = dead ? utmpDeadSlot(file, entry.id, entry.pid) : utmpSlot(file, entry.id);
    const error =
      (slot === undefined ? undefined : this.sys.writeAt(UTMP_PATH, slot * UTMP_SIZE, record)) ?? (dead ? this.sys.writeAt(WTMP_PATH, "end", record) : undefined);
    if (error === undefined || this.warned) return;
    this.warned = true;
    this.log.warn(`inittab-id/inittab-line: ${error.message}; utmp is not kept`);
  }
}

function hasEntry(spec: ServiceSpec): boolean {
  return spec.type === "process" && (spec.inittabId !== undefined || spec.inittabLine !== undefined);
}
