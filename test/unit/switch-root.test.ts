// switch_root as a plan over a fake machine: what it mounts, moves, deletes and executes, what
// it refuses to delete, and how far a failure lets it go.
import { describe, expect, it } from "vitest";
import { BootRecord, formatEntries, parseRecord, serializeRecord, MAX_ENTRIES_PER_STAGE } from "../../src/boot/boot-record.ts";
import { parseCommandLine } from "../../src/boot/cmdline.ts";
import { checkIsInitramfs, leftoverMounts, removeTree } from "../../src/boot/initramfs-cleanup.ts";
import { chooseInit, initCandidates, resolveInRoot } from "../../src/boot/real-init.ts";
import { NEW_ROOT, runSwitchPlan, switchRootPlan, type SwitchRootRequest, type SwitchState } from "../../src/boot/switch-root.ts";
import type { Sys } from "../../src/sys/sys.ts";
import { ExecCalled, FakeSys, SysError } from "./fakes/fake-sys.ts";

/** An initramfs with /init, tsinit and busybox, and a real root with /sbin/init -> tsinit mounted at /sysroot. */
function machine(): FakeSys {
  const sys = new FakeSys();
  for (const dir of ["/bin", "/sbin", "/etc", "/proc", "/sys", "/dev", "/run", NEW_ROOT]) sys.dirs.add(dir);
  sys.files.set("/init", "#!/bin/busybox sh");
  sys.files.set("/sbin/tsinit", "ELF");
  sys.files.set("/bin/busybox", "ELF");
  sys.links.set("/bin/sh", "busybox");
  sys.files.set("/etc/passwd", "root:x:0:0::/root:/bin/sh");
  // The real root: another filesystem.
  for (const dir of ["/bin", "/sbin", "/proc", "/sys", "/dev", "/run", "/etc"]) sys.dirs.add(`${NEW_ROOT}${dir}`);
  sys.files.set(`${NEW_ROOT}/sbin/tsinit`, "ELF");
  sys.links.set(`${NEW_ROOT}/sbin/init`, "tsinit");
  sys.deviceOf.set(NEW_ROOT, 2);
  sys.files.set("/proc/filesystems", "nodev\tsysfs\nnodev\tproc\n\text4\n\tvfat\n");
  sys.files.set(`${NEW_ROOT}/proc/meminfo`, "MemTotal: 1000 kB\nMemAvailable: 512000 kB\n");
  return sys;
}

function request(overrides: Partial<SwitchRootRequest> = {}): SwitchRootRequest {
  return { device: "/dev/vda", fstypes: ["ext4"], readOnly: true, initArgs: ["single"], env: { HOME: "/", TERM: "linux" }, console: "/dev/console", ...overrides };
}

function run(sys: FakeSys, req: SwitchRootRequest) {
  const notes: string[] = [];
  const errors: Error[] = [];
  const state: SwitchState = { note: (text) => notes.push(text), handOff: () => ({ path: "/run/tsinit/record.json", data: "{}" }) };
  const outcome = runSwitchPlan(sys, switchRootPlan(req, state), (_step, error) => errors.push(error));
  return { outcome, notes, errors, state };
}

