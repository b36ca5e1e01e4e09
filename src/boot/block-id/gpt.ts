// The GUID partition table as the kernel's efi parser checks it: a header at LBA 1 whose CRC32
// covers itself, an entry array whose CRC32 the header holds, 128-byte entries numbered by
// their index. Pure.
import type { Partition, ReadBytes } from "./block-device.ts";
import { guidAt, hasText, isAllZero, u32le, u64le, utf16NameAt } from "./bytes.ts";
import { crc32 } from "./crc32.ts";

const HEADER_MIN_BYTES = 92;
/** The kernel accepts no other entry size. */
const ENTRY_BYTES = 128;
/** More than any tool writes (128 is usual) and a bound on what a hostile header makes tsinit read. */
const MAX_ENTRY_ARRAY_BYTES = 1 << 20;
/** The kernel numbers GPT partitions up to 255 and ignores entries past that. */
const MAX_PARTITION_NUMBER = 255;

export interface GptReading {
  diskId: string;
  partitions: Partition[];
}

/** A header and its entries, or why they cannot be trusted. */
export function readGptAt(read: ReadBytes, lba: number, sectorSize: number, lastLba: number | undefined): GptReading | { broken: string } {
  const header = read(lba * sectorSize, sectorSize);
  const where = `the GPT header at LBA ${lba}`;
  if (header === undefined) return { broken: `${where} is beyond the device` };
  if (!hasText(header, 0, "EFI PART")) return { broken: `${where} has no "EFI PART" signature` };
  const headerBytes = u32le(header, 12);
  if (headerBytes < HEADER_MIN_BYTES || headerBytes > sectorSize) return { broken: `${where} claims a size of ${headerBytes} bytes` };
  const unsummed = header.slice(0, headerBytes);
  unsummed.fill(0, 16, 20);
  if (crc32(unsummed) !== u32le(header, 16)) return { broken: `${where} fails its CRC32` };
  if (u64le(header, 24) !== lba) return { broken: `${where} says it is at LBA ${u64le(header, 24)}` };
  const firstUsable = u64le(header, 40);
  const lastUsable = u64le(header, 48);
  if (lastUsable < firstUsable || (lastLba !== undefined && lastUsable > lastLba)) {
    return { broken: `${where} gives usable LBAs ${firstUsable}-${lastUsable}, which do not fit the device` };
  }
  const entryCount = u32le(header, 80);
  const entryBytes = u32le(header, 84);
  if (entryBytes !== ENTRY_BYTES) return { broken: `${where} has ${entryBytes}-byte entries (Linux takes only ${ENTRY_BYTES})` };
  if (entryCount * entryBytes > MAX_ENTRY_ARRAY_BYTES) return { broken: `${where} claims ${entryCount} entries` };
  const entries = read(u64le(header, 72) * sectorSize, entryCount * entryBytes);
  if (entries === undefined) return { broken: `the partition entries of ${where} are beyond the device` };
  if (crc32(entries) !== u32le(header, 88)) return { broken: `the partition entries of ${where} fail their CRC32` };
  return { diskId: guidAt(header, 56), partitions: partitionsOf(entries, entryCount, sectorSize / 512, lastLba) };
}

/**
 * The used entries: a partition keeps its index + 1 as its number even when earlier entries
 * are empty, as the kernel numbers them. An entry that ends before it starts or past the disk
 * is skipped, as the kernel skips it.
 */
function partitionsOf(entries: Uint8Array, count: number, scale: number, lastLba: number | undefined): Partition[] {
  const partitions: Partition[] = [];
  for (let i = 0; i < Math.min(count, MAX_PARTITION_NUMBER); i++) {
    const at = i * ENTRY_BYTES;
    if (isAllZero(entries, at, 16)) continue;
    const firstLba = u64le(entries, at + 32);
    const lastEntryLba = u64le(entries, at + 40);
    if (lastEntryLba < firstLba || (lastLba !== undefined && lastEntryLba > lastLba)) continue;
    const partition: Partition = { number: i + 1, start: firstLba * scale, size: (lastEntryLba - firstLba + 1) * scale, partuuid: guidAt(entries, at + 16) };
    const name = utf16NameAt(entries, at + 56, 72);
    if (name !== undefined) partition.partlabel = name;
    partitions.push(partition);
  }
  return partitions;
}
