// Linux capabilities and securebits by name, for dinit's `capabilities` and `securebits`
// settings (pure). `capabilities` takes libcap's IAB text, as dinit does: a comma-separated list
// of capability names, each with an optional prefix: none or `%` (inheritable), `^` (ambient,
// which implies inheritable), `!` (dropped from the bounding set); prefixes may combine (`!^`).

/** capabilities(7), by number. */
export const CAPABILITY_NAMES: readonly string[] = [
  "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid",
  "setpcap", "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw",
  "ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
  "sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time", "sys_tty_config", "mknod",
  "lease", "audit_write", "audit_control", "setfcap", "mac_override", "mac_admin", "syslog",
  "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
];

/** What a service's `capabilities` ask for, as capability numbers. */
export interface CapabilitySets {
  inheritable: number[];
  ambient: number[];
  /** Dropped from the bounding set. */
  dropBounding: number[];
}

/** A capability name (`cap_net_raw`, any case, `cap_` optional) or number, or undefined. */
export function capabilityNumber(word: string): number | undefined {
  if (/^\d+$/.test(word)) {
    const n = Number(word);
    return n < 64 ? n : undefined;
  }
  const name = word.toLowerCase().replace(/^cap_/, "");
  const index = CAPABILITY_NAMES.indexOf(name);
  return index < 0 ? undefined : index;
}

/** libcap's IAB text to sets; throws an Error naming the bad entry. */
export function parseCapabilities(text: string): CapabilitySets {
  const sets: CapabilitySets = { inheritable: [], ambient: [], dropBounding: [] };
  const add = (list: number[], cap: number) => void (list.includes(cap) || list.push(cap));
  for (const entry of text.split(",").map((part) => part.trim())) {
    if (entry === "") throw new Error(`an empty entry in ${JSON.stringify(text)}`);
    const prefix = /^[!^%]*/.exec(entry)?.[0] ?? "";
    const cap = capabilityNumber(entry.slice(prefix.length));
    if (cap === undefined) throw new Error(`${JSON.stringify(entry)} is not a capability (e.g. cap_net_bind_service, ^cap_net_raw, !cap_sys_admin)`);
    if (prefix === "" || prefix.includes("%") || prefix.includes("^")) add(sets.inheritable, cap);
    if (prefix.includes("^")) add(sets.ambient, cap);
    if (prefix.includes("!")) add(sets.dropBounding, cap);
  }
  return sets;
}

/** linux/securebits.h, by dinit's names. */
export const SECUREBITS: Readonly<Record<string, number>> = {
  noroot: 1 << 0,
  "noroot-locked": 1 << 1,
  "no-setuid-fixup": 1 << 2,
  "no-setuid-fixup-locked": 1 << 3,
  "keep-caps": 1 << 4,
  "keep-caps-locked": 1 << 5,
  "no-cap-ambient-raise": 1 << 6,
  "no-cap-ambient-raise-locked": 1 << 7,
};

/** IOPRIO_CLASS_* by dinit's names; `none` resets a process to the default. */
export const IOPRIO_CLASSES = { none: 0, realtime: 1, "best-effort": 2, idle: 3 } as const;
export type IoPriorityClass = keyof typeof IOPRIO_CLASSES;

/** The value ioprio_set(2) takes: class << 13 | level. */
export function ioprioValue(priority: { class: IoPriorityClass; level: number }): number {
  return (IOPRIO_CLASSES[priority.class] << 13) | priority.level;
}
