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

import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
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

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}

function pad4(n: number): Uint8Array {
  return new Uint8Array((4 - (n % 4)) % 4);
}

function header(f: {
  ino: number; mode: number; nlink: number; mtime: number; size: number;
  rdevMajor: number; rdevMinor: number; name: string;
}): Uint8Array[] {
  const name = encoder.encode(`${f.name}\0`);
  const fields = [
    f.ino, f.mode, 0, 0, f.nlink, f.mtime, f.size, 0, 0, f.rdevMajor, f.rdevMinor, name.length, 0,
  ];
  const head = encoder.encode(`070701${fields.map(hex8).join("")}`);
  return [head, name, pad4(head.length + name.length)];
}

/** Adds the parent directories that the entries do not list themselves. */
export function withParents(entries: Entry[]): Map<string, Entry> {
  const byName = new Map<string, Entry>();
  for (const entry of entries) {
    const name = archiveName(entry.path);
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
        if ("source" in entry) body = readFileSync(entry.source);
        else body = typeof entry.data === "string" ? encoder.encode(entry.data) : entry.data;
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
        // The kernel (unpacking the archive) and ext4 (mkext4.ts) keep a device number in 32 bits,
        // 12 for the major and 20 for the minor: a larger one would silently become another device.
        if (Number(major) > MAX_MAJOR) throw new Error(`mkcpio: line ${line}: major ${major} is past the kernel's largest, ${MAX_MAJOR}`);
        if (Number(minor) > MAX_MINOR) throw new Error(`mkcpio: line ${line}: minor ${minor} is past the kernel's largest, ${MAX_MINOR}`);
        entries.push({ type: "nod", path, mode: octal(mode, line), kind: devKind, major: Number(major), minor: Number(minor) });
        break;
      }
      default:
        throw new Error(`mkcpio: line ${line}: unknown entry type ${kind}`);
    }
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
