// make size: what the image holds, part by part, raw and as gzip, zstd and xz would ship it.
// Usage: bun scripts/size.ts MANIFEST [CPIO]
//
// It reads the manifest (scripts/manifest.sh), so it follows whatever the image carries. Parts:
// the Bun runtime and tsinit's own bundle (a compiled executable carries its bundle in an ELF
// section named .bun: the module graph of `bun build --compile`), busybox, shared libraries,
// kernel modules and their tables, other files, and the cpio's headers. A squashfs or erofs file
// in the image is a part of its own, and what it holds is broken down the same way below it.
// Each part is compressed on its own (GZIP_LEVEL, ZSTD_LEVEL, XZ_LEVEL as the Makefile ships);
// the whole archive too, which is what the parts add up to less what one stream shares.
// Sizes already measured are kept in dist/size-cache.json by content, so a rebuild recompresses
// only what changed.

import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const GZIP_LEVEL = process.env.GZIP_LEVEL ?? "9";
const ZSTD_LEVEL = process.env.ZSTD_LEVEL ?? "19";
const XZ_LEVEL = process.env.XZ_LEVEL ?? "9";
const JOBS = Math.max(1, Number(process.env.SIZE_JOBS ?? 2));

const COMPRESSORS: [name: string, argv: string[]][] = [
  [`gzip -${GZIP_LEVEL}`, ["gzip", "-n", `-${GZIP_LEVEL}`]],
  [`zstd -${ZSTD_LEVEL}`, ["zstd", "-q", "-T1", `-${ZSTD_LEVEL}`]],
  [`xz -${XZ_LEVEL}`, ["xz", "-T1", "--check=crc32", `-${XZ_LEVEL}`]],
];

/** A piece of a file: the whole file, or a byte range of it. */
interface Piece {
  path: string;
  start: number;
  end: number;
}

interface Part {
  label: string;
  /** Files (or sections of files) counted. */
  count: number;
  pieces: Piece[];
  /** Indented under the part before it (the contents of a filesystem image, a bundle's parts). */
  nested?: boolean;
  /** Set for a filesystem image: what it holds, as parts of their own. */
  holds?: Part[];
  /** How far a nested part is indented (default 1). */
  depth?: number;
}

// --- ELF: the .bun section ----------------------------------------------------------

interface Section {
  offset: number;
  size: number;
}

/** An ELF64 little-endian file's section by name, or undefined. */
function elfSection(bytes: Uint8Array, name: string): Section | undefined {
  if (bytes.length < 64 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) return undefined;
  if (bytes[4] !== 2 || bytes[5] !== 1) return undefined; // ELF64, little-endian
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = Number(view.getBigUint64(0x28, true));
  const shentsize = view.getUint16(0x3a, true);
  const shnum = view.getUint16(0x3c, true);
  const shstrndx = view.getUint16(0x3e, true);
  if (shoff === 0 || shoff + shnum * shentsize > bytes.length) return undefined;
  const header = (i: number) => shoff + i * shentsize;
  const strtab = Number(view.getBigUint64(header(shstrndx) + 24, true));
  const wanted = new TextEncoder().encode(`${name}\0`);
  for (let i = 0; i < shnum; i++) {
    const at = strtab + view.getUint32(header(i), true);
    if (wanted.every((byte, k) => bytes[at + k] === byte)) {
      return { offset: Number(view.getBigUint64(header(i) + 24, true)), size: Number(view.getBigUint64(header(i) + 32, true)) };
    }
  }
  return undefined;
}

/**
 * The module graph in a .bun section, as Bun 1.4 writes it: a u64 length, the graph's bytes,
 * which end in an Offsets record (u64 byte count, the module table's offset and length, the
 * entry point, the exec argv, flags) and the trailer "\n---- Bun! ----\n". Each module is 52
 * bytes: six (offset, length) u32 pairs (name, contents, source map, bytecode, module info,
 * bytecode origin) and four bytes of kinds. Returns the byte ranges of the JS sources and of
 * the bytecode, in file offsets, or undefined when the layout is not this one.
 */
