// make bench-ram: the smallest `-m` (a multiple of 16 MB) with which each image reaches `login:`,
// found by bisection, and MemAvailable after login at that size. Each boot has a time limit and
// the whole search a budget; a boot fails on `Kernel panic`, on the /init stub's low-RAM message
// (a line naming RAM and a size after `Run /init`), on qemu's exit, or with no `login:` in time.
// Method: docs/bench.md.

import { realpathSync } from "node:fs";
import { basename } from "node:path";
import { images, kernel, checkInputs, type Image } from "../test/boot/images.ts";
import { Qemu, TimeoutError } from "../test/boot/qemu.ts";
import { kB, ms, procField } from "./stats.ts";

const STEP = 16;
const LOW = Number(process.env.BENCH_RAM_MIN ?? 48);
const HIGH = Number(process.env.BENCH_RAM_MAX ?? 512);
const BOOT_TIMEOUT_MS = Number(process.env.BENCH_RAM_TIMEOUT ?? 120) * 1000;
const BUDGET_MS = Number(process.env.BENCH_RAM_BUDGET ?? 1800) * 1000;
const TARGET_MB = 192; // issue 8: the default image boots with -m 192 (aim: 160)

// After `Run /init`: the kernel's panic, or the stub's message naming the RAM it needs and has.
const FAILURE = process.env.BENCH_RAM_FAIL
  ? new RegExp(process.env.BENCH_RAM_FAIL)
  : /Kernel panic[^\n]*|[^\n]*\bRAM\b[^\n]*\d+ ?Mi?B[^\n]*|[^\n]*\d+ ?Mi?B[^\n]*\bRAM\b[^\n]*/;

for (const [name, value] of Object.entries({ LOW, HIGH })) {
  if (!Number.isInteger(value) || value <= 0 || value % STEP !== 0) {
    throw new Error(`BENCH_RAM_${name === "LOW" ? "MIN" : "MAX"}=${value}: a positive multiple of ${STEP}`);
  }
}
if (LOW >= HIGH) throw new Error(`BENCH_RAM_MIN=${LOW} must be below BENCH_RAM_MAX=${HIGH}`);

interface Outcome {
  ok: boolean;
  /** Why it failed: the console line, or the timeout. */
  reason: string;
  /** MemAvailable after login, kB (only when ok). */
  availableKB?: number;
  took: number;
}

async function bootAt(image: Image, memoryMB: number): Promise<Outcome> {
  const started = performance.now();
  const vm = await Qemu.boot({
    name: `bench-ram-${basename(image.initrd)}-${memoryMB}`,
    kernel,
    initrd: image.initrd,
    memoryMB,
    // Below the floor the unpack fails by design: the stub's message says so, and is the reason.
    unpackMayFail: true,
    hardTimeoutMs: BOOT_TIMEOUT_MS + 30_000,
  });
  try {
    const missed = (error: unknown): string =>
      error instanceof TimeoutError
        ? `no login: within ${BOOT_TIMEOUT_MS / 1000} s`
        : `qemu exited (${vm.exitCode}) before login:, last line: ${lastLine(vm.transcript)}`;
    // The kernel's own unpacking can panic before /init runs; the stub's message comes after.
    let outcome = await vm.expect(/Run \/init as init process|Kernel panic[^\n]*/, BOOT_TIMEOUT_MS).then((match) => match[0], missed);
    if (outcome.startsWith("Run /init")) {
      const left = BOOT_TIMEOUT_MS - (performance.now() - started);
      outcome = await vm.expect(new RegExp(`login: |${FAILURE.source}`), Math.max(left, 1)).then((match) => match[0], missed);
    }
    if (outcome !== "login: ") return { ok: false, reason: outcome.trim(), took: performance.now() - started };
    vm.cursor = 0;
    await vm.login(BOOT_TIMEOUT_MS);
    const meminfo = (await vm.run("cat /proc/meminfo")).output;
    return { ok: true, reason: "login:", availableKB: procField(meminfo, "MemAvailable", "/proc/meminfo"), took: performance.now() - started };
  } finally {
    await vm.close();
  }
}

function lastLine(transcript: string): string {
  return transcript.split("\n").map((line) => line.trim()).filter(Boolean).at(-1) ?? "(none)";
}

