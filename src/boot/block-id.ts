// Block devices identified from their bytes, for finding the root device without blkid or udev
// (the image has only busybox): filesystems and their UUIDs and labels, partition tables and
// their PARTUUIDs and PARTLABELs, what root= names, and the report when nothing matches. The
// parts live in block-id/; this is their one front door. Pure: the caller reads the devices.
export type { BlockDeviceInfo, BrokenPartitionTable, FilesystemId, FilesystemType, Partition, PartitionTable, ReadBytes } from "./block-id/block-device.ts";
export { probeFilesystem } from "./block-id/filesystems.ts";
export { readPartitionTable } from "./block-id/partitions.ts";
export { findRootDevices, matchesRoot, parseRootSpec, type RootSpec, type RootSpecError } from "./block-id/root-spec.ts";
export { formatBlockDevices } from "./block-id/report.ts";
