// Write a reproducible ext4 image from a manifest (the lines mkcpio.ts reads) or from a
// directory, without root and without mounting anything:
//
//   bun scripts/mkext4.ts --size 192M --label NAME --uuid UUID [--keep-owners] SOURCE OUT.ext4
//
// A manifest is first laid out in a scratch directory beside OUT (files copied, modes as
// listed); a directory is used as it is. `mke2fs -d` copies that tree into a new filesystem;
// debugfs lists its inode numbers, and one more debugfs run fixes what e2fsprogs 1.47.0 takes
// from the build host or the clock:
//
// - every inode's atime, mtime, ctime and crtime become SOURCE_DATE_EPOCH (default 0);
//   mke2fs copies ctime from the host file, which no one can set, and stamps new inodes
//   with the clock;
// - every owner becomes 0:0 (mke2fs copies the host's, the builder's own without root),
//   unless --keep-owners;
// - the manifest's device nodes are made (mknod needs no root inside an image);
// - the superblock's creation and last-check times become SOURCE_DATE_EPOCH.
//
// The UUID and the directory hash seed are the given UUID, and the features come from
// scripts/mke2fs.conf rather than the host's /etc/mke2fs.conf. mke2fs writes the inode tables
// itself (lazy_itable_init=0, nodiscard), whatever the host's kernel supports; OUT is a new
// sparse file, so the journal is left unwritten (lazy_journal_init=1) and reads as zeros.
// mke2fs adds the entries of each directory in name order, so the host's readdir order does
// not matter. Both programs run with E2FSPROGS_FAKE_TIME, their clock in 1.47.0
// (SOURCE_DATE_EPOCH arrived in 1.47.1); they read 0 there as "not set", so with
// SOURCE_DATE_EPOCH=0 the clock is 1, and the superblock's last write time, which debugfs sets
// as it closes, is 1 s. The last step is `e2fsck -fn`.
//
// Same inputs and the same e2fsprogs version, same bytes.

import { spawnSync } from "node:child_process";
import {
  chmodSync, copyFileSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync,
  statSync, symlinkSync, writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Entry, parseManifest, sourceDateEpoch, withParents } from "./mkcpio.ts";

interface Options {
  size: string;
  label: string;
  uuid: string;
  keepOwners: boolean;
  source: string;
  out: string;
}

type Node = Extract<Entry, { type: "nod" }>;

const USAGE = "usage: mkext4.ts --size SIZE --label NAME --uuid UUID [--keep-owners] SOURCE OUT.ext4";
const MKE2FS_CONFIG = fileURLToPath(new URL("./mke2fs.conf", import.meta.url));
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

