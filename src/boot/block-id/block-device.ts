// What tsinit learns about a block device from its bytes and from sysfs, shared by the probes,
// the root matcher and the failure report. The image has no blkid and no udev, so these types
// stand in for blkid's tags and udev's /dev/disk links. Pure: types only.

/**
 * Reads `length` bytes at byte `offset` of a device; undefined when the range runs past the end
 * of the device (or cannot be read). The probes ask for a few small ranges: the superblocks lie
 * within the first 68 KiB, a FAT root directory or a GPT entry array can lie further in.
 */
export type ReadBytes = (offset: number, length: number) => Uint8Array | undefined;

/** The filesystem types tsinit recognises, named as blkid's TYPE and mount(2)'s fstype. */
export type FilesystemType = "ext2" | "ext3" | "ext4" | "jbd" | "vfat" | "squashfs" | "squashfs3" | "btrfs" | "erofs" | "swap";

/** A filesystem found on a device: blkid's TYPE, UUID, LABEL and, for FAT, VERSION. */
export interface FilesystemId {
  type: FilesystemType;
  /** In blkid's form: lowercase 8-4-4-4-12, or `XXXX-XXXX` for vfat's volume serial. */
  uuid?: string;
  label?: string;
  /** Only for vfat: FAT12, FAT16 or FAT32, by the number of clusters. */
  version?: string;
}

/** One partition as the kernel numbers it and /sys/class/block/NAME/{start,size} count it. */
export interface Partition {
  /** The kernel's number: the GPT entry's index + 1, the MBR slot 1-4, logical ones from 5. */
  number: number;
  /** In 512-byte sectors, whatever the disk's logical sector size (as sysfs counts). */
  start: number;
  size: number;
  /** Lowercase: the GPT entry's unique GUID, or `SSSSSSSS-NN` (MBR disk signature, number). */
  partuuid: string;
  /** Only GPT partitions have names. */
  partlabel?: string;
}

/** A partition table: its scheme as blkid's PTTYPE, the disk's id (blkid's PTUUID), its partitions. */
export interface PartitionTable {
  scheme: "gpt" | "dos";
  diskId: string;
  partitions: Partition[];
  /** What was repaired or skipped on the way (a bad primary GPT, a looping extended chain). */
  warnings: string[];
}

/** A partition table that is there but cannot be trusted: the kernel would not use it either. */
export interface BrokenPartitionTable {
  scheme: "gpt" | "dos";
  broken: string;
}

/** Everything tsinit knows about one block device, for matching root= and for the failure report. */
export interface BlockDeviceInfo {
  /** The kernel's name, e.g. "vda1". */
  name: string;
  /** Where its node is, e.g. "/dev/vda1". */
  path: string;
  /** "MAJOR:MINOR", as /sys/class/block/NAME/dev holds it. */
  dev?: string;
  sizeBytes?: number;
  fs?: FilesystemId;
  /** For a whole disk: its partition table's scheme, as blkid's PTTYPE. */
  partitionTable?: "gpt" | "dos";
  /** For a partition: its number, its disk's name, and its PARTUUID and PARTLABEL. */
  partition?: number;
  disk?: string;
  partuuid?: string;
  partlabel?: string;
}
