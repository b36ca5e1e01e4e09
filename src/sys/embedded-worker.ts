// Where a Worker's module is, under `bun` and inside a compiled executable.

const BUNFS_ROOT = "/$bunfs/root/";

/**
 * The location of the worker module `name` (e.g. "notify-worker") that sits in src/sys/. Under
 * `bun src/...` and `bun test` it is the file in this folder. In a compiled executable it is
 * embedded (it must be given to `bun build --compile` as an entry point) under /$bunfs/root/,
 * at a path that depends on the entry points' common folder: "sys/notify-worker.js" when they
 * are src/main.ts and src/sys/notify-worker.ts, "notify-worker.js" when all are in src/sys.
 * Both are looked for with Bun.file (a missing one has size 0): /$bunfs is Bun's own, which
 * libc cannot list, and node:fs, which can, costs PID 1 more memory than it is worth here.
 * `new URL("./x.ts", import.meta.url)` does not work compiled: with --bytecode, import.meta.url
 * is the source file's build-time path; without it, the executable's own /$bunfs/root/NAME.
 */
export function embeddedWorker(name: string): string {
  if (!Bun.main.startsWith(BUNFS_ROOT)) return new URL(`./${name}.ts`, import.meta.url).href;
  const embedded = [`sys/${name}.js`, `${name}.js`].find((entry) => Bun.file(BUNFS_ROOT + entry).size > 0);
  if (embedded === undefined) {
    throw new Error(`${name}.js is not embedded; give src/sys/${name}.ts to bun build --compile`);
  }
  return BUNFS_ROOT + embedded;
}
