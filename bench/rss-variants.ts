// An experiment tool for PID 1's memory (not part of `make bench`): boots the tsinit image with
// its /init replaced by a variant (a few shell lines run before the exec of tsinit), logs in, and
// prints `Run /init` -> `login:`, /proc/1/smaps_rollup, PID 1's Rss by mapping (the executable's
// text, rodata and data, anonymous memory, libraries) and MemAvailable. Variants alternate,
// ROUNDS times. docs/bench.md has what was measured with it.
//   VARIANTS="base jit5000" ROUNDS=3 bun bench/rss-variants.ts
// It assumes the image has /sbin/tsinit in the cpio itself (its stub is replaced).
import { kernel } from "../test/boot/images.ts";
import { Qemu } from "../test/boot/qemu.ts";

const image = process.env.TSINIT_IMAGE ?? "dist/initramfs.cpio";
// The base variant is the image's /init as it was before the JIT threshold (docs/bench.md).
const variants: Record<string, string> = {
  base: "",
  // Maps only the page that faults, not the 64 KiB around it: counts less, uses the same RAM.
  faultaround: "/bin/busybox mount -t sysfs sysfs /sys; /bin/busybox mount -t debugfs debugfs /sys/kernel/debug; echo 4096 > /sys/kernel/debug/fault_around_bytes; cat /sys/kernel/debug/fault_around_bytes; /bin/busybox umount /sys/kernel/debug; /bin/busybox umount /sys",
  nobaseline: "export BUN_JSC_useBaselineJIT=0",
  nodfg: "export BUN_JSC_useDFGJIT=0",
  smol: "export BUN_OPTIONS=--smol",
  jit5000: "export BUN_JSC_thresholdForJITAfterWarmUp=5000",
};
const pick = (process.env.VARIANTS ?? Object.keys(variants).join(" ")).split(" ");
const SUMMARY = `awk '/^[0-9a-f]+-[0-9a-f]+ /{perm=$2; path=$6; if (path ~ /lib/) k="libs"; else if (path=="") k="anon"; else if (path ~ /^\\[/) k=path; else k="exe-" perm} /^Rss:/{r[k]+=$2} END{for (k in r) if (r[k]) printf "%s=%d ", k, r[k]; print ""}' /proc/1/smaps`;
for (const name of pick) if (!(name in variants)) throw new Error(`VARIANTS: no variant ${name} (${Object.keys(variants).join(", ")})`);
const ROUNDS = Number(process.env.ROUNDS ?? 1);
for (let round = 0; round < ROUNDS; round++) {
  for (const name of round % 2 ? [...pick].reverse() : pick) await measure(name);
}

async function measure(name: string): Promise<void> {
  const init = `#!/bin/busybox sh\n/bin/busybox mount -t proc proc /proc\n${variants[name]}\nexec /sbin/tsinit "$@"\n`;
  const vm = await Qemu.boot({ name: `rss-${name}`, kernel, initrd: image, extraFiles: [{ type: "file", path: "/init", mode: 0o755, data: init }], hardTimeoutMs: 300_000 });
  try {
    const run = await vm.expect(/Run \/init as init process/, 200_000);
    const login = await vm.expect(/login: /, 200_000);
    vm.cursor = run.index;
    await vm.login(60_000);
    const rollup = (await vm.run("grep -E '^(Rss|Pss|Anonymous|Shared_Clean|Shared_Dirty|Private_Clean|Private_Dirty)' /proc/1/smaps_rollup | tr -s ' ' | tr '\\n' ' '")).output.trim();
    const maps = (await vm.run(SUMMARY)).output.trim();
    const avail = (await vm.run("grep MemAvailable /proc/meminfo")).output.trim();
    console.log(`${name}: /init->login ${((login.at - run.at) / 1000).toFixed(2)} s | ${rollup} | ${maps} | ${avail}`);
  } catch (e) {
    console.log(`${name}: FAILED ${e}\n${vm.tail(30)}`);
  } finally {
    await vm.close();
  }
}
