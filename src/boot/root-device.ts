// Waiting for the root device: every block device is probed as it appears (a uevent from the
// kernel's netlink socket says so; sysfs lists those there already), the modules that new
// devices ask for are loaded on the way, and the search ends when one matches `root=` or when
// rootwait's time is up. No polling: between events nothing runs.
import type { Log } from "../log/log.ts";
import { SysError, type Runtime, type Sys, type Uevent } from "../sys/sys.ts";
import { findRootDevices, probeFilesystem, readPartitionTable, type BlockDeviceInfo, type ReadBytes, type RootSpec } from "./block-id.ts";

/** Enough for every probe: btrfs's superblock is at 64 KiB. */
const PROBE_BYTES = 68 * 1024;
/** The GPT header and 128 entries of 128 bytes, after the protective MBR. */
const TABLE_BYTES = 34 * 512;

export interface DeviceEvents {
  /** A uevent asked for a driver (its MODALIAS); the caller loads what matches. */
  modalias(alias: string): void;
  /**
   * Load the drivers of every device present: once the listener is up (devices that appeared
   * since the boot's coldplug), and after the kernel dropped uevents.
   */
  coldplug(): void;
}

export type RootSearchResult = { found: BlockDeviceInfo; devices: BlockDeviceInfo[] } | { found: undefined; devices: BlockDeviceInfo[] };

/**
 * What one block device is, from sysfs and its own bytes. `readable` is false when its first
 * bytes could not be read (its node is not there yet, or the read failed): such a device is
 * probed again later.
 */
export function probeBlockDevice(sys: Sys, name: string): { info: BlockDeviceInfo; readable: boolean; problem?: string } {
  const sysDir = `/sys/class/block/${name}`;
  const path = `/dev/${name}`;
  const info: BlockDeviceInfo = { name, path };
  const dev = sys.readFile(`${sysDir}/dev`)?.trim();
  if (dev) info.dev = dev;
  const sectors = Number(sys.readFile(`${sysDir}/size`)?.trim());
  if (Number.isFinite(sectors) && sectors > 0) info.sizeBytes = sectors * 512;
  const device = new DeviceReader(sys, path, PROBE_BYTES);
  try {
    probeBytes(sys, name, info, device);
  } catch (error) {
    // Bytes that trip a probe are a device like any other to the wait: listed, never matched,
    // and never the end of the wait itself.
    return { info, readable: true, problem: `probing ${path}: ${error instanceof Error ? error.message : String(error)}` };
  }
  return { info, readable: device.readable };
}

/** The filesystem on the device and, for a partition, its PARTUUID and PARTLABEL. */
function probeBytes(sys: Sys, name: string, info: BlockDeviceInfo, device: DeviceReader): void {
  const sysDir = `/sys/class/block/${name}`;
  const fs = probeFilesystem(device.read);
  if (fs !== undefined) info.fs = fs;
  const number = Number(sys.readFile(`${sysDir}/partition`)?.trim());
  if (Number.isInteger(number) && number > 0) {
    info.partition = number;
    // /sys/class/block/vda1 -> ../../devices/.../block/vda/vda1: the disk is the parent.
    const parts = (sys.readlink(sysDir) ?? "").split("/");
    const disk = parts[parts.length - 2];
    if (disk) {
      info.disk = disk;
      const diskSectors = Number(sys.readFile(`/sys/class/block/${disk}/size`)?.trim());
      const table = readPartitionTable(new DeviceReader(sys, `/dev/${disk}`, TABLE_BYTES).read, 512, diskSectors > 0 ? diskSectors * 512 : undefined);
      const entry = table !== undefined && "partitions" in table ? table.partitions.find((p) => p.number === number) : undefined;
      if (entry !== undefined) {
        info.partuuid = entry.partuuid;
        if (entry.partlabel !== undefined) info.partlabel = entry.partlabel;
      }
    }
  } else {
    const table = readPartitionTable(device.read, 512, info.sizeBytes);
    if (table !== undefined) info.partitionTable = table.scheme;
  }
}

/**
 * One read of a device's first bytes serves every probe; a range past them is read on its own,
 * within a budget. Every read is a synchronous pread in PID 1, so a device that is slow, or
 * whose filesystem makes a probe wander (a FAT root directory of many clusters), costs at most
 * READ_BUDGET reads of at most READ_BYTES_BUDGET bytes in all.
 */
class DeviceReader {
  private head: Uint8Array | undefined | null = null;
  private reads = 0;
  private bytes = 0;

  constructor(
    private readonly sys: Sys,
    private readonly path: string,
    private readonly size: number,
  ) {}