function bundleParts(bytes: Uint8Array, section: Section): { sources: [number, number][]; bytecode: [number, number][]; names: string[] } | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset + section.offset, section.size);
  if (section.size < 8 + 48) return undefined;
  const length = Number(view.getBigUint64(0, true));
  const base = 8;
  if (base + length > section.size) return undefined;
  const trailer = new TextDecoder().decode(new Uint8Array(bytes.buffer, bytes.byteOffset + section.offset + base + length - 16, 16));
  if (trailer !== "\n---- Bun! ----\n") return undefined;
  const offsets = base + length - 16 - 32;
  const tableAt = view.getUint32(offsets + 8, true);
  const tableLength = view.getUint32(offsets + 12, true);
  if (tableLength === 0 || tableLength % 52 !== 0 || tableAt + tableLength > length) return undefined;
  const sources: [number, number][] = [];
  const bytecode: [number, number][] = [];
  const names: string[] = [];
  for (let at = tableAt; at < tableAt + tableLength; at += 52) {
    const pair = (k: number): [number, number] => [view.getUint32(base + at + 8 * k, true), view.getUint32(base + at + 8 * k + 4, true)];
    const [nameAt, nameLength] = pair(0);
    const name = new TextDecoder().decode(new Uint8Array(bytes.buffer, bytes.byteOffset + section.offset + base + nameAt, nameLength));
    if (!name.startsWith("/$bunfs/")) return undefined;
    names.push(name.replace("/$bunfs/root/", ""));
    const toFile = ([start, size]: [number, number]): [number, number] => [section.offset + base + start, section.offset + base + start + size];
    if (pair(1)[1]) sources.push(toFile(pair(1)));
    if (pair(3)[1]) bytecode.push(toFile(pair(3)));
  }
  return { sources, bytecode, names };
}

// --- the parts ----------------------------------------------------------------------

const FS_IMAGE_MAGIC: [kind: string, offset: number, magic: number[]][] = [
  ["squashfs", 0, [0x68, 0x73, 0x71, 0x73]], // "hsqs"
  ["erofs", 1024, [0xe2, 0xe1, 0xf5, 0xe0]], // 0xE0F5E1E2, little-endian
];

function fsImageKind(path: string): string | undefined {
  const fd = Bun.file(path);
  if (fd.size < 1100) return undefined;
  const head = new Uint8Array(readFileSync(path).subarray(0, 1100));
  for (const [kind, offset, magic] of FS_IMAGE_MAGIC) {
    if (magic.every((byte, k) => head[offset + k] === byte)) return kind;
  }
  return undefined;
}

