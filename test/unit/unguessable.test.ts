// The unguessable name part comes from the cryptographic source, 64 bits of it.
import { afterEach, describe, expect, it, vi } from "vitest";
import { unguessable } from "../../src/supervisor/unguessable.ts";
import { NotifySocket } from "../../src/supervisor/notify.ts";
import { FakeMachine } from "./fakes/fake-machine.ts";
import { Log } from "../../src/log/log.ts";

afterEach(() => vi.restoreAllMocks());

describe("unguessable", () => {
  it("is 16 hex digits of crypto.getRandomValues, not Math.random", () => {
    const random = vi.spyOn(Math, "random");
    vi.spyOn(globalThis.crypto, "getRandomValues").mockImplementation(<T extends ArrayBufferView | null>(array: T): T => {
      new Uint32Array((array as unknown as Uint32Array).buffer).set([0x01234567, 0x89abcdef]);
      return array;
    });
    expect(unguessable()).toBe("0123456789abcdef");
    expect(random).not.toHaveBeenCalled();
  });

  it("differs between calls", () => {
    expect(unguessable()).toMatch(/^[0-9a-f]{16}$/);
    expect(unguessable()).not.toBe(unguessable());
  });

  it("names each NOTIFY_SOCKET by default", () => {
    vi.spyOn(globalThis.crypto, "getRandomValues").mockImplementation(<T extends ArrayBufferView | null>(array: T): T => {
      new Uint32Array((array as unknown as Uint32Array).buffer).set([0xdeadbeef, 0x00c0ffee]);
      return array;
    });
    const machine = new FakeMachine();
    const notify = new NotifySocket(machine.sys, new Log(machine.sink, { consoleThreshold: 7, kernelConsoleLevel: 0 }), machine.listenNotify, "/run/x.notify", {
      mainPid: () => undefined,
      ready: () => {},
    });
    expect(notify.open("web")).toBe("/run/x.notify.1-deadbeef00c0ffee");
  });
});
