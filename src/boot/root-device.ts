// Waiting for the root device: every block device is probed as it appears (a uevent from the
// kernel's netlink socket says so; sysfs lists those there already), the modules that new
// devices ask for are loaded on the way, and the search ends when one matches `root=` or when
// rootwait's time is up. No polling: between events nothing runs.
import type { Log } from "../log/log.ts";
import { SysError, type Runtime, type Sys, type Uevent } from "../sys/sys.ts";
import { matchesRoot, probeFilesystem, readPartitionTable, type BlockDeviceInfo, type ReadBytes, type RootSpec } from "./block-id.ts";

/** Enough for every probe: btrfs's superblock is at 64 KiB. */
const PROBE_BYTES = 68 * 1024;
/** The GPT header and 128 entries of 128 bytes, after the protective MBR. */
const TABLE_BYTES = 34 * 512;

export interface DeviceEvents {
  /** A uevent asked for a driver (its MODALIAS); the caller loads what matches. */
  modalias(alias: string): void;
}

export type RootSearchResult = { found: BlockDeviceInfo; devices: BlockDeviceInfo[] } | { found: undefined; devices: BlockDeviceInfo[] };

/** What one block device is, from sysfs and its own bytes. */
export function probeBlockDevice(sys: Sys, name: string): BlockDeviceInfo {
  const sysDir = `/sys/class/block/${name}`;
  const path = `/dev/${name}`;
  const info: BlockDeviceInfo = { name, path };
  const dev = sys.readFile(`${sysDir}/dev`)?.trim();
  if (dev) info.dev = dev;
  const sectors = Number(sys.readFile(`${sysDir}/size`)?.trim());
  if (Number.isFinite(sectors) && sectors > 0) info.sizeBytes = sectors * 512;
  const fs = probeFilesystem(bufferedReader(sys, path, PROBE_BYTES));
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
      const table = readPartitionTable(bufferedReader(sys, `/dev/${disk}`, TABLE_BYTES), 512, diskSectors > 0 ? diskSectors * 512 : undefined);
      const entry = table !== undefined && "partitions" in table ? table.partitions.find((p) => p.number === number) : undefined;
      if (entry !== undefined) {
        info.partuuid = entry.partuuid;
        if (entry.partlabel !== undefined) info.partlabel = entry.partlabel;
      }
    }
  } else {
    const table = readPartitionTable(bufferedReader(sys, path, TABLE_BYTES), 512, info.sizeBytes);
    if (table !== undefined) info.partitionTable = table.scheme;
  }
  return info;
}

/** One read of the device's first bytes serves every probe; a range past them is read on its own. */
function bufferedReader(sys: Sys, path: string, size: number): ReadBytes {
  let head: Uint8Array | undefined | null = null;
  return (offset, length) => {
    if (head === null) {
      const bytes = sys.readAt(path, 0, size);
      head = bytes instanceof SysError ? undefined : bytes;
    }
    if (head === undefined) return undefined;
    if (offset + length <= head.length) return head.subarray(offset, offset + length);
    if (head.length < size) return undefined; // the device ends before that
    const bytes = sys.readAt(path, offset, length);
    return bytes instanceof SysError || bytes.length < length ? undefined : bytes;
  };
}

/** Every block device sysfs knows now, probed. */
export function listBlockDevices(sys: Sys): BlockDeviceInfo[] {
  return (sys.readDir("/sys/class/block") ?? []).sort().map((name) => probeBlockDevice(sys, name));
}

/**
 * Resolves with the first block device that matches `spec`, probing each as it appears, or
 * with none once `timeoutMs` has passed. `events.modalias` is told of every device that asks
 * for a driver, so that the modules it needs are loaded.
 */
export function waitForRoot(runtime: Runtime, log: Log, spec: RootSpec, timeoutMs: number, events: DeviceEvents): Promise<RootSearchResult> {
  const { sys, clock } = runtime;
  return new Promise((resolve) => {
    const probed = new Map<string, BlockDeviceInfo>();
    let done = false;
    let listener: { close(): void } | undefined;
    const finish = (found: BlockDeviceInfo | undefined) => {
      if (done) return;
      done = true;
      timer.cancel();
      listener?.close();
      const devices = [...probed.values()].sort((a, b) => a.name.localeCompare(b.name));
      resolve(found === undefined ? { found: undefined, devices } : { found, devices });
    };
    const look = (name: string, fresh: boolean) => {
      if (done || (!fresh && probed.has(name))) return;
      const info = probeBlockDevice(sys, name);
      probed.set(name, info);
      // PARTNROFF= names a partition by its neighbour, so the match looks at every device.
      if (matchesRoot(spec, info, [...probed.values()])) finish(info);
      else if (spec.kind === "partuuid" && spec.partitionOffset !== undefined) {
        const match = [...probed.values()].find((other) => matchesRoot(spec, other, [...probed.values()]));
        if (match !== undefined) finish(match);
      }
    };
    const scan = () => {
      for (const name of (sys.readDir("/sys/class/block") ?? []).sort()) look(name, false);
    };
    const onEvent = (event: Uevent) => {
      if (done) return;
      if (event.MODALIAS !== undefined && event.ACTION === "add") events.modalias(event.MODALIAS);
      if (event.SUBSYSTEM !== "block" || event.DEVNAME === undefined) return;
      if (event.ACTION === "remove") probed.delete(event.DEVNAME);
      // A new filesystem written to a device, or a partition table re-read: look again.
      else look(event.DEVNAME, event.ACTION === "change");
    };
    const timer = clock.setTimer(timeoutMs, () => {
      // A last look, in case an event was lost (the socket overflowed).
      scan();
      finish(undefined);
    });
    try {
      // Listening first, then the scan: a device that appears in between is seen either way.
      listener = runtime.listenUevents(onEvent, (error) => log.warn(error.message));
    } catch (error) {
      log.warn(`no uevents (${error instanceof Error ? error.message : String(error)}): looking again every 250 ms`);
      let poll = clock.setTimer(250, function again() {
        scan();
        poll = clock.setTimer(250, again);
      });
      listener = { close: () => poll.cancel() };
    }
    scan();
  });
}
