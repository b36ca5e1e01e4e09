// Write a reproducible newc cpio archive (the initramfs format) from a
// manifest, without root: device nodes are just header fields here.
//
//   bun scripts/mkcpio.ts MANIFEST OUT.cpio
//
// Manifest lines, in the spirit of the kernel's gen_init_cpio:
//   dir   /path MODE
//   file  /path SOURCE MODE [last]
//   slink /path TARGET
//   nod   /path MODE c|b MAJOR MINOR
// '#' starts a comment. Every entry is owned by 0:0 and stamped with
// SOURCE_DATE_EPOCH (default 0); entries are sorted by path and numbered in
// that order, so the same inputs always give the same bytes. Missing parent
// directories are added with mode 0755. Files marked `last` follow all the
// others (still sorted among themselves): with too little RAM the kernel stops
// unpacking part way, and what comes first survives (the stub /init and the
// record it checks the big file against, docs/image.md).
//
// The boot tests import cpio() to build small per-test archives that are
// appended to a base image (the kernel unpacks concatenated archives).

import { closeSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import { MAX_MAJOR, MAX_MINOR } from "../src/base/device-number.ts";

export type Entry =
  | { type: "dir"; path: string; mode?: number }
  | { type: "file"; path: string; mode?: number; data: Uint8Array | string }
  | { type: "file"; path: string; mode?: number; source: string; last?: boolean }
  | { type: "slink"; path: string; target: string }
  | { type: "nod"; path: string; mode?: number; kind: "c" | "b"; major: number; minor: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

const encoder = new TextEncoder();

/** "/bin/sh" and "bin/sh/" both name "bin/sh" inside the archive. */
function archiveName(path: string): string {
  const name = path.replace(/^\/+/, "").replace(/\/+$/, "");
  if (name === "" || name.split("/").some((part) => part === "" || part === "." || part === "..")) {
    throw new Error(`mkcpio: bad path ${JSON.stringify(path)}`);
  }
  return name;
}

/** The largest number a newc header field holds: eight hex digits. */
const MAX_FIELD = 0xffffffff;

const fitsField = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= MAX_FIELD;

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}

function pad4(n: number): Uint8Array {
  return new Uint8Array((4 - (n % 4)) % 4);
}

const FIELD_NAMES = ["ino", "mode", "uid", "gid", "nlink", "mtime", "filesize", "devmajor", "devminor", "rdevmajor", "rdevminor", "namesize", "check"];

function header(f: {
  ino: number; mode: number; nlink: number; mtime: number; size: number;
  rdevMajor: number; rdevMinor: number; name: string;
}): Uint8Array[] {
  const name = encoder.encode(`${f.name}\0`);
  const fields = [
    f.ino, f.mode, 0, 0, f.nlink, f.mtime, f.size, 0, 0, f.rdevMajor, f.rdevMinor, name.length, 0,
  ];
  // A ninth digit would shift every later field and the body: the kernel would read garbage,
  // or another entry, from there on. The checks on entries and sizes come first with plainer
  // words; this one keeps any field that slips past them from being written.
  const bad = fields.findIndex((n) => !fitsField(n));
  if (bad >= 0) throw new Error(`mkcpio: ${f.name}: header field ${FIELD_NAMES[bad]} = ${fields[bad]} does not fit newc's eight hex digits`);
  const head = encoder.encode(`070701${fields.map(hex8).join("")}`);
  return [head, name, pad4(head.length + name.length)];
}

const isWhole = (n: number): boolean => Number.isInteger(n) && n >= 0;

/**
 * What an entry asks for that no archive or image can hold, or undefined. Checked where every
 * entry comes in (withParents, which both writers start with), whether a manifest or code built
 * it: a number past its field would not be refused later but cut, and mean something else.
 */
export function entryProblem(entry: Entry): string | undefined {
  const where = entry.path;
  // The file type goes in the bits above these: a larger mode would change what the entry is.
  if (entry.type !== "slink" && entry.mode !== undefined && !(isWhole(entry.mode) && entry.mode <= 0o7777)) {
    return `${where}: mode ${Number.isInteger(entry.mode) && entry.mode >= 0 ? `0${entry.mode.toString(8)}` : entry.mode} is not a permission mode (0000 to 7777)`;
  }
  if (entry.type === "nod") {
    // The kernel (unpacking the archive) and ext4 (mkext4.ts) keep a device number in 32 bits,
    // 12 for the major and 20 for the minor: a larger one would silently become another device.
    for (const [what, value, largest] of [["major", entry.major, MAX_MAJOR], ["minor", entry.minor, MAX_MINOR]] as const) {
      if (!isWhole(value)) return `${where}: ${what} ${value} is not a whole number from 0 to ${largest}`;
      if (value > largest) return `${where}: ${what} ${value} is past the kernel's largest, ${largest}`;
    }
  }
  return undefined;
}

/** Adds the parent directories that the entries do not list themselves. */
export function withParents(entries: Entry[]): Map<string, Entry> {
  const byName = new Map<string, Entry>();
  for (const entry of entries) {
    const name = archiveName(entry.path);
    const problem = entryProblem(entry);
    if (problem !== undefined) throw new Error(`mkcpio: ${problem}`);
    if (byName.has(name)) throw new Error(`mkcpio: ${name} listed twice`);
    byName.set(name, entry);
  }
  for (const name of [...byName.keys()]) {
    const parts = name.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      if (!byName.has(parent)) byName.set(parent, { type: "dir", path: parent });
    }
  }
  return byName;
}

