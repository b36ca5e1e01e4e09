// The archive writer's order: byte order of paths, except files marked `last`, which follow all
// the others so that a short unpack loses only them (docs/image.md, "Too little RAM").
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cpioBytes, parseManifest } from "../../scripts/mkcpio.ts";

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
    expect(() => parseManifest("nod /dev/x 0600 c 4096 1")).toThrow("mkcpio: line 1: major 4096 is past the kernel's largest, 4095");
    expect(() => parseManifest("dir /dev 0755\nnod /dev/x 0600 b 8 1048576")).toThrow("mkcpio: line 2: minor 1048576 is past the kernel's largest, 1048575");
    expect(parseManifest("nod /dev/x 0600 c 4095 1048575")).toEqual([{ type: "nod", path: "/dev/x", mode: 0o600, kind: "c", major: 4095, minor: 1048575 }]);
  });

  it("refuses another word after the mode", () => {
    expect(() => parseManifest("file /a b 0644 first")).toThrow(/line 1: expected file PATH SOURCE MODE \[last\], not first/);
  });
});
