// Signal numbers of Linux on x86_64 and arm64 (arm64 takes the generic table, whose numbers are
// x86_64's). Pure data: the config parser and the core use it too.

export const SIGNALS = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10,
  SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18,
  STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26,
  PROF: 27, WINCH: 28, IO: 29, PWR: 30, SYS: 31,
} as const;

export type SignalName = keyof typeof SIGNALS;

const NAMES_BY_NUMBER = new Map<number, string>(
  Object.entries(SIGNALS).map(([name, number]) => [number, `SIG${name}`]),
);

export function signalName(signal: number): string {
  return NAMES_BY_NUMBER.get(signal) ?? `signal ${signal}`;
}

/** "TERM", "SIGTERM", "term" or "15" to a number; undefined when it names no signal. */
export function parseSignal(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const number = Number(trimmed);
    return number >= 1 && number <= 64 ? number : undefined;
  }
  const bare = trimmed.toUpperCase().replace(/^SIG/, "");
  return (SIGNALS as Record<string, number>)[bare];
}