describe("switch_root plan", () => {
  it("mounts read-only, moves the early mounts, empties the initramfs, chroots and execs the real init", () => {
    const sys = machine();
    const { outcome, errors, notes } = run(sys, request());
    // The exec "succeeded": the fake throws instead of returning, and the runner reports it.
    expect(outcome.kind).toBe("stranded");
    const exec = errors.find((e) => e instanceof ExecCalled) as ExecCalled;
    expect(exec.path).toBe("/sbin/init");
    expect(exec.argv).toEqual(["/sbin/init", "single"]);
    const calls = sys.calls.filter((c) => !c.startsWith("unlink") && !c.startsWith("rmdir"));
    expect(calls).toEqual([
      "mount /dev/vda /sysroot",
      "mount /dev /sysroot/dev",
      "mount /proc /sysroot/proc",
      "mount /sys /sysroot/sys",
      "mount /run /sysroot/run",
      "mkdir /sysroot/run/tsinit",
      "chdir /sysroot",
      "mount . /",
      "chroot .",
      "chdir /",
      "reopen console /dev/console",
      "exec /sbin/init /sbin/init single",
    ]);
    // The initramfs is gone, the new root is untouched.
    expect(sys.files.has("/sbin/tsinit")).toBe(false);
    expect(sys.files.has("/init")).toBe(false);
    expect(sys.links.has("/bin/sh")).toBe(false);
    expect(sys.files.has(`${NEW_ROOT}/sbin/tsinit`)).toBe(true);
    expect(sys.files.get(`${NEW_ROOT}/run/tsinit/record.json`)).toBe("{}");
    expect(notes.some((n) => /^initramfs: removed \d+ files and \d+ directories, [\d.]+ MiB; MemAvailable 500.0 -> 500.0 MiB/.test(n))).toBe(true);
  });

  it("prints as shell lines", () => {
    const lines = switchRootPlan(request({ readOnly: false, flags: "noatime" }), { note: () => {}, handOff: () => undefined }).map((s) => s.describe());
    expect(lines).toContain("mount -t ext4 -o rw,noatime /dev/vda /sysroot");
    expect(lines).toContain("mount --move /proc /sysroot/proc");
    expect(lines.at(-1)).toMatch(/^exec the real init as PID 1/);
  });

  it("a root that cannot be mounted leaves the initramfs whole", () => {
    const sys = machine();
    sys.failMount.set(NEW_ROOT, new SysError("mount", 22, "EINVAL", NEW_ROOT));
    const { outcome } = run(sys, request({ fstypes: ["ext4", "vfat"] }));
    expect(outcome.kind).toBe("not-switched");
    expect(outcome.error.message).toMatch(/ext4: EINVAL, vfat: EINVAL/);
    expect(sys.files.has("/sbin/tsinit")).toBe(true);
    expect(sys.calls.some((c) => c.startsWith("chroot"))).toBe(false);
  });

  it("without rootfstype or a probed type it tries every block filesystem the kernel has", () => {
    const sys = machine();
    sys.failMount.set(NEW_ROOT, new SysError("mount", 22, "EINVAL", NEW_ROOT));
    const { outcome } = run(sys, request({ fstypes: [] }));
    expect(outcome.error.message).toMatch(/ext4: EINVAL, vfat: EINVAL\)/);
  });

  it("a root without any init is unmounted again, nothing deleted", () => {
    const sys = machine();
    sys.files.delete(`${NEW_ROOT}/sbin/tsinit`);
    const { outcome } = run(sys, request());
    expect(outcome.kind).toBe("not-switched");
    expect(outcome.error.message).toMatch(/no init in the new root \(\/sbin\/init: not found; \/sbin\/tsinit: not found; \/bin\/sh: not found\)/);
    expect(sys.calls).toContain("umount /sysroot");
    expect(sys.files.has("/init")).toBe(true);
  });

  it("init= comes first; a missing one falls back to the defaults", () => {
    expect(initCandidates(undefined)).toEqual(["/sbin/init", "/sbin/tsinit", "/bin/sh"]);
    expect(initCandidates("/bin/sh")).toEqual(["/bin/sh", "/sbin/init", "/sbin/tsinit"]);
    const sys = machine();
    const { errors, notes } = run(sys, request({ init: "/usr/bin/missing" }));
    expect((errors.find((e) => e instanceof ExecCalled) as ExecCalled).path).toBe("/sbin/init");
    expect(notes).toContain("passed over /usr/bin/missing: not found");
  });

  it("an exec that fails goes on to the next candidate", () => {
    const sys = machine();
    sys.files.set(`${NEW_ROOT}/bin/sh`, "ELF");
    sys.failExec.set("/sbin/init", new SysError("execve", 8, "ENOEXEC", "/sbin/init"));
    const { errors } = run(sys, request());
    expect((errors.find((e) => e instanceof ExecCalled) as ExecCalled).path).toBe("/sbin/tsinit");
  });

  it("a root without /proc is refused before anything moves (the real init could not run)", () => {
    const sys = machine();
    sys.dirs.delete(`${NEW_ROOT}/proc`);
    const { outcome } = run(sys, request());
    expect(outcome.kind).toBe("not-switched");
    expect(outcome.error.message).toMatch(/the new root has no \/proc directory/);
    expect(sys.calls).toContain("umount /sysroot");
    expect(sys.calls).not.toContain("mount /dev /sysroot/dev");
    expect(sys.files.has("/init")).toBe(true);
  });

  it("a mount point that is a link in the new root is followed there, not in the initramfs", () => {
    const sys = machine();
    sys.dirs.delete(`${NEW_ROOT}/run`);
    sys.links.set(`${NEW_ROOT}/run`, "/var/run");
    sys.dirs.add(`${NEW_ROOT}/var`);
    sys.dirs.add(`${NEW_ROOT}/var/run`);
    run(sys, request());
    expect(sys.calls).toContain("mount /run /sysroot/var/run");
  });

  it("a missing mount point in the new root: that mount is detached instead", () => {
    const sys = machine();
    sys.dirs.delete(`${NEW_ROOT}/run`);
    const { notes } = run(sys, request());
    expect(sys.calls).toContain("umount /run detach");
    expect(notes).toContain("/sysroot/run is missing: /run is unmounted instead of moved");
  });
});

