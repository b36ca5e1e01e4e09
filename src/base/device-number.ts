// Device numbers: a (major, minor) pair, and the one number glibc's makedev() packs it into
// (st_dev, node:fs's Stats.dev, the kernel's old single-hex root= form). Pure arithmetic, kept
// in one place so that statx's separate fields, root= and the tests agree on one layout.

/** The kernel's dev_t is 32 bits: 12 for the major and 20 for the minor (MINORBITS). */
export const MAX_MAJOR = 0xfff;
export const MAX_MINOR = 0xfffff;

export interface DeviceNumber {
  major: number;
  minor: number;
}

// Multiplication and division, not bit operators: JavaScript's bit operators cut to 32 bits,
// and glibc's layout puts a major's bits from 12 up at bit 44 of a 64-bit number.
const BIT_8 = 2 ** 8;
const BIT_12 = 2 ** 12;
const BIT_20 = 2 ** 20;
const BIT_24 = 2 ** 24;
const BIT_44 = 2 ** 44;

/**
 * glibc's makedev(): the minor's low 8 bits at bit 0, the major's low 12 bits at bit 8, the
 * minor's other bits at bit 20 and the major's other bits at bit 44. Below MAX_MAJOR and
 * MAX_MINOR (all the kernel has) this is also the kernel's own 32-bit encoding. Exact while
 * the result is below 2^53, that is for every minor up to 2^32 - 1 and every major below 2^21.
 */
export function encodeDeviceNumber(major: number, minor: number): number {
  return (minor % BIT_8) + (major % BIT_12) * BIT_8 + Math.floor(minor / BIT_8) * BIT_20 + Math.floor(major / BIT_12) * BIT_44;
}

/** glibc's major() and minor(): the inverse of encodeDeviceNumber. */
export function decodeDeviceNumber(dev: number): DeviceNumber {
  return {
    major: (Math.floor(dev / BIT_8) % BIT_12) + Math.floor(dev / BIT_44) * BIT_12,
    minor: (dev % BIT_8) + (Math.floor(dev / BIT_20) % BIT_24) * BIT_8,
  };
}
