// Fields of on-disk structures: little-endian integers, UUIDs and GUIDs in blkid's form, and
// fixed-size name fields. Pure.

export function u16le(bytes: Uint8Array, offset: number): number {
  return bytes[offset]! | (bytes[offset + 1]! << 8);
}

export function u32le(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>> 0;
}

/** A 64-bit field as a number: exact below 2^53, which covers every byte offset on a real disk. */
export function u64le(bytes: Uint8Array, offset: number): number {
  return u32le(bytes, offset) + u32le(bytes, offset + 4) * 2 ** 32;
}

/** Whether `text` (ASCII) is at `offset`. */
export function hasText(bytes: Uint8Array, offset: number, text: string): boolean {
  if (offset + text.length > bytes.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[offset + i] !== text.charCodeAt(i)) return false;
  return true;
}

export function isAllZero(bytes: Uint8Array, offset = 0, length = bytes.length - offset): boolean {
  for (let i = offset; i < offset + length; i++) if (bytes[i] !== 0) return false;
  return true;
}

function hex(bytes: Uint8Array, order: readonly number[], offset: number): string {
  return order.map((i) => bytes[offset + i]!.toString(16).padStart(2, "0")).join("");
}

/**
 * A UUID stored as 16 bytes in order (ext, btrfs, erofs, swap), lowercase 8-4-4-4-12 as blkid
 * prints it; undefined when all zero, which blkid also treats as "no UUID".
 */
export function uuidAt(bytes: Uint8Array, offset: number): string | undefined {
  if (isAllZero(bytes, offset, 16)) return undefined;
  const h = hex(bytes, [...Array(16).keys()], offset);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A GUID as GPT stores it: the first three groups little-endian, the last two in byte order. */
export function guidAt(bytes: Uint8Array, offset: number): string {
  return [
    hex(bytes, [3, 2, 1, 0], offset),
    hex(bytes, [5, 4], offset),
    hex(bytes, [7, 6], offset),
    hex(bytes, [8, 9], offset),
    hex(bytes, [10, 11, 12, 13, 14, 15], offset),
  ].join("-");
}

const utf8 = new TextDecoder("utf-8");
const utf16le = new TextDecoder("utf-16le");

/**
 * A fixed-size name field as blkid reads a label: up to the first NUL, trailing white space
 * dropped; undefined when nothing is left. The bytes are taken as UTF-8, which is what Linux
 * tools write (and what a LABEL= on the command line is).
 */
export function nameAt(bytes: Uint8Array, offset: number, length: number): string | undefined {
  const field = bytes.subarray(offset, offset + length);
  const end = field.indexOf(0);
  const text = utf8.decode(end === -1 ? field : field.subarray(0, end)).replace(/[ \t\n\v\f\r]+$/, "");
  return text === "" ? undefined : text;
}

/** A UTF-16LE name field (a GPT partition name), up to its first NUL character. */
export function utf16NameAt(bytes: Uint8Array, offset: number, length: number): string | undefined {
  let end = offset;
  while (end + 1 < offset + length && (bytes[end] !== 0 || bytes[end + 1] !== 0)) end += 2;
  const text = utf16le.decode(bytes.subarray(offset, end));
  return text === "" ? undefined : text;
}
