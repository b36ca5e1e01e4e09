// linuxSys.spawn with real processes: descriptors passed at fixed numbers reach the child as
// asked, even when a source's number is another descriptor's target.
import { expect, test } from "bun:test";
import { linuxSys } from "../../src/sys/linux-sys.ts";
import { SysError } from "../../src/sys/sys.ts";

function pipe(): { read: number; write: number } {
  const made = linuxSys.pipe();
  if (made instanceof SysError) throw made;
  return made;
}

async function waitForExit(pid: number): Promise<void> {
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    if (linuxSys.reap().reaped.some((r) => r.pid === pid)) return;
    await Bun.sleep(delay);
  }
}

function collect(fd: number): Promise<string> {
  let text = "";
  return linuxSys.readUntilClosed(fd, (chunk) => (text += chunk)).then(() => text);
}

test("a source whose number is another entry's target is not overwritten first", async () => {
  const a = pipe();
  const b = pipe();
  // a's write end goes where b's write end is, and b's one above: copied in order without care,
  // the second copy would take a's pipe.
  const passFds = [
    { fd: a.write, target: b.write },
    { fd: b.write, target: b.write + 1 },
  ];
  const result = linuxSys.spawn({
    // bash: dash takes descriptor numbers up to 9 only.
    argv: ["/bin/bash", "-c", `echo A >&${b.write}; echo B >&${b.write + 1}`],
    env: { PATH: "/usr/bin:/bin" },
    stdin: { kind: "null" },
    stdout: { kind: "null" },
    passFds,
  });
  linuxSys.close(a.write);
  linuxSys.close(b.write);
  if (!result.ok) throw result.error;
  const [fromA, fromB] = await Promise.all([collect(a.read), collect(b.read), waitForExit(result.pid)]);
  expect(fromA).toBe("A\n");
  expect(fromB).toBe("B\n");
});
