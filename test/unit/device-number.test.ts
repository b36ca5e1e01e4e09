// The one device-number layout (src/base/device-number.ts): glibc's makedev(), major() and
// minor(). The expected numbers are what glibc 2.x's gnu_dev_makedev returns for each pair
// (test/sys/file-calls.test.ts asks glibc itself through bun:ffi).
import { describe, expect, it } from "vitest";
import { decodeDeviceNumber, encodeDeviceNumber, MAX_MAJOR, MAX_MINOR } from "../../src/base/device-number.ts";

/** [major, minor, glibc's makedev(major, minor)] */
const GLIBC: ReadonlyArray<readonly [number, number, number]> = [
  [1, 3, 259], // /dev/null
  [8, 1, 2049], // sda1
  [253, 0, 64768], // the first device-mapper device
  [259, 0, 66304], // the first NVMe namespace (the extended block major)
  [0, 1048577, 4294967297], // an anonymous device past 2^20
  [511, 1048575, 4294049791],
  [MAX_MAJOR, MAX_MINOR, 4294967295],
  [4096, 1, 17592186044417],
  [65535, 255, 263882791714815],
  [2 ** 21 - 1, 2 ** 32 - 1, Number.MAX_SAFE_INTEGER],
];

describe("device numbers", () => {
  it("packs a major and a minor as glibc's makedev() does, past 12 and 20 bits too", () => {
    for (const [major, minor, dev] of GLIBC) expect([major, minor, encodeDeviceNumber(major, minor)]).toEqual([major, minor, dev]);
  });

  it("unpacks them as glibc's major() and minor() do", () => {
    for (const [major, minor, dev] of GLIBC) expect(decodeDeviceNumber(dev)).toEqual({ major, minor });
  });

  it("gives different devices different numbers: 4096:1 is not 0:1048577", () => {
    expect(encodeDeviceNumber(4096, 1)).not.toBe(encodeDeviceNumber(0, 1048577));
    expect(encodeDeviceNumber(4096, 0)).not.toBe(encodeDeviceNumber(0, 1048576));
  });

  it("round-trips every pair whose number JavaScript holds exactly", () => {
    for (const major of [0, 1, 255, 256, 4095, 4096, 4097, 65536, 2 ** 21 - 1]) {
      for (const minor of [0, 1, 255, 256, 1048575, 1048576, 2 ** 31, 2 ** 32 - 1]) {
        expect(decodeDeviceNumber(encodeDeviceNumber(major, minor))).toEqual({ major, minor });
      }
    }
  });
});
