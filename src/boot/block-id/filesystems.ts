// Which filesystem a device holds, with its UUID and label, read from its superblock the way
// blkid reads it, so that root=LABEL= and root=UUID= mean here what they mean to blkid on the
// machine that made the image. Pure: bytes come through the `read` callback.
import type { FilesystemId, FilesystemType, ReadBytes } from "./block-device.ts";
import { hasText, nameAt, u16le, u32le, u64le, uuidAt } from "./bytes.ts";
import { crc32c, crc32cUninverted } from "./crc32.ts";
import { probeVfat } from "./fat.ts";

/**
 * The filesystem on a device, or undefined when none is recognised (garbage, a partitioned
 * disk, a device too small to hold a superblock). The probes look at different offsets, and
 * mkfs tools wipe the others' signatures, so the first that recognises the device wins. Signatures
 * with a checksum (squashfs has none) or a strict layout go before FAT's looser test.
 */
export function probeFilesystem(read: ReadBytes): FilesystemId | undefined {
  for (const probe of PROBES) {
    const found = probe(read);
    if (found !== undefined) return found;
  }
  return undefined;
}

const PROBES: readonly ((read: ReadBytes) => FilesystemId | undefined)[] = [probeSquashfs, probeErofs, probeExt, probeBtrfs, probeVfat, probeSwap];

/** `id` without the fields that came out undefined, so results compare and print cleanly. */
function filesystemId(type: FilesystemType, uuid: string | undefined, label: string | undefined): FilesystemId {
  const id: FilesystemId = { type };
  if (uuid !== undefined) id.uuid = uuid;
  if (label !== undefined) id.label = label;
  return id;
}

// ext2, ext3 and ext4 share one superblock, 1 KiB into the device. blkid tells them apart by
// which feature flags each generation of the driver understood, and tsinit uses the same sets.
const EXT_SUPERBLOCK_OFFSET = 1024;
const EXT_SUPERBLOCK_BYTES = 1024;
const EXT_MAGIC = 0xef53;
const EXT_COMPAT_HAS_JOURNAL = 0x0004;
const EXT_INCOMPAT_JOURNAL_DEV = 0x0008;
const EXT_RO_COMPAT_METADATA_CSUM = 0x0400;
const EXT_CHECKSUM_TYPE_CRC32C = 1;
/** ro_compat features ext2 and ext3 both understand: sparse_super, large_file, btree_dir. */
const EXT3_RO_COMPAT_KNOWN = 0x0001 | 0x0002 | 0x0004;
/** incompat features ext2 understands: filetype, meta_bg. */
const EXT2_INCOMPAT_KNOWN = 0x0002 | 0x0010;
/** ext3 adds needs_recovery (a journal to replay). */
const EXT3_INCOMPAT_KNOWN = EXT2_INCOMPAT_KNOWN | 0x0004;

/**
 * blkid's rules: ext2 has no journal and nothing ext2 does not know; ext3 has a journal and
 * nothing ext3 does not know; ext4 uses a feature ext3 does not know (extent, 64bit, flex_bg,
 * huge_file, metadata_csum...). An external journal device is "jbd".
 */
function extGeneration(compat: number, incompat: number, roCompat: number): FilesystemType | undefined {
  if (incompat & EXT_INCOMPAT_JOURNAL_DEV) return "jbd";
  const journal = (compat & EXT_COMPAT_HAS_JOURNAL) !== 0;
  const roKnown = (roCompat & ~EXT3_RO_COMPAT_KNOWN) === 0;
  if (!journal && roKnown && (incompat & ~EXT2_INCOMPAT_KNOWN) === 0) return "ext2";
  const ext3Knows = roKnown && (incompat & ~EXT3_INCOMPAT_KNOWN) === 0;
  if (journal && ext3Knows) return "ext3";
  if (!ext3Knows) return "ext4";
  // No journal yet a journal to replay: blkid names this nothing, and so does tsinit.
  return undefined;
}

function extSuperblockChecksumHolds(sb: Uint8Array): boolean {
  return sb[0x175] === EXT_CHECKSUM_TYPE_CRC32C && crc32cUninverted(sb.subarray(0, 0x3fc)) === u32le(sb, 0x3fc);
}

