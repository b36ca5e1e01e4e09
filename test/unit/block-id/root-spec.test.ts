// root= forms, which device each names, and the report of block devices when none matches.
import { describe, expect, it } from "vitest";
import { findRootDevices, formatBlockDevices, matchesRoot, parseRootSpec, type BlockDeviceInfo, type RootSpec } from "../../../src/boot/block-id.ts";

const devices: BlockDeviceInfo[] = [
  { name: "vda", path: "/dev/vda", dev: "253:0", sizeBytes: 2 * 1024 ** 3, partitionTable: "gpt" },
  {
    name: "vda1",
    path: "/dev/vda1",
    dev: "253:1",
    sizeBytes: 512 * 1024 ** 2,
    disk: "vda",
    partition: 1,
    partuuid: "6b0e0b6c-1d1a-4f1e-9b5a-0c7a2b3c4d5e",
    partlabel: "EFI system",
    fs: { type: "vfat", version: "FAT32", uuid: "DEAD-BEEF", label: "EFI" },
  },
  {
    name: "vda2",
    path: "/dev/vda2",
    dev: "253:2",
    sizeBytes: 1.5 * 1024 ** 3,
    disk: "vda",
    partition: 2,
    partuuid: "aabbccdd-0011-2233-4455-66778899aabb",
    partlabel: "root",
    fs: { type: "ext4", uuid: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", label: "my root" },
  },
  { name: "vdb", path: "/dev/vdb", dev: "253:16", sizeBytes: 64 * 1024 ** 2, partitionTable: "dos" },
  { name: "vdb1", path: "/dev/vdb1", dev: "253:17", sizeBytes: 32 * 1024 ** 2, disk: "vdb", partition: 1, partuuid: "deadbeef-01", fs: { type: "swap" } },
  { name: "cciss!c0d0", path: "/dev/cciss!c0d0", sizeBytes: 1000 },
];

const names = (spec: RootSpec) => findRootDevices(spec, devices).map((device) => device.name);
const parsed = (value: string) => parseRootSpec(value) as RootSpec;

describe("parseRootSpec", () => {
  it("reads the kernel's and util-linux's forms", () => {
    expect(parseRootSpec("/dev/vda2")).toEqual({ kind: "path", path: "/dev/vda2" });
    expect(parseRootSpec("LABEL=my root")).toEqual({ kind: "label", label: "my root" });
    expect(parseRootSpec("UUID=0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0")).toEqual({ kind: "uuid", uuid: "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0" });
    expect(parseRootSpec("PARTUUID=deadbeef-01")).toEqual({ kind: "partuuid", partuuid: "deadbeef-01" });
    expect(parseRootSpec("PARTLABEL=root")).toEqual({ kind: "partlabel", partlabel: "root" });
    expect(parseRootSpec("LABEL=a=b")).toEqual({ kind: "label", label: "a=b" });
  });

  it("reads the kernel's PARTUUID=.../PARTNROFF=N", () => {
    expect(parseRootSpec("PARTUUID=6b0e0b6c-1d1a-4f1e-9b5a-0c7a2b3c4d5e/PARTNROFF=1")).toEqual({
      kind: "partuuid",
      partuuid: "6b0e0b6c-1d1a-4f1e-9b5a-0c7a2b3c4d5e",
      partitionOffset: 1,
    });
    expect(parseRootSpec("PARTUUID=deadbeef-02/PARTNROFF=-1")).toMatchObject({ partitionOffset: -1 });
  });

  it("reads udev's /dev/disk/by-* links as the tags they stand for, undoing udev's \\x escapes", () => {
    expect(parseRootSpec("/dev/disk/by-label/my\\x20root")).toEqual({ kind: "label", label: "my root" });
    expect(parseRootSpec("/dev/disk/by-uuid/DEAD-BEEF")).toEqual({ kind: "uuid", uuid: "DEAD-BEEF" });
    expect(parseRootSpec("/dev/disk/by-partuuid/deadbeef-01")).toEqual({ kind: "partuuid", partuuid: "deadbeef-01" });
    expect(parseRootSpec("/dev/disk/by-partlabel/a\\x2fb")).toEqual({ kind: "partlabel", partlabel: "a/b" });
  });

  it("reads device numbers as MAJOR:MINOR, or the kernel's old hex form", () => {
    expect(parseRootSpec("253:2")).toEqual({ kind: "devnum", dev: "253:2" });
    expect(parseRootSpec("0801")).toEqual({ kind: "devnum", dev: "8:1" });
    expect(parseRootSpec("fd00")).toEqual({ kind: "devnum", dev: "253:0" });
    expect(parseRootSpec("259:0")).toEqual({ kind: "devnum", dev: "259:0" });
    expect(parseRootSpec("10300")).toEqual({ kind: "devnum", dev: "259:0" });
    expect(parseRootSpec("4095:1048575")).toEqual({ kind: "devnum", dev: "4095:1048575" });
    expect(parseRootSpec("ffffffff")).toEqual({ kind: "devnum", dev: "4095:1048575" });
    expect(parseRootSpec("1ffff")).toEqual({ kind: "devnum", dev: "511:255" });
    expect(parseRootSpec("1ff0ff")).toEqual({ kind: "devnum", dev: "4080:511" });
  });

  it("refuses a device number past the kernel's 12-bit major or 20-bit minor, as the kernel does", () => {
    expect(parseRootSpec("4096:1")).toEqual({ kind: "invalid", error: "root=4096:1: major 4096 is past the kernel's largest, 4095" });
    expect(parseRootSpec("8:1048576")).toEqual({ kind: "invalid", error: "root=8:1048576: minor 1048576 is past the kernel's largest, 1048575" });
  });

  it("says clearly what is wrong with a form it does not take", () => {
    const error = (value: string) => (parseRootSpec(value) as { kind: string; error: string }).error;
    expect(parseRootSpec("label=x")).toEqual({ kind: "invalid", error: "root=label=x: the key is upper case only: LABEL=" });
    expect(error("")).toBe("root= is empty: give /dev/NAME, LABEL=, UUID=, PARTUUID=, PARTLABEL= or MAJOR:MINOR");
    expect(error("LABEL=")).toBe("root=LABEL=: names no label");
    expect(error("UUID=")).toBe("root=UUID=: names no uuid");
    expect(error("PARTUUID=")).toBe("root=PARTUUID=: names no partuuid");
    expect(error("PARTUUID=zz-top")).toBe("root=PARTUUID=zz-top: zz-top is not a PARTUUID (hex digits and dashes)");
    expect(error("PARTUUID=deadbeef-01/PARTNROFF=x")).toBe("root=PARTUUID=deadbeef-01/PARTNROFF=x: after the PARTUUID only /PARTNROFF=N (a whole number) may follow");
    expect(error("PARTUUID=deadbeef-01/foo")).toContain("only /PARTNROFF=N");
    expect(error("ID=3")).toBe("root=ID=3: unknown key ID=; give /dev/NAME, LABEL=, UUID=, PARTUUID=, PARTLABEL= or MAJOR:MINOR");
    expect(error("/dev/disk/by-id/virtio-abc")).toBe(
      "root=/dev/disk/by-id/virtio-abc: /dev/disk/by-id links are made by udev, which this system does not run; give /dev/NAME, LABEL=, UUID=, PARTUUID=, PARTLABEL= or MAJOR:MINOR",
    );
    expect(error("/dev/disk/by-label/")).toBe("root=/dev/disk/by-label/: names no label");
    expect(error("/dev/")).toBe("root=/dev/: names no device");
    expect(error("sda1")).toBe("root=sda1: not a device: give /dev/NAME, LABEL=, UUID=, PARTUUID=, PARTLABEL= or MAJOR:MINOR");
  });
});

describe("which device root= names", () => {
  it("by path, by the kernel's name with ! for /, and by device number", () => {
    expect(names(parsed("/dev/vda2"))).toEqual(["vda2"]);
    expect(names(parsed("/dev/cciss/c0d0"))).toEqual(["cciss!c0d0"]);
    expect(names(parsed("253:16"))).toEqual(["vdb"]);
    expect(names(parsed("/dev/sda1"))).toEqual([]);
  });

  it("LABEL and PARTLABEL exactly; UUID and PARTUUID in either case", () => {
    expect(names(parsed("LABEL=my root"))).toEqual(["vda2"]);
    expect(names(parsed("LABEL=My Root"))).toEqual([]);
    expect(names(parsed("PARTLABEL=EFI system"))).toEqual(["vda1"]);
    expect(names(parsed("UUID=dead-beef"))).toEqual(["vda1"]);
    expect(names(parsed("UUID=0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0"))).toEqual(["vda2"]);
    expect(names(parsed("PARTUUID=DEADBEEF-01"))).toEqual(["vdb1"]);
    expect(names(parsed("/dev/disk/by-label/my\\x20root"))).toEqual(["vda2"]);
  });

  it("a PARTUUID must match whole: the kernel's prefix match is not copied", () => {
    expect(names(parsed("PARTUUID=deadbeef"))).toEqual([]);
  });

  it("PARTNROFF: the partition that many places on, on the same disk", () => {
    expect(names(parsed("PARTUUID=6B0E0B6C-1D1A-4F1E-9B5A-0C7A2B3C4D5E/PARTNROFF=1"))).toEqual(["vda2"]);
    expect(names(parsed("PARTUUID=aabbccdd-0011-2233-4455-66778899aabb/PARTNROFF=-1"))).toEqual(["vda1"]);
    expect(names(parsed("PARTUUID=aabbccdd-0011-2233-4455-66778899aabb/PARTNROFF=0"))).toEqual(["vda2"]);
    expect(names(parsed("PARTUUID=aabbccdd-0011-2233-4455-66778899aabb/PARTNROFF=1"))).toEqual([]);
    expect(matchesRoot(parsed("PARTUUID=6b0e0b6c-1d1a-4f1e-9b5a-0c7a2b3c4d5e/PARTNROFF=1"), devices[2]!, devices)).toBe(true);
    // Alone, a device cannot be named by its neighbour.
    expect(matchesRoot(parsed("PARTUUID=6b0e0b6c-1d1a-4f1e-9b5a-0c7a2b3c4d5e/PARTNROFF=1"), devices[2]!)).toBe(false);
  });

  it("matchesRoot decides one device", () => {
    expect(matchesRoot(parsed("LABEL=EFI"), devices[1]!)).toBe(true);
    expect(matchesRoot(parsed("LABEL=EFI"), devices[2]!)).toBe(false);
  });

  it("every device that matches, in order: clones share their labels", () => {
    const clone = { ...devices[2]!, name: "vdc2", path: "/dev/vdc2", disk: "vdc" };
    expect(findRootDevices(parsed("LABEL=my root"), [...devices, clone]).map((d) => d.name)).toEqual(["vda2", "vdc2"]);
  });
});

describe("formatBlockDevices", () => {
  it("one aligned line a device, blkid's tags, sizes on the right, empty columns left out", () => {
    expect(formatBlockDevices(devices)).toEqual([
      '/dev/vda:            2G  PTTYPE="gpt"',
      '/dev/vda1:         512M  TYPE="vfat"   LABEL="EFI"      UUID="DEAD-BEEF"                             PARTUUID="6b0e0b6c-1d1a-4f1e-9b5a-0c7a2b3c4d5e"  PARTLABEL="EFI system"',
      '/dev/vda2:         1.5G  TYPE="ext4"   LABEL="my root"  UUID="0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"  PARTUUID="aabbccdd-0011-2233-4455-66778899aabb"  PARTLABEL="root"',
      '/dev/vdb:           64M  PTTYPE="dos"',
      '/dev/vdb1:          32M  TYPE="swap"                                                                 PARTUUID="deadbeef-01"',
      "/dev/cciss!c0d0:  1000B",
    ]);
  });

  it("escapes quotes and control characters in labels; no devices, no lines", () => {
    const odd: BlockDeviceInfo = { name: "sda", path: "/dev/sda", fs: { type: "ext4", label: 'say "hi"\n' } };
    expect(formatBlockDevices([odd])).toEqual(['/dev/sda:  TYPE="ext4"  LABEL="say \\"hi\\"\\x0a"']);
    expect(formatBlockDevices([])).toEqual([]);
  });
});
