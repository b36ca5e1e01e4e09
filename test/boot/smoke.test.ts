// CI smoke boots through qemu/smoke.sh: the real kernel boots the tsinit image, COMMAND runs as
// the first runner, the machine powers off, and smoke.sh exits with COMMAND's exact status,
// read from the guest's second serial port. A hang, a kill by a signal and a kernel panic each
// give their own status.
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { images, kernel } from "./images.ts";

const TEST_MS = 180_000;

interface Smoke {
  status: number;
  stdout: string;
  stderr: string;
}

async function smoke(options: string[], command: string[]): Promise<Smoke> {
  const proc = Bun.spawn(["qemu/smoke.sh", "--kernel", kernel, "--initrd", images.tsinit!.initrd, ...options, "--", ...command], {
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const [stdout, stderr, status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { status, stdout, stderr };
}

for (const code of [0, 1, 77, 255]) {
  test(`a runner that exits ${code} makes smoke.sh exit ${code}`, async () => {
    const result = await smoke(["--timeout", "120"], ["/bin/sh", "-c", `echo runner-ran-$((40+2)); exit ${code}`]);
    expect(result.stdout).toContain("runner-ran-42");
    expect(result.status).toBe(code);
  }, TEST_MS);
}

test("a runner killed by signal 9 gives 128+9", async () => {
  const result = await smoke(["--timeout", "120"], ["/bin/sh", "-c", "kill -KILL $$"]);
  expect(result.status).toBe(137);
}, TEST_MS);

test("arguments reach the command as they were given, quotes and all", async () => {
  const script = "test \"$1\" = \"it's a \\$HOME\" && test \"$#\" = 1";
  const result = await smoke(["--timeout", "120"], ["/bin/sh", "-c", script, "sh", "it's a $HOME"]);
  expect(result.status).toBe(0);
}, TEST_MS);

test("--add puts a directory's files into the guest", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsinit-smoke-"));
  try {
    mkdirSync(join(dir, "opt"), { recursive: true });
    writeFileSync(join(dir, "opt", "check.sh"), "#!/bin/sh\nexit 42\n");
    chmodSync(join(dir, "opt", "check.sh"), 0o755);
    const result = await smoke(["--timeout", "120", "--add", dir], ["/opt/check.sh"]);
    expect(result.status).toBe(42);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, TEST_MS);

test("a runner that hangs gives 124 and the console's tail", async () => {
  const result = await smoke(["--timeout", "25"], ["/bin/sh", "-c", "echo hanging-now; sleep 1000"]);
  expect(result.status).toBe(124);
  expect(result.stderr).toContain("no poweroff within 25 s");
  expect(result.stderr).toContain("hanging-now");
}, TEST_MS);

test("a kernel panic gives 125 and the panic", async () => {
  // No init at all: the kernel panics ("No working init found").
  const result = await smoke(["--timeout", "120", "--append", "rdinit=/no/such/init init=/no/such/init"], ["/bin/true"]);
  expect(result.status).toBe(125);
  expect(result.stderr).toContain("Kernel panic");
}, TEST_MS);
