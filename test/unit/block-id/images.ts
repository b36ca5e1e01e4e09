// Real images for the block-id tests: made at test time by the real tools (mke2fs, mkfs.vfat,
// mksquashfs, mkfs.btrfs, sfdisk...) in a temporary directory, read back through the same kind
// of `read` callback tsinit gives the probes, and described by blkid and partx (util-linux's
// libblkid) for comparison.
import { execFileSync } from "node:child_process";
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ReadBytes } from "../../../src/boot/block-id.ts";

export function scratchDirectory(): { path: (name: string) => string; remove: () => void } {
  const directory = mkdtempSync(join(tmpdir(), "tsinit-block-id-"));
  return { path: (name) => join(directory, name), remove: () => rmSync(directory, { recursive: true, force: true }) };
}

/** Runs a tool, its output as text; a failure throws with the tool's stderr. */
export function run(program: string, args: string[], input?: string): string {
  return execFileSync(program, args, { input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
}

export function hasTool(program: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${program}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A sparse file of `bytes` (holes cost nothing, so a 128 MiB btrfs is cheap). */
export function sparseFile(path: string, bytes: number): string {
  run("truncate", ["-s", String(bytes), path]);
  return path;
}

/**
 * The `read` callback over a file, as over a block device: bytes `offset` to `offset + length`
 * of the part of the file from `base` on, bounded by `size` bytes (a partition), and undefined
 * when the range runs past the end.
 */
export function fileReader(path: string, base = 0, size?: number): ReadBytes {
  return (offset, length) => {
    const fd = openSync(path, "r");
    try {
      const end = size ?? fstatSync(fd).size - base;
      if (offset < 0 || offset + length > end) return undefined;
      const bytes = new Uint8Array(length);
      const got = readSync(fd, bytes, 0, length, base + offset);
      return got === length ? bytes : undefined;
    } finally {
      closeSync(fd);
    }
  };
}

/** A reader that counts what was asked of it, to show a probe stays within its few ranges. */
export function countingReader(read: ReadBytes): { read: ReadBytes; bytesAsked: () => number } {
  let asked = 0;
  return {
    read: (offset, length) => {
      asked += length;
      return read(offset, length);
    },
    bytesAsked: () => asked,
  };
}

/** Overwrites bytes of a file in place, to damage a checksum or a signature. */
export function patchFile(path: string, offset: number, bytes: number[]): void {
  const fd = openSync(path, "r+");
  try {
    writeSync(fd, Uint8Array.from(bytes), 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

export function readFileBytes(path: string, offset: number, length: number): Uint8Array {
  const read = fileReader(path);
  return read(offset, length)!;
}

/** `blkid -p -o export` of a file (at a byte offset): its tags, {} when it finds nothing. */
export function blkid(path: string, offset = 0): Record<string, string> {
  let text: string;
  try {
    text = run("blkid", ["-p", "-o", "export", "-O", String(offset), path]);
  } catch {
    return {}; // blkid exits 2 when it recognises nothing
  }
  return Object.fromEntries(
    text
      .split("\n")
      .filter((line) => line.includes("="))
      // export quotes for the shell: a backslash before each special character
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1).replace(/\\(.)/g, "$1")]),
  );
}

export interface PartxRow {
  number: number;
  start: number;
  sectors: number;
  uuid: string;
  name: string;
}

/** The partitions libblkid finds in a disk image, as `partx --show` lists them. */
export function partx(path: string, sectorSize = 512): PartxRow[] {
  const text = run("partx", ["-g", "-r", "-o", "NR,START,SECTORS,UUID,NAME", "-S", String(sectorSize), path]);
  return text
    .trim()
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const [number, start, sectors, uuid = "", name = ""] = line.split(" ");
      return { number: Number(number), start: Number(start), sectors: Number(sectors), uuid, name: unescapeRaw(name) };
    });
}

/** partx -r writes unsafe bytes as \xHH; the name is UTF-8 underneath. */
function unescapeRaw(text: string): string {
  const bytes = text.replace(/\\x([0-9a-f]{2})/gi, (_, code: string) => String.fromCharCode(parseInt(code, 16)));
  return Buffer.from(bytes, "latin1").toString("utf8");
}
