// The archive writer's order: byte order of paths, except files marked `last`, which follow all
// the others so that a short unpack loses only them (docs/image.md, "Too little RAM"); and the
// numbers it refuses because the header would cut them.
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cpioBytes, type Entry, parseManifest, withParents } from "../../scripts/mkcpio.ts";

const dir = mkdtempSync(join(tmpdir(), "mkcpio-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The names in an archive, in order (newc: 110-byte header, name padded to 4, body padded to 4). */
function names(archive: Uint8Array): string[] {
  const text = new TextDecoder("latin1");
  const out: string[] = [];
  let at = 0;
  for (;;) {
    const head = text.decode(archive.subarray(at, at + 110));
    const size = parseInt(head.slice(54, 62), 16);
    const nameSize = parseInt(head.slice(94, 102), 16);
    const name = text.decode(archive.subarray(at + 110, at + 110 + nameSize - 1));
    if (name === "TRAILER!!!") return out;
    out.push(name);
    at += Math.ceil((110 + nameSize) / 4) * 4;
    at += Math.ceil(size / 4) * 4;
  }
}

describe("mkcpio order", () => {
  it("puts `last` files after everything else, parents first", () => {
    writeFileSync(join(dir, "big"), "big");
    writeFileSync(join(dir, "small"), "s");
    const entries = parseManifest([
      `file /lib/tsinit/tsinit.img ${dir}/big 0644 last`,
      `file /lib/tsinit/image ${dir}/small 0644`,
      `file /zz ${dir}/small 0644`,
      "slink /sbin/tsinit /lib/tsinit/mnt/tsinit",
    ].join("\n"));
    expect(names(cpioBytes(entries))).toEqual(["lib", "lib/tsinit", "lib/tsinit/image", "sbin", "sbin/tsinit", "zz", "lib/tsinit/tsinit.img"]);
  });

  it("writes a node's major and minor as the newc header's rdevmajor and rdevminor", () => {
    const archive = cpioBytes(parseManifest("nod /dev/nvme0n1 0600 b 259 0\nnod /dev/x 0600 c 4095 1048575"));
    const header = (at: number) => new TextDecoder("latin1").decode(archive.subarray(at, at + 110));
    const dev = header(0);
    expect([dev.slice(78, 86), dev.slice(86, 94)]).toEqual(["00000000", "00000000"]); // the directory /dev
    const nameSize = parseInt(dev.slice(94, 102), 16);
    const nvme = header(Math.ceil((110 + nameSize) / 4) * 4);
    expect([parseInt(nvme.slice(78, 86), 16), parseInt(nvme.slice(86, 94), 16)]).toEqual([259, 0]);
  });

  it("refuses a node past the kernel's 12-bit major or 20-bit minor, which would become another device", () => {
    expect(() => parseManifest("nod /dev/x 0600 c 4096 1")).toThrow("mkcpio: line 1: /dev/x: major 4096 is past the kernel's largest, 4095");
    expect(() => parseManifest("dir /dev 0755\nnod /dev/x 0600 b 8 1048576")).toThrow("mkcpio: line 2: /dev/x: minor 1048576 is past the kernel's largest, 1048575");
    expect(parseManifest("nod /dev/x 0600 c 4095 1048575")).toEqual([{ type: "nod", path: "/dev/x", mode: 0o600, kind: "c", major: 4095, minor: 1048575 }]);
  });

  it("refuses the same from entries built in code (the boot tests' extraFiles), before writing anything", () => {
    const node = (major: number, minor: number): Entry[] => [{ type: "nod", path: "/dev/x", kind: "b", major, minor }];
    expect(() => cpioBytes(node(4096, 1))).toThrow("mkcpio: /dev/x: major 4096 is past the kernel's largest, 4095");
    expect(() => cpioBytes(node(8, 1048576))).toThrow("mkcpio: /dev/x: minor 1048576 is past the kernel's largest, 1048575");
    // Not a number of the field at all: hex8 would have written "-1" or "1.5" into the header.
    expect(() => cpioBytes(node(-1, 0))).toThrow("mkcpio: /dev/x: major -1 is not a whole number from 0 to 4095");
    expect(() => cpioBytes(node(8, 1.5))).toThrow("mkcpio: /dev/x: minor 1.5 is not a whole number from 0 to 1048575");
    // mkext4.ts starts from the same withParents, so its images are refused alike.
    expect(() => withParents(node(4096, 0))).toThrow("mkcpio: /dev/x: major 4096 is past the kernel's largest, 4095");
    // The largest of each still goes through.
    expect(cpioBytes(node(4095, 1048575)).length).toBeGreaterThan(0);
  });

  it("refuses a mode with bits past the permissions, which would change the entry's type", () => {
    // 040644 on a file would be S_IFDIR | S_IFREG in the header: a socket.
    expect(() => cpioBytes([{ type: "file", path: "/etc/x", mode: 0o040644, data: "" }])).toThrow("mkcpio: /etc/x: mode 040644 is not a permission mode (0000 to 7777)");
  });

  it("refuses a file past newc's 32-bit size, without reading it", () => {
    // Sparse: 4 GiB long, no blocks on disk. Past the limit, the size would take nine hex digits.
    const big = join(dir, "four-gib");
    writeFileSync(big, "");
    truncateSync(big, 2 ** 32);
    expect(() => cpioBytes([{ type: "file", path: "/big", source: big }])).toThrow(`mkcpio: big: ${big} is 4294967296 bytes, past newc's largest file, 4294967295 bytes (4 GiB - 1)`);
  });

  it("refuses an mtime past newc's 32 bits (2106)", () => {
    expect(() => cpioBytes([], 2 ** 32)).toThrow("mkcpio: mtime 4294967296 does not fit newc's eight hex digits");
  });

  it("refuses another word after the mode", () => {
    expect(() => parseManifest("file /a b 0644 first")).toThrow(/line 1: expected file PATH SOURCE MODE \[last\], not first/);
  });
});