  get readable(): boolean {
    this.read(0, 0);
    return this.head !== undefined && this.head !== null && this.head.length > 0;
  }

  readonly read: ReadBytes = (offset, length) => {
    if (this.head === null) {
      const bytes = this.sys.readAt(this.path, 0, this.size);
      this.head = bytes instanceof SysError ? undefined : bytes;
    }
    if (this.head === undefined) return undefined;
    if (offset + length <= this.head.length) return this.head.subarray(offset, offset + length);
    if (this.head.length < this.size) return undefined; // the device ends before that
    if (++this.reads > READ_BUDGET || (this.bytes += length) > READ_BYTES_BUDGET) return undefined;
    const bytes = this.sys.readAt(this.path, offset, length);
    return bytes instanceof SysError || bytes.length < length ? undefined : bytes;
  };
}

const READ_BUDGET = 64;
const READ_BYTES_BUDGET = 4 << 20;

/** Every block device sysfs knows now, probed. */
export function listBlockDevices(sys: Sys): BlockDeviceInfo[] {
  return (sys.readDir("/sys/class/block") ?? []).sort().map((name) => probeBlockDevice(sys, name).info);
}

/**
 * Resolves with the first block device that matches `spec`, probing each as it appears, or
 * with none once `timeoutMs` has passed. `events.modalias` is told of every device that asks
 * for a driver, so that the modules it needs are loaded.
 */
export function waitForRoot(runtime: Runtime, log: Log, spec: RootSpec, timeoutMs: number, events: DeviceEvents): Promise<RootSearchResult> {
  const { sys, clock } = runtime;
  return new Promise((resolve) => {
    // Devices probed with their first bytes read; one that could not be read is looked at again.
    const probed = new Map<string, BlockDeviceInfo>();
    const unreadable = new Map<string, BlockDeviceInfo>();
    let done = false;
    let listener: { close(): void } | undefined;
    const finish = (found: BlockDeviceInfo | undefined) => {
      if (done) return;
      done = true;
      timer.cancel();
      listener?.close();
      const devices = [...probed.values(), ...unreadable.values()].sort((a, b) => a.name.localeCompare(b.name));
      resolve(found === undefined ? { found: undefined, devices } : { found, devices });
    };
    const look = (name: string, fresh: boolean) => {
      if (done || (!fresh && probed.has(name))) return;
      const { info, readable, problem } = probeBlockDevice(sys, name);
      if (problem !== undefined) log.warn(problem);
      if (readable) {
        probed.set(name, info);
        unreadable.delete(name);
      } else {
        probed.delete(name);
        unreadable.set(name, info);
        return;
      }
      // PARTNROFF= names a partition by its neighbour, so the match looks at every device.
      const matches = findRootDevices(spec, [...probed.values()].sort((a, b) => a.name.localeCompare(b.name)));
      if (matches.length > 1) log.warn(`root= matches ${matches.map((d) => d.path).join(" and ")} (cloned disks?): taking ${matches[0]!.path}`);
      if (matches[0] !== undefined) finish(matches[0]);
    };
    const scan = (fresh: boolean) => {
      for (const name of (sys.readDir("/sys/class/block") ?? []).sort()) look(name, fresh);
    };
    const onEvent = (event: Uevent) => {
      if (done) return;
      if (event.MODALIAS !== undefined && event.ACTION === "add") events.modalias(event.MODALIAS);
      if (event.SUBSYSTEM !== "block" || event.DEVNAME === undefined) return;
      if (event.ACTION === "remove") {
        probed.delete(event.DEVNAME);
        unreadable.delete(event.DEVNAME);
      } else {
        // Added, or changed (a new filesystem written, a partition table re-read): look again.
        look(event.DEVNAME, true);
      }
    };
    const timer = clock.setTimer(timeoutMs, () => {
      // A last look, in case an event was lost.
      scan(false);
      finish(undefined);
    });
    try {
      // Listening first, then drivers and the scan: a device that appears in between is seen
      // either way.
      listener = runtime.listenUevents(onEvent, (error) => log.warn(error.message), () => {
        log.warn("the kernel dropped uevents: looking at every device again");
        events.coldplug();
        scan(true);
      });
    } catch (error) {
      log.warn(`no uevents (${error instanceof Error ? error.message : String(error)}): looking again every 250 ms`);
      let poll = clock.setTimer(250, function again() {
        events.coldplug();
        scan(false);
        poll = clock.setTimer(250, again);
      });
      listener = { close: () => poll.cancel() };
    }
    events.coldplug();
    scan(false);
  });
}
