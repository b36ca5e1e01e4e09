// CI smoke boots through qemu/smoke.sh: the real kernel boots the tsinit image, COMMAND runs as
// the first runner, the machine powers off, and smoke.sh exits with COMMAND's exact status,
// read from the guest's second serial port. A hang, a kill by a signal and a kernel panic each
// give their own status.
import { expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
  // Long enough for a slow TCG boot to reach the runner, which then never ends.
  const result = await smoke(["--timeout", "45"], ["/bin/sh", "-c", "echo hanging-now; sleep 1000"]);
  expect(result.status).toBe(124);
  expect(result.stderr).toContain("no poweroff within 45 s");
  expect(result.stderr).toContain("hanging-now");
}, TEST_MS);

test("a kernel panic gives 125 and the panic", async () => {
  // No init at all: the kernel panics ("No working init found").
  const result = await smoke(["--timeout", "120", "--append", "rdinit=/no/such/init init=/no/such/init"], ["/bin/true"]);
  expect(result.status).toBe(125);
  expect(result.stderr).toContain("Kernel panic");
}, TEST_MS);

test("the boot report is whole NDJSON, ends with done, and the host-side reader accepts it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsinit-report-"));
  try {
    const file = join(dir, "report.ndjson");
    const result = await smoke(["--timeout", "120", "--report", file, "--append", "tsinit.runner.after=boot"], ["/bin/sh", "-c", "exit 5"]);
    expect(result.status).toBe(5);
    const lines = readFileSync(file, "utf8").split("\n").filter((line) => line !== "");
    const events = lines.map((line) => JSON.parse(line) as { seq: number; kind: string; service?: string; to?: string; status?: number });
    // Numbered from 1 without a gap: nothing was lost on the way out.
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.some((e) => e.kind === "boot-step")).toBe(true);
    expect(events.some((e) => e.kind === "state" && e.service === "getty" && e.to === "started")).toBe(true);
    expect(events.at(-1)).toMatchObject({ kind: "done", status: 5 });
    const reader = Bun.spawnSync(["node_modules/.bin/bun", "qemu/report.ts", file], { stdout: "pipe", stderr: "pipe" });
    expect(reader.stdout.toString()).toContain("runner status: 5");
    expect(reader.exitCode).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, TEST_MS);

test("initctl events shows a restart as it happens", async () => {
  // The replay first (it holds the runner's own start), then the restart's events as they come.
  const script = [
    "initctl events > /tmp/events 2>&1 &",
    "n=0; until grep -q 'runner: /etc/tsinit/rc' /tmp/events; do sleep 0.1; n=$((n+1)); [ $n -lt 300 ] || exit 91; done",
    // klogd: nothing depends on it, so the restart needs no --force (syslogd's would, as dinitctl's).
    "initctl restart klogd || exit 92",
    "n=0; until [ \"$(grep -c 'klogd: starting -> started' /tmp/events)\" -ge 2 ]; do sleep 0.1; n=$((n+1)); [ $n -lt 300 ] || exit 93; done",
    "grep -q 'klogd: started -> stopping' /tmp/events || exit 94",
  ].join("\n");
  const result = await smoke(["--timeout", "120", "--append", "tsinit.runner.after=boot"], ["/bin/sh", "-c", script]);
  expect(result.status).toBe(0);
}, TEST_MS);

test("initctl analyze --svg draws the boot: well-formed XML naming every service, out through --output byte for byte", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsinit-smoke-"));
  try {
    const output = join(dir, "timeline.svg");
    const script = '{ initctl analyze && initctl analyze --svg; } > "$SMOKE_OUTPUT"';
    const result = await smoke(["--timeout", "120", "--append", "tsinit.runner.after=boot", "--output", output], ["/bin/sh", "-c", script]);
    expect(result.status).toBe(0);
    const written = readFileSync(output, "utf8");
    // The port is raw: the lines end in LF alone, as initctl wrote them.
    expect(written).not.toContain("\r");
    const table = written.slice(0, written.indexOf("<svg"));
    expect(table).toMatch(/^SERVICE +STARTING +STARTED/);
    const svg = written.slice(table.length);
    const parsed = Bun.spawnSync(["python3", "-c", "import sys, xml.etree.ElementTree as E; r = E.fromstring(sys.stdin.read()); print('\\n'.join(t.text or '' for t in r.iter('{http://www.w3.org/2000/svg}text')))"], { stdin: Buffer.from(svg), stdout: "pipe", stderr: "pipe" });
    expect(parsed.stderr.toString()).toBe("");
    const labels = parsed.stdout.toString().split("\n").map((text) => text.trim());
    for (const service of ["early", "syslogd", "klogd", "getty", "boot", "runner"]) expect(labels).toContain(service);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, TEST_MS);
