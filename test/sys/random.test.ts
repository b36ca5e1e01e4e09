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

test("fills a large buffer to its end (33 MiB: past what older kernels hand out in one call; newer ones give it all at once)", () => {
  const bytes = randomBytes(33 * 1024 * 1024);
  // The tail is filled too: a zero run this long would be chance 2^-8192.
  expect(bytes.subarray(bytes.length - 1024).some((byte) => byte !== 0)).toBe(true);
});
