// linuxSys.readRegularFile against the real kernel (issue 9): a FIFO must not block, /dev/zero
// must not be read without bound, and what is read is capped. Run with `bun test test/sys`.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { linuxSys } from "../../src/sys/linux-sys.ts";
import { SysError } from "../../src/sys/sys.ts";

const dir = mkdtempSync(join(tmpdir(), "tsinit-read-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function failure(result: string | SysError): SysError {
  if (!(result instanceof SysError)) throw new Error(`expected an error, read ${JSON.stringify(result.slice(0, 40))}`);
  return result;
}

test("reads a regular file, through a symbolic link too", () => {
  writeFileSync(join(dir, "a"), "type = internal\n");
  symlinkSync(join(dir, "a"), join(dir, "link-a"));
  expect(linuxSys.readRegularFile(join(dir, "a"), 1024)).toBe("type = internal\n");
  expect(linuxSys.readRegularFile(join(dir, "link-a"), 1024)).toBe("type = internal\n");
});

test("a FIFO with no writer is refused at once, not waited on", () => {
  execFileSync("mkfifo", [join(dir, "fifo")]);
  const start = Date.now();
  const error = failure(linuxSys.readRegularFile(join(dir, "fifo"), 1024));
  expect(Date.now() - start).toBeLessThan(1000);
  expect(error.code).toBe("ENOTREG");
  expect(error.message).toBe(`read ${join(dir, "fifo")}: not a regular file (a FIFO)`);
});

test("a link to /dev/zero is refused, not read", () => {
  symlinkSync("/dev/zero", join(dir, "zero"));
  expect(failure(linuxSys.readRegularFile(join(dir, "zero"), 1024)).reason).toBe("not a regular file (a character device)");
});

test("a file larger than the cap is refused after reading one byte more than it", () => {
  writeFileSync(join(dir, "big"), "x".repeat(200_000));
  expect(failure(linuxSys.readRegularFile(join(dir, "big"), 100_000)).code).toBe("EFBIG");
  expect(linuxSys.readRegularFile(join(dir, "big"), 200_000)).toHaveLength(200_000);
});

test("a dangling link, a link loop and a directory each say what they are", () => {
  symlinkSync(join(dir, "nowhere"), join(dir, "dangling"));
  symlinkSync(join(dir, "loop"), join(dir, "loop"));
  expect(failure(linuxSys.readRegularFile(join(dir, "dangling"), 1024)).code).toBe("ENOENT");
  expect(failure(linuxSys.readRegularFile(join(dir, "loop"), 1024)).code).toBe("ELOOP");
  expect(failure(linuxSys.readRegularFile(dir, 1024)).code).toBe("EISDIR");
});