interface Floor {
  /** The smallest size that reached login:, or undefined if HIGH did not. */
  ok?: number;
  /** The largest size that failed, or undefined if none was tried. */
  failed?: number;
  availableKB?: number;
  failure?: string;
  /** The search ran out of budget before it closed. */
  open: boolean;
  boots: number;
}

/** Bisects [LOW, HIGH] in steps of STEP; assumes a larger -m never fails where a smaller one boots. */
async function searchFloor(image: Image, deadline: number): Promise<Floor> {
  const floor: Floor = { open: false, boots: 0 };
  const tryAt = async (memoryMB: number): Promise<boolean> => {
    const outcome = await bootAt(image, memoryMB);
    floor.boots++;
    console.error(`${basename(image.initrd).padEnd(24)} -m ${String(memoryMB).padStart(4)}: ${outcome.ok ? "login" : `FAILED: ${outcome.reason}`} (${ms(outcome.took)})`);
    if (outcome.ok) {
      floor.ok = memoryMB;
      floor.availableKB = outcome.availableKB;
    } else {
      floor.failed = memoryMB;
      floor.failure = outcome.reason;
    }
    return outcome.ok;
  };
  if (!(await tryAt(HIGH))) return floor;
  if (await tryAt(LOW)) return floor;
  let lo = LOW;
  let hi = HIGH;
  while (hi - lo > STEP) {
    if (performance.now() > deadline) {
      floor.open = true;
      break;
    }
    const mid = lo + Math.floor((hi - lo) / STEP / 2) * STEP;
    if (await tryAt(mid)) hi = mid;
    else lo = mid;
  }
  // tryAt kept the last success and the last failure; bisection makes them hi and lo.
  floor.ok = hi;
  floor.failed = lo;
  return floor;
}

function describe(floor: Floor): string {
  if (floor.ok === undefined) return `> ${HIGH} (fails at ${HIGH})`;
  if (floor.failed === undefined) return `≤ ${LOW} (boots at ${LOW}; lower not tried)`;
  if (floor.open) return `between ${floor.failed + STEP} and ${floor.ok} (budget ran out)`;
  return `${floor.ok}`;
}

async function main(): Promise<void> {
  // The images as booted, and as shipped when given (their compression changes what the kernel
  // holds while it unpacks).
  const subjects: Image[] = [images.tsinit!, images["busybox-init"]!];
  if (process.env.TSINIT_SHIPPED) subjects.push({ name: "tsinit", initrd: process.env.TSINIT_SHIPPED });
  if (process.env.BUSYBOX_SHIPPED) subjects.push({ name: "busybox-init", initrd: process.env.BUSYBOX_SHIPPED });
  for (const image of subjects) checkInputs(image);
  const started = performance.now();
  const deadline = started + BUDGET_MS;
  const floors = new Map<Image, Floor>();
  for (const image of subjects) floors.set(image, await searchFloor(image, deadline));
  const lines = [
    `Smallest \`-m\` reaching \`login:\` (steps of ${STEP} MB, searched in ${LOW}–${HIGH}, ${BOOT_TIMEOUT_MS / 1000} s a boot), qemu TCG (-cpu max, 1 vCPU), kernel ${basename(realpathSync(kernel))}.`,
    "",
    "| image | smallest `-m` (MB) | MemAvailable after login there | largest failing `-m` | boots | target |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const image of subjects) {
    const floor = floors.get(image)!;
    const target = image.name === "tsinit" ? `≤ ${TARGET_MB} (aim 160): ${floor.ok !== undefined && floor.ok <= TARGET_MB && !floor.open ? "met" : "**missed**"}` : "";
    const failure = floor.failed !== undefined ? `-m ${floor.failed}: ${(floor.failure ?? "").replace(/\|/g, "\\|").slice(0, 100)}` : "";
    lines.push(`| ${basename(image.initrd)} | ${describe(floor)} | ${floor.availableKB !== undefined ? kB(floor.availableKB) : ""} | ${failure} | ${floor.boots} | ${target} |`);
  }
  lines.push("", `The search took ${ms(performance.now() - started)}.`);
  console.log(lines.join("\n"));
}

await main();
