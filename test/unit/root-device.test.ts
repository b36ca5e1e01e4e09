// Waiting for the root device on a fake machine: a real ext4 superblock (made by mke2fs) served
// as /dev/vda, devices that are there from the start or announced later by a uevent, a root=
// that never appears, and a machine without uevents.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRootSpec, type RootSpec } from "../../src/boot/block-id.ts";
import { waitForRoot, type RootSearchResult } from "../../src/boot/root-device.ts";
import { Log } from "../../src/log/log.ts";
import { FakeMachine } from "./fakes/fake-machine.ts";
import { run, scratchDirectory } from "./block-id/images.ts";

const UUID = "5453494e-4954-4000-8000-0000000000aa";
let ext4: Uint8Array;
const scratch = scratchDirectory();

beforeAll(() => {
  const image = scratch.path("root.ext4");
  run("truncate", ["-s", "8M", image]);
  run("mke2fs", ["-q", "-F", "-t", "ext4", "-L", "rootfs", "-U", UUID, image]);
  ext4 = new Uint8Array(readFileSync(image)).subarray(0, 128 * 1024);
});
afterAll(() => scratch.remove());

function spec(text: string): RootSpec {
  const parsed = parseRootSpec(text);
  if (parsed.kind === "invalid") throw new Error(parsed.error);
  return parsed;
}

/** A block device as sysfs and devtmpfs show it. */
function addDevice(machine: FakeMachine, name: string, bytes: Uint8Array): void {
  machine.sys.files.set(`/sys/class/block/${name}/dev`, "254:0\n");
  machine.sys.files.set(`/sys/class/block/${name}/size`, `${bytes.length / 512}\n`);
  machine.sys.devices.set(`/dev/${name}`, bytes);
}

function search(machine: FakeMachine, root: string, timeoutMs: number, modaliases: string[] = []): { result: () => RootSearchResult | undefined } {
  let result: RootSearchResult | undefined;
  const log = new Log(machine.sink, { consoleThreshold: 7, kernelConsoleLevel: 0 });
  void waitForRoot(machine, log, spec(root), timeoutMs, { modalias: (alias) => void modaliases.push(alias), coldplug: () => void modaliases.push("coldplug") }).then((r) => (result = r));
  return { result: () => result };
}

async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
}

describe("waiting for the root device", () => {
  it("finds a device that is there already, by LABEL= or UUID=", async () => {
    for (const root of ["LABEL=rootfs", `UUID=${UUID.toUpperCase()}`, "/dev/vda"]) {
      const machine = new FakeMachine();
      addDevice(machine, "vda", ext4);
      const { result } = search(machine, root, 30_000);
      await settle();
      expect(result()?.found).toMatchObject({ name: "vda", path: "/dev/vda", fs: { type: "ext4", label: "rootfs", uuid: UUID } });
      // Found: the uevent listener is closed again.
      expect(machine.ueventListeners.size).toBe(0);
    }
  });

  it("waits for the uevent of a device that appears later, and passes modaliases on", async () => {
    const machine = new FakeMachine();
    const modaliases: string[] = [];
    const { result } = search(machine, "LABEL=rootfs", 30_000, modaliases);
    await settle();
    expect(result()).toBeUndefined();
    machine.uevent({ ACTION: "add", SUBSYSTEM: "virtio", MODALIAS: "virtio:d00000002v00001AF4", DEVPATH: "/devices/pci0000:00/virtio0" });
    expect(modaliases).toEqual(["coldplug", "virtio:d00000002v00001AF4"]);
    machine.clock.advance(1_000);
    addDevice(machine, "vda", ext4);
    machine.uevent({ ACTION: "add", SUBSYSTEM: "block", DEVNAME: "vda", DEVTYPE: "disk" });
    await settle();
    expect(result()?.found?.name).toBe("vda");
  });

  it("a device whose node could not be read yet is probed again when its uevent comes", async () => {
    const machine = new FakeMachine();
    // sysfs lists it before devtmpfs has its node.
    machine.sys.files.set("/sys/class/block/vda/size", "256\n");
    const { result } = search(machine, "LABEL=rootfs", 30_000);
    await settle();
    expect(result()).toBeUndefined();
    addDevice(machine, "vda", ext4);
    machine.uevent({ ACTION: "add", SUBSYSTEM: "block", DEVNAME: "vda", DEVTYPE: "disk" });
    await settle();
    expect(result()?.found?.name).toBe("vda");
  });

  it("after the kernel dropped uevents, loads drivers and looks at every device again", async () => {
    const machine = new FakeMachine();
    const modaliases: string[] = [];
    const { result } = search(machine, "LABEL=rootfs", 30_000, modaliases);
    await settle();
    addDevice(machine, "vda", ext4); // its uevent was among those dropped
    machine.ueventsLost();
    await settle();
    expect(modaliases).toEqual(["coldplug", "coldplug"]);
    expect(result()?.found?.name).toBe("vda");
  });

  it("a device whose bytes trip a probe is listed and warned about, and the wait goes on", async () => {
    const machine = new FakeMachine();
    addDevice(machine, "vda", new Uint8Array(64 * 1024));
    const readAt = machine.sys.readAt.bind(machine.sys);
    machine.sys.readAt = (path, offset, length) => {
      if (path === "/dev/vda") throw new Error("odd device");
      return readAt(path, offset, length);
    };
    addDevice(machine, "vdb", ext4);
    const { result } = search(machine, "LABEL=rootfs", 30_000);
    await settle();
    expect(result()?.found?.name).toBe("vdb");
    expect(machine.lines.some((line) => line.includes("probing /dev/vda: odd device"))).toBe(true);
  });

  it("gives up after rootwait, with every device it probed", async () => {
    const machine = new FakeMachine();
    addDevice(machine, "vda", ext4);
    addDevice(machine, "vdb", new Uint8Array(64 * 1024));
    const { result } = search(machine, "LABEL=other", 3_000);
    await settle();
    machine.clock.advance(2_999);
    await settle();
    expect(result()).toBeUndefined();
    machine.clock.advance(1);
    await settle();
    expect(result()?.found).toBeUndefined();
    expect(result()?.devices.map((d) => [d.name, d.fs?.type])).toEqual([
      ["vda", "ext4"],
      ["vdb", undefined],
    ]);
    expect(machine.ueventListeners.size).toBe(0);
  });

  it("without uevents it looks again every 250 ms", async () => {
    const machine = new FakeMachine();
    Object.defineProperty(machine, "listenUevents", {
      value: () => {
        throw new Error("socket(AF_NETLINK): EPERM");
      },
    });
    const { result } = search(machine, "/dev/vda", 30_000);
    await settle();
    addDevice(machine, "vda", ext4);
    machine.clock.advance(249);
    await settle();
    expect(result()).toBeUndefined();
    machine.clock.advance(1);
    await settle();
    expect(result()?.found?.name).toBe("vda");
    expect(machine.lines.some((line) => /no uevents \(socket\(AF_NETLINK\): EPERM\): looking again every 250 ms/.test(line))).toBe(true);
  });
});
