// utmp(5) records as glibc (and the busybox built on it) lay them out on x86-64 and aarch64:
// 384 bytes, for dinit's inittab-id and inittab-line (pure).

export const UTMP_SIZE = 384;
export const UTMP_PATH = "/var/run/utmp";
export const WTMP_PATH = "/var/log/wtmp";

export const UT_TYPE = { BOOT_TIME: 2, INIT_PROCESS: 5, LOGIN_PROCESS: 6, USER_PROCESS: 7, DEAD_PROCESS: 8 } as const;

export interface UtmpEntry {
  type: number;
  pid: number;
  /** The tty without /dev/ (ut_line, 32 bytes). */
  line: string;
  /** The inittab id (ut_id, 4 bytes). */
  id: string;
  user?: string;
  /** ut_exit of a DEAD_PROCESS: the signal that ended it, or its exit code. */
  termination?: number;
  exit?: number;
  session?: number;
  /** Wall time in milliseconds. */
  timeMs: number;
}

/** The layout: type@0 (short), pid@4, line@8[32], id@40[4], user@44[32], host@76[256], exit@332, session@336, tv@340. */
export function encodeUtmp(entry: UtmpEntry): Uint8Array {
  const bytes = new Uint8Array(UTMP_SIZE);
  const view = new DataView(bytes.buffer);
  const text = (offset: number, size: number, value: string | undefined) => bytes.set(new TextEncoder().encode(value ?? "").subarray(0, size), offset);
  view.setInt16(0, entry.type, true);
  view.setInt32(4, entry.pid, true);
  text(8, 32, entry.line);
  text(40, 4, entry.id);
  text(44, 32, entry.user);
  view.setInt16(332, entry.termination ?? 0, true);
  view.setInt16(334, entry.exit ?? 0, true);
  view.setInt32(336, entry.session ?? 0, true);
  view.setInt32(340, Math.floor(entry.timeMs / 1000), true);
  view.setInt32(344, (entry.timeMs % 1000) * 1000, true);
  return bytes;
}

/** ut_id of the record at `index` of a utmp file's bytes, its type and its pid. */
function recordAt(file: Uint8Array, index: number): { type: number; id: string; pid: number } {
  const view = new DataView(file.buffer, file.byteOffset + index * UTMP_SIZE, UTMP_SIZE);
  const idBytes = file.subarray(index * UTMP_SIZE + 40, index * UTMP_SIZE + 44);
  const end = idBytes.indexOf(0);
  return { type: view.getInt16(0, true), id: new TextDecoder().decode(end < 0 ? idBytes : idBytes.subarray(0, end)), pid: view.getInt32(4, true) };
}

/**
 * Where pututline(3) puts a process record: over the record with the same ut_id (of a process
 * type: init, login, user or dead), else after the last record.
 */
export function utmpSlot(file: Uint8Array, id: string): number {
  const count = Math.floor(file.length / UTMP_SIZE);
  const processTypes: number[] = [UT_TYPE.INIT_PROCESS, UT_TYPE.LOGIN_PROCESS, UT_TYPE.USER_PROCESS, UT_TYPE.DEAD_PROCESS];
  for (let index = 0; index < count; index++) {
    const record = recordAt(file, index);
    if (processTypes.includes(record.type) && record.id === id) return index;
  }
  return count;
}

/**
 * Where the DEAD_PROCESS of process `pid` goes: over its record (the slot of its ut_id, which
 * getty and login turn into LOGIN_PROCESS and USER_PROCESS keeping the pid), or after the last
 * record if that is gone. Undefined when the slot holds another process's record by now: a
 * newer process of the same service, started before this one was reaped, whose record stays.
 */
export function utmpDeadSlot(file: Uint8Array, id: string, pid: number): number | undefined {
  const slot = utmpSlot(file, id);
  if (slot === Math.floor(file.length / UTMP_SIZE)) return slot;
  return recordAt(file, slot).pid === pid ? slot : undefined;
}

/** dinit's id for a service with inittab-line only: the line's last 4 bytes, as getty does. */
export function utmpId(inittabId: string | undefined, inittabLine: string | undefined): string {
  if (inittabId !== undefined) return inittabId;
  const line = inittabLine ?? "";
  return line.length <= 4 ? line : line.slice(-4);
}
