// Container mode: `tsinit -- COMMAND` as PID 1 of a PID namespace (as in a container) and as
// a plain child subreaper: exit status, 128+N, signal forwarding, orphans reaped.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SIGNALS } from "../../src/base/signals.ts";
import { childrenOf, mayLowerOomScore, oomScoreAdj, procInfo, tempDir, TSINIT, waitFor } from "./harness.ts";

const children: ReturnType<typeof Bun.spawn>[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

function start(argv: string[], cwd?: string): ReturnType<typeof Bun.spawn> {
  const child = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env }, cwd });
  children.push(child);
  return child;
}

const inNamespace = (command: string[], cwd?: string) => start(["unshare", "--pid", "--fork", "--mount-proc", TSINIT, "--", ...command], cwd);

async function exitOf(child: ReturnType<typeof Bun.spawn>, timeoutMs = 20_000): Promise<number> {
  const timeout = Bun.sleep(timeoutMs).then(() => "timeout" as const);
  const code = await Promise.race([child.exited, timeout]);
  if (code === "timeout") throw new Error("the command did not end");
  return code;
}

describe("container mode", () => {
  test("exits with the command's status, and 128+N when a signal ended it", async () => {
    expect(await exitOf(inNamespace(["sh", "-c", "exit 7"]))).toBe(7);
    expect(await exitOf(inNamespace(["sh", "-c", "kill -TERM $$"]))).toBe(143);
    expect(await exitOf(inNamespace(["/nonexistent/program"]))).toBe(127);
  }, 30_000);

  test("the OOM killer never chooses tsinit; the command keeps the score it would have had", async () => {
    const work = tempDir("container-oom");
    const child = inNamespace(["sh", "-c", `cat /proc/1/oom_score_adj > ${work}/init; cat /proc/self/oom_score_adj > ${work}/command`]);
    const stderr = new Response(child.stderr as ReadableStream).text();
    expect(await exitOf(child)).toBe(0);
    // What the test runner has, tsinit had before it protected itself.
    expect(readFileSync(join(work, "command"), "utf8").trim()).toBe(oomScoreAdj("self"));
    if (mayLowerOomScore()) {
      expect(readFileSync(join(work, "init"), "utf8").trim()).toBe("-1000");
    } else {
      // Without CAP_SYS_RESOURCE (some containers, this sandbox): a warning, and tsinit goes on.
      expect(await stderr).toContain("tsinit: the OOM killer may choose tsinit: write /proc/self/oom_score_adj: EACCES");
    }
  }, 30_000);

  test("forwards SIGTERM to the command", async () => {
    const work = tempDir("container");
    const child = inNamespace(["sh", "-c", `trap 'exit 42' TERM; touch ${work}/ready; while :; do sleep 0.05; done`]);
    await waitFor("the command to run", () => {
      try {
        return readFileSync(join(work, "ready")) !== undefined;
      } catch {
        return false;
      }
    });
    const pid1 = childrenOf(child.pid)[0]!;
    process.kill(pid1, "SIGTERM");
    expect(await exitOf(child)).toBe(42);
  }, 30_000);

  test("reaps orphans as PID 1 of a namespace", async () => {
    // The orphans' parent exits at once. A zombie still has a /proc entry, so the command can
    // only finish once tsinit has reaped every one of them (else the test times out). The
    // namespace's own /proc shows only its processes; the subreaper case is the next test.
    const script = [
      "for i in 1 2 3 4 5; do (sleep 0.1 &); done",
      "until ! grep -qs '(sleep)' /proc/[0-9]*/stat; do sleep 0.02; done",
      "echo all-reaped",
    ].join("; ");
    const child = inNamespace(["sh", "-c", script]);
    const out = new Response(child.stdout as ReadableStream).text();
    expect(await exitOf(child)).toBe(0);
    expect(await out).toContain("all-reaped");
  }, 30_000);

  test("as a subreaper, an orphan becomes tsinit's child and is reaped when it dies", async () => {
    // The shell's own `sleep 600` is the shell's child; the orphaned one is re-parented to tsinit.
    const child = start([TSINIT, "--", "sh", "-c", "(sleep 600 &); sleep 600"]);
    const orphan = await waitFor("the orphan to be re-parented to tsinit", () =>
      childrenOf(child.pid).map(procInfo).find((p) => p?.comm === "sleep"),
    );
    process.kill(orphan.pid, "SIGKILL");
    await waitFor("the orphan to be reaped", () => procInfo(orphan.pid) === undefined);
  }, 30_000);

  test("a command that exists but cannot be executed gives 126 and EACCES", async () => {
    const work = tempDir("container");
    writeFileSync(join(work, "script"), "#!/bin/sh\nexit 0\n");
    chmodSync(join(work, "script"), 0o644);
    const child = inNamespace([join(work, "script")]);
    const err = new Response(child.stderr as ReadableStream).text();
    expect(await exitOf(child)).toBe(126);
    expect(await err).toContain("EACCES");
  }, 30_000);

  test("as a subreaper, forwards what tini forwards and no signal ends or stops tsinit", async () => {
    // Not in a PID namespace: there the kernel drops signals that PID 1 does not handle, which
    // would hide a signal that kills or stops tsinit.
    const work = tempDir("container");
    const log = join(work, "got");
    const forwarded = ["HUP", "INT", "QUIT", "USR1", "USR2", "ALRM", "CONT", "TSTP", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO"];
    const traps = forwarded.map((name) => `trap 'echo ${name} >> ${log}' ${name}`).join("; ");
    const child = start([TSINIT, "--", "sh", "-c", `${traps}; touch ${work}/ready; while :; do sleep 0.02; done`]);
    await waitFor("the command to run", () => {
      try {
        return readFileSync(join(work, "ready")) !== undefined;
      } catch {
        return false;
      }
    });
    const got = () => {
      try {
        return readFileSync(log, "utf8").split("\n");
      } catch {
        return [];
      }
    };
    for (const name of forwarded) {
      process.kill(child.pid, `SIG${name}` as NodeJS.Signals);
      await waitFor(`SIG${name} to reach the command`, () => got().includes(name));
    }
    // Ignored: sent with kill(2), none of them ends or stops tsinit.
    for (const name of ["PIPE", "TTIN", "TTOU", "STKFLT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "SEGV", "SYS", "PWR"] as const) {
      process.kill(child.pid, SIGNALS[name]);
    }
    process.kill(child.pid, "SIGUSR1");
    await waitFor("SIGUSR1 to reach the command again", () => got().filter((line) => line === "USR1").length === 2);
    expect(procInfo(child.pid)?.state).not.toBe("T");
    expect(procInfo(child.pid)?.state).not.toBe("Z");
    process.kill(child.pid, "SIGTERM");
    expect(await exitOf(child)).toBe(143);
  }, 60_000);

  test("reads neither .env nor bunfig.toml from its working directory", async () => {
    // A compiled Bun executable reads both at start unless built with
    // --no-compile-autoload-dotenv --no-compile-autoload-bunfig: .env would reach every child
    // (LD_PRELOAD included), bunfig.toml's preload would run code inside tsinit.
    const work = tempDir("container");
    writeFileSync(join(work, ".env"), "TSINIT_TEST_DOTENV=read\n");
    writeFileSync(join(work, "bunfig.toml"), 'preload = ["./preload.js"]\n');
    writeFileSync(join(work, "preload.js"), `require("node:fs").writeFileSync(${JSON.stringify(join(work, "preloaded"))}, "yes");\n`);
    const child = inNamespace(["sh", "-c", 'echo "dotenv=${TSINIT_TEST_DOTENV:-unset}"'], work);
    const out = new Response(child.stdout as ReadableStream).text();
    expect(await exitOf(child)).toBe(0);
    expect(await out).toBe("dotenv=unset\n");
    expect(() => readFileSync(join(work, "preloaded"))).toThrow();
  }, 30_000);
});
