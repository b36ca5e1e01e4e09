// Human output for initctl: the service table, one service in detail, durations. Pure.
import type { ServiceStatus } from "../control/api.ts";

/** 950 -> "0.9s", 12_300 -> "12s", 302_000 -> "5m02s", 11_100_000 -> "3h05m", days -> "2d03h". */
export function formatDuration(ms: number): string {
  const safe = Math.max(0, ms);
  if (safe < 10_000) return `${(Math.floor(safe / 100) / 10).toFixed(1)}s`;
  const seconds = Math.floor(safe / 1000);
  if (seconds < 60) return `${seconds}s`;
  const pad = (n: number) => String(n).padStart(2, "0");
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${pad(seconds % 60)}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h${pad(minutes % 60)}m`;
  return `${Math.floor(hours / 24)}d${pad(hours % 24)}h`;
}

/** A triggered service that is starting waits for `initctl trigger`: its status says so. */
const WAITING_FOR_TRIGGER = "waiting for its trigger";

/** The one-line note a table row ends with: why it failed, when it restarts, what it says. */
export function serviceNote(service: ServiceStatus): string {
  if (service.blocked !== undefined) return service.blocked;
  if (service.restartPending) {
    const when = service.nextRestartInMs === undefined ? "restart pending" : `restart in ${formatDuration(service.nextRestartInMs)}`;
    return service.lastExit === undefined ? when : `${service.lastExit}; ${when}`;
  }
  if (service.failed !== undefined) return `failed: ${service.failed}`;
  if (service.waitingForTrigger === true) return WAITING_FOR_TRIGGER;
  if (service.notifyStatus !== undefined) return service.notifyStatus;
  return "";
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

export function formatServiceTable(services: readonly ServiceStatus[]): string {
  if (services.length === 0) return "no services";
  return table(
    ["NAME", "STATE", "TARGET", "PID", "UPTIME", "CRASHES", "NOTE"],
    services.map((s) => [
      s.name,
      s.state,
      s.target,
      s.pid === undefined ? "-" : String(s.pid),
      s.uptimeMs === undefined ? "-" : formatDuration(s.uptimeMs),
      String(s.crashes),
      serviceNote(s),
    ]),
  );
}

/** `initctl status NAME`: every field that has something to say, one per line. */
export function formatServiceDetail(s: ServiceStatus): string {
  const lines: [string, string][] = [];
  const add = (label: string, value: string | undefined) => {
    if (value !== undefined) lines.push([label, value]);
  };
  add("type", s.type);
  const state = s.state === s.target ? s.state : `${s.state} (target ${s.target})`;
  add("state", s.waitingForTrigger === true ? `${state}, ${WAITING_FOR_TRIGGER} (initctl trigger ${s.name})` : state);
  add("trigger", s.triggered === undefined ? undefined : s.triggered ? "set" : "not set");
  add("pid", s.pid === undefined ? undefined : String(s.pid));
  add("uptime", s.uptimeMs === undefined ? undefined : `${formatDuration(s.uptimeMs)} (since ${s.startedAt ?? "?"})`);
  add("command", s.command === undefined ? undefined : s.command.map(quoteWord).join(" "));
  add("file", s.file);
  add("added by", s.runtime === undefined ? undefined : `uid ${s.runtime.ownerUid} (with initctl run)`);
  add("restart", s.restart);
  add("wanted", s.explicit ? "explicitly" : s.requiredBy > 0 ? `by ${s.requiredBy} dependent${s.requiredBy > 1 ? "s" : ""}` : "no");
  add("last exit", s.lastExit);
  add("crashes", formatCrashes(s));
  add(
    "next restart",
    s.restartPending ? (s.nextRestartInMs === undefined ? "pending" : `in ${formatDuration(s.nextRestartInMs)} (at ${s.nextRestartAt ?? "?"})`) : undefined,
  );
  add("failed", s.failed);
  add("blocked", s.blocked);
  add("status", s.notifyStatus);
  const width = Math.max(...lines.map(([label]) => label.length)) + 1;
  return [s.name, ...lines.map(([label, value]) => `  ${`${label}:`.padEnd(width)} ${value}`)].join("\n");
}

function formatCrashes(s: ServiceStatus): string {
  const { count, intervalMs } = s.restartLimit;
  const limit = count > 0 ? `; limit ${count}` : "; no limit";
  return `${s.crashes} in a row (${s.restartsInInterval} restart${s.restartsInInterval === 1 ? "" : "s"} in the last ${formatDuration(intervalMs)}${limit})`;
}

/** A word as a shell would need it written, so a shown command can be pasted back. */
export function quoteWord(word: string): string {
  if (word !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
