// readPartitionTable against GPT and DOS tables written by sfdisk and fdisk, compared with what
// libblkid (partx, blkid) says about the same images; then damaged and hostile tables.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readPartitionTable, type PartitionTable, type ReadBytes } from "../../../src/boot/block-id.ts";
import { blkid, countingReader, fileReader, partx, patchFile, readFileBytes, run, scratchDirectory, sparseFile } from "./images.ts";

const MiB = 1024 * 1024;
const DISK_BYTES = 64 * MiB;
const scratch = scratchDirectory();
const disks: Record<string, string> = {};

/** A sparse disk image with the table an sfdisk script describes. */
function sfdiskDisk(name: string, script: (path: string) => string): string {
  const path = sparseFile(scratch.path(name), DISK_BYTES);
  run("sfdisk", ["-q", path], script(path));
  return path;
}

/** A copy of a disk to damage. */
function copyOf(name: string, copy: string): string {
  const path = scratch.path(copy);
  run("cp", ["--sparse=always", disks[name]!, path]);
  return path;
}

beforeAll(() => {
  // Partition 2 is left empty: the kernel keeps numbering by entry, so 3 stays 3.
  disks.gpt = sfdiskDisk("gpt", (path) =>
    [
      "label: gpt",
      "label-id: 01234567-89AB-CDEF-0123-456789ABCDEF",
      `${path}1 : start=2048, size=8MiB, uuid=6B0E0B6C-1D1A-4F1E-9B5A-0C7A2B3C4D5E, name="EFI system"`,
      `${path}3 : start=20480, size=16MiB, uuid=aabbccdd-0011-2233-4455-66778899aabb, name="röot fs ✓"`,
      `${path}4 : start=53248, size=4MiB, uuid=00000000-0000-4000-8000-000000000004`,
    ].join("\n"),
  );
  // A DOS table with three primaries, an extended partition in slot 3 and three logical ones.
  disks.dos = sfdiskDisk("dos", () =>
    [
      "label: dos",
      "label-id: 0xDEADBEEF",
      "start=2048, size=4096, type=83, bootable",
      "start=8192, size=4096, type=c",
      "start=16384, size=40960, type=5",
      "start=61440, size=2048, type=83",
      "start=18432, size=2048, type=83",
      "start=22528, size=2048, type=82",
      "start=26624, size=4096, type=83",
    ].join("\n"),
  );
  // sfdisk 2.38 cannot be told the sector size of a file; fdisk can.
  disks.gpt4k = sparseFile(scratch.path("gpt 4k"), DISK_BYTES);
  run("fdisk", ["-b", "4096", disks.gpt4k], "g\nn\n1\n\n+4M\nn\n2\n\n+8M\nw\n");
  disks.fat = sparseFile(scratch.path("fat"), 16 * MiB);
  run("mkfs.vfat", ["-n", "WHOLE", disks.fat]);
});

afterAll(() => scratch.remove());

const table = (name: string, sectorSize = 512) => readPartitionTable(fileReader(disks[name]!), sectorSize, DISK_BYTES) as PartitionTable;

/** Our partitions in partx's terms. */
const asPartx = (t: PartitionTable) => t.partitions.map((p) => ({ number: p.number, start: p.start, sectors: p.size, uuid: p.partuuid, name: p.partlabel ?? "" }));