/**
 * The archive as a list of chunks (so a 100 MB file is never copied into
 * one buffer). File sources are read when the generator reaches them.
 */
export function* cpio(entries: Entry[], mtime = sourceDateEpoch()): Generator<Uint8Array> {
  // newc's mtime is 32 bits unsigned: its last second is in February 2106.
  if (!fitsField(mtime)) throw new Error(`mkcpio: mtime ${mtime} does not fit newc's eight hex digits (0 to ${MAX_FIELD}, the last second of 2106-02-07)`);
  const byName = withParents(entries);
  // Byte order, not locale order: "a-b" < "a/b" must not depend on the host. `last` files
  // after all the others.
  const isLast = (name: string): boolean => {
    const entry = byName.get(name)!;
    return entry.type === "file" && "source" in entry && entry.last === true;
  };
  const names = [...byName.keys()].sort((a, b) => Number(isLast(a)) - Number(isLast(b)) || (a < b ? -1 : a > b ? 1 : 0));
  let ino = 1;
  for (const name of names) {
    const entry = byName.get(name)!;
    let mode: number;
    let body: Uint8Array = new Uint8Array(0);
    let rdevMajor = 0;
    let rdevMinor = 0;
    let nlink = 1;
    switch (entry.type) {
      case "dir":
        mode = S_IFDIR | (entry.mode ?? 0o755);
        nlink = 2;
        break;
      case "file":
        mode = S_IFREG | (entry.mode ?? 0o644);
        if ("source" in entry) {
          // Asked before reading, so a file that cannot go in is not read into memory first.
          checkFileSize(name, statSync(entry.source).size, entry.source);
          body = readFileSync(entry.source);
        } else {
          body = typeof entry.data === "string" ? encoder.encode(entry.data) : entry.data;
          checkFileSize(name, body.length, undefined);
        }
        break;
      case "slink":
        mode = S_IFLNK | 0o777;
        body = encoder.encode(entry.target);
        break;
      case "nod":
        mode = (entry.kind === "c" ? S_IFCHR : S_IFBLK) | (entry.mode ?? 0o600);
        rdevMajor = entry.major;
        rdevMinor = entry.minor;
        break;
    }
    yield* header({ ino: ino++, mode, nlink, mtime, size: body.length, rdevMajor, rdevMinor, name });
    yield body;
    yield pad4(body.length);
  }
  yield* header({ ino: 0, mode: 0, nlink: 1, mtime: 0, size: 0, rdevMajor: 0, rdevMinor: 0, name: "TRAILER!!!" });
}

