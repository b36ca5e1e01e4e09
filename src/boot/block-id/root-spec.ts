// What root= names and which block device that is. The kernel itself resolves /dev/NAME,
// MAJOR:MINOR, PARTUUID= (with /PARTNROFF=) and PARTLABEL=; util-linux adds LABEL= and UUID=;
// udev's /dev/disk/by-* links name the same four things, and tsinit has no udev to make them,
// so it reads those paths as the tag they stand for. Pure.
import { decodeDeviceNumber, MAX_MAJOR, MAX_MINOR } from "../../base/device-number.ts";
import type { BlockDeviceInfo } from "./block-device.ts";

export type RootSpec =
  | { kind: "path"; path: string }
  | { kind: "devnum"; dev: string }
  | { kind: "label"; label: string }
  | { kind: "uuid"; uuid: string }
  | { kind: "partuuid"; partuuid: string; partitionOffset?: number }
  | { kind: "partlabel"; partlabel: string };

export interface RootSpecError {
  kind: "invalid";
  error: string;
}

type TagKind = "label" | "uuid" | "partuuid" | "partlabel";

/** The tags, spelt as the kernel and util-linux accept them: upper case only. */
const TAGS: Readonly<Record<string, TagKind>> = { LABEL: "label", UUID: "uuid", PARTUUID: "partuuid", PARTLABEL: "partlabel" };

/** udev's link directories for the same tags. */
const LINK_DIRECTORIES: Readonly<Record<string, TagKind>> = {
  "/dev/disk/by-label/": "label",
  "/dev/disk/by-uuid/": "uuid",
  "/dev/disk/by-partuuid/": "partuuid",
  "/dev/disk/by-partlabel/": "partlabel",
};

const FORMS = "/dev/NAME, LABEL=, UUID=, PARTUUID=, PARTLABEL= or MAJOR:MINOR";

export function parseRootSpec(value: string): RootSpec | RootSpecError {
  const invalid = (why: string): RootSpecError => ({ kind: "invalid", error: `root=${value}: ${why}` });
  if (value === "") return { kind: "invalid", error: `root= is empty: give ${FORMS}` };
  if (value.startsWith("/dev/disk/")) {
    const directory = Object.keys(LINK_DIRECTORIES).find((prefix) => value.startsWith(prefix));
    if (directory === undefined) {
      return invalid(`${value.split("/").slice(0, 4).join("/")} links are made by udev, which this system does not run; give ${FORMS}`);
    }
    // udev writes a space as \x20 and a slash as \x2f in a link's name.
    const name = value.slice(directory.length).replace(/\\x([0-9a-fA-F]{2})/g, (_, code: string) => String.fromCharCode(parseInt(code, 16)));
    return tagSpec(LINK_DIRECTORIES[directory]!, name, invalid);
  }
  if (value.startsWith("/dev/")) {
    if (value.length === "/dev/".length) return invalid("names no device");
    return { kind: "path", path: value };
  }
  const equals = value.indexOf("=");
  if (equals > 0) {
    const key = value.slice(0, equals);
    const kind = TAGS[key];
    if (kind === undefined) {
      const upper = TAGS[key.toUpperCase()];
      return invalid(upper !== undefined ? `the key is upper case only: ${key.toUpperCase()}=` : `unknown key ${key}=; give ${FORMS}`);
    }
    return tagSpec(kind, value.slice(equals + 1), invalid);
  }
  return deviceNumber(value, invalid) ?? invalid(`not a device: give ${FORMS}`);
}

