// An in-memory ConfigFs for loader tests. Keys are absolute file paths; every parent of a key
// is a directory. A key ending in "/" makes an empty directory.

import { type ConfigFs, type LoadOptions, type LoadResult, loadServices } from "../../../src/config/load.ts";

export function memoryFs(files: Record<string, string>): ConfigFs & { reads: string[] } {
  const fileMap = new Map<string, string>();
  const dirs = new Map<string, Set<string>>();
  const addDir = (dir: string): void => {
    if (!dirs.has(dir)) dirs.set(dir, new Set());
  };
  for (const [key, text] of Object.entries(files)) {
    const isDir = key.endsWith("/");
    const path = isDir ? key.slice(0, -1) : key;
    if (isDir) addDir(path);
    else fileMap.set(path, text);
    // Register every ancestor and this entry's name in its parent.
    let child = path;
    while (child.lastIndexOf("/") > 0) {
      const parent = child.slice(0, child.lastIndexOf("/"));
      addDir(parent);
      dirs.get(parent)?.add(child.slice(parent.length + 1));
      child = parent;
    }
  }
  const reads: string[] = [];
  return {
    reads,
    readFile(path) {
      reads.push(path);
      return fileMap.get(path);
    },
    readDir(path) {
      const entries = dirs.get(path.endsWith("/") ? path.slice(0, -1) : path);
      // Unsorted on purpose: the loader must not rely on readdir order.
      return entries === undefined ? undefined : [...entries].reverse();
    },
  };
}

/**
 * Every service file's name in `dirs` (not hidden, not a directory, not `x@`): the roots that
 * load what the old rule loaded (every file), for tests of what a loaded file becomes.
 */
export function everyFile(fs: ConfigFs, dirs: readonly string[]): string[] {
  const names = new Set<string>();
  for (const dir of dirs) {
    for (const name of fs.readDir(dir) ?? []) {
      if (name.startsWith(".") || name.endsWith("@")) continue;
      if (fs.readFile(`${dir}/${name}`) === undefined) continue;
      names.add(name);
    }
  }
  return [...names].sort();
}

/** Loads every file in `dirs` and `boot`, as the loader did before it loaded on demand. */
export function loadAll(dirs: readonly string[], fs: ConfigFs, options: LoadOptions = {}): LoadResult {
  return loadServices(dirs, fs, { roots: [...everyFile(fs, dirs), "boot"], ...options });
}
