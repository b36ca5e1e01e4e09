// The NOTIFY_SOCKET files a supervisor killed by SIGKILL left: which a new supervisor removes.
import { describe, expect, it } from "vitest";
import { Log } from "../../src/log/log.ts";
import { notifySocketNames, removeAbandonedNotifySockets } from "../../src/supervisor/notify.ts";
import { FakeSys } from "./fakes/fake-sys.ts";

function setup() {
  const sys = new FakeSys();
  const lines: string[] = [];
  const log = new Log({ console: (line) => lines.push(line), kmsg: () => false }, { consoleThreshold: 7, kernelConsoleLevel: 0 });
  sys.dirs.add("/run/user/1000");
  return { sys, lines, log };
}

describe("removeAbandonedNotifySockets", () => {
  it("removes the abandoned sockets named as tsinit names them beside the control socket, and nothing else", () => {
    const { sys, lines, log } = setup();
    const dir = "/run/user/1000";
    const names = {
      abandoned: "ctl.sock.notify.3-0123456789abcdef",
      live: "ctl.sock.notify.4-fedcba9876543210",
      otherControl: "other.sock.notify.1-0123456789abcdef",
      unlikeOurs: "ctl.sock.notify.keep",
    };
    for (const name of Object.values(names)) sys.files.set(`${dir}/${name}`, "");
    for (const name of [names.abandoned, names.otherControl, names.unlikeOurs]) sys.abandonedSockets.add(`${dir}/${name}`);
    removeAbandonedNotifySockets(sys, log, dir, notifySocketNames("ctl.sock"));
    expect(sys.readDir(dir)?.sort()).toEqual([names.live, names.otherControl, names.unlikeOurs].sort());
    expect(lines.some((line) => line.includes(`removed 1 NOTIFY_SOCKET file an earlier supervisor left in ${dir}`))).toBe(true);
  });

  it("without a control socket, any supervisor's names (tsinit-PID-NONCE.notify.N-NONCE), abandoned only", () => {
    const { sys, log } = setup();
    const dir = "/run/user/1000";
    sys.files.set(`${dir}/tsinit-7-0123456789abcdef.notify.1-0123456789abcdef`, "");
    sys.files.set(`${dir}/tsinit-8-0123456789abcdef.notify.1-0123456789abcdef`, "");
    sys.files.set(`${dir}/ctl.sock.notify.1-0123456789abcdef`, "");
    sys.abandonedSockets.add(`${dir}/tsinit-7-0123456789abcdef.notify.1-0123456789abcdef`);
    sys.abandonedSockets.add(`${dir}/ctl.sock.notify.1-0123456789abcdef`);
    removeAbandonedNotifySockets(sys, log, dir, notifySocketNames(undefined));
    expect(sys.readDir(dir)?.sort()).toEqual(["ctl.sock.notify.1-0123456789abcdef", "tsinit-8-0123456789abcdef.notify.1-0123456789abcdef"]);
  });

  it("a control socket's name is matched literally, not as a pattern", () => {
    expect(notifySocketNames("c.s").test("cXs.notify.1-0123456789abcdef")).toBe(false);
    expect(notifySocketNames("c.s").test("c.s.notify.1-0123456789abcdef")).toBe(true);
  });
});
