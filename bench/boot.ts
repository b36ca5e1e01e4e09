// make bench: boot the tsinit image and the busybox-init image alternately
// (ABBA), BENCH_BOOTS times each, and print a markdown table of medians and
// ranges with the ratio tsinit/busybox and the targets of issue 8 beside.
// Method: docs/bench.md. The smallest -m each image boots with is bench/ram.ts.

import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { basename } from "node:path";
import { images, kernel, checkInputs, type Image } from "../test/boot/images.ts";
import { DEFAULT_MEMORY_MB, Qemu } from "../test/boot/qemu.ts";
import { kB, mb, median, mib, ms, procField, spread } from "./stats.ts";

const BOOTS = Number(process.env.BENCH_BOOTS ?? 10);
const BOOT_MS = 60_000;

interface Sample {
  /** qemu started -> `login:` on the console. */
  startToLogin: number;
  /** The kernel's `Run /init` line -> `login:`. */
  initToLogin: number;
  /** `poweroff` typed -> qemu gone. */
  poweroff: number;
  /** PID 1's Rss and Pss from /proc/1/smaps_rollup, in kB. */
  rssKB: number;
  pssKB: number;
  /** MemAvailable after login, kB. */
  availableKB: number;
}

async function bootOnce(image: Image, round: number): Promise<Sample> {
  const vm = await Qemu.boot({
    name: `bench-${image.name}-${round}`,
    kernel,
    initrd: image.initrd,
    hardTimeoutMs: 180_000,
  });
  try {
    const run = await vm.expect(/Run \/init as init process/, BOOT_MS);
    const login = await vm.expect(/login: /, BOOT_MS);
    vm.cursor = run.index; // login() waits for the same prompt again
    await vm.login(BOOT_MS);
    const smaps = (await vm.run("cat /proc/1/smaps_rollup")).output;
    const meminfo = (await vm.run("cat /proc/meminfo")).output;
    const sentAt = performance.now();
    vm.send("poweroff\n");
    const code = await vm.waitExit(60_000);
    if (code !== 0) throw new Error(`qemu exited ${code} after poweroff`);
    return {
      startToLogin: login.at - vm.startedAt,
      initToLogin: login.at - run.at,
      poweroff: (vm.exitedAt ?? performance.now()) - sentAt,
      rssKB: procField(smaps, "Rss", "/proc/1/smaps_rollup"),
      pssKB: procField(smaps, "Pss", "/proc/1/smaps_rollup"),
      availableKB: procField(meminfo, "MemAvailable", "/proc/meminfo"),
    };
  } catch (error) {
    console.error(`--- console of ${vm.options.name} ---\n${vm.tail(80)}\n--- end ---`);
    throw error;
  } finally {
    await vm.close();
  }
}

/** A metric: its label, how to read it off a sample, how to write it, and its target if it has one. */
type Row<S> = [label: string, pick: (sample: S) => number, format: (value: number) => string, target?: Target];

/** A target of issue 8, judged on the medians of tsinit (a) and busybox (b). */
interface Target {
  text: string;
  met: (a: number, b: number) => boolean;
}

/** A table row a metric: the median and range of each image, their ratio, and the target. */
function metricRows<S>(rows: readonly Row<S>[], a: readonly S[], b: readonly S[], withTarget = false): string[] {
  return rows.map(([label, pick, format, target]) => {
    const va = a.map(pick);
    const vb = b.map(pick);
    const cells = [label, spread(va, format), spread(vb, format), (median(va) / median(vb)).toFixed(2)];
    if (withTarget) cells.push(target ? judge(target, median(va), median(vb)) : "");
    return `| ${cells.join(" | ")} |`;
  });
}

function judge(target: Target, a: number, b: number): string {
  return `${target.text}: ${target.met(a, b) ? "met" : "**missed**"}`;
}

