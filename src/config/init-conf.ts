// /etc/tsinit.conf: settings of PID 1 itself (not of a service), in the service files' syntax
// (`setting = value`, one a line, `#` comments; lexer.ts). Pure: text in, settings and
// diagnostics out. A bad line is reported with file:line and setting and skipped; it never
// stops the boot.
//
//   # /etc/tsinit.conf
//   watchdog = /dev/watchdog0:30      # a device and its timeout in seconds
//   watchdog = /dev/watchdog1         # the driver's own timeout
//
// The one setting so far is `watchdog`; it may repeat, and its value is a watchdog list, the
// syntax `tsinit.watchdog=` on the kernel command line takes too (parseWatchdogList).
import type { Diagnostic } from "./diagnostic.ts";
import { lexServiceFile } from "./lexer.ts";

export const INIT_CONF = "/etc/tsinit.conf";

/** One watchdog device to open, and the timeout to set (absent: keep the driver's). */
export interface WatchdogRequest {
  device: string;
  timeoutSeconds?: number;
  /** Where it was named: `/etc/tsinit.conf:3` or `tsinit.watchdog=`. */
  from: string;
}

export interface InitConf {
  watchdogs: WatchdogRequest[];
  diagnostics: Diagnostic[];
}

/** The range WDIOC_SETTIMEOUT is given: whole seconds; drivers take less (softdog: 65535). */
export const MAX_WATCHDOG_TIMEOUT_S = 65_535;

/**
 * A watchdog list: items separated by commas (or whitespace), each `DEVICE[:SECONDS]`. DEVICE
 * is a path under /dev (`/dev/watchdog0`) or a bare name there (`watchdog0`); SECONDS, the
 * timeout to set, is a whole number from 1 to 65535. Each bad item gives one message.
 */
export function parseWatchdogList(value: string, from: string): { watchdogs: WatchdogRequest[]; problems: string[] } {
  const watchdogs: WatchdogRequest[] = [];
  const problems: string[] = [];
  const items = value.split(/[\s,]+/).filter((item) => item !== "");
  if (items.length === 0) problems.push("names no device: give DEVICE[:SECONDS], e.g. /dev/watchdog0:30");
  for (const item of items) {
    const colon = item.lastIndexOf(":");
    const name = colon === -1 ? item : item.slice(0, colon);
    const seconds = colon === -1 ? undefined : item.slice(colon + 1);
    const device = name.includes("/") ? name : `/dev/${name}`;
    if (name === "" || !device.startsWith("/dev/") || device.split("/").includes("..") || device === "/dev/") {
      problems.push(`${JSON.stringify(item)}: the device must be a path under /dev (such as /dev/watchdog0) or a name there`);
      continue;
    }
    if (seconds === undefined) {
      watchdogs.push({ device, from });
      continue;
    }
    const timeout = /^\d{1,6}$/.test(seconds) ? Number(seconds) : NaN;
    if (!(timeout >= 1 && timeout <= MAX_WATCHDOG_TIMEOUT_S)) {
      problems.push(`${JSON.stringify(item)}: the timeout must be whole seconds from 1 to ${MAX_WATCHDOG_TIMEOUT_S}, not ${JSON.stringify(seconds)}`);
      continue;
    }
    watchdogs.push({ device, timeoutSeconds: timeout, from });
  }
  return { watchdogs, problems };
}

export function parseInitConf(text: string, file = INIT_CONF): InitConf {
  const { settings, diagnostics } = lexServiceFile(text, file);
  const watchdogs: WatchdogRequest[] = [];
  for (const { line, setting, value } of settings) {
    const warn = (message: string) => diagnostics.push({ severity: "warning", file, line, setting, message });
    if (setting !== "watchdog") {
      warn(`unknown setting (${file} knows: watchdog)`);
      continue;
    }
    const parsed = parseWatchdogList(value, `${file}:${line}`);
    watchdogs.push(...parsed.watchdogs);
    for (const problem of parsed.problems) warn(problem);
  }
  // The lexer's errors skip a line; here nothing stops the boot, so all are warnings.
  const inOrder = [...diagnostics].sort((a, b) => a.line - b.line);
  return { watchdogs, diagnostics: inOrder.map((d) => ({ ...d, severity: "warning" as const })) };
}
