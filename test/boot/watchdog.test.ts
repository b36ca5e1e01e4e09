// The hardware watchdog in qemu, with the real kernel and image: softdog (a module the image
// carries) is loaded by modules-load=, tsinit opens /dev/watchdog0 and pets it from its event
// loop. A PID 1 stalled on purpose (initctl debug stall, only with tsinit.debug) stops petting,
// and softdog resets the machine (qemu -no-reboot exits); without a stall the machine stays up
// past several timeouts, and a poweroff disarms the watchdog with the magic close first; a
// reboot keeps it armed to the end, and switch_root hands it, still armed, to the real root.
import { afterEach, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { images } from "./images.ts";
import { killAll, type Qemu } from "./qemu.ts";
import { scenario } from "./scenario.ts";

const BOOT_MS = 90_000;
const DISK = process.env.DISK_IMAGE ?? "dist/disk.ext4";
const TEST_MS = 300_000;
/** softdog's message as it resets (drivers/watchdog/softdog.c, soft_noboot and soft_panic off). */
const SOFTDOG_RESET = /softdog: Initiating system reboot/;

afterEach(killAll);

/** The machine stays up `seconds` with no reset, then a poweroff disarms the watchdog and ends it. */
async function staysUpThenPowersOff(vm: Qemu, seconds: number): Promise<void> {
  const alive = await vm.run(`sleep ${seconds}; echo still-up-$((40+2))`, (seconds + 30) * 1000);
  expect(alive.output).toContain("still-up-42");
  expect(vm.transcript).not.toMatch(SOFTDOG_RESET);
  vm.send("poweroff\n");
  await vm.expect(/watchdog \/dev\/watchdog0: disarmed \(magic close\) for the poweroff/, 60_000);
  expect(await vm.waitExit(60_000)).toBe(0);
  expect(vm.transcript).not.toMatch(SOFTDOG_RESET);
}

test("a stalled PID 1 is reset by the watchdog within its timeout", async () => {
  const timeoutS = 10;
  await scenario(
    images.tsinit!,
    "watchdog-stall",
    async (vm) => {
      await vm.expect(new RegExp(`watchdog /dev/watchdog0: timeout ${timeoutS} s, petted every 3333 ms`), BOOT_MS);
      await vm.login(BOOT_MS);
      // The guest's clock, not the host's: a busy host delays what qemu prints by seconds. The
      // uptime is read just before the stall, so the span measured is at least the real one.
      const { output, status } = await vm.run("cut -d' ' -f1 /proc/uptime; initctl debug stall 600");
      expect(status).toBe(0);
      expect(output).toContain("PID 1 stalls for 600 s");
      const stalledAt = Number(/^(\d+\.\d+)$/m.exec(output)?.[1]);
      expect(stalledAt).toBeGreaterThan(0);
      const reset = await vm.expect(/\[\s*(\d+\.\d+)\] softdog: Initiating system reboot/, (timeoutS + 20) * 1000);
      const afterS = Number(reset[1]) - stalledAt;
      console.log(`watchdog-stall: softdog reset ${afterS.toFixed(1)} s (guest clock) after the stall began (timeout ${timeoutS} s)`);
      // Not before the last pet's timeout could run out (a third of it may have gone before the
      // stall), and not the driver's default of 60 s: the timeout tsinit set is the one at work.
      expect(afterS).toBeGreaterThan((timeoutS * 2) / 3 - 1);
      expect(afterS).toBeLessThan(timeoutS + 10);
      expect(await vm.waitExit(30_000)).toBe(0);
      // Nothing reset the machine before the stall.
      expect(vm.transcript.slice(0, reset.index)).not.toMatch(SOFTDOG_RESET);
    },
    { append: `tsinit.debug modules-load=softdog tsinit.watchdog=/dev/watchdog0:${timeoutS}` },
  );
}, TEST_MS);

test("no stall: the machine stays up past several timeouts, and a poweroff disarms the watchdog", async () => {
  // A host that starves qemu for longer than timeout minus interval resets the guest: 8 s
  // leaves 5.3 s of that.
  const timeoutS = 8;
  const conf = `# PID 1's settings\nwatchdog = /dev/watchdog0:${timeoutS}\nwatchdog = /dev/nosuchdog\nwatchdg = /dev/watchdog1\n`;
  await scenario(
    images.tsinit!,
    "watchdog-steady",
    async (vm) => {
      // A bad setting and a device that is not there are reported; the boot goes on.
      await vm.expect(/\/etc\/tsinit\.conf:4: watchdg: unknown setting/, BOOT_MS);
      await vm.expect(/watchdog \/dev\/watchdog0: timeout 8 s, petted every 2666 ms/, BOOT_MS);
      await vm.expect(/watchdog \/dev\/nosuchdog \(\/etc\/tsinit\.conf:3\): open: ENOENT; not watched/, BOOT_MS);
      await vm.login(BOOT_MS);
      // Without tsinit.debug the stall is refused, saying why.
      const refused = await vm.run("initctl debug stall 60");
      expect(refused.status).toBe(1);
      expect(refused.output).toContain("debug stall needs tsinit.debug on the kernel command line");
      // Four timeouts of an idle machine: PID 1 keeps petting.
      await staysUpThenPowersOff(vm, 4 * timeoutS);
      // The kernel says this when a watchdog is closed without the magic character.
      expect(vm.transcript).not.toContain("did not stop");
      expect(vm.transcript).toMatch(/reboot: Power down/);
    },
    { append: "modules-load=softdog", extraFiles: [{ type: "file", path: "/etc/tsinit.conf", data: conf }] },
  );
}, TEST_MS);

test("a reboot keeps the watchdog armed to the end, and restarts with no reset", async () => {
  await scenario(
    images.tsinit!,
    "watchdog-reboot",
    async (vm) => {
      await vm.expect(/watchdog \/dev\/watchdog0: timeout 10 s, petted every 3333 ms/, BOOT_MS);
      await vm.login(BOOT_MS);
      vm.send("reboot\n");
      await vm.expect(/reboot: Restarting system/, 60_000);
      expect(await vm.waitExit(60_000)).toBe(0);
      expect(vm.transcript).not.toMatch(SOFTDOG_RESET);
      expect(vm.transcript).not.toContain("disarmed");
      expect(vm.transcript).not.toContain("did not stop");
    },
    { append: "modules-load=softdog tsinit.watchdog=/dev/watchdog0:10" },
  );
}, TEST_MS);

test("switch_root: the watchdog stays armed across the exec and the real root's tsinit takes it over", async () => {
  if (!existsSync(DISK)) throw new Error(`${DISK} is missing: run \`make test-boot\` (it builds the disks)`);
  // From the exec to the real root's tsinit opening the device again took 6.7 s under TCG
  // (measured): the timeout must cover that start with room for a loaded machine.
  const timeoutS = 20;
  await scenario(
    images.tsinit!,
    "watchdog-switch-root",
    async (vm) => {
      await vm.expect(/watchdog \/dev\/watchdog0: timeout 20 s, petted every 6666 ms/, BOOT_MS);
      // The exec closes the descriptor without the magic character: the kernel says so, pets
      // it once and leaves it running.
      await vm.expect(/watchdog0: watchdog did not stop!/, BOOT_MS);
      await vm.expect(/tsinit starting as PID 1 in the real root/, BOOT_MS);
      await vm.expect(/watchdog \/dev\/watchdog0: timeout 20 s, petted every 6666 ms/, BOOT_MS);
      await vm.login(BOOT_MS);
      await staysUpThenPowersOff(vm, 2 * timeoutS);
    },
    { append: `root=/dev/vda modules-load=softdog tsinit.watchdog=/dev/watchdog0:${timeoutS}`, disks: [DISK], diskSnapshot: true },
  );
}, TEST_MS);