describe("the initramfs cleanup", () => {
  it("detaches the mounts left in the initramfs (the stub's squashfs), deepest first, before deleting", () => {
    const mounts = [
      "rootfs / rootfs rw 0 0",
      "/dev/loop0 /lib/tsinit/mnt squashfs ro 0 0",
      "/dev/loop1 /lib/tsinit/mnt/extra squashfs ro 0 0",
      "/dev/vda /sysroot ext4 ro 0 0",
      "devtmpfs /sysroot/dev devtmpfs rw 0 0",
      "proc /sysroot/proc proc rw 0 0",
      "/dev/vdb /sysroot-other ext4 ro 0 0",
    ].join("\n");
    expect(leftoverMounts(mounts, NEW_ROOT)).toEqual(["/sysroot-other", "/lib/tsinit/mnt/extra", "/lib/tsinit/mnt"]);
    const sys = machine();
    sys.files.set(`${NEW_ROOT}/proc/mounts`, mounts);
    const { notes } = run(sys, request());
    const umounts = sys.calls.filter((c) => c.startsWith("umount"));
    expect(umounts).toEqual(["umount /sysroot-other detach", "umount /lib/tsinit/mnt/extra detach", "umount /lib/tsinit/mnt detach"]);
    // Before the deletion, so that their mount points go with the rest.
    expect(sys.calls.indexOf("umount /lib/tsinit/mnt detach")).toBeLessThan(sys.calls.findIndex((c) => c.startsWith("unlink")));
    expect(notes).toContain("initramfs: detached /lib/tsinit/mnt");
  });

  it("refuses a / that is not a ramfs or tmpfs, or has no /init", () => {
    const sys = machine();
    expect(checkIsInitramfs(sys)).toBeUndefined();
    sys.filesystemTypes.set("/", 0xef53);
    expect(checkIsInitramfs(sys)?.message).toMatch(/not an initramfs/);
    sys.filesystemTypes.set("/", 0x01021994);
    sys.files.delete("/init");
    expect(checkIsInitramfs(sys)?.message).toMatch(/no \/init/);
  });

  it("never crosses into another filesystem", () => {
    const sys = machine();
    sys.dirs.add("/mnt");
    sys.dirs.add("/mnt/data");
    sys.files.set("/mnt/data/keep", "x");
    sys.deviceOf.set("/mnt/data", 7);
    const result = removeTree(sys, "/");
    expect(sys.files.get("/mnt/data/keep")).toBe("x");
    expect(sys.dirs.has("/mnt/data")).toBe(true);
    expect(sys.files.has(`${NEW_ROOT}/sbin/tsinit`)).toBe(true);
    expect(sys.files.has("/etc/passwd")).toBe(false);
    // /mnt stays: the mount point inside it is not empty.
    expect(result.problems.some((p) => /ENOTEMPTY/.test(p))).toBe(true);
  });

  it("walks a tree deeper than any call stack", () => {
    // A chain of 20,000 directories ("/d/d/d..."), served directly (FakeSys scans every path
    // per call); a recursive walk overflows the stack long before that.
    const depth = 20_000;
    const depthOf = (path: string) => (path === "/" ? 0 : path.length / 2);
    const removed = new Set<number>();
    const sys = {
      lstat: (path: string) => ({ device: 1, kind: path.endsWith("/leaf") ? "file" : "directory", mode: 0o755, size: 1 }),
      readDir: (path: string) => (depthOf(path) === depth ? ["leaf"] : ["d"]),
      unlink: () => undefined,
      rmdir: (path: string) => void removed.add(depthOf(path)),
    } as unknown as Sys;
    const result = removeTree(sys, "/");
    expect(result.directories).toBe(depth);
    expect(result.files).toBe(1);
    expect(removed.size).toBe(depth);
  });
});

