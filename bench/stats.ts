// Shared by the bench scripts: medians, table rows of medians and ranges, and how figures are
// written (seconds, MiB, MB).

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** "median (min–max)" of a metric. */
export function spread(values: number[], format: (value: number) => string): string {
  return `${format(median(values))} (${format(Math.min(...values))}–${format(Math.max(...values))})`;
}

/** Milliseconds as seconds. */
export function ms(value: number): string {
  return `${(value / 1000).toFixed(2)} s`;
}

/** kB (as /proc writes them) as MiB. */
export function kB(value: number): string {
  return `${(value / 1024).toFixed(1)} MiB`;
}

/** Bytes as MiB. */
export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Bytes as decimal MB, the unit the targets are given in. */
export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** A field of /proc/meminfo or /proc/PID/smaps_rollup, in kB. */
export function procField(text: string, name: string, file: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text);
  if (!match) throw new Error(`no ${name} in ${file}:\n${text}`);
  return Number(match[1]);
}
