// A disk's partition table: GPT behind its protective MBR, or a DOS table. The kernel has
// already made a device for each partition it found; tsinit reads the table to learn the
// PARTUUIDs and PARTLABELs of those devices, so it reads it as the kernel does. Pure.
import type { BrokenPartitionTable, PartitionTable, ReadBytes } from "./block-device.ts";
import { readGptAt } from "./gpt.ts";
import { GPT_PROTECTIVE_TYPE, hasBootSignature, mbrSlots, readMbr } from "./mbr.ts";

/**
 * The partition table of a whole disk, `broken` when one is there but the kernel would not use
 * it either, or undefined when there is none (an unpartitioned disk, a whole-disk filesystem).
 * `sectorSize` is the disk's logical block size; `deviceBytes`, when known, bounds the
 * partitions and lets a report say whether the backup GPT could stand in for a damaged primary.
 */
export function readPartitionTable(read: ReadBytes, sectorSize = 512, deviceBytes?: number): PartitionTable | BrokenPartitionTable | undefined {
  const first = read(0, 512);
  if (first === undefined || !hasBootSignature(first)) return undefined;
  const lastLba = deviceBytes === undefined ? undefined : Math.floor(deviceBytes / sectorSize) - 1;
  // A GPT disk says so with a protective (or hybrid) MBR; the kernel's DOS parser then steps aside.
  if (mbrSlots(first).some((slot) => slot.type === GPT_PROTECTIVE_TYPE)) {
    const primary = readGptAt(read, 1, sectorSize, lastLba);
    if (!("broken" in primary)) return { scheme: "gpt", diskId: primary.diskId, partitions: primary.partitions, warnings: [] };
    return { scheme: "gpt", broken: `${primary.broken}; the kernel made no partitions from it${backupNote(read, sectorSize, lastLba)}` };
  }
  const mbr = readMbr(read, first, sectorSize);
  if (mbr === undefined) return undefined;
  return { scheme: "dos", ...mbr };
}

/**
 * Linux falls back to the backup GPT at the disk's last LBA only when booted with `gpt`, so a
 * damaged primary means no partitions; whether the backup is good tells the user the way out.
 */
function backupNote(read: ReadBytes, sectorSize: number, lastLba: number | undefined): string {
  if (lastLba === undefined) return "";
  const backup = readGptAt(read, lastLba, sectorSize, lastLba);
  if ("broken" in backup) return ` (and ${backup.broken})`;
  return ` (the backup GPT at LBA ${lastLba} is good: boot with \`gpt\` to use it, or repair the primary with sgdisk or fdisk)`;
}
