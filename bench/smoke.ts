// make bench (last table): the wall time of a CI smoke boot, `qemu/smoke.sh -- /bin/true`,
// against the busybox-init image doing the same from its inittab (mount, run /bin/true, then
// `poweroff` through init), same kernel, ABBA, BENCH_BOOTS times each. Wall time is from
// starting the command to its exit, as a CI job sees it.
import { images, kernel, checkInputs } from "../test/boot/images.ts";
import { Qemu } from "../test/boot/qemu.ts";
import { median } from "./stats.ts";

const BOOTS = Number(process.env.BENCH_BOOTS ?? 10);

const INITTAB = `::sysinit:/bin/mount -t proc proc /proc
::sysinit:/bin/mount -t sysfs sysfs /sys
::sysinit:/bin/mount -t devtmpfs devtmpfs /dev
::wait:/bin/true
::wait:/sbin/poweroff
::shutdown:/bin/umount -a -r
`;

async function tsinitOnce(): Promise<number> {
  const started = performance.now();
  const proc = Bun.spawn(["qemu/smoke.sh", "--kernel", kernel, "--initrd", images.tsinit!.initrd, "--timeout", "180", "--", "/bin/true"], { stdout: "ignore", stderr: "pipe" });
  const status = await proc.exited;
  if (status !== 0) throw new Error(`smoke.sh exited ${status}: ${await new Response(proc.stderr).text()}`);
  return performance.now() - started;
}

async function busyboxOnce(round: number): Promise<number> {
  const started = performance.now();
  const vm = await Qemu.boot({
    name: `bench-smoke-busybox-${round}`,
    kernel,
    initrd: images["busybox-init"]!.initrd,
    extraFiles: [{ type: "file", path: "/etc/inittab", mode: 0o644, data: INITTAB }],
    hardTimeoutMs: 180_000,
  });
  try {
    const code = await vm.waitExit(180_000);
    if (code !== 0) throw new Error(`busybox guest: qemu exited ${code}`);
    return performance.now() - started;
  } finally {
    await vm.close();
  }
}

checkInputs(images.tsinit!);
checkInputs(images["busybox-init"]!);
const a: number[] = [];
const b: number[] = [];
for (let round = 0; round < BOOTS; round++) {
  for (const which of round % 2 === 0 ? ["tsinit", "busybox"] : ["busybox", "tsinit"]) {
    const ms = which === "tsinit" ? await tsinitOnce() : await busyboxOnce(round);
    (which === "tsinit" ? a : b).push(ms);
    console.error(`smoke ${which.padEnd(7)} #${round + 1}: ${(ms / 1000).toFixed(2)} s`);
  }
}
const range = (v: number[]) => `${(median(v) / 1000).toFixed(2)} s (${(Math.min(...v) / 1000).toFixed(2)}–${(Math.max(...v) / 1000).toFixed(2)})`;
console.log(
  [
    "",
    `CI smoke boot: \`qemu/smoke.sh -- /bin/true\` against busybox init running /bin/true from its inittab, then poweroff; ${BOOTS} each, ABBA.`,
    "",
    "| metric | tsinit (smoke.sh) | busybox init | tsinit / busybox |",
    "| --- | --- | --- | --- |",
    `| command start → exit, status out | ${range(a)} | ${range(b)} | ${(median(a) / median(b)).toFixed(2)} |`,
  ].join("\n"),
);
