// Setting a signal's disposition to SIG_IGN, for the signals a mode must survive but cannot
// (or must not) handle in JavaScript: a JS handler for SIGSEGV, SIGBUS, SIGILL or SIGFPE turns
// a real fault into an endless loop (measured: 60% CPU, never ending), SIGSTKFLT never reaches
// a `process.on` handler in Bun 1.4, and a handled SIGTTOU makes a background write to the
// terminal restart forever. An ignored fault signal still ends the process when the kernel
// raises it for a real fault (it resets the disposition to the default then), so only a
// signal sent with kill(2) is ignored.
import { libc } from "./libc.ts";

const SIG_IGN = 1;

export function ignoreSignal(signal: number): void {
  libc.signal(signal, SIG_IGN);
}
