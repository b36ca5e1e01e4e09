// A service that a reload removes while a restart of it is pending, or while it is starting
// (its start-timeout then kills it and it is forgotten before its process is reaped): nothing of
// it reaches the core afterwards, so the log never says "event for unknown service", and a stop
// of it succeeds. tsinit runs with --debug, so the reap of the killed process is itself a line
// the test can wait for.
import { expect, test } from "bun:test";
import { chmodSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Control, Namespace, servicesDir, waitFor } from "./harness.ts";

let ns: Namespace | undefined;

test("a removed service's pending restart and its killed process never reach the core", async () => {
  const { dir, work } = servicesDir(
    {
      boot: "type = internal\n",
      // Ends with 1 the first time, then runs: one restart, 5 s after the crash. The delays here
      // leave the test ample time to remove both files and reload before they run out, however
      // slow the machine: the reload must find crashy waiting and hang starting.
      crashy: "type = process\ncommand = /bin/sh $WORK/crash-once.sh\nrestart = yes\nrestart-delay = 5\n",
      // Never ready: its start-timeout SIGKILLs it.
      hang: "type = process\ncommand = /bin/sleep 1000\nready-notification = pipefd:3\nstart-timeout = 8\n",
    },
    { "crash-once.sh": `if [ -e "$WORK/crashed" ]; then exec sleep 1000; fi\ntouch "$WORK/crashed"\nexit 1\n` },
  );
  chmodSync(work, 0o755);
  const workBefore = process.env.WORK;
  process.env.WORK = work;
  const socket = join(work, "ctl.sock");
  try {
    ns = await Namespace.start(["--services-dir", dir, "--socket", socket, "--debug"]);
    const control = new Control(socket);
    await control.ready(() => ns!.log());
    const started = ns;
    const logged = (what: string, times = 1) => waitFor(what, () => started.log().split(what).length > times);

    // crashy waits for its restart when its file goes and the reload comes.
    expect((await control.ctl("start", "--no-wait", "crashy")).code).toBe(0);
    await logged("crashy: exited 1; restarting in");
    expect((await control.ctl("start", "--no-wait", "hang")).code).toBe(0);
    await logged("hang: stopped -> starting");
    rmSync(join(dir, "crashy"));
    rmSync(join(dir, "hang"));
    // Both are still to come: the removals wait for them.
    expect(await control.ctl("reload")).toEqual({ code: 0, stdout: "reloaded; removed: crashy, hang; once stopped: crashy, hang\n", stderr: "" });

    // The restart is taken under the description it has, as for any service still running;
    // stopped, it goes. The stop succeeded, so initctl exits 0, as dinitctl stop of a service
    // that is then unloaded does, and its line says the service is gone.
    await logged("crashy: starting -> started", 2);
    expect(await control.ctl("stop", "crashy")).toEqual({ code: 0, stdout: "stopped crashy; it is no longer loaded (its file was removed)\n", stderr: "" });
    expect((await control.ctl("status", "crashy")).code).not.toBe(0);

    // hang fails at its start-timeout and is forgotten at once; its process is reaped after.
    await logged("[FAILED] hang: not ready within 8s");
    await waitFor("the reap of hang's process", () => /hang: pid \d+ killed by SIGKILL after the service was removed|unknown service/.test(started.log()));
    expect(started.log()).not.toContain("unknown service");
    expect((await control.ctl("status", "hang")).code).not.toBe(0);
  } finally {
    ns?.kill();
    if (workBefore === undefined) delete process.env.WORK;
    else process.env.WORK = workBefore;
  }
}, 60_000);
