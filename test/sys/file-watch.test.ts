// watchModified on a real cgroup's cgroup.events: the kernel's IN_MODIFY when "populated" changes.
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { watchModified } from "../../src/sys/file-watch.ts";

const DEADLINE_MS = 5000;

async function until(condition: () => boolean, what: string): Promise<void> {
  const end = Date.now() + DEADLINE_MS;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

test("a cgroup's cgroup.events is seen modified as its last process leaves, and the watch ends with the cgroup", async () => {
  const mount = readFileSync("/proc/mounts", "utf8").split("\n").map((l) => l.split(" ")).find((f) => f[2] === "cgroup2")?.[1];
  if (mount === undefined) throw new Error("this test needs cgroup2 mounted");
  const dir = join(mount, `tsinit-file-watch-${process.pid}`);
  mkdirSync(dir);
  try {
    const seen: string[] = [];
    expect(watchModified(join(dir, "cgroup.events"), () => seen.push(readFileSync(join(dir, "cgroup.events"), "utf8").split("\n")[0]!))).toBeUndefined();
    const child = Bun.spawn(["sleep", "600"]);
    writeFileSync(join(dir, "cgroup.procs"), String(child.pid));
    await until(() => seen.includes("populated 1"), "populated 1");
    child.kill("SIGKILL");
    await until(() => seen.includes("populated 0"), "populated 0");
    rmdirSync(dir);
    // The removal ends the watch (IN_IGNORED): a later watch still works on the same descriptor.
    mkdirSync(dir);
    const again: number[] = [];
    expect(watchModified(join(dir, "cgroup.events"), () => again.push(1))).toBeUndefined();
    const second = Bun.spawn(["sleep", "600"]);
    writeFileSync(join(dir, "cgroup.procs"), String(second.pid));
    second.kill("SIGKILL");
    await until(() => again.length >= 2, "both changes of the new cgroup");
  } finally {
    await until(() => {
      try {
        if (existsSync(dir)) rmdirSync(dir);
        return true;
      } catch {
        return false;
      }
    }, "the test cgroup to be removed");
  }
});

test("a missing file is an error value naming it", () => {
  const error = watchModified("/nonexistent-tsinit-dir/cgroup.events", () => {});
  expect(error?.message).toBe("inotify_add_watch /nonexistent-tsinit-dir/cgroup.events: ENOENT");
});
