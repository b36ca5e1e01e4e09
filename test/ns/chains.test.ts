// Ordering cycles that add-dep and `reload NAME` would make, and chain-to targets loaded when the
// chain is taken: the compiled tsinit as PID 1 of a PID namespace in supervisor mode, driven by
// the compiled initctl.
import { describe, expect, test } from "bun:test";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Control, namespacePerTest, waitFor } from "./harness.ts";

const fixture = namespacePerTest();
const { start, poll } = fixture;

const stateOf = async (control: Control, name: string): Promise<string> => (await control.status(name)).service.state;

describe("cycles made through before and after at run time", () => {
  test("add-dep against a `before` is refused with the cycle (409, exit status 1); the start then does not hang", async () => {
    const { control } = await start({
      a: "type = process\ncommand = sleep 600\nbefore = b\n",
      b: "type = process\ncommand = sleep 600\n",
    });
    expect((await control.ctl("status", "a")).code).toBe(0);
    const cycle = "b already starts after a (directly or not, counting before and after): that would be a dependency cycle: a -> b -> a";
    expect(await control.ctl("add-dep", "regular", "a", "b")).toEqual({ code: 1, stdout: "", stderr: `initctl: not adding the dependency: ${cycle}\n` });
    const response = await fetch("http://tsinit/v1/dependencies/add", {
      unix: control.socket,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "regular", from: "a", to: "b" }),
    });
    expect(response.status).toBe(409);
    expect(await response.text()).toContain(cycle);
    expect((await control.ctl("start", "a")).code).toBe(0);
    expect(await stateOf(control, "a")).toBe("started");
  });

  test("reload NAME that adds `after` against a dependent is refused with the cycle; the start then does not hang", async () => {
    const { work, control } = await start({
      a: "type = process\ncommand = sleep 600\ndepends-on = b\n",
      b: "type = process\ncommand = sleep 600\n",
    });
    expect((await control.ctl("status", "a")).code).toBe(0);
    appendFileSync(join(work, "services", "b"), "after = a\n");
    expect(await control.ctl("reload", "b")).toMatchObject({
      code: 1,
      stderr: "initctl: not reloading b: a already depends on b (directly or not): that would be a dependency cycle: b -> a -> b\n",
    });
    expect((await control.ctl("start", "a")).code).toBe(0);
    expect([await stateOf(control, "a"), await stateOf(control, "b")]).toEqual(["started", "started"]);
  });
});

describe("a cycle found at load time, broken by reload NAME", () => {
  test("reload a with a's file fixed lets b start at once; a separate cycle stays blocked", async () => {
    const { work, control } = await start({
      boot: "type = internal\n",
      a: "type = process\ncommand = sleep 600\ndepends-on = b\n",
      b: "type = process\ncommand = sleep 601\ndepends-on = a\n",
      c: "type = process\ncommand = sleep 602\ndepends-on = d\n",
      d: "type = process\ncommand = sleep 603\nafter = c\n",
    });
    // Loaded on demand, each pair is found to be a cycle and blocked.
    for (const [name, cycle] of [["b", "a -> b -> a"], ["c", "c -> d -> c"]]) {
      const refused = await control.ctl("start", name as string);
      expect(refused.code).toBe(1);
      expect((await control.status(name as string)).service.blocked).toBe(`dependency cycle: ${cycle}`);
    }
    writeFileSync(join(work, "services", "a"), "type = process\ncommand = sleep 600\n");
    expect((await control.ctl("reload", "a")).code).toBe(0);
    expect(await control.ctl("start", "b")).toMatchObject({ code: 0, stdout: expect.stringMatching(/^started b/) });
    expect([await stateOf(control, "a"), await stateOf(control, "b")]).toEqual(["started", "started"]);
    expect((await control.status("a")).service).not.toHaveProperty("blocked");
    await waitFor("the lifted block logged", () => fixture.ns?.log().includes("a, b: no longer on a dependency cycle; may start again"));
    // c and d are still a cycle of their own.
    expect(await control.ctl("start", "d")).toMatchObject({ code: 1, stderr: expect.stringContaining("dependency cycle: c -> d -> c") });
    expect((await control.status("c")).service).toMatchObject({ state: "stopped", blocked: "dependency cycle: c -> d -> c" });
  });
});

describe("a stand-in for a waits-for dependency that did not load, fixed and reloaded by name", () => {
  test("reload p lifts its block: p starts, and a later on-demand load that reaches it leaves it running", async () => {
    const { work, control } = await start({
      boot: "type = internal\n",
      a: "type = process\ncommand = sleep 600\nwaits-for = p\n",
      p: "type = nonsense\n",
    });
    expect((await control.ctl("start", "a")).code).toBe(0);
    expect((await control.status("p")).service.blocked).toMatch(/^did not load: .*; fix it and run initctl reload p$/);
    writeFileSync(join(work, "services", "p"), "type = process\ncommand = sleep 601\n");
    expect((await control.ctl("reload", "p")).code).toBe(0);
    expect((await control.status("p")).service).not.toHaveProperty("blocked");
    expect(await control.ctl("start", "p")).toMatchObject({ code: 0, stdout: expect.stringMatching(/^started p/) });
    const { pid } = (await control.status("p")).service;
    expect(pid).toBeGreaterThan(0);
    writeFileSync(join(work, "services", "x"), "type = process\ncommand = sleep 602\nwaits-for = p\n");
    expect((await control.ctl("start", "x")).code).toBe(0);
    expect((await control.status("p")).service).toMatchObject({ state: "started", pid });
  });
});

describe("chain-to loads its target when the chain is taken", () => {
  test("a chain to a service not loaded before starts it; one that fails to load is logged with file:line", async () => {
    const { work, control } = await start({
      first: "type = process\ncommand = true\nchain-to = second\n",
      second: "type = process\ncommand = sleep 600\n",
      other: "type = process\ncommand = true\nchain-to = broken\n",
      broken: "type = process\ncommand = sleep 600\nrestart = sometimes\n",
    });
    const dir = join(work, "services");
    expect((await control.ctl("start", "first")).code).toBe(0);
    // Not a word about second before the chain is taken: a status would load it.
    await poll("first's chain to be taken", async () => /starting second \(chain-to\)|chain-to second: /.test(fixture.ns!.log()));
    expect(fixture.ns!.log()).toContain("first ended; starting second (chain-to)");
    await poll("second to be started by first's chain", async () => (await stateOf(control, "second")) === "started");

    expect((await control.ctl("start", "other")).code).toBe(0);
    await poll("the chain to broken to be logged", async () => fixture.ns!.log().includes("other: chain-to broken: "));
    expect(fixture.ns!.log()).toContain(`other: chain-to broken: broken failed to load: ${dir}/broken:3: restart`);
    // Nothing else happened: other ended cleanly and is not failed.
    expect((await control.status("other")).service).toMatchObject({ state: "stopped" });
    expect((await control.status("other")).service.failed).toBeUndefined();
  });
});