class UsageError extends Error {}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function parseArgs(argv: string[]): Options {
  const named = new Map<string, string>();
  const positional: string[] = [];
  let keepOwners = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--keep-owners") keepOwners = true;
    else if (arg === "--size" || arg === "--label" || arg === "--uuid") {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      named.set(arg.slice(2), value);
    } else if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}`);
    else positional.push(arg);
  }
  const [source, out, ...extra] = positional;
  const size = named.get("size");
  const label = named.get("label");
  const uuid = named.get("uuid");
  if (source === undefined || out === undefined || extra.length > 0) throw new UsageError(USAGE);
  if (size === undefined || !/^\d+[KMGT]?$/.test(size)) throw new UsageError(`--size: expected e.g. 192M, got ${size ?? "nothing"}`);
  if (label === undefined || label.length > 16 || !/^[\w.-]+$/.test(label)) {
    throw new UsageError("--label: 1 to 16 letters, digits, '.', '_' or '-'");
  }
  if (uuid === undefined || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(uuid)) {
    throw new UsageError("--uuid: a fixed lower-case UUID (a random one would make every image differ)");
  }
  return { size, label, uuid, keepOwners, source, out };
}

/**
 * Lays the manifest's entries out under `dir`, which exists and is empty. Returns the names
 * it wrote (without a leading slash) and the device nodes it left to debugfs.
 */
function stage(entries: Entry[], dir: string): { names: string[]; nodes: Map<string, Node> } {
  const byName = withParents(entries);
  const names = [...byName.keys()].sort(byteOrder);
  const nodes = new Map<string, Node>();
  const written: string[] = [];
  for (const name of names) {
    const entry = byName.get(name)!;
    const path = join(dir, name);
    switch (entry.type) {
      case "dir":
        mkdirSync(path);
        break;
      case "file":
        if ("source" in entry) copyFileSync(entry.source, path);
        else writeFileSync(path, entry.data);
        chmodSync(path, entry.mode ?? 0o644);
        break;
      case "slink":
        symlinkSync(entry.target, path);
        break;
      case "nod":
        nodes.set(name, entry);
        continue;
    }
    written.push(name);
  }
  // Directory modes last, deepest first, so that a directory its owner may not write to
  // (0555) is filled before it is closed.
  for (const name of [...names].reverse()) {
    const entry = byName.get(name)!;
    if (entry.type === "dir") chmodSync(join(dir, name), entry.mode ?? 0o755);
  }
  chmodSync(dir, 0o755);
  return { names: written, nodes };
}

/** Every name under `dir`, parents before children, in byte order (as mke2fs adds them). */
function walk(dir: string, prefix = ""): string[] {
  const names: string[] = [];
  for (const entry of readdirSync(join(dir, prefix)).sort(byteOrder)) {
    const name = prefix === "" ? entry : `${prefix}/${entry}`;
    names.push(name);
    if (lstatSync(join(dir, name)).isDirectory()) names.push(...walk(dir, name));
  }
  return names;
}

/** A name as one debugfs argument: its parser knows double quotes and nothing else. */
function quote(name: string): string {
  if (/["\\\n\r\t]|[\x00-\x1f]/.test(name)) throw new Error(`mkext4: cannot pass ${JSON.stringify(name)} to debugfs`);
  return `"${name}"`;
}

/**
 * The inode number of every name, from one read-only debugfs run that lists each parent
 * directory once (`ls -p`: /INODE/MODE/UID/GID/NAME/SIZE/). Looking each name up instead
 * costs a scan of its directory every time: minutes for a directory of 20000 files.
 */
function inodeNumbers(image: string, names: string[], env: Record<string, string>): Map<string, number> {
  const parents = [...new Set(names.map((name) => (name.includes("/") ? dirname(name) : "")))];
  const script = parents.map((dir) => `ls -p ${quote(`/${dir}`)}`).join("\n");
  const listing = run("debugfs", ["-f", "-", image], env, script);
  const inodes = new Map<string, number>();
  let dir: string | undefined;
  let next = 0;
  for (const line of listing.split("\n")) {
    // debugfs echoes each command before its output, in the order given.
    if (line.startsWith("debugfs: ")) dir = parents[next++];
    const fields = line.split("/");
    if (dir === undefined || fields.length !== 8 || fields[0] !== "") continue;
    const name = fields[5]!;
    if (name === "." || name === "..") continue;
    inodes.set(dir === "" ? name : `${dir}/${name}`, Number(fields[1]));
  }
  for (const name of names) {
    if (!inodes.has(name)) throw new Error(`mkext4: debugfs did not list /${name}`);
  }
  return inodes;
}

/** The debugfs commands that make the image independent of the host and the clock. */
function fixups(inodes: Map<string, number>, nodes: Map<string, Node>, epoch: number, keepOwners: boolean): string[] {
  const lines: string[] = [];
  const stamp = (spec: string, owners: boolean) => {
    for (const field of ["atime", "mtime", "ctime", "crtime"]) lines.push(`sif ${spec} ${field} @${epoch}`);
    if (owners) lines.push(`sif ${spec} uid 0`, `sif ${spec} gid 0`);
  };
  // The bad-blocks list, the resize inode and the journal, stamped with the clock by mke2fs.
  for (const ino of [1, 7, 8]) stamp(`<${ino}>`, false);
  stamp("<2>", true);
  stamp("<11>", true); // lost+found
  for (const ino of inodes.values()) stamp(`<${ino}>`, !keepOwners);
  // debugfs's mknod links its whole argument as one name in the current directory, slashes
  // and all: so go there first.
  for (const [name, node] of nodes) {
    lines.push(`cd ${quote(`/${dirname(name)}`)}`);
    lines.push(`mknod ${quote(basename(name))} ${node.kind} ${node.major} ${node.minor}`);
    const type = node.kind === "c" ? S_IFCHR : S_IFBLK;
    lines.push(`sif ${quote(basename(name))} mode 0${(type | (node.mode ?? 0o600)).toString(8)}`);
    stamp(quote(basename(name)), true);
    lines.push("cd /");
  }
  lines.push(`ssv mkfs_time @${epoch}`, `ssv lastcheck @${epoch}`);
  return lines;
}

function run(command: string, args: string[], env: Record<string, string>, input?: string): string {
  const result = spawnSync(command, args, { env: { ...process.env, ...env }, input, encoding: "utf8", maxBuffer: 256 << 20 });
  if (result.error) throw new Error(`mkext4: ${command}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`mkext4: ${command} ${args.join(" ")} exited ${result.status ?? result.signal}\n${result.stdout}${result.stderr}`);
  }
  return `${result.stdout}${result.stderr}`;
}