function category(dest: string): string {
  if (/(^|\/)busybox$/.test(dest)) return "busybox";
  if (/^\/lib\/modules\/.*\.ko(\.(xz|zst|gz))?$/.test(dest)) return "kernel modules";
  if (/^\/lib\/modules\//.test(dest)) return "kernel module tables";
  if (/^\/(usr\/)?lib(64|32)?\/.*\.so(\.[\d.]+)?$/.test(dest)) return "shared libraries";
  return "other files";
}

const ORDER = ["Bun runtime", "tsinit bundle", "busybox", "shared libraries", "kernel modules", "kernel module tables", "other files"];

/** The parts of a list of files (destination path -> source file). */
function partsOf(files: [dest: string, source: string][], depth: number): Part[] {
  const parts = new Map<string, Part>();
  const add = (label: string, piece: Piece, count = 1): Part => {
    let part = parts.get(label);
    if (!part) parts.set(label, (part = { label, count: 0, pieces: [] }));
    part.count += count;
    part.pieces.push(piece);
    return part;
  };
  const extra: Part[] = [];
  for (const [dest, source] of files) {
    const size = statSync(source).size;
    const whole: Piece = { path: source, start: 0, end: size };
    const kind = depth === 0 ? fsImageKind(source) : undefined;
    if (kind) {
      extra.push({ label: `${kind} ${dest}`, count: 1, pieces: [whole], holds: fsContents(kind, source, depth + 1) });
      continue;
    }
    const bytes = size > 1 << 20 ? new Uint8Array(readFileSync(source)) : undefined;
    const bun = bytes && elfSection(bytes, ".bun");
    if (bun) {
      add("Bun runtime", { path: source, start: 0, end: bun.offset });
      add("Bun runtime", { path: source, start: bun.offset + bun.size, end: size }, 0);
      const bundle = add("tsinit bundle", { path: source, start: bun.offset, end: bun.offset + bun.size });
      const split = bundleParts(bytes, bun);
      if (split) {
        bundle.label = `tsinit bundle (${split.names.join(", ")})`;
        const pieces = (ranges: [number, number][]) => ranges.map(([start, end]) => ({ path: source, start, end }));
        const counted = [...split.sources, ...split.bytecode].reduce((sum, [s, e]) => sum + e - s, 0);
        // The rest is counted by size: it is not one range. Most of it is the bytecode of Bun's
        // JS internals behind the bundle's imports (node:fs alone is 1.4 MiB: docs/bench.md).
        extra.push(
          { label: "↳ JS sources (minified)", count: split.sources.length, pieces: pieces(split.sources), nested: true },
          { label: "↳ bytecode", count: split.bytecode.length, pieces: pieces(split.bytecode), nested: true },
          { label: "↳ the rest: Bun's own modules the bundle imports (node:fs…) as bytecode, names, tables", count: 0, pieces: [{ path: "", start: 0, end: bun.size - counted }], nested: true },
        );
      }
      continue;
    }
    add(category(dest), whole);
  }
  const out: Part[] = [];
  for (const label of ORDER) {
    for (const [key, part] of parts) {
      if (key === label || (label === "tsinit bundle" && key.startsWith("tsinit bundle"))) {
        out.push(part);
        if (label === "tsinit bundle") out.push(...extra.filter((p) => p.nested));
      }
    }
  }
  out.push(...extra.filter((p) => !p.nested));
  return out;
}

/** What a squashfs or erofs file holds, unpacked to a scratch folder and broken down. */
function fsContents(kind: string, path: string, depth: number): Part[] {
  const dir = mkdtempSync(join(tmpdir(), "tsinit-size-"));
  try {
    const out = join(dir, "root");
    const argv = kind === "squashfs" ? ["unsquashfs", "-q", "-n", "-d", out, path] : ["fsck.erofs", `--extract=${out}`, path];
    const result = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
    if (result.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${result.stderr.toString()}`);
    const files: [string, string][] = [];
    const walk = (folder: string, prefix: string): void => {
      for (const name of readdirSync(folder).sort()) {
        const full = join(folder, name);
        const stat = lstatSync(full);
        if (stat.isDirectory()) walk(full, `${prefix}/${name}`);
        else if (stat.isFile()) files.push([`${prefix}/${name}`, full]);
      }
    };
    walk(out, "");
    // The parts are measured now, before the scratch folder goes.
    const parts = partsOf(files, depth);
    for (const part of parts) part.pieces = part.pieces.map((piece) => (piece.path ? { ...materialise(piece), start: 0 } : piece));
    return parts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Keeps the bytes of a piece in memory (its file is about to go). */
const kept = new Map<string, Uint8Array>();
function materialise(piece: Piece): Piece {
  const key = `mem:${kept.size}`;
  kept.set(key, new Uint8Array(readFileSync(piece.path).subarray(piece.start, piece.end)));
  return { path: key, start: 0, end: piece.end - piece.start };
}

function bytesOf(piece: Piece): Uint8Array {
  const data = kept.get(piece.path) ?? new Uint8Array(readFileSync(piece.path));
  return data.subarray(piece.start, piece.end);
}

// --- compression ---------------------------------------------------------------------

// Compressed sizes already measured, by compressor and content (dist/size-cache.json): the Bun
// runtime is the same bytes from build to build, and xz -9 of it takes minutes.
const CACHE_FILE = process.env.SIZE_CACHE ?? "dist/size-cache.json";
const cache: Record<string, number> = existsSync(CACHE_FILE) ? (JSON.parse(readFileSync(CACHE_FILE, "utf8")) as Record<string, number>) : {};

async function compressedSize(argv: string[], pieces: Piece[]): Promise<number> {
  const hash = new Bun.CryptoHasher("sha256");
  hash.update(argv.join(" "));
  for (const piece of pieces) if (piece.path) hash.update(bytesOf(piece));
  const key = hash.digest("hex");
  const known = cache[key];
  if (known !== undefined) return known;
  const size = await compress(argv, pieces);
  cache[key] = size;
  writeFileSync(CACHE_FILE, `${JSON.stringify(cache, null, 1)}\n`);
  return size;
}

/** The size of the pieces' bytes through a compressor, streamed. */
async function compress(argv: string[], pieces: Piece[]): Promise<number> {
  const proc = Bun.spawn(argv, { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const counting = (async () => {
    let total = 0;
    for await (const chunk of proc.stdout) total += chunk.byteLength;
    return total;
  })();
  for (const piece of pieces) {
    if (!piece.path) continue;
    const data = bytesOf(piece);
    for (let at = 0; at < data.length; at += 1 << 20) {
      proc.stdin.write(data.subarray(at, Math.min(at + (1 << 20), data.length)));
      await proc.stdin.flush();
    }
  }
  await proc.stdin.end();
  const [size, code] = await Promise.all([counting, proc.exited]);
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}`);
  return size;
}

/** Runs jobs, at most JOBS at once. */
async function pool<T>(jobs: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(JOBS, jobs.length) }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i]!();
      }
    }),
  );
  return results;
}

// --- main ----------------------------------------------------------------------------