describe("the real init, resolved inside the new root", () => {
  it("follows relative and absolute links as the new root sees them", () => {
    const sys = machine();
    sys.links.set(`${NEW_ROOT}/sbin/init`, "/lib/systemd/systemd");
    sys.dirs.add(`${NEW_ROOT}/lib`);
    sys.dirs.add(`${NEW_ROOT}/lib/systemd`);
    sys.files.set(`${NEW_ROOT}/lib/systemd/systemd`, "ELF");
    // The initramfs has a /lib/systemd/systemd of its own that must not count.
    expect(resolveInRoot(sys, NEW_ROOT, "/sbin/init")).toBe("/lib/systemd/systemd");
    sys.links.set(`${NEW_ROOT}/sbin/loop`, "/sbin/loop");
    expect(resolveInRoot(sys, NEW_ROOT, "/sbin/loop")).toBeUndefined();
    expect(chooseInit(sys, NEW_ROOT, ["/sbin/loop", "/sbin/init"])).toEqual({ ok: true, path: "/sbin/init", skipped: ["/sbin/loop: not found"] });
  });
});

describe("the boot record", () => {
  it("keeps log lines and timed steps, and carries them across the switch", () => {
    let now = 1_000;
    const first = new BootRecord("initramfs", () => now);
    first.log("info", "tsinit starting");
    first.step("mount -t ext4 /dev/vda /sysroot", () => {
      now += 12;
      return undefined;
    });
    const second = new BootRecord("root", () => now);
    second.prepend(parseRecord(serializeRecord(first.entries())));
    second.log("warn", "disk is slow");
    expect(formatEntries(second.entries())).toEqual([
      "[   1.000] initramfs tsinit starting",
      "[   1.000] initramfs mount -t ext4 /dev/vda /sysroot  (12 ms)",
      "[   1.012] root      warn: disk is slow",
    ]);
  });

  it("drops what is malformed, and stays bounded", () => {
    expect(parseRecord("not json")).toEqual([]);
    expect(parseRecord(JSON.stringify({ entries: [{ stage: "x", at: 1, kind: "log", text: "t" }, { stage: "root", at: "1", kind: "log", text: "t" }] }))).toEqual([]);
    const record = new BootRecord("root", () => 0);
    for (let i = 0; i < MAX_ENTRIES_PER_STAGE + 10; i++) record.log("info", `line ${i}`);
    const entries = record.entries();
    expect(entries).toHaveLength(MAX_ENTRIES_PER_STAGE + 1);
    expect(entries.at(-1)?.text).toBe("10 more entries were not kept");
  });
});

describe("modules-load= on the command line", () => {
  it("collects every name, across repeated words", () => {
    expect(parseCommandLine("modules-load=virtio_blk,ext4 quiet rd.modules-load=loop").modulesLoad).toEqual(["virtio_blk", "ext4", "loop"]);
    expect(parseCommandLine("quiet").modulesLoad).toEqual([]);
  });
});
