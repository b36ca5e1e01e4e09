// dinit's inittab-id and inittab-line: a process service's main process gets an INIT_PROCESS
// record in utmp when it starts, turned into DEAD_PROCESS (and appended to wtmp) when it ends.
// busybox's getty and login then find their own record by pid and change it in place
// (LOGIN_PROCESS, USER_PROCESS), so `who` and `last` list the logins.
import type { ExitStatus } from "../base/process.ts";
import type { ServiceSpec } from "../base/service-spec.ts";
import { encodeUtmp, UT_TYPE, UTMP_PATH, UTMP_SIZE, utmpId, utmpSlot, WTMP_PATH, type UtmpEntry } from "../base/utmp.ts";
import type { Log } from "../log/log.ts";
import type { Clock, Sys } from "../sys/sys.ts";

/** The largest utmp file read: 4096 records. */
const MAX_UTMP_BYTES = 4096 * UTMP_SIZE;

export class UtmpRecords {
  /** One warning, not one per start, when utmp cannot be written (a read-only /var, say). */
  private warned = false;

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

  started(spec: ServiceSpec, pid: number): void {
    if (!hasEntry(spec)) return;
    this.write(this.entry(spec, pid, UT_TYPE.INIT_PROCESS), false);
  }

  ended(spec: ServiceSpec, pid: number, status: ExitStatus): void {
    if (!hasEntry(spec)) return;
    const entry = this.entry(spec, pid, UT_TYPE.DEAD_PROCESS);
    if (status.kind === "signaled") entry.termination = status.signal;
    else entry.exit = status.code;
    this.write(entry, true);
  }

  private entry(spec: ServiceSpec, pid: number, type: number): UtmpEntry {
    return { type, pid, id: utmpId(spec.inittabId, spec.inittabLine), line: spec.inittabLine ?? "", session: pid, timeMs: this.clock.wallTime() };
  }

  private write(entry: UtmpEntry, toWtmp: boolean): void {
    const record = encodeUtmp(entry);
    const file = this.sys.readAt(UTMP_PATH, 0, MAX_UTMP_BYTES);
    const slot = file instanceof Uint8Array ? utmpSlot(file, entry.id) : 0;
    const error = this.sys.writeAt(UTMP_PATH, slot * UTMP_SIZE, record) ?? (toWtmp ? this.sys.writeAt(WTMP_PATH, "end", record) : undefined);
    if (error === undefined || this.warned) return;
    this.warned = true;
    this.log.warn(`inittab-id/inittab-line: ${error.message}; utmp is not kept`);
  }
}

function hasEntry(spec: ServiceSpec): boolean {
  return spec.type === "process" && (spec.inittabId !== undefined || spec.inittabLine !== undefined);
}