function human(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

function rawSize(part: Part): number {
  return part.pieces.reduce((sum, piece) => sum + piece.end - piece.start, 0);
}

async function main(): Promise<void> {
  const [manifest, cpio] = process.argv.slice(2);
  if (!manifest) throw new Error("usage: bun scripts/size.ts MANIFEST [CPIO]");
  const started = performance.now();
  const files: [string, string][] = [];
  for (const [n, line] of readFileSync(manifest, "utf8").split("\n").entries()) {
    const words = line.trim().split(/\s+/);
    if (words[0] !== "file") continue;
    if (words.length < 4) throw new Error(`${manifest}:${n + 1}: a file line needs a path, a source and a mode: ${line}`);
    if (!existsSync(words[2]!)) throw new Error(`${manifest}:${n + 1}: ${words[2]} (for ${words[1]}) is missing: build the image first`);
    files.push([words[1]!, words[2]!]);
  }
  const parts = partsOf(files, 0);
  const rows: Part[] = [];
  for (const part of parts) {
    rows.push(part);
    // What a filesystem image holds, one level in; the bundle's own pieces one further.
    for (const inner of part.holds ?? []) {
      rows.push({ ...inner, label: inner.nested ? inner.label : `↳ in ${part.label.split(" ")[1]}: ${inner.label}`, nested: true, depth: inner.nested ? 2 : 1 });
    }
  }
  const fileBytes = parts.filter((part) => !part.nested).reduce((sum, part) => sum + rawSize(part), 0);
  const cpioSize = cpio ? statSync(cpio).size : undefined;
  if (cpio && cpioSize! > fileBytes) {
    // Headers, names, padding and the trailer: what the archive adds to the files' bytes.
    rows.push({ label: "cpio headers, names, padding", count: 0, pieces: [{ path: "", start: 0, end: cpioSize! - fileBytes }] });
  }
  const jobs: { weight: number; run: () => Promise<number> }[] = [];
  const measured = rows.map((row) => {
    const sizes: Promise<number>[] = [];
    const countable = row.pieces.some((piece) => piece.path);
    for (const [, argv] of COMPRESSORS) {
      if (!countable) {
        sizes.push(Promise.resolve(NaN));
        continue;
      }
      let resolve!: (n: number) => void;
      sizes.push(new Promise<number>((r) => (resolve = r)));
      jobs.push({ weight: rawSize(row), run: async () => {
        const size = await compressedSize(argv, row.pieces);
        resolve(size);
        return size;
      } });
    }
    return sizes;
  });
  const whole: Promise<number>[] = [];
  if (cpio) {
    for (const [, argv] of COMPRESSORS) {
      let resolve!: (n: number) => void;
      whole.push(new Promise<number>((r) => (resolve = r)));
      jobs.push({ weight: cpioSize!, run: async () => {
        const size = await compressedSize(argv, [{ path: cpio, start: 0, end: cpioSize! }]);
        resolve(size);
        return size;
      } });
    }
  }
  // The biggest inputs first, so that the pool ends together.
  await pool(jobs.sort((a, b) => b.weight - a.weight).map((job) => job.run));

  const names = COMPRESSORS.map(([name]) => name);
  const lines = [
    `${manifest}${cpio ? ` (${cpio})` : ""}: each part compressed on its own.`,
    "",
    `| part | files | raw | ${names.join(" | ")} |`,
    `| --- | ---: | ---: | ${names.map(() => "---:").join(" | ")} |`,
  ];
  const topTotals = [0, 0, 0, 0];
  for (const [i, row] of rows.entries()) {
    const sizes = await Promise.all(measured[i]!);
    const raw = rawSize(row);
    const label = row.nested ? `${"&nbsp;&nbsp;".repeat(row.depth ?? 1)}${row.label}` : row.label;
    lines.push(`| ${label} | ${row.count || ""} | ${human(raw)} | ${sizes.map((s) => (Number.isNaN(s) ? "" : human(s))).join(" | ")} |`);
    if (!row.nested) {
      topTotals[0]! += raw;
      sizes.forEach((s, k) => (topTotals[k + 1]! += Number.isNaN(s) ? 0 : s));
    }
  }
  lines.push(`| sum of the parts | ${files.length} | ${human(topTotals[0]!)} | ${topTotals.slice(1).map(human).join(" | ")} |`);
  if (cpio) {
    const sizes = await Promise.all(whole);
    lines.push(`| **the image, one stream** (${cpio.replace(/^.*\//, "")}) | | ${human(cpioSize!)} | ${sizes.map((s) => `**${human(s)}** (${(s / 1e6).toFixed(1)} MB)`).join(" | ")} |`);
  }
  if (rows.some((row) => row.depth)) {
    lines.push("", "The rows under a filesystem image are what it holds, raw and each compressed alone; the filesystem compresses them in its own blocks, so its own row is what they cost in the image, and the outer compressors gain little on it.");
  }
  lines.push("", `Measured in ${((performance.now() - started) / 1000).toFixed(0)} s (${JOBS} compressors at once).`);
  console.log(lines.join("\n"));
}

try {
  await main();
} catch (error) {
  console.error(`size.ts: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
