// The unguessable name part comes from the kernel's random source through Sys, 64 bits of it.
import { afterEach, describe, expect, it, vi } from "vitest";
import { unguessable } from "../../src/supervisor/unguessable.ts";
import { NotifySocket } from "../../src/supervisor/notify.ts";
import { FakeMachine } from "./fakes/fake-machine.ts";
import { FakeSys } from "./fakes/fake-sys.ts";
import { Log } from "../../src/log/log.ts";

afterEach(() => vi.restoreAllMocks());

describe("unguessable", () => {
  it("is 16 hex digits of Sys.randomBytes, not Math.random", () => {
    const random = vi.spyOn(Math, "random");
    const sys = new FakeSys();
    sys.random.push(0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0x0f);
    expect(unguessable(sys)).toBe("0123456789abcd0f");
    expect(random).not.toHaveBeenCalled();
  });

  it("differs between calls", () => {
    const sys = new FakeSys();
    expect(unguessable(sys)).toMatch(/^[0-9a-f]{16}$/);
    expect(unguessable(sys)).not.toBe(unguessable(sys));
  });

  it("names each NOTIFY_SOCKET by default", () => {
    const machine = new FakeMachine();
    machine.sys.random.push(0xde, 0xad, 0xbe, 0xef, 0x00, 0xc0, 0xff, 0xee);
    const notify = new NotifySocket(machine.sys, new Log(machine.sink, { consoleThreshold: 7, kernelConsoleLevel: 0 }), machine.listenNotify, "/run/x.notify", {
      mainPid: () => undefined,
      ready: () => {},
    });
    expect(notify.open("web")).toBe("/run/x.notify.1-deadbeef00c0ffee");
  });
});
