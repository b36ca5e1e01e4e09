// randomBytes: getrandom(2) through libc, whole buffers, different each time.
import { expect, test } from "bun:test";
import { randomBytes } from "../../src/sys/random.ts";

test("hands back exactly the bytes asked for, different on each call", () => {
  expect(randomBytes(0).length).toBe(0);
  const a = randomBytes(8);
  const b = randomBytes(8);
  expect(a.length).toBe(8);
  expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
});

test("fills a buffer larger than one getrandom call returns (33 MiB: the kernel caps a call at 32 MiB - 1)", () => {
  const bytes = randomBytes(33 * 1024 * 1024);
  // The tail past the first call's cap is filled too: a zero run this long would be chance 2^-8192.
  expect(bytes.subarray(bytes.length - 1024).some((byte) => byte !== 0)).toBe(true);
});
