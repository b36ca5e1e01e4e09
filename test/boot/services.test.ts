// Boot tests of the demo image's services (tsinit only): what only a real kernel shows —
// every service of /etc/tsinit.d started with its status line, poweroff stopping them in
// reverse dependency order, single-user mode, recovery, and a bad file reported by file:line.

import { afterEach, describe, expect, test } from "bun:test";
import { images } from "./images.ts";
import { scenario } from "./scenario.ts";
import { killAll, type BootOptions, type Qemu } from "./qemu.ts";

const TEST_MS = 240_000;
const BOOT_MS = 60_000;
const image = images.tsinit!;

afterEach(killAll);

/** The tsinit image only: these scenarios are about its services. */
const tsinitScenario = (name: string, body: (vm: Qemu) => Promise<void>, options: Partial<BootOptions> = {}) => scenario(image, name, body, options);

const service = (name: string, text: string) => ({ type: "file" as const, path: `/etc/tsinit.d/${name}`, mode: 0o644, data: text });

describe("tsinit services in qemu", () => {
  test("the demo services all start, and poweroff stops them in reverse order", async () => {
    await tsinitScenario("demo-services", async (vm) => {
      // They start in parallel, so their lines come in any order.
      for (const name of ["early", "syslogd", "klogd", "getty"]) {
        vm.cursor = 0;
        await vm.expect(new RegExp(`\\[  OK  \\] started ${name}`), BOOT_MS);
      }
      vm.cursor = 0;
      await vm.login();
      const { output } = await vm.run("cat /proc/[0-9]*/comm | sort | tr '\\n' ' '");
      expect(output).toContain("klogd");
      expect(output).toContain("syslogd");
      expect((await vm.run("ls /sys/fs/cgroup/tsinit")).output).toContain("syslogd");
      // initctl over /run/tsinit.sock: the table, a restart that waits, a crash count.
      const list = await vm.run("initctl list");
      expect(list.status).toBe(0);
      expect(list.output).toMatch(/klogd\s+started/);
      // enable and disable as PID 1 does them: boot.d's entry and the service with it.
      const disabled = await vm.run("initctl disable klogd && test ! -e /etc/tsinit.d/boot.d/klogd && initctl is-started klogd; echo rc=$?");
      expect(disabled.output).toContain("disabled klogd for boot (removed /etc/tsinit.d/boot.d/klogd); it is stopped");
      expect(disabled.output).toContain("STOPPED\nrc=1");
      const enabled = await vm.run("initctl enable klogd && readlink /etc/tsinit.d/boot.d/klogd && initctl is-started klogd");
      expect(enabled.status).toBe(0);
      expect(enabled.output).toContain("enabled klogd for boot (/etc/tsinit.d/boot.d/klogd); it is started");
      expect(enabled.output).toContain("../klogd");
      const restart = await vm.run("initctl restart klogd");
      expect(restart.status).toBe(0);
      expect(restart.output).toContain("restarted klogd");
      const status = await vm.run(
        "kill -9 $(cat /proc/[0-9]*/stat | awk '$2 == \"(syslogd)\" {print $1}'); " +
          "until initctl status syslogd | grep -q 'crashes: *1 in a row'; do sleep 0.1; done; initctl status syslogd",
      );
      expect(status.output).toMatch(/last exit:\s+killed by SIGKILL/);
      vm.send("poweroff\n");
      const klogd = await vm.expect(/\[  OK  \] stopped klogd/, BOOT_MS);
      const syslogd = await vm.expect(/\[  OK  \] stopped syslogd/, BOOT_MS);
      const early = await vm.expect(/\[  OK  \] stopped early/, BOOT_MS);
      expect(klogd.index).toBeLessThan(syslogd.index);
      expect(syslogd.index).toBeLessThan(early.index);
      expect(await vm.waitExit(BOOT_MS)).toBe(0);
    });
  }, TEST_MS);

  test("a typo in a boot.d service is reported by file:line, and the machine still reaches login", async () => {
    await tsinitScenario(
      "boot-d-typo",
      async (vm) => {
        await vm.expect(/\/etc\/tsinit\.d\/typo:3: restart: "sometimes" is not/, BOOT_MS);
        await vm.expect(/\/etc\/tsinit\.d\/boot\.d: "typo" failed to load; it fails when started/, BOOT_MS);
        // The prompt may come before or after the getty's status line: look from the start.
        vm.cursor = 0;
        await vm.login();
        expect((await vm.run("initctl is-started getty")).status).toBe(0);
        const status = await vm.run("initctl status typo");
        expect(status.output).toContain('did not load: "typo" failed to load: /etc/tsinit.d/typo:3: restart:');
      },
      { extraFiles: [service("boot.d/typo", ""), service("typo", "type = process\ncommand = /bin/true\nrestart = sometimes\n")] },
    );
  }, TEST_MS);

  test("single-user mode starts only the root shell on the console", async () => {
    await tsinitScenario(
      "single",
      async (vm) => {
        await vm.expect(/\[  OK  \] started single/, BOOT_MS);
        vm.send("echo single-$((40+2)); cat /proc/[0-9]*/comm | grep -c -e getty -e syslogd\n");
        await vm.expect(/single-42\s+0\s/, BOOT_MS);
      },
      { append: "single" },
    );
  }, TEST_MS);

  test("a target whose dependency fails starts recovery; a bad file is reported by file:line", async () => {
    await tsinitScenario(
      "recovery",
      async (vm) => {
        await vm.expect(/\/etc\/tsinit\.d\/typo:2: restart: "sometimes" is not/, BOOT_MS);
        await vm.expect(/\[FAILED\] broken: exited 1 before it was ready/, BOOT_MS);
        await vm.expect(/\[FAILED\] target: dependency broken failed/, BOOT_MS);
        await vm.expect(/starting recovery/, BOOT_MS);
        await vm.expect(/\[  OK  \] started recovery/, BOOT_MS);
        vm.send("echo recovery-$((40+2))\n");
        await vm.expect(/recovery-42/, BOOT_MS);
      },
      {
        append: "tsinit.target=target",
        extraFiles: [
          service("target", "type = internal\ndepends-on = broken\nwaits-for = typo\n"),
          service("broken", "type = scripted\ncommand = /bin/false\n"),
          service("typo", "command = /bin/true\nrestart = sometimes\n"),
        ],
      },
    );
  }, TEST_MS);
});
