// The two CRC-32s on-disk formats use to vouch for their headers: the IEEE one (GPT) and
// Castagnoli's (ext4 metadata_csum, btrfs, erofs). Pure; a 256-entry table each, built on first
// use: built at load, its loop alone got JavaScriptCore's JIT going and cost every tsinit
// process (initctl too) about 2 MB more Rss.

function tableFor(reversedPolynomial: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? (c >>> 1) ^ reversedPolynomial : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

let ieee: Uint32Array | undefined;
let castagnoli: Uint32Array | undefined;
const IEEE = () => (ieee ??= tableFor(0xedb88320));
const CASTAGNOLI = () => (castagnoli ??= tableFor(0x82f63b78));

function update(table: Uint32Array, state: number, bytes: Uint8Array): number {
  let c = state;
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

/** CRC-32 (IEEE 802.3), as GPT's header and entry checksums use it. */
export function crc32(bytes: Uint8Array): number {
  return (update(IEEE(), 0xffffffff, bytes) ^ 0xffffffff) >>> 0;
}

/** CRC-32C, complete (seeded with ~0 and inverted at the end), as btrfs stores it. */
export function crc32c(bytes: Uint8Array): number {
  return (update(CASTAGNOLI(), 0xffffffff, bytes) ^ 0xffffffff) >>> 0;
}

/**
 * CRC-32C seeded with ~0 and NOT inverted at the end: the kernel's crc32c() primitive, which
 * ext4's superblock and erofs's superblock checksums call directly.
 */
export function crc32cUninverted(bytes: Uint8Array): number {
  return update(CASTAGNOLI(), 0xffffffff, bytes);
}
