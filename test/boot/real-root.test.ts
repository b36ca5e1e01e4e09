// Boot tests of the switch to the real root: the real kernel boots the tsinit image with the
// example root (`make disk`, `make disk-gpt`) on a virtio disk, finds it by each kind of
// root=, switches to it, and shuts it down clean. Each test boots its own copy of the disk,
// and the host checks that copy afterwards with e2fsck and debugfs.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { images } from "./images.ts";
import { arch, killAll, machines, type Qemu } from "./qemu.ts";
import { scenario } from "./scenario.ts";

const BOOT_MS = 90_000;
const TEST_MS = 300_000;
const DISK = process.env.DISK_IMAGE ?? "dist/disk.ext4";
const GPT_DISK = process.env.DISK_GPT_IMAGE ?? "dist/disk-gpt.img";
const image = images.tsinit!;

afterEach(killAll);
const scratch = mkdtempSync(join(tmpdir(), "tsinit-disks-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function sh(argv: string[]): { status: number; output: string } {
  const result = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  return { status: result.exitCode, output: `${result.stdout.toString()}${result.stderr.toString()}` };
}

let copies = 0;
/** A fresh, sparse copy of `disk` for one test. */
function copyOf(disk: string): string {
  if (!existsSync(disk)) throw new Error(`${disk} is missing: run \`make test-boot\` (it builds the disks)`);
  const copy = join(scratch, `disk-${++copies}.img`);
  const result = sh(["cp", "--sparse=always", disk, copy]);
  if (result.status !== 0) throw new Error(`cp ${disk}: ${result.output}`);
  return copy;
}

function blkid(disk: string, tag: string): string {
  return sh(["blkid", "-p", "-o", "value", "-s", tag, disk]).output.trim();
}

/** e2fsck -fn must find nothing to fix: a clean unmount, nothing half written. */
function expectClean(disk: string): void {
  const { status, output } = sh(["e2fsck", "-fn", disk]);
  if (status !== 0) throw new Error(`e2fsck -fn ${disk} exited ${status}:\n${output}`);
}

/** A file's bytes as debugfs reads them from the image (its banner goes to stderr). */
function catOnDisk(disk: string, path: string): string {
  return Bun.spawnSync(["debugfs", "-R", `cat ${path}`, disk], { stdout: "pipe", stderr: "ignore" }).stdout.toString();
}

/** The line of /proc/mounts for `/` in the guest: device, type and options. */
async function rootMount(vm: Qemu): Promise<string> {
  return (await vm.run("awk '$2 == \"/\" {print $1, $3, $4}' /proc/mounts | tail -1")).output.trim();
}

async function poweroff(vm: Qemu): Promise<void> {
  vm.send("poweroff\n");
  expect(await vm.waitExit(60_000)).toBe(0);
}

describe("tsinit switches to a real root", () => {
  test("root=/dev/vda: the disk's services run, / is the disk, initctl boot shows both stages", async () => {
    const disk = copyOf(DISK);
    await scenario(image, "root-dev-vda", async (vm) => {
      await vm.expect(/disk-hello: tsinit runs the services of the example root: \/ is \/dev\/vda \(ext4\)/, BOOT_MS);
      await vm.login(BOOT_MS);
      // Executed as /sbin/init, a link to the disk's tsinit.
      expect((await vm.run("readlink /proc/1/exe")).output.trim()).toBe("/sbin/tsinit");
      expect(await rootMount(vm)).toMatch(/^\/dev\/vda ext4 rw/);
      // The initramfs is gone: its /init is not under the new root, and nothing maps it.
      expect((await vm.run("test -e /init || echo no-init")).output.trim()).toBe("no-init");
      const boot = (await vm.run("initctl boot")).output;
      expect(boot).toMatch(/initramfs +mount -t ext4 -o ro \/dev\/vda \/sysroot/);
      expect(boot).toMatch(/initramfs +initramfs: removed \d+ files/);
      expect(boot).toMatch(/root +tsinit starting as PID 1 in the real root/);
      expect(boot).toMatch(/\[  OK  \] started disk-hello/);
      await poweroff(vm);
    }, { append: "root=/dev/vda", disks: [disk] });
    expectClean(disk);
  }, TEST_MS);

  test("ro is the default: single-user mode leaves / read-only", async () => {
    const disk = copyOf(DISK);
    await scenario(image, "root-ro-single", async (vm) => {
      await vm.expect(/# /, BOOT_MS);
      expect(await rootMount(vm)).toMatch(/^\/dev\/vda ext4 ro/);
      expect((await vm.run("touch /probe")).status).not.toBe(0);
      await poweroff(vm);
    }, { append: "root=LABEL=tsinit-root single", disks: [disk] });
    expectClean(disk);
  }, TEST_MS);

  test("rw mounts it read-write from the start", async () => {
    const disk = copyOf(DISK);
    await scenario(image, "root-rw-single", async (vm) => {
      await vm.expect(/# /, BOOT_MS);
      expect(await rootMount(vm)).toMatch(/^\/dev\/vda ext4 rw/);
      expect((await vm.run("echo rw-ok > /probe && sync && cat /probe")).output.trim()).toBe("rw-ok");
      await poweroff(vm);
    }, { append: `root=UUID=${blkid(DISK, "UUID")} rw single`, disks: [disk] });
    expectClean(disk);
    expect(catOnDisk(disk, "/probe").trim()).toBe("rw-ok");
  }, TEST_MS);

  test("root=PARTUUID= and root=PARTLABEL= find the partition of a GPT disk", async () => {
    const partuuid = sh(["sfdisk", "--part-uuid", GPT_DISK, "2"]).output.trim().toLowerCase();
    expect(partuuid).toMatch(/^[0-9a-f-]{36}$/);
    for (const [name, root] of [["partuuid", `PARTUUID=${partuuid}`], ["partlabel", "PARTLABEL=tsinit-root"]]) {
      const disk = copyOf(GPT_DISK);
      await scenario(image, `root-${name}`, async (vm) => {
        await vm.expect(/disk-hello: tsinit runs the services of the example root: \/ is \/dev\/vda2 \(ext4\)/, BOOT_MS);
        await vm.login(BOOT_MS);
        expect(await rootMount(vm)).toMatch(/^\/dev\/vda2 ext4/);
        await poweroff(vm);
      }, { append: `root=${root}`, disks: [disk] });
    }
  }, 2 * TEST_MS);

  test("a disk plugged in while tsinit waits: its driver is loaded from the uevent, and the root found", async () => {
    const disk = copyOf(DISK);
    await scenario(image, "root-hotplug", async (vm) => {
      await vm.expect(/tsinit starting as PID 1 in the initramfs/, BOOT_MS);
      // No virtio device at the boot's coldplug, so virtio_pci is not loaded: the PCI device's
      // uevent (or, if it came before the listener, the coldplug when the wait begins) brings
      // virtio_pci, whose virtio device's uevent brings virtio_blk, whose disk is the root.
      await vm.monitor(`drive_add 0 if=none,id=hot,file=${disk},format=raw`);
      // qemu answers a device it cannot plug with an error and nothing else happens.
      expect(await vm.monitor(`device_add virtio-blk-pci,drive=hot,id=hotdisk${machines[arch].hotplug}`)).not.toMatch(/Error/i);
      await vm.expect(/disk-hello: tsinit runs the services of the example root: \/ is \/dev\/vda \(ext4\)/, BOOT_MS);
      await vm.login(BOOT_MS);
      const boot = (await vm.run("initctl boot")).output;
      expect(boot).toMatch(/initramfs +insmod \S+virtio_pci\.ko/);
      expect(boot).toMatch(/initramfs +insmod \S+virtio_blk\.ko/);
      await poweroff(vm);
    }, { append: "root=LABEL=tsinit-root rootwait=120" });
    expectClean(disk);
  }, TEST_MS);

  test("init=/bin/sh: a shell is PID 1 in the real root", async () => {
    const disk = copyOf(DISK);
    await scenario(image, "init-sh", async (vm) => {
      await vm.expect(/# /, BOOT_MS);
      expect((await vm.run("cat /proc/1/comm")).output.trim()).toBe("sh");
      expect(await rootMount(vm)).toMatch(/^\/dev\/vda ext4 ro/);
      vm.send("poweroff -f\n");
      expect(await vm.waitExit(60_000)).toBe(0);
    }, { append: "root=/dev/vda init=/bin/sh", disks: [disk] });
  }, TEST_MS);

  test("rd.break: a shell in the initramfs, and the boot goes on when it exits", async () => {
    const disk = copyOf(DISK);
    await scenario(image, "rd-break", async (vm) => {
      await vm.expect(/rd\.break: a shell in the initramfs/, BOOT_MS);
      await vm.expect(/# /, BOOT_MS);
      // Still the initramfs: its /init is there and nothing is mounted on /sysroot yet.
      expect((await vm.run("test -e /init && echo in-initramfs")).output.trim()).toBe("in-initramfs");
      expect((await vm.run("ls /sys/class/block")).output).toMatch(/vda/);
      vm.send("exit\n");
      await vm.expect(/disk-hello: tsinit runs the services of the example root/, BOOT_MS);
      await vm.login(BOOT_MS);
      expect(await rootMount(vm)).toMatch(/^\/dev\/vda ext4/);
      await poweroff(vm);
    }, { append: "root=/dev/vda rd.break", disks: [disk] });
  }, TEST_MS);

  test("a missing root: what was asked, every block device, the recovery shell, then poweroff", async () => {
    const disk = copyOf(DISK);
    await scenario(image, "root-missing", async (vm) => {
      await vm.expect(/root=LABEL=no-such-root: no block device matched within 3 s/, BOOT_MS);
      await vm.expect(/\/dev\/vda: +\S+ +TYPE="ext4" +LABEL="tsinit-root"/, 10_000);
      await vm.expect(/starting recovery/, 10_000);
      await vm.expect(/# /, 30_000);
      expect((await vm.run("test -e /init && echo recovery-in-initramfs")).output.trim()).toBe("recovery-in-initramfs");
      vm.send("exit\n");
      await vm.expect(/r\) retry/, 30_000);
      vm.send("p\n");
      expect(await vm.waitExit(60_000)).toBe(0);
    }, { append: "root=LABEL=no-such-root rootwait=3", disks: [disk] });
  }, TEST_MS);

  test("20 cycles of write, sync, poweroff leave the disk clean with every byte right", async () => {
    const disk = copyOf(DISK);
    const uuid = blkid(DISK, "UUID");
    // Written by the guest (a long line typed on the serial console would overrun its FIFO):
    // `seq 1 N` with N growing, from a few bytes to tens of kilobytes.
    const lines = (cycle: number) => cycle * cycle * 40;
    const content = (cycle: number) => Array.from({ length: lines(cycle) }, (_, i) => `${i + 1}\n`).join("");
    for (let cycle = 1; cycle <= 20; cycle++) {
      // Every kind of root= that names a whole disk takes its turn.
      const root = ["/dev/vda", "LABEL=tsinit-root", `UUID=${uuid}`][cycle % 3];
      await scenario(image, `write-cycle-${cycle}`, async (vm) => {
        await vm.login(BOOT_MS);
        const { status } = await vm.run(`seq 1 ${lines(cycle)} > /cycle-${cycle} && sync`);
        expect(status).toBe(0);
        await poweroff(vm);
      }, { append: `root=${root}`, disks: [disk] });
      expectClean(disk);
    }
    for (let cycle = 1; cycle <= 20; cycle++) expect(catOnDisk(disk, `/cycle-${cycle}`)).toBe(content(cycle));
  }, 20 * TEST_MS);

  test("reboot and ctrl-alt-del with a disk root leave it clean", async () => {
    const disk = copyOf(DISK);
    await scenario(image, "disk-reboot", async (vm) => {
      await vm.login(BOOT_MS);
      expect((await vm.run("echo before-reboot > /reboot-probe && sync")).status).toBe(0);
      vm.send("reboot\n");
      // -no-reboot: qemu exits when the guest restarts.
      expect(await vm.waitExit(60_000)).toBe(0);
    }, { append: "root=/dev/vda", disks: [disk] });
    expectClean(disk);
    expect(catOnDisk(disk, "/reboot-probe").trim()).toBe("before-reboot");
    // arm64's -M virt has no keyboard for sendkey: there is no ctrl-alt-del to press.
    if (arch !== "amd64") return;
    await scenario(image, "disk-ctrl-alt-del", async (vm) => {
      await vm.login(BOOT_MS);
      expect((await vm.run("echo before-cad > /cad-probe && sync")).status).toBe(0);
      await vm.monitor("sendkey ctrl-alt-delete");
      await vm.expect(/system is going down for reboot/, 30_000);
      expect(await vm.waitExit(60_000)).toBe(0);
    }, { append: "root=/dev/vda", disks: [disk] });
    expectClean(disk);
    expect(catOnDisk(disk, "/cad-probe").trim()).toBe("before-cad");
  }, TEST_MS);
});
