// The whole path on a real disk image: its partition table, the filesystem in each partition,
// root= resolved against them, and the report a failed search would print.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  findRootDevices,
  formatBlockDevices,
  parseRootSpec,
  probeFilesystem,
  readPartitionTable,
  type BlockDeviceInfo,
  type PartitionTable,
  type RootSpec,
} from "../../../src/boot/block-id.ts";
import { blkid, fileReader, run, scratchDirectory, sparseFile } from "./images.ts";

const MiB = 1024 * 1024;
const DISK_BYTES = 64 * MiB;
const ROOT_UUID = "5d4c3b2a-1908-4776-a5b4-c3d2e1f00112";
const scratch = scratchDirectory();
let disk: string;

beforeAll(() => {
  disk = sparseFile(scratch.path("disk"), DISK_BYTES);
  run(
    "sfdisk",
    ["-q", disk],
    [
      "label: gpt",
      "label-id: 0C0FFEE0-0000-4000-8000-000000000000",
      "start=2048, size=8MiB, type=uefi, uuid=11111111-0000-4000-8000-000000000001, name=esp",
      "start=18432, size=16MiB, uuid=11111111-0000-4000-8000-000000000002, name=rootfs",
      "start=51200, size=4MiB, uuid=11111111-0000-4000-8000-000000000003",
    ].join("\n"),
  );
  const esp = sparseFile(scratch.path("esp"), 8 * MiB);
  run("mkfs.vfat", ["-n", "ESP", "-i", "0BADF00D", esp]);
  const root = sparseFile(scratch.path("root"), 16 * MiB);
  run("mke2fs", ["-q", "-F", "-t", "ext4", "-L", "root", "-U", ROOT_UUID, root]);
  run("dd", [`if=${esp}`, `of=${disk}`, "bs=1M", "seek=1", "conv=notrunc,sparse", "status=none"]);
  run("dd", [`if=${root}`, `of=${disk}`, "bs=1M", "seek=9", "conv=notrunc,sparse", "status=none"]);
});

afterAll(() => scratch.remove());

/** What tsinit would gather for vda and its partitions, from the image's bytes alone. */
function gather(): BlockDeviceInfo[] {
  const table = readPartitionTable(fileReader(disk), 512, DISK_BYTES) as PartitionTable;
  const whole: BlockDeviceInfo = { name: "vda", path: "/dev/vda", sizeBytes: DISK_BYTES, partitionTable: table.scheme };
  const parts = table.partitions.map((partition): BlockDeviceInfo => {
    const device: BlockDeviceInfo = {
      name: `vda${partition.number}`,
      path: `/dev/vda${partition.number}`,
      sizeBytes: partition.size * 512,
      disk: "vda",
      partition: partition.number,
      partuuid: partition.partuuid,
    };
    if (partition.partlabel !== undefined) device.partlabel = partition.partlabel;
    const fs = probeFilesystem(fileReader(disk, partition.start * 512, partition.size * 512));
    if (fs !== undefined) device.fs = fs;
    return device;
  });
  return [whole, ...parts];
}

const resolve = (value: string) => findRootDevices(parseRootSpec(value) as RootSpec, gather()).map((device) => device.path);

describe("finding the root on a real GPT disk", () => {
  it("each partition's filesystem is what blkid finds at that offset", () => {
    for (const device of gather().filter((d) => d.partition !== undefined)) {
      const start = [2048, 18432, 51200][device.partition! - 1]! * 512;
      const tags = blkid(disk, start);
      expect(device.fs?.type, device.name).toBe(tags.TYPE);
      expect(device.fs?.uuid, device.name).toBe(tags.UUID);
      expect(device.fs?.label, device.name).toBe(tags.LABEL);
    }
  });

  it("every root= form names the same partition", () => {
    for (const value of [
      "/dev/vda2",
      "LABEL=root",
      `UUID=${ROOT_UUID.toUpperCase()}`,
      "PARTUUID=11111111-0000-4000-8000-000000000002",
      "PARTLABEL=rootfs",
      "PARTUUID=11111111-0000-4000-8000-000000000001/PARTNROFF=1",
      "/dev/disk/by-label/root",
      `/dev/disk/by-uuid/${ROOT_UUID}`,
      "/dev/disk/by-partuuid/11111111-0000-4000-8000-000000000002",
      "/dev/disk/by-partlabel/rootfs",
    ]) {
      expect(resolve(value), value).toEqual(["/dev/vda2"]);
    }
    expect(resolve("UUID=0BAD-F00D")).toEqual(["/dev/vda1"]);
    expect(resolve("LABEL=nothere")).toEqual([]);
  });

  it("the report when nothing matches lists every device with what it holds", () => {
    expect(formatBlockDevices(gather())).toEqual([
      '/dev/vda:   64M  PTTYPE="gpt"',
      '/dev/vda1:   8M  TYPE="vfat"   LABEL="ESP"   UUID="0BAD-F00D"                             PARTUUID="11111111-0000-4000-8000-000000000001"  PARTLABEL="esp"',
      '/dev/vda2:  16M  TYPE="ext4"   LABEL="root"  UUID="5d4c3b2a-1908-4776-a5b4-c3d2e1f00112"  PARTUUID="11111111-0000-4000-8000-000000000002"  PARTLABEL="rootfs"',
      '/dev/vda3:   4M                                                                           PARTUUID="11111111-0000-4000-8000-000000000003"',
    ]);
  });
});
