// FAT12, FAT16 and FAT32 (blkid's and mount's "vfat"), found from the boot sector's BIOS
// parameter block. An MBR also ends in 55 AA, so the parameter block must make sense before
// tsinit believes it: the partition table reader asks the same question. Pure.
import type { FilesystemId, ReadBytes } from "./block-device.ts";
import { hasText, nameAt, u16le, u32le } from "./bytes.ts";

/** The BIOS parameter block: where the FATs, the root directory and the data area are. */
interface FatLayout {
  bytesPerSector: number;
  sectorsPerCluster: number;
  reservedSectors: number;
  fatCount: number;
  rootEntries: number;
  totalSectors: number;
  sectorsPerFat: number;
  /** FAT32 keeps its root directory in clusters and its extended fields further on. */
  fat32Layout: boolean;
  rootCluster: number;
  clusters: number;
}

const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

/** The parameter block of a FAT boot sector, or undefined when the sector is not one. */
function fatLayout(sector: Uint8Array): FatLayout | undefined {
  if (sector.length < 512) return undefined;
  // Real boot sectors start with a jump over the parameter block, or name their FAT type.
  const jumps = sector[0] === 0xeb || sector[0] === 0xe9;
  if (!jumps && !hasText(sector, 0x36, "FAT") && !hasText(sector, 0x52, "FAT32")) return undefined;
  const bytesPerSector = u16le(sector, 0x0b);
  const sectorsPerCluster = sector[0x0d]!;
  const reservedSectors = u16le(sector, 0x0e);
  const fatCount = sector[0x10]!;
  const rootEntries = u16le(sector, 0x11);
  const media = sector[0x15]!;
  const sectorsPerFat16 = u16le(sector, 0x16);
  const fat32Layout = sectorsPerFat16 === 0;
  const sectorsPerFat = fat32Layout ? u32le(sector, 0x24) : sectorsPerFat16;
  const totalSectors = u16le(sector, 0x13) || u32le(sector, 0x20);
  if (!isPowerOfTwo(bytesPerSector) || bytesPerSector < 512 || bytesPerSector > 4096) return undefined;
  if (!isPowerOfTwo(sectorsPerCluster) || reservedSectors === 0 || fatCount === 0) return undefined;
  if (media !== 0xf0 && media < 0xf8) return undefined;
  if (sectorsPerFat === 0 || totalSectors === 0) return undefined;
  const rootDirSectors = Math.ceil((rootEntries * 32) / bytesPerSector);
  const dataSectors = totalSectors - (reservedSectors + fatCount * sectorsPerFat + rootDirSectors);
  if (dataSectors <= 0) return undefined;
  const clusters = Math.floor(dataSectors / sectorsPerCluster);
  const rootCluster = fat32Layout ? u32le(sector, 0x2c) : 0;
  return { bytesPerSector, sectorsPerCluster, reservedSectors, fatCount, rootEntries, totalSectors, sectorsPerFat, fat32Layout, rootCluster, clusters };
}

/** Whether a first sector is a FAT boot sector rather than a master boot record. */
export function isFatBootSector(sector: Uint8Array): boolean {
  return fatLayout(sector) !== undefined;
}

/** The kernel's rule: FAT12 up to 4084 clusters; FAT32 by its layout. */
function fatVersion(layout: FatLayout): string {
  if (layout.fat32Layout) return "FAT32";
  return layout.clusters <= 4084 ? "FAT12" : "FAT16";
}

const DIRECTORY_ENTRY_BYTES = 32;
const ATTRIBUTE_VOLUME_ID = 0x08;
const ATTRIBUTE_DIRECTORY = 0x10;
const ATTRIBUTE_LONG_NAME = 0x0f;

type LabelSearch = { found: string | undefined } | "go on";

/** The volume-label entry among `count` directory entries at `offset`, or "go on" past them. */
function searchDirectory(read: ReadBytes, offset: number, count: number): LabelSearch {
  const chunkEntries = 16;
  for (let first = 0; first < count; first += chunkEntries) {
    const entries = Math.min(chunkEntries, count - first);
    const bytes = read(offset + first * DIRECTORY_ENTRY_BYTES, entries * DIRECTORY_ENTRY_BYTES);
    if (bytes === undefined) return { found: undefined };
    for (let at = 0; at < bytes.length; at += DIRECTORY_ENTRY_BYTES) {
      const firstByte = bytes[at]!;
      if (firstByte === 0x00) return { found: undefined };
      const attributes = bytes[at + 11]!;
      if (firstByte === 0xe5 || attributes === ATTRIBUTE_LONG_NAME) continue;
      if ((attributes & (ATTRIBUTE_VOLUME_ID | ATTRIBUTE_DIRECTORY)) !== ATTRIBUTE_VOLUME_ID) continue;
      return { found: nameAt(bytes, at, 11) };
    }
  }
  return "go on";
}

/** FAT32's root directory is a cluster chain; blkid follows at most this many links of it. */
const MAX_ROOT_CLUSTERS = 100;

/**
 * The label as blkid's LABEL has it: the volume-label entry of the root directory (what fatlabel,
 * mkfs.vfat -n and Windows all write). The copy in the boot sector, where "NO NAME" stands for
 * none, is blkid's LABEL_FATBOOT, not LABEL: when the two disagree, LABEL= and
 * /dev/disk/by-label follow the directory, and so does tsinit.
 */
function rootDirectoryLabel(read: ReadBytes, layout: FatLayout): string | undefined {
  const { bytesPerSector, reservedSectors, fatCount, sectorsPerFat, sectorsPerCluster } = layout;
  // Past the FATs: FAT12/16's fixed root directory, or FAT32's data area, which starts at cluster 2.
  const afterFats = (reservedSectors + fatCount * sectorsPerFat) * bytesPerSector;
  if (!layout.fat32Layout) {
    const search = searchDirectory(read, afterFats, layout.rootEntries);
    return search === "go on" ? undefined : search.found;
  }
  const clusterBytes = sectorsPerCluster * bytesPerSector;
  let cluster = layout.rootCluster;
  for (let links = 0; links < MAX_ROOT_CLUSTERS && cluster >= 2 && cluster < layout.clusters + 2; links++) {
    const search = searchDirectory(read, afterFats + (cluster - 2) * clusterBytes, clusterBytes / DIRECTORY_ENTRY_BYTES);
    if (search !== "go on") return search.found;
    const fatEntry = read(reservedSectors * bytesPerSector + cluster * 4, 4);
    if (fatEntry === undefined) return undefined;
    cluster = u32le(fatEntry, 0) & 0x0fffffff;
  }
  return undefined;
}

export function probeVfat(read: ReadBytes): FilesystemId | undefined {
  const sector = read(0, 512);
  if (sector === undefined) return undefined;
  const layout = fatLayout(sector);
  if (layout === undefined) return undefined;
  // The extended boot record (signature 0x28 or 0x29) holds the volume serial.
  const extended = layout.fat32Layout ? 0x40 : 0x24;
  const signature = sector[extended + 2];
  const id: FilesystemId = { type: "vfat", version: fatVersion(layout) };
  const label = rootDirectoryLabel(read, layout);
  if (label !== undefined) id.label = label;
  if (signature === 0x28 || signature === 0x29) {
    const serial = u32le(sector, extended + 3).toString(16).toUpperCase().padStart(8, "0");
    id.uuid = `${serial.slice(0, 4)}-${serial.slice(4)}`;
  }
  return id;
}
