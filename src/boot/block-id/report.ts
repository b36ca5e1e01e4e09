// The block devices as lines for a "root device not found" report: one line a device, blkid's
// KEY="value" words in aligned columns, so the user can see at a glance which LABEL= or
// PARTUUID= would have worked. Pure.
import type { BlockDeviceInfo } from "./block-device.ts";

/** Column by column: a device's path, its size, then its tags; a column no device has is left out. */
export function formatBlockDevices(devices: readonly BlockDeviceInfo[]): string[] {
  const rows = devices.map((device) => [
    `${device.path}:`,
    device.sizeBytes === undefined ? "" : humanSize(device.sizeBytes),
    device.fs !== undefined ? tag("TYPE", device.fs.type) : device.partitionTable !== undefined ? tag("PTTYPE", device.partitionTable) : "",
    tag("LABEL", device.fs?.label),
    tag("UUID", device.fs?.uuid),
    tag("PARTUUID", device.partuuid),
    tag("PARTLABEL", device.partlabel),
  ]);
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]!.length))) ?? [];
  const kept = widths.flatMap((width, column) => (width > 0 ? [column] : []));
  return rows.map((row) =>
    kept
      .map((column) => (column === SIZE_COLUMN ? row[column]!.padStart(widths[column]!) : row[column]!.padEnd(widths[column]!)))
      .join("  ")
      .trimEnd(),
  );
}

/** Sizes line up on their right, like numbers. */
const SIZE_COLUMN = 1;

/** KEY="value" as blkid prints it; quotes, backslashes and control characters escaped. */
function tag(key: string, value: string | undefined): string {
  if (value === undefined) return "";
  const escaped = value.replace(/["\\]/g, (char) => `\\${char}`).replace(/[\x00-\x1f\x7f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return `${key}="${escaped}"`;
}

const UNITS = ["B", "K", "M", "G", "T", "P"];

/** Sizes as lsblk shows them: binary units, one decimal below 10 (1.5G, 512M, 20G). */
function humanSize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = value < 10 && !Number.isInteger(value) ? value.toFixed(1).replace(/\.0$/, "") : String(Math.round(value));
  return `${text}${UNITS[unit]}`;
}
