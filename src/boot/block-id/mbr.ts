// The DOS partition table (blkid's "dos") as the kernel's msdos parser reads it: four primary
// slots, and logical partitions numbered from 5 along the chain of extended boot records. Pure.
import type { Partition, ReadBytes } from "./block-device.ts";
import { u32le } from "./bytes.ts";
import { isFatBootSector } from "./fat.ts";

/** One 16-byte slot of a boot record's table, in the record's own units. */
export interface MbrSlot {
  bootIndicator: number;
  type: number;
  /**
   * In logical sectors, from the start of the disk (a primary slot), of its boot record (a logical
   * partition) or of the extended partition (a link to the next record).
   */
  start: number;
  sectors: number;
}

const TABLE_OFFSET = 446;
const SLOT_BYTES = 16;

/** Whether a 512-byte boot record ends in the 55 AA signature. */
export function hasBootSignature(record: Uint8Array): boolean {
  return record.length >= 512 && record[510] === 0x55 && record[511] === 0xaa;
}

export function mbrSlots(record: Uint8Array): MbrSlot[] {
  return [0, 1, 2, 3].map((i) => {
    const at = TABLE_OFFSET + i * SLOT_BYTES;
    return { bootIndicator: record[at]!, type: record[at + 4]!, start: u32le(record, at + 8), sectors: u32le(record, at + 12) };
  });
}

/** The type GPT's protective (or hybrid) MBR gives its slot: "let the GPT parser handle it". */
export const GPT_PROTECTIVE_TYPE = 0xee;

const EXTENDED_TYPES = new Set([0x05, 0x0f, 0x85]);
const isExtended = (slot: MbrSlot) => EXTENDED_TYPES.has(slot.type);

/** The kernel gives a disk at most 256 minors; it stops numbering logical partitions there. */
const MAX_PARTITION_NUMBER = 256;
/** The kernel gives up on a chain after following 100 links without a data partition. */
const MAX_EMPTY_LINKS = 100;

export interface MbrReading {
  diskId: string;
  partitions: Partition[];
  warnings: string[];
}

/**
 * The DOS table of a first sector, or undefined when the sector holds none: no 55 AA, a boot
 * indicator other than 0 or 0x80 (the kernel's test), or no partition and a FAT boot sector
 * (a whole-disk FAT filesystem, which blkid does not call a partition table either).
 */
export function readMbr(read: ReadBytes, first: Uint8Array, sectorSize: number): MbrReading | undefined {
  if (!hasBootSignature(first)) return undefined;
  const slots = mbrSlots(first);
  if (slots.some((slot) => slot.bootIndicator !== 0 && slot.bootIndicator !== 0x80)) return undefined;
  const signature = u32le(first, 440).toString(16).padStart(8, "0");
  // The kernel's PARTUUID of partition N on a DOS disk: the disk signature and N, in hex.
  const partuuid = (n: number) => `${signature}-${n.toString(16).padStart(2, "0")}`;
  const scale = sectorSize / 512;
  const partitions: Partition[] = [];
  const warnings: string[] = [];
  const logicals = { next: 5 };
  slots.forEach((slot, i) => {
    if (slot.sectors === 0) return;
    const number = i + 1;
    const start = slot.start * scale;
    const size = slot.sectors * scale;
    if (!isExtended(slot)) {
      partitions.push({ number, start, size, partuuid: partuuid(number) });
      return;
    }
    // The kernel shows an extended partition as a stub of a sector or two, so nothing writes
    // over the chain of boot records by mistake.
    partitions.push({ number, start, size: Math.min(size, Math.max(scale, 2)), partuuid: partuuid(number) });
    for (const logical of readLogicals(read, start, size, scale, logicals, warnings)) {
      partitions.push({ ...logical, partuuid: partuuid(logical.number) });
    }
  });
  if (partitions.length === 0 && isFatBootSector(first)) return undefined;
  return { diskId: signature, partitions: partitions.sort((a, b) => a.number - b.number), warnings };
}

/**
 * Logical partitions along the chain of extended boot records, numbered on from `numbering.next`.
 * Each record's data slots are partitions relative to the record; its first extended slot links
 * to the next record, relative to the extended partition's start. Units are 512-byte sectors.
 */
function readLogicals(
  read: ReadBytes,
  extendedStart: number,
  extendedSize: number,
  scale: number,
  numbering: { next: number },
  warnings: string[],
): Omit<Partition, "partuuid">[] {
  const found: Omit<Partition, "partuuid">[] = [];
  let recordStart = extendedStart;
  let recordSize = extendedSize;
  let emptyLinks = 0;
  for (;;) {
    if (++emptyLinks > MAX_EMPTY_LINKS) {
      warnings.push(`the extended partition at sector ${extendedStart} links ${MAX_EMPTY_LINKS} boot records without a partition; the rest is ignored`);
      return found;
    }
    const record = read(recordStart * 512, 512);
    if (record === undefined || !hasBootSignature(record)) return found;
    const slots = mbrSlots(record);
    for (const [i, slot] of slots.entries()) {
      if (slot.sectors === 0 || isExtended(slot)) continue;
      const offset = slot.start * scale;
      const size = slot.sectors * scale;
      const start = recordStart + offset;
      // As the kernel does: slots 3 and 4 of a record often hold garbage, so only believe them
      // when they lie inside the record's and the extended partition's bounds.
      if (i >= 2 && (offset + size > recordSize || start < extendedStart || start + size > extendedStart + extendedSize)) continue;
      if (numbering.next >= MAX_PARTITION_NUMBER) {
        warnings.push(`more than ${MAX_PARTITION_NUMBER - 1} partitions (a loop in the extended partition's chain?); the rest is ignored`);
        return found;
      }
      found.push({ number: numbering.next++, start, size });
      emptyLinks = 0;
    }
    const link = slots.find((slot) => slot.sectors !== 0 && isExtended(slot));
    if (link === undefined) return found;
    recordStart = extendedStart + link.start * scale;
    recordSize = link.sectors * scale;
  }
}
