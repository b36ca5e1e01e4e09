import { describe, expect, it } from "vitest";
import { parseMounts } from "../../src/base/mounts.ts";
import { earlyMountPlan, runPlan, type PlanStep } from "../../src/boot/early-mounts.ts";
import { unmountPlan } from "../../src/shutdown/unmount-plan.ts";

const mountPoints = (text: string) => parseMounts(text).map((m) => m.target);
import { FakeSys } from "./fakes/fake-sys.ts";
import { SysError } from "../../src/sys/sys.ts";

const describeAll = (steps: PlanStep[]) => steps.map((s) => s.describe());

describe("early mounts", () => {
  it("mounts everything that is missing, in order", () => {
    expect(describeAll(earlyMountPlan(["/proc"], false))).toEqual([
      "mount -t sysfs sysfs /sys",
      "mount -t devtmpfs -o mode=0755 devtmpfs /dev",
      "mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts",
      "mount -t tmpfs -o mode=1777 tmpfs /dev/shm",
      "mount -t tmpfs -o mode=0755 tmpfs /run",
    ]);
  });

  it("skips what is mounted already and adds cgroup2 when the kernel has it", () => {
    const mounted = mountPoints("proc /proc proc rw 0 0\nsysfs /sys sysfs rw 0 0\ndevtmpfs /dev devtmpfs rw 0 0\n");
    expect(mounted).toEqual(["/proc", "/sys", "/dev"]);
    expect(describeAll(earlyMountPlan(mounted, true))).toEqual([
      "mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts",
      "mount -t tmpfs -o mode=1777 tmpfs /dev/shm",
      "mount -t tmpfs -o mode=0755 tmpfs /run",
      "mount -t cgroup2 cgroup2 /sys/fs/cgroup",
    ]);
  });

  it("undoes the kernel's octal escapes in mount points", () => {
    expect(mountPoints("x /mnt/a\\040b ext4 rw 0 0")).toEqual(["/mnt/a b"]);
  });

  it("creates a missing mount point, and goes on after a failed step", () => {
    const sys = new FakeSys();
    sys.failMount.set("/dev/pts", new SysError("mount", 19, "ENODEV", "/dev/pts"));
    const failures: string[] = [];
    runPlan(sys, earlyMountPlan(["/proc", "/sys", "/dev"], false), (step, error) => failures.push(`${step.describe()}: ${error.message}`));
    expect(failures).toEqual(["mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts: mount /dev/pts: ENODEV"]);
    expect(sys.calls).toEqual([
      "mkdir /dev/pts",
      "mount devpts /dev/pts",
      "mkdir /dev/shm",
      "mount tmpfs /dev/shm",
      "mkdir /run",
      "mount tmpfs /run",
    ]);
  });
});

describe("unmount plan", () => {
  const procMounts = [
    "rootfs / rootfs rw 0 0",
    "proc /proc proc rw 0 0",
    "sysfs /sys sysfs rw 0 0",
    "devtmpfs /dev devtmpfs rw 0 0",
    "devpts /dev/pts devpts rw 0 0",
    "tmpfs /run tmpfs rw 0 0",
    "/dev/vda /mnt ext4 rw 0 0",
  ].join("\n");

  it("unmounts in reverse order and keeps /proc, /sys, /dev and the rootfs", () => {
    expect(describeAll(unmountPlan(parseMounts(procMounts)))).toEqual(["umount /mnt", "umount /run", "umount /dev/pts"]);
  });

  it("remounts a real root read-only instead of unmounting it", () => {
    expect(describeAll(unmountPlan(parseMounts("/dev/vda / ext4 rw 0 0\ntmpfs /run tmpfs rw 0 0")))).toEqual([
      "umount /run",
      "mount -o remount,ro /",
    ]);
  });

  it("remounts a busy filesystem read-only", () => {
    const sys = new FakeSys();
    sys.failUmount.set("/mnt", new SysError("umount", 16, "EBUSY", "/mnt"));
    const failures: string[] = [];
    runPlan(sys, unmountPlan(parseMounts("/dev/vda /mnt ext4 rw 0 0")), (step, error) => failures.push(step.describe() + error.message));
    expect(failures).toEqual([]);
    expect(sys.calls).toEqual(["umount /mnt", "mount /dev/vda /mnt remount,ro"]);
  });
});