function probeExt(read: ReadBytes): FilesystemId | undefined {
  const sb = read(EXT_SUPERBLOCK_OFFSET, EXT_SUPERBLOCK_BYTES);
  if (sb === undefined || u16le(sb, 0x38) !== EXT_MAGIC) return undefined;
  const compat = u32le(sb, 0x5c);
  const incompat = u32le(sb, 0x60);
  const roCompat = u32le(sb, 0x64);
  // With metadata_csum the superblock vouches for itself, and the kernel mounts none that fails:
  // tsinit does not offer one as the root either (libblkid 2.38 does not look at the checksum).
  if (roCompat & EXT_RO_COMPAT_METADATA_CSUM && !extSuperblockChecksumHolds(sb)) return undefined;
  const type = extGeneration(compat, incompat, roCompat);
  if (type === undefined) return undefined;
  return filesystemId(type, uuidAt(sb, 0x68), nameAt(sb, 0x78, 16));
}

// btrfs: the primary superblock is 64 KiB in, checksummed from byte 0x20 to its end.
const BTRFS_SUPERBLOCK_OFFSET = 0x10000;
const BTRFS_SUPERBLOCK_BYTES = 4096;
const BTRFS_CSUM_CRC32C = 0;

function probeBtrfs(read: ReadBytes): FilesystemId | undefined {
  const sb = read(BTRFS_SUPERBLOCK_OFFSET, BTRFS_SUPERBLOCK_BYTES);
  if (sb === undefined || !hasText(sb, 0x40, "_BHRfS_M")) return undefined;
  // The superblock records where it is; a mirror copy seen at the wrong place is not a filesystem.
  if (u64le(sb, 0x30) !== BTRFS_SUPERBLOCK_OFFSET) return undefined;
  // Other checksum types (xxhash, sha256, blake2) are taken on trust.
  if (u16le(sb, 0xc4) === BTRFS_CSUM_CRC32C && crc32c(sb.subarray(0x20)) !== u32le(sb, 0)) return undefined;
  // UUID is the filesystem's fsid, shared by all its devices (not the device's own uuid).
  return filesystemId("btrfs", uuidAt(sb, 0x20), nameAt(sb, 0x12b, 256));
}

// squashfs has no UUID and no label; version 4 is the one Linux mounts as "squashfs".
function probeSquashfs(read: ReadBytes): FilesystemId | undefined {
  const sb = read(0, 32);
  if (sb === undefined) return undefined;
  if (hasText(sb, 0, "hsqs")) return { type: u16le(sb, 28) >= 4 ? "squashfs" : "squashfs3" };
  if (hasText(sb, 0, "sqsh")) return { type: "squashfs3" };
  return undefined;
}

// erofs: a superblock 1 KiB in, optionally checksummed over the rest of its first block.
const EROFS_SUPERBLOCK_OFFSET = 1024;
const EROFS_MAGIC = 0xe0f5e1e2;
const EROFS_FEATURE_COMPAT_SB_CHKSUM = 0x0001;

function probeErofs(read: ReadBytes): FilesystemId | undefined {
  const sb = read(EROFS_SUPERBLOCK_OFFSET, 128);
  if (sb === undefined || u32le(sb, 0) !== EROFS_MAGIC) return undefined;
  const blockSizeBits = sb[12]!;
  if (blockSizeBits < 9 || blockSizeBits > 16) return undefined;
  if (u32le(sb, 8) & EROFS_FEATURE_COMPAT_SB_CHKSUM) {
    const rest = read(EROFS_SUPERBLOCK_OFFSET, (1 << blockSizeBits) - EROFS_SUPERBLOCK_OFFSET);
    if (rest === undefined) return undefined;
    const zeroed = rest.slice();
    zeroed.fill(0, 4, 8);
    if (crc32cUninverted(zeroed) !== u32le(sb, 4)) return undefined;
  }
  return filesystemId("erofs", uuidAt(sb, 48), nameAt(sb, 64, 16));
}

// Swap: a signature in the last 10 bytes of the first page, for any page size Linux has; the
// version-1 header (UUID, label) sits 1 KiB in.
const SWAP_PAGE_SIZES = [4096, 8192, 16384, 32768, 65536];

function probeSwap(read: ReadBytes): FilesystemId | undefined {
  for (const pageSize of SWAP_PAGE_SIZES) {
    const signature = read(pageSize - 10, 10);
    if (signature === undefined) return undefined;
    if (hasText(signature, 0, "SWAP-SPACE")) return { type: "swap" };
    if (!hasText(signature, 0, "SWAPSPACE2")) continue;
    const header = read(1024, 44);
    if (header === undefined) return undefined;
    return filesystemId("swap", uuidAt(header, 12), nameAt(header, 28, 16));
  }
  return undefined;
}
