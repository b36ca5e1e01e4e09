// linuxSys.readRegularFile against the real kernel (issue 9): a FIFO must not block, /dev/zero
// must not be read without bound, and what is read is capped. Run with `bun test test/sys`.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
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

/** Where the kernel keeps a task that waits on a FIFO: an open waiting for its other end, a read for data. */
const FIFO_WAITS = new Set(["wait_for_partner", "pipe_read", "pipe_wait", "pipe_wait_readable"]);

/** The wait channels of `pid`'s threads that are FIFO waits (none once it has exited). */
function fifoWaits(pid: number): string[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((tid) => {
    try {
      const wchan = readFileSync(`/proc/${pid}/task/${tid}/wchan`, "utf8");
      return FIFO_WAITS.has(wchan) ? [wchan] : [];
    } catch {
      return [];
    }
  });
}

test("a FIFO with no writer is refused by its type, and no thread ever waits on it", async () => {
  const fifo = join(dir, "fifo");
  execFileSync("mkfifo", [fifo]);
  // In a child: a blocking open would wait for a writer that never comes. The child is watched
  // through /proc, and a thread of it found waiting on a FIFO (wait_for_partner, where a
  // blocking open waits) fails the test at once; nothing here measures time.
  const script = `
    const { linuxSys } = await import(${JSON.stringify(join(import.meta.dir, "../../src/sys/linux-sys.ts"))});
    const r = linuxSys.readRegularFile(${JSON.stringify(fifo)}, 1024);
    console.log(JSON.stringify(typeof r === "string" ? { text: r } : { code: r.code, message: r.message }));
  `;
  const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "inherit" });
  let exited = false;
  void child.exited.then(() => (exited = true));
  // A safety net only, should the child neither end nor be seen waiting: far above its ~0.1 s.
  const watchdog = setTimeout(() => child.kill("SIGKILL"), 20_000);
  let waits: string[] = [];
  for (let delay = 1; !exited && waits.length === 0; delay = Math.min(delay * 2, 50)) {
    waits = fifoWaits(child.pid);
    if (waits.length === 0) await Promise.race([child.exited, Bun.sleep(delay)]);
  }
  clearTimeout(watchdog);
  if (waits.length > 0) child.kill("SIGKILL");
  expect(waits).toEqual([]);
  expect(await child.exited).toBe(0);
  expect(JSON.parse(await new Response(child.stdout).text())).toEqual({
    code: "ENOTREG",
    message: `read ${fifo}: not a regular file (a FIFO)`,
  });
}, 30_000);

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