function sizeOf(path: string | undefined): number | undefined {
  if (!path) return undefined;
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

// The targets (issue 8). MB is 10^6 bytes.
const RSS_TARGET_KB = 20e6 / 1024;
const SHIPPED_TARGET = 48e6;
const TARGETS = {
  startToLogin: { text: "≤ 1.25× busybox", met: (a: number, b: number) => a <= 1.25 * b },
  initToLogin: { text: "≤ 0.6 s", met: (a: number) => a <= 600 },
  poweroff: { text: "< 0.3 s", met: (a: number) => a < 300 },
  rss: { text: "≤ 20 MB (19.1 MiB)", met: (a: number) => a <= RSS_TARGET_KB },
  shipped: { text: "≤ 48 MB", met: (a: number) => a <= SHIPPED_TARGET },
} satisfies Record<string, Target>;

async function main(): Promise<void> {
  const a = images.tsinit!;
  const b = images["busybox-init"]!;
  checkInputs(a);
  checkInputs(b);
  const samples = new Map<Image, Sample[]>([[a, []], [b, []]]);
  const started = performance.now();

  // ABBA: A B, B A, A B, ... so drift in the host's speed hits both alike.
  for (let round = 0; round < BOOTS; round++) {
    const order = round % 2 === 0 ? [a, b] : [b, a];
    for (const image of order) {
      const sample = await bootOnce(image, round);
      samples.get(image)!.push(sample);
      console.error(
        `${image.name.padEnd(12)} #${round + 1}: login ${ms(sample.startToLogin)}, /init->login ${ms(sample.initToLogin)}, ` +
          `poweroff ${ms(sample.poweroff)}, Rss ${sample.rssKB} kB, Pss ${sample.pssKB} kB, MemAvailable ${sample.availableKB} kB`,
      );
    }
  }

  const rows: Row<Sample>[] = [
    ["qemu start → `login:`", (s) => s.startToLogin, ms, TARGETS.startToLogin],
    ["`Run /init` → `login:`", (s) => s.initToLogin, ms, TARGETS.initToLogin],
    ["`poweroff` → qemu exit", (s) => s.poweroff, ms, TARGETS.poweroff],
    ["PID 1 Rss", (s) => s.rssKB, kB, TARGETS.rss],
    ["PID 1 Pss", (s) => s.pssKB, kB],
    [`MemAvailable after login (\`-m ${DEFAULT_MEMORY_MB}\`)`, (s) => s.availableKB, kB],
  ];
  const lines = [
    `Boot benchmark: ${BOOTS} boots each, ABBA order, qemu TCG (-cpu max, 1 vCPU, ${DEFAULT_MEMORY_MB} MB), kernel ${basename(realpathSync(kernel))}.`,
    "Figures: median (min–max). MB = 10^6 bytes, MiB = 2^20.",
    "",
    "| metric | tsinit | busybox init | tsinit / busybox | target |",
    "| --- | --- | --- | --- | --- |",
  ];
  lines.push(...metricRows(rows, samples.get(a)!, samples.get(b)!, true));
  const sizes: [string, string | undefined, string | undefined, Target | undefined][] = [
    ["image as booted", a.initrd, b.initrd, undefined],
    ["image as shipped", process.env.TSINIT_SHIPPED, process.env.BUSYBOX_SHIPPED, TARGETS.shipped],
  ];
  for (const [label, pa, pb, target] of sizes) {
    const sa = sizeOf(pa);
    const sb = sizeOf(pb);
    if (sa === undefined || sb === undefined) continue;
    const cells = [`${label} (${basename(pa!)})`, `${mb(sa)} (${mib(sa)})`, `${mb(sb)} (${mib(sb)})`, (sa / sb).toFixed(1), target ? judge(target, sa, sb) : ""];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  lines.push("", `${2 * BOOTS} boots took ${ms(performance.now() - started)}.`);
  console.log(lines.join("\n"));
  if (existsSync(DISK)) await switchRootBench(a, b);
}

// --- through switch_root ------------------------------------------------------
// Both images reach the same real root (DISK, root=/dev/vda, its /sbin/init is tsinit): tsinit's
// initramfs stage against a busybox /init script that does the same with busybox's modprobe,
// mount and switch_root. The disk is attached with snapshot=on, so every boot sees it as built.

const DISK = process.env.DISK_IMAGE ?? "dist/disk.ext4";
const BUSYBOX_SWITCH_INIT = "bench/busybox-switch-root.sh";

interface DiskSample {
  startToLogin: number;
  initToLogin: number;
  /** MemAvailable at login, kB. */
  availableKB: number;
  /** What tsinit's initramfs stage says it deleted, MiB (tsinit only). */
  removedMiB?: number;
  /** MemAvailable just before the deletion, and at the real root tsinit's start, MiB (tsinit only). */
  beforeMiB?: number;
  afterMiB?: number;
}

async function bootDisk(image: Image, round: number): Promise<DiskSample> {
  const busybox = image.name !== "tsinit";
  const vm = await Qemu.boot({
    name: `bench-disk-${image.name}-${round}`,
    kernel,
    initrd: image.initrd,
    append: "root=/dev/vda",
    disks: [DISK],
    diskSnapshot: true,
    extraFiles: busybox ? [{ type: "file", path: "/init", mode: 0o755, data: readFileSync(BUSYBOX_SWITCH_INIT) }] : undefined,
    hardTimeoutMs: 180_000,
  });
  try {
    const run = await vm.expect(/Run \/init as init process/, BOOT_MS);
    const login = await vm.expect(/login: /, BOOT_MS);
    vm.cursor = run.index;
    await vm.login(BOOT_MS);
    const meminfo = (await vm.run("cat /proc/meminfo")).output;
    const available = Number(/^MemAvailable:\s+(\d+) kB/m.exec(meminfo)?.[1]);
    let removedMiB: number | undefined;
    let beforeMiB: number | undefined;
    let afterMiB: number | undefined;
    if (!busybox) {
      const boot = (await vm.run("initctl boot")).output;
      removedMiB = Number(/initramfs: removed \d+ files and \d+ directories, ([\d.]+) MiB/.exec(boot)?.[1]);
      beforeMiB = Number(/MemAvailable ([\d.]+) -> [\d.]+ MiB/.exec(boot)?.[1]);
      afterMiB = Number(/MemAvailable ([\d.]+) MiB after the switch/.exec(boot)?.[1]);
    }
    vm.send("poweroff\n");
    await vm.waitExit(60_000);
    return { startToLogin: login.at - vm.startedAt, initToLogin: login.at - run.at, availableKB: available, removedMiB, beforeMiB, afterMiB };
  } catch (error) {
    console.error(`--- console of ${vm.options.name} ---\n${vm.tail(80)}\n--- end ---`);
    throw error;
  } finally {
    await vm.close();
  }
}

async function switchRootBench(a: Image, b: Image): Promise<void> {
  const samples = new Map<Image, DiskSample[]>([[a, []], [b, []]]);
  for (let round = 0; round < BOOTS; round++) {
    for (const image of round % 2 === 0 ? [a, b] : [b, a]) {
      const sample = await bootDisk(image, round);
      samples.get(image)!.push(sample);
      console.error(`${image.name.padEnd(12)} disk #${round + 1}: login ${ms(sample.startToLogin)}, /init->login ${ms(sample.initToLogin)}, MemAvailable ${kB(sample.availableKB)}`);
    }
  }
  const rows: Row<DiskSample>[] = [
    ["qemu start → `login:`", (s) => s.startToLogin, ms],
    ["`Run /init` → `login:`", (s) => s.initToLogin, ms],
    ["MemAvailable at `login:`", (s) => s.availableKB, kB],
  ];
  const lines = [
    "",
    `Through switch_root: root=/dev/vda on ${basename(DISK)} (its init is tsinit), ${BOOTS} boots each, ABBA; the peer is busybox's switch_root in a /init script (${BUSYBOX_SWITCH_INIT}).`,
    "",
    "| metric | tsinit initramfs | busybox switch_root | tsinit / busybox |",
    "| --- | --- | --- | --- |",
  ];
  lines.push(...metricRows(rows, samples.get(a)!, samples.get(b)!));
  const removed = samples.get(a)!.map((s) => s.removedMiB ?? NaN);
  lines.push(`| initramfs files deleted by the switch | ${median(removed).toFixed(1)} MiB | (all of it) | |`);
  const before = median(samples.get(a)!.map((s) => s.beforeMiB ?? NaN));
  const after = median(samples.get(a)!.map((s) => s.afterMiB ?? NaN));
  lines.push(`| MemAvailable before the deletion → at the real root's tsinit start | ${before.toFixed(1)} → ${after.toFixed(1)} MiB (+${(after - before).toFixed(1)}) | | |`);
  console.log(lines.join("\n"));
}

await main();