/** newc's filesize field is 32 bits: a file of 4 GiB or more cannot be in the archive. */
function checkFileSize(name: string, size: number, source: string | undefined): void {
  if (size <= MAX_FIELD) return;
  const what = source === undefined ? "its data" : source;
  throw new Error(`mkcpio: ${name}: ${what} is ${size} bytes, past newc's largest file, ${MAX_FIELD} bytes (4 GiB - 1)`);
}

/** The whole archive in one buffer: for small per-test archives. */
export function cpioBytes(entries: Entry[], mtime?: number): Uint8Array {
  const chunks = [...cpio(entries, mtime)];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

export function sourceDateEpoch(): number {
  const value = process.env.SOURCE_DATE_EPOCH;
  if (value === undefined || value === "") return 0;
  if (!/^\d+$/.test(value)) throw new Error(`mkcpio: SOURCE_DATE_EPOCH=${value} is not a number`);
  return Number(value);
}

function octal(field: string | undefined, line: number): number {
  if (field === undefined || !/^[0-7]{3,4}$/.test(field)) {
    throw new Error(`mkcpio: line ${line}: bad mode ${field ?? "(missing)"}`);
  }
  return parseInt(field, 8);
}

export function parseManifest(text: string): Entry[] {
  const entries: Entry[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = index + 1;
    const words = raw.replace(/#.*/, "").trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) return;
    const [kind, path, ...rest] = words;
    if (path === undefined) throw new Error(`mkcpio: line ${line}: no path`);
    switch (kind) {
      case "dir":
        entries.push({ type: "dir", path, mode: octal(rest[0], line) });
        break;
      case "file":
        if (rest[0] === undefined) throw new Error(`mkcpio: line ${line}: no source`);
        if (rest[2] !== undefined && rest[2] !== "last") throw new Error(`mkcpio: line ${line}: expected file PATH SOURCE MODE [last], not ${rest[2]}`);
        entries.push({ type: "file", path, source: rest[0], mode: octal(rest[1], line), last: rest[2] === "last" });
        break;
      case "slink":
        if (rest[0] === undefined) throw new Error(`mkcpio: line ${line}: no target`);
        entries.push({ type: "slink", path, target: rest[0] });
        break;
      case "nod": {
        const [mode, devKind, major, minor] = rest;
        if ((devKind !== "c" && devKind !== "b") || !/^\d+$/.test(major ?? "") || !/^\d+$/.test(minor ?? "")) {
          throw new Error(`mkcpio: line ${line}: expected nod PATH MODE c|b MAJOR MINOR`);
        }
        entries.push({ type: "nod", path, mode: octal(mode, line), kind: devKind, major: Number(major), minor: Number(minor) });
        break;
      }
      default:
        throw new Error(`mkcpio: line ${line}: unknown entry type ${kind}`);
    }
    // The writers check every entry again (withParents); here the message can name the line.
    const problem = entryProblem(entries.at(-1)!);
    if (problem !== undefined) throw new Error(`mkcpio: line ${line}: ${problem}`);
  });
  return entries;
}

if (import.meta.main) {
  const [manifest, out] = process.argv.slice(2);
  if (manifest === undefined || out === undefined) {
    console.error("usage: mkcpio.ts MANIFEST OUT.cpio");
    process.exit(2);
  }
  try {
    const fd = openSync(out, "w");
    for (const chunk of cpio(parseManifest(readFileSync(manifest, "utf8")))) {
      for (let at = 0; at < chunk.length; ) at += writeSync(fd, chunk, at);
    }
    closeSync(fd);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
