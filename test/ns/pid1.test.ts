// tsinit as PID 1 of a PID namespace: orphans, respawn, orderly shutdown.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Namespace, servicesDir, waitFor } from "./harness.ts";

let ns: Namespace | undefined;
afterEach(() => {
  ns?.kill();
  ns = undefined;
});

describe("tsinit as PID 1 of a PID namespace", () => {
  test("reaps 1000 orphans", async () => {
    // Each subshell starts a sleeper and exits at once, so the sleeper is re-parented to PID 1.
    const { dir, work } = servicesDir(
      { boot: "type = internal\nwaits-for = orphans\n" },
      { "orphans.sh": "for i in $(seq 1000); do (sleep 600 &); done\n" },
    );
    await Bun.write(join(dir, "orphans"), `type = scripted\ncommand = /bin/sh ${join(work, "orphans.sh")}\n`);
    ns = await Namespace.start(["--services-dir", dir]);
    const sleepers = await waitFor("1000 orphans re-parented to PID 1", () => {
      const children = ns!.children().filter((p) => p.comm === "sleep");
      return children.length === 1000 ? children : undefined;
    }, 60_000);
    for (const sleeper of sleepers) process.kill(sleeper.pid, "SIGKILL");
    await waitFor("every orphan reaped (no child, no zombie left)", () => ns!.children().length === 0, 30_000);
  }, 120_000);

  test("respawns a killed supervised process", async () => {
    const { dir } = servicesDir({
      boot: "type = internal\nwaits-for = daemon\n",
      daemon: "type = process\ncommand = /bin/sleep 600\nrestart = yes\nrestart-delay = 0.05\n",
    });
    ns = await Namespace.start(["--services-dir", dir]);
    const first = await waitFor("the daemon to run", () => ns!.children().find((p) => p.comm === "sleep"));
    process.kill(first.pid, "SIGKILL");
    const second = await waitFor("a new daemon", () => ns!.children().find((p) => p.comm === "sleep" && p.pid !== first.pid));
    expect(second.pid).not.toBe(first.pid);
    expect(ns.children().some((p) => p.state === "Z")).toBe(false);
  }, 30_000);

  test("SIGTERM stops services in reverse dependency order and ends the namespace", async () => {
    const { dir, work } = servicesDir(
      {
        boot: "type = internal\ndepends-on = app\n",
        app: "type = process\ncommand = /bin/sh $WORK/svc.sh app\ndepends-on = db\nready-notification = pipefd:3\n",
        db: "type = process\ncommand = /bin/sh $WORK/svc.sh db\nready-notification = pipefd:3\n",
      },
      // tsinit signals a service's process group and then its main process, so the shell can get
      // SIGTERM twice, the second while its trap runs: the trap ignores TERM first, and logs
      // one stop whatever the timing. This test is about the order. A process service is
      // started once it has exec'd, before its script has written a line; each says it is
      // ready once its line is written, so app starts after db's line is there.
      {
        "svc.sh": `trap 'trap "" TERM; echo "stop $1" >> "$WORK/order"; exit 0' TERM\necho "start $1" >> "$WORK/order"\necho ready >&3; exec 3>&-\nwhile :; do sleep 0.05; done\n`,
      },
    );
    process.env.WORK = work;
    ns = await Namespace.start(["--services-dir", dir]);
    const order = join(work, "order");
    const read = () => {
      try {
        return readFileSync(order, "utf8").trim().split("\n");
      } catch {
        return [];
      }
    };
    await waitFor("both services started", () => read().length === 2);
    ns.signal("SIGTERM");
    expect(await ns.exitCode()).toBe(0);
    expect(read()).toEqual(["start db", "start app", "stop app", "stop db"]);
    expect(ns.log()).toContain("all services stopped");
  }, 30_000);

  test("reads neither .env nor bunfig.toml from its working directory: its services see neither", async () => {
    // container.test.ts checks the same for container mode; this is supervisor mode, whose
    // services would get .env's variables (LD_PRELOAD included) from PID 1's environment.
    const { dir, work } = servicesDir({
      boot: "type = internal\ndepends-on = show\n",
      show: `type = scripted\ncommand = /bin/sh -c "echo dotenv=\${TSINIT_TEST_DOTENV:-unset} > $WORK/seen"\n`,
    });
    writeFileSync(join(work, ".env"), "TSINIT_TEST_DOTENV=read\n");
    writeFileSync(join(work, "bunfig.toml"), 'preload = ["./preload.js"]\n');
    writeFileSync(join(work, "preload.js"), `require("node:fs").writeFileSync(${JSON.stringify(join(work, "preloaded"))}, "yes");\n`);
    process.env.WORK = work;
    ns = await Namespace.start(["--services-dir", dir], work);
    const seen = await waitFor("the service's line", () => (existsSync(join(work, "seen")) && readFileSync(join(work, "seen"), "utf8").endsWith("\n") ? readFileSync(join(work, "seen"), "utf8") : undefined));
    expect(seen).toBe("dotenv=unset\n");
    expect(existsSync(join(work, "preloaded"))).toBe(false);
  }, 30_000);
});