describe("GPT", () => {
  it("numbers, starts, sizes, PARTUUIDs and PARTLABELs as libblkid reads them", () => {
    const gpt = table("gpt");
    expect(asPartx(gpt)).toEqual(partx(disks.gpt!));
    expect(gpt).toMatchObject({ scheme: "gpt", diskId: blkid(disks.gpt!).PTUUID, warnings: [] });
  });

  it("keeps the kernel's numbering past an empty entry, GUIDs in lower case, names from UTF-16", () => {
    expect(table("gpt")).toEqual({
      scheme: "gpt",
      diskId: "01234567-89ab-cdef-0123-456789abcdef",
      warnings: [],
      partitions: [
        { number: 1, start: 2048, size: 16384, partuuid: "6b0e0b6c-1d1a-4f1e-9b5a-0c7a2b3c4d5e", partlabel: "EFI system" },
        { number: 3, start: 20480, size: 32768, partuuid: "aabbccdd-0011-2233-4455-66778899aabb", partlabel: "röot fs ✓" },
        { number: 4, start: 53248, size: 8192, partuuid: "00000000-0000-4000-8000-000000000004" },
      ],
    });
  });

  it("on a disk of 4096-byte sectors, counts in 512-byte sectors as sysfs does", () => {
    const gpt = table("gpt4k", 4096);
    expect(gpt.partitions.map((p) => [p.number, p.start, p.size])).toEqual([
      [1, 2048, 8192],
      [2, 10240, 16384],
    ]);
    expect(asPartx(gpt)).toEqual(partx(disks.gpt4k!, 4096));
    // Read as 512-byte sectors, LBA 1 holds no header: the protective MBR promises a GPT that is not there.
    expect(readPartitionTable(fileReader(disks.gpt4k!))).toEqual({ scheme: "gpt", broken: expect.stringContaining('no "EFI PART" signature') });
  });

  it("refuses a header whose CRC32 fails, and says the backup could stand in", () => {
    const damaged = copyOf("gpt", "gpt bad header");
    patchFile(damaged, 512 + 56, [0x99]); // the disk GUID's first byte
    const result = readPartitionTable(fileReader(damaged), 512, DISK_BYTES);
    expect(result).toEqual({ scheme: "gpt", broken: expect.stringContaining("the GPT header at LBA 1 fails its CRC32; the kernel made no partitions from it") });
    expect(result).toEqual({ scheme: "gpt", broken: expect.stringContaining(`the backup GPT at LBA ${DISK_BYTES / 512 - 1} is good: boot with \`gpt\``) });
    // Without the device's size there is no backup to look at, and no guessing either.
    expect(readPartitionTable(fileReader(damaged))).toEqual({ scheme: "gpt", broken: "the GPT header at LBA 1 fails its CRC32; the kernel made no partitions from it" });
    // libblkid takes the backup in this case; the kernel (without `gpt`) makes no partitions, and
    // it is the kernel's partition devices that root= has to name.
    expect(blkid(damaged).PTTYPE).toBe("gpt");
  });

  it("refuses entries whose CRC32 fails, and says when the backup is damaged too", () => {
    const damaged = copyOf("gpt", "gpt bad entries");
    patchFile(damaged, 1024 + 56, [0x41]); // a letter of partition 1's name
    expect(readPartitionTable(fileReader(damaged), 512, DISK_BYTES)).toEqual({
      scheme: "gpt",
      broken: expect.stringMatching(/^the partition entries of the GPT header at LBA 1 fail their CRC32; .*backup GPT at LBA 131071 is good/),
    });
    patchFile(damaged, DISK_BYTES - 512 + 56, [0x99]);
    expect(readPartitionTable(fileReader(damaged), 512, DISK_BYTES)).toEqual({
      scheme: "gpt",
      broken: "the partition entries of the GPT header at LBA 1 fail their CRC32; the kernel made no partitions from it (and the GPT header at LBA 131071 fails its CRC32)",
    });
  });

  it("a device cut short after its header: the entries are beyond it", () => {
    expect(readPartitionTable(fileReader(disks.gpt!, 0, 1024))).toEqual({ scheme: "gpt", broken: expect.stringContaining("entries of the GPT header at LBA 1 are beyond the device") });
    expect(readPartitionTable(fileReader(disks.gpt!, 0, 512))).toEqual({ scheme: "gpt", broken: expect.stringContaining("the GPT header at LBA 1 is beyond the device") });
  });

  it("a disk smaller than the header says it is: the usable range does not fit", () => {
    expect(readPartitionTable(fileReader(disks.gpt!), 512, 16 * MiB)).toEqual({ scheme: "gpt", broken: expect.stringContaining("which do not fit the device") });
  });

  it("a hostile header's entry count does not make it read more than 1 MiB", () => {
    const hostile = copyOf("gpt", "gpt hostile");
    const header = readFileBytes(hostile, 512, 512);
    const view = new DataView(header.buffer);
    view.setUint32(80, 0x00ffffff, true); // entries
    view.setUint32(16, 0, true);
    view.setUint32(16, crc32Of(header.subarray(0, 92)), true);
    patchFile(hostile, 512, [...header]);
    const reader = countingReader(fileReader(hostile));
    expect(readPartitionTable(reader.read)).toEqual({ scheme: "gpt", broken: expect.stringContaining("claims 16777215 entries") });
    expect(reader.bytesAsked()).toBeLessThan(4096);
  });
});