function tagSpec(kind: TagKind, text: string, invalid: (why: string) => RootSpecError): RootSpec | RootSpecError {
  if (kind !== "partuuid") {
    if (text === "") return invalid(`names no ${kind}`);
    if (kind === "uuid") return { kind, uuid: text };
    return kind === "label" ? { kind, label: text } : { kind, partlabel: text };
  }
  // The kernel's PARTUUID=UUID/PARTNROFF=N: the partition N places on from that one, same disk.
  const slash = text.indexOf("/");
  const partuuid = slash === -1 ? text : text.slice(0, slash);
  if (partuuid === "") return invalid("names no partuuid");
  if (!/^[0-9a-fA-F-]+$/.test(partuuid)) return invalid(`${partuuid} is not a PARTUUID (hex digits and dashes)`);
  if (slash === -1) return { kind, partuuid };
  const offset = /^PARTNROFF=([+-]?\d+)$/.exec(text.slice(slash + 1));
  if (offset === null) return invalid(`after the PARTUUID only /PARTNROFF=N (a whole number) may follow`);
  return { kind, partuuid, partitionOffset: Number(offset[1]) };
}

/**
 * The kernel's device numbers: MAJOR:MINOR in decimal, or the old single hex number it still
 * takes (the major in bits 8-19, the minor in the low byte and bits 20-31: 801 is 8:1, fd00 is
 * 253:0). Returned as "MAJOR:MINOR", the form of /sys/class/block/NAME/dev. A pair past the
 * kernel's 12-bit major or 20-bit minor names no device: the kernel refuses it, and so does
 * this (no wait for a device that cannot appear). Undefined when the text is neither form.
 */
function deviceNumber(text: string, invalid: (why: string) => RootSpecError): RootSpec | RootSpecError | undefined {
  const pair = /^(\d+):(\d+)$/.exec(text);
  if (pair !== null) {
    const [major, minor] = [Number(pair[1]), Number(pair[2])];
    if (major > MAX_MAJOR) return invalid(`major ${pair[1]} is past the kernel's largest, ${MAX_MAJOR}`);
    if (minor > MAX_MINOR) return invalid(`minor ${pair[2]} is past the kernel's largest, ${MAX_MINOR}`);
    return { kind: "devnum", dev: `${major}:${minor}` };
  }
  if (!/^[0-9a-fA-F]{1,8}$/.test(text)) return undefined;
  const { major, minor } = decodeDeviceNumber(parseInt(text, 16));
  return { kind: "devnum", dev: `${major}:${minor}` };
}

const sameId = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();

/**
 * The devices root= names, in the order given (the caller takes the first, and says so when
 * there are more: two disks cloned from one image share their labels and UUIDs).
 */
export function findRootDevices(spec: RootSpec, devices: readonly BlockDeviceInfo[]): BlockDeviceInfo[] {
  if (spec.kind === "partuuid" && spec.partitionOffset !== undefined) {
    const offset = spec.partitionOffset;
    const anchors = devices.filter((device) => sameId(device.partuuid, spec.partuuid));
    return devices.filter((device) =>
      anchors.some((anchor) => anchor.disk !== undefined && anchor.partition !== undefined && device.disk === anchor.disk && device.partition === anchor.partition + offset),
    );
  }
  return devices.filter((device) => matchesDevice(spec, device));
}

/**
 * Whether root= names this device. PARTNROFF= names a device by its neighbour, so for that form
 * pass the other devices too; every other form is decided by the device alone.
 */
export function matchesRoot(spec: RootSpec, device: BlockDeviceInfo, devices: readonly BlockDeviceInfo[] = [device]): boolean {
  return findRootDevices(spec, devices.includes(device) ? devices : [...devices, device]).includes(device);
}

function matchesDevice(spec: RootSpec, device: BlockDeviceInfo): boolean {
  switch (spec.kind) {
    case "path":
      // The kernel names /dev/cciss/c0d0 "cciss!c0d0": a slash in a device's path is a ! in its name.
      return device.path === spec.path || `/dev/${device.name.replaceAll("!", "/")}` === spec.path;
    case "devnum":
      return device.dev === spec.dev;
    case "label":
      return device.fs?.label === spec.label;
    case "uuid":
      return sameId(device.fs?.uuid, spec.uuid);
    case "partuuid":
      return sameId(device.partuuid, spec.partuuid);
    case "partlabel":
      return device.partlabel === spec.partlabel;
  }
}