function superblockField(dump: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(dump);
  if (!match) throw new Error(`mkext4: dumpe2fs printed no ${field}`);
  return Number(match[1]);
}

function mkext4(options: Options): void {
  const epoch = sourceDateEpoch();
  const env = {
    MKE2FS_CONFIG,
    E2FSPROGS_FAKE_TIME: String(Math.max(epoch, 1)),
    LC_ALL: "C",
    TZ: "UTC",
  };
  const scratch = mkdtempSync(join(dirname(options.out), ".mkext4-"));
  try {
    let tree: string;
    let names: string[];
    let nodes = new Map<string, Node>();
    if (statSync(options.source).isDirectory()) {
      tree = options.source;
      names = walk(tree);
    } else {
      tree = join(scratch, "root");
      mkdirSync(tree);
      ({ names, nodes } = stage(parseManifest(readFileSync(options.source, "utf8")), tree));
    }

    rmSync(options.out, { force: true });
    run("mke2fs", [
      "-q", "-F", "-t", "ext4", "-T", "default",
      "-L", options.label, "-U", options.uuid,
      "-E", `hash_seed=${options.uuid},root_owner=0:0,lazy_itable_init=0,lazy_journal_init=1,nodiscard`,
      "-d", tree, options.out, options.size,
    ], env);

    const commands = join(scratch, "debugfs.commands");
    const inodes = inodeNumbers(options.out, names, env);
    writeFileSync(commands, `${fixups(inodes, nodes, epoch, options.keepOwners).join("\n")}\n`);
    // debugfs exits 0 whatever its commands did; what went wrong is on stderr, after its banner.
    // Its stdout echoes every command: six lines a file.
    const result = spawnSync("debugfs", ["-w", "-f", commands, options.out], {
      env: { ...process.env, ...env },
      encoding: "utf8",
      stdio: ["ignore", "ignore", "pipe"],
      maxBuffer: 64 << 20,
    });
    if (result.error) throw new Error(`mkext4: debugfs: ${result.error.message}`);
    const errors = (result.stderr ?? "").split("\n").filter((line) => line !== "" && !/^debugfs \d/.test(line));
    if (result.status !== 0 || errors.length > 0) {
      throw new Error(`mkext4: debugfs failed:\n${errors.slice(0, 20).join("\n")}`);
    }

    run("e2fsck", ["-fn", options.out], env);
    const dump = run("dumpe2fs", ["-h", options.out], env);
    const blockSize = superblockField(dump, "Block size");
    const mib = (blocks: number) => ((blocks * blockSize) / 2 ** 20).toFixed(1);
    const blocks = superblockField(dump, "Block count");
    const free = superblockField(dump, "Free blocks");
    console.log(`mkext4: ${options.out}: ${names.length + nodes.size} entries, ${mib(blocks - free)} MiB used, ${mib(free)} MiB free of ${mib(blocks)} MiB`);
  } catch (error) {
    rmSync(options.out, { force: true });
    throw error;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  try {
    mkext4(parseArgs(process.argv.slice(2)));
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(error instanceof UsageError ? 2 : 1);
  }
}
