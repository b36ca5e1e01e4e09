// The kernel command line as tsinit reads it from /proc/cmdline (the kernel keeps `root=`,
// `ro` and dotted words from init's argv, so argv is not enough). Pure.

export interface KernelCommandLine {
  root?: string;
  rootfstype?: string;
  rootflags?: string;
  /** Seconds to wait for the root device; undefined when root= is absent. */
  rootwaitSeconds?: number;
  readOnly: boolean;
  init?: string;
  single: boolean;
  rdBreak: boolean;
  /** The first runner (`tsinit.runner=PATH`), its arguments (`tsinit.runner.arg=`, repeated) and what it waits for. */
  runner?: string;
  runnerArgs: string[];
  runnerAfter: string[];
  /** `tsinit.exit=`, as given: poweroff, reboot or halt when the runner exits (src/runner.ts checks it). */
  exit?: string;
  /** `tsinit.report=ttyS1`: the device for the JSON boot report. */
  report?: string;
  debug: boolean;
  quiet: boolean;
  target?: string;
  /** The device of the last `console=` (the kernel's /dev/console), e.g. "ttyS0". */
  console?: string;
  /** Each `tsinit.watchdog=` value as given (a watchdog list: src/config/init-conf.ts parses it). */
  watchdog: string[];
  /** Modules named by `modules-load=` (comma separated, the word may repeat), in order. */
  modulesLoad: string[];
}

/** Words as the kernel splits them: spaces separate, double quotes group. */
export function splitCommandLine(text: string): string[] {
  const words: string[] = [];
  let current = "";
  let quoted = false;
  let inWord = false;
  for (const char of text) {
    if (char === '"') {
      quoted = !quoted;
      inWord = true;
    } else if (/\s/.test(char) && !quoted) {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else {
      current += char;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

const DEFAULT_ROOTWAIT_SECONDS = 30;

export function parseCommandLine(text: string): KernelCommandLine {
  const result: KernelCommandLine = { readOnly: true, single: false, rdBreak: false, debug: false, quiet: false, modulesLoad: [], runnerArgs: [], runnerAfter: [], watchdog: [] };
  let rootwait: number | undefined;
  for (const word of splitCommandLine(text)) {
    const equals = word.indexOf("=");
    const key = equals === -1 ? word : word.slice(0, equals);
    const value = equals === -1 ? undefined : word.slice(equals + 1);
    switch (key) {
      case "root":
        result.root = value;
        break;
      case "rootfstype":
        result.rootfstype = value;
        break;
      case "rootflags":
        result.rootflags = value;
        break;
      case "rootwait": {
        const seconds = value === undefined ? DEFAULT_ROOTWAIT_SECONDS : Number(value);
        rootwait = Number.isFinite(seconds) && seconds >= 0 ? seconds : DEFAULT_ROOTWAIT_SECONDS;
        break;
      }
      case "ro":
        result.readOnly = true;
        break;
      case "rw":
        result.readOnly = false;
        break;
      case "init":
        result.init = value;
        break;
      case "single":
      case "S":
      case "1":
        result.single = true;
        break;
      case "rd.break":
      case "tsinit.break":
        result.rdBreak = true;
        break;
      case "tsinit.runner":
        result.runner = value;
        break;
      case "tsinit.runner.arg":
        result.runnerArgs.push(value ?? "");
        break;
      case "tsinit.runner.after":
        if (value) result.runnerAfter.push(...value.split(",").filter((name) => name !== ""));
        break;
      case "tsinit.report":
        result.report = value;
        break;
      case "tsinit.exit":
        result.exit = value ?? "";
        break;
      case "tsinit.watchdog":
        result.watchdog.push(value ?? "");
        break;
      case "tsinit.debug":
        result.debug = true;
        break;
      case "quiet":
        result.quiet = true;
        break;
      case "tsinit.target":
        result.target = value;
        break;
      case "modules-load":
      case "rd.modules-load":
        if (value !== undefined) result.modulesLoad.push(...value.split(",").filter((name) => name !== ""));
        break;
      case "console":
        if (value !== undefined) result.console = value.split(",")[0];
        break;
    }
  }
  if (result.root !== undefined) result.rootwaitSeconds = rootwait ?? DEFAULT_ROOTWAIT_SECONDS;
  return result;
}
