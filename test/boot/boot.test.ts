// Boot tests: the real kernel boots the real image in qemu (TCG) for each
// scenario. The images are built once per run by `make test-boot`; each test
// runs against every image in BOOT_TEST_IMAGES (tsinit and busybox-init, the
// peer, which also keeps the harness itself honest).

import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { images, selectedImages } from "./images.ts";
import { arch, killAll, type Qemu } from "./qemu.ts";
import { scenario } from "./scenario.ts";

const BOOT_MS = 60_000; // the cloud kernel reaches /init in ~4 s under TCG
const TEST_MS = 240_000;

afterEach(killAll);

/** Re-runs `probe` until `done` holds for its result, or fails after `timeoutMs`. */
async function poll<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (performance.now() > deadline) throw new Error(`still ${JSON.stringify(value)} after ${timeoutMs} ms`);
  }
}

// Counts processes by state and by parent, from /proc (no ps needed).
const ZOMBIES = `cat /proc/[0-9]*/stat 2>/dev/null | awk '$3 == "Z"' | wc -l`;
const ORPHAN_SLEEPS = `cat /proc/[0-9]*/stat 2>/dev/null | awk '$2 == "(sleep)" && $4 == 1' | wc -l`;
const ORPHAN_SLEEP_PIDS = `cat /proc/[0-9]*/stat 2>/dev/null | awk '$2 == "(sleep)" && $4 == 1 {print $1}'`;

// A process of its own session that says so on the console when it gets
// SIGTERM: proof that shutdown went through init, which signals every
// remaining process (the kernel's immediate restart signals nothing). It
// leaves the getty service's cgroup, where tsinit would stop it with the
// service, to be one of the "remaining processes" of SPEC 6. It says
// "witness-21" once its trap is set; the test waits for that before the
// shutdown, which could otherwise come first.
const TERM_WITNESS =
  "setsid sh -c '[ -w /sys/fs/cgroup/cgroup.procs ] && echo $$ > /sys/fs/cgroup/cgroup.procs; " +
  "trap \"echo orderly-\\$((40+2)) >/dev/console; exit 0\" TERM; echo witness-$((20+1)) >/dev/console; " +
  "while :; do sleep 1; done' </dev/null >/dev/null 2>&1 &";

test("the harness leaves no qemu behind when it stops a running guest", async () => {
  await scenario(images["busybox-init"]!, "harness-close", async (vm) => {
    await vm.expect(/Run \/init as init process/, BOOT_MS);
    const pid = vm.qemuPid();
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    await vm.close();
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  });
}, TEST_MS);

for (const image of selectedImages()) {
  describe(image.name, () => {
    test("boots to login:, logs in as root and runs a command", async () => {
      await scenario(image, "login", async (vm) => {
        await vm.expect(/Run \/init as init process/, BOOT_MS);
        await vm.login(BOOT_MS);
        const { output, status } = await vm.run("echo hello-$((6*7))");
        expect(output.trim()).toBe("hello-42");
        expect(status).toBe(0);
        expect((await vm.run("cat /proc/1/comm")).output.trim()).toBe(image.name === "tsinit" ? "tsinit" : "init");
        if (image.name === "tsinit") {
          // /init tunes PID 1's JavaScriptCore; a service (syslogd) does not inherit that.
          const environ = (pid: string) => vm.run(`tr '\\0' '\\n' < /proc/${pid}/environ | grep -E '^(BUN_JSC_|TSINIT_CONSOLE)' | cut -d= -f1`);
          expect((await environ("1")).output.trim()).toBe("BUN_JSC_thresholdForJITAfterWarmUp");
          expect((await environ("$(pidof syslogd)")).output.trim()).toBe("TSINIT_CONSOLE");
        }
      });
    }, TEST_MS);

    test("files appended as a second cpio are in the root", async () => {
      const extraFiles = [{ type: "file" as const, path: "/etc/boot-test", data: "appended-archive-ok\n" }];
      await scenario(image, "extra-cpio", async (vm) => {
        await vm.login(BOOT_MS);
        expect((await vm.run("cat /etc/boot-test")).output.trim()).toBe("appended-archive-ok");
        // The base image is still whole.
        expect((await vm.run("cat /etc/hostname")).output.trim()).toBe("tsinit");
      }, { extraFiles });
    }, TEST_MS);

    test("orphans re-parented to PID 1 are reaped", async () => {
      await scenario(image, "orphans", async (vm) => {
        await vm.login(BOOT_MS);
        // Each subshell exits at once (the shell waits for it), so its sleep is PID 1's child
        // by the time the loop ends. They sleep until the test kills them: counted while alive,
        // whatever the speed of the guest.
        const made = await vm.run(`for i in $(seq 50); do (sleep 1000 &); done; ${ORPHAN_SLEEPS}`);
        expect(Number(made.output.trim())).toBe(50);
        // They die together; PID 1 must reap every one of them.
        expect((await vm.run(`kill $(${ORPHAN_SLEEP_PIDS})`)).status).toBe(0);
        await poll(
          async () => (await vm.run(`echo $(${ZOMBIES}) $(${ORPHAN_SLEEPS})`)).output.trim(),
          (counts) => counts === "0 0",
          60_000,
        );
      });
    }, TEST_MS);

    test("a killed getty session is replaced by a new login:", async () => {
      await scenario(image, "getty-respawn", async (vm) => {
        await vm.login(BOOT_MS);
        // getty execs login, which execs the shell: the session leader that
        // init supervises is the shell's session id.
        await vm.run("echo session $(cut -d' ' -f6 /proc/$$/stat)");
        vm.send("kill -9 $(cut -d' ' -f6 /proc/$$/stat)\n");
        await vm.login(30_000);
        expect((await vm.run("echo back-$((2+3))")).output.trim()).toBe("back-5");
      });
    }, TEST_MS);

    // Each shutdown path must be init's orderly one (processes get SIGTERM
    // before the kernel stops), not the kernel's immediate restart.
    const shutdowns: [string, string, (vm: Qemu) => Promise<void>, RegExp][] = [
      ["poweroff powers the machine off", "poweroff", async (vm) => vm.send("poweroff\n"), /reboot: Power down/],
      ["reboot restarts the machine", "reboot", async (vm) => vm.send("reboot\n"), /reboot: Restarting system/],
      [
        "ctrl-alt-del from the keyboard reboots through init",
        "ctrl-alt-del",
        async (vm) => void (await vm.monitor("sendkey ctrl-alt-delete")),
        /reboot: Restarting system/,
      ],
    ];
    for (const [title, name, trigger, kernelLine] of shutdowns) {
      // arm64's -M virt has no keyboard for sendkey: there is no ctrl-alt-del to press.
      test.skipIf(name === "ctrl-alt-del" && arch !== "amd64")(`${title}: qemu exits 0 after an orderly shutdown`, async () => {
        await scenario(image, name, async (vm) => {
          // At login: init is up (and has turned the kernel's own C-A-D off).
          await vm.login(BOOT_MS);
          // The witness's line can come before or after run()'s end marker: look from before it.
          const armed = vm.cursor;
          await vm.run(TERM_WITNESS);
          vm.cursor = armed;
          await vm.expect(/witness-21/, 30_000);
          await trigger(vm);
          expect(await vm.waitExit(60_000)).toBe(0);
          const after = vm.transcript.slice(vm.cursor);
          expect(after).toMatch(/orderly-42/);
          expect(after).toMatch(kernelLine);
          expect(after.search(/orderly-42/)).toBeLessThan(after.search(kernelLine));
        });
      }, TEST_MS);
    }
  });
}
