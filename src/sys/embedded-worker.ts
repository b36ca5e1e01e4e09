// Where a Worker's module is, under `bun` and inside a compiled executable.
import { readdirSync } from "node:fs";

const BUNFS_ROOT = "/$bunfs/root/";

/**
 * The location of the worker module `name` (e.g. "notify-worker") that sits in src/sys/. Under
 * `bun src/...` and `bun test` it is the file in this folder. In a compiled executable it is
 * embedded (it must be given to `bun build --compile` as an entry point) under /$bunfs/root/,
 * at a path that depends on the entry points' common folder ("sys/notify-worker.js" when they
 * are src/main.ts and src/sys/notify-worker.ts), so it is looked up there.
 * `new URL("./x.ts", import.meta.url)` does not work compiled: with --bytecode, import.meta.url
 * is the source file's build-time path; without it, the executable's own /$bunfs/root/NAME.
 */
export function embeddedWorker(name: string): string {
  if (!Bun.main.startsWith(BUNFS_ROOT)) return new URL(`./${name}.ts`, import.meta.url).href;
  const embedded = readdirSync(BUNFS_ROOT, { recursive: true })
    .map(String)
    .find((entry) => entry === `${name}.js` || entry.endsWith(`/${name}.js`));
  if (embedded === undefined) {
    throw new Error(`${name}.js is not embedded; give src/sys/${name}.ts to bun build --compile`);
  }
  return BUNFS_ROOT + embedded;
}