describe("DOS", () => {
  it("primary and logical partitions, numbered and PARTUUID'd as libblkid and the kernel do", () => {
    const dos = table("dos");
    const libblkid = partx(disks.dos!);
    // The kernel shows an extended partition as a 2-sector stub; libblkid shows its whole extent.
    const extended = libblkid.find((row) => row.number === 3)!;
    expect(asPartx(dos)).toEqual(libblkid.map((row) => (row === extended ? { ...row, sectors: 2 } : row)));
    expect(dos).toMatchObject({ scheme: "dos", diskId: blkid(disks.dos!).PTUUID, warnings: [] });
  });

  it("PARTUUID is the disk signature and the number in two hex digits", () => {
    expect(table("dos").partitions.map((p) => `${p.number} ${p.partuuid}`)).toEqual([
      "1 deadbeef-01",
      "2 deadbeef-02",
      "3 deadbeef-03",
      "4 deadbeef-04",
      "5 deadbeef-05",
      "6 deadbeef-06",
      "7 deadbeef-07",
    ]);
  });

  it("a chain of extended boot records that loops ends at the kernel's 255 partitions, with a warning", () => {
    const looping = copyOf("dos", "dos looping");
    // The last logical's record (at 26624 - 2048) gets a link back to the first record (offset 0).
    const record = 24576 * 512;
    patchFile(looping, record + 446 + 16, [0, 0, 0, 0, 0x05, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x08, 0, 0]);
    const dos = readPartitionTable(fileReader(looping)) as PartitionTable;
    expect(dos.partitions.length).toBe(4 + 251);
    expect(Math.max(...dos.partitions.map((p) => p.number))).toBe(255);
    expect(dos.partitions.find((p) => p.number === 255)?.partuuid).toBe("deadbeef-ff");
    expect(dos.warnings).toEqual([expect.stringContaining("a loop in the extended partition's chain?")]);
  });

  it("a whole-disk FAT filesystem is not a partition table, as blkid agrees", () => {
    expect(readPartitionTable(fileReader(disks.fat!))).toBeUndefined();
    expect(blkid(disks.fat!).PTTYPE).toBeUndefined();
  });
});

describe("what holds no partition table", () => {
  const zeros: ReadBytes = (offset, length) => (offset + length <= MiB ? new Uint8Array(length) : undefined);

  it("zeros, garbage, and devices too small for a boot sector", () => {
    expect(readPartitionTable(zeros)).toBeUndefined();
    expect(readPartitionTable(() => undefined)).toBeUndefined();
    expect(readPartitionTable(fileReader(disks.dos!, 0, 100))).toBeUndefined();
    let state = 7;
    const noise = new Uint8Array(MiB).map(() => ((state = (state * 1103515245 + 12345) >>> 0), state >>> 24));
    const garbage: ReadBytes = (offset, length) => (offset + length <= MiB ? noise.slice(offset, offset + length) : undefined);
    expect(readPartitionTable(garbage)).toBeUndefined();
    // Garbage that happens to end in 55 AA still has boot indicators other than 0 and 0x80.
    noise[510] = 0x55;
    noise[511] = 0xaa;
    noise[446] = 0x13;
    expect(readPartitionTable(garbage)).toBeUndefined();
  });
});

/** CRC-32 (IEEE), written out here so the test does not lean on the code under test. */
function crc32Of(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
