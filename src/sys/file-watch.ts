// inotify's IN_MODIFY on single files. The kernel marks a cgroup's cgroup.events modified when
// its "populated" changes, which is how tsinit learns that the last process left a cgroup it
// could not remove yet (ServiceCgroups). One inotify descriptor serves every watch: made at the
// first one and kept, read through Bun's stream of the non-blocking descriptor, which waits for
// it to be readable and costs no thread. A watch ends by itself when its file goes (IN_IGNORED,
// as when the cgroup is removed).
import { cstr, errno, libc } from "./libc.ts";
import { failure } from "./call-errors.ts";
import type { SysError } from "./sys.ts";

const IN_MODIFY = 0x2;
const IN_IGNORED = 0x8000;
const IN_NONBLOCK = 0o4000;
const IN_CLOEXEC = 0o2000000;
/** struct inotify_event: wd, mask, cookie, len, then `len` bytes of name (none for a file's own watch). */
const EVENT_HEADER = 16;

interface Watcher {
  fd: number;
  /** By watch descriptor: what to call when its file is modified. */
  callbacks: Map<number, () => void>;
  /** Bytes of an event split across two reads. */
  rest: Uint8Array;
}

let watcher: Watcher | undefined;

/** Calls `onModified` each time the file at `path` is modified, until it is removed. A second watch of the same file replaces the first. */
export function watchModified(path: string, onModified: () => void): SysError | undefined {
  if (watcher === undefined) {
    const fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd === -1) return failure("inotify_init1", path);
    watcher = { fd, callbacks: new Map(), rest: new Uint8Array(0) };
    void read(watcher);
  }
  const wd = libc.inotify_add_watch(watcher.fd, cstr(path), IN_MODIFY);
  if (wd === -1) return failure("inotify_add_watch", path, errno());
  watcher.callbacks.set(wd, onModified);
  return undefined;
}

async function read(current: Watcher): Promise<void> {
  try {
    for await (const chunk of Bun.file(current.fd).stream()) {
      const bytes = current.rest.length === 0 ? chunk : Buffer.concat([current.rest, chunk]);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      let offset = 0;
      while (offset + EVENT_HEADER <= bytes.length) {
        const length = view.getUint32(offset + 12, true);
        if (offset + EVENT_HEADER + length > bytes.length) break;
        const wd = view.getInt32(offset, true);
        const mask = view.getUint32(offset + 4, true);
        offset += EVENT_HEADER + length;
        const callback = current.callbacks.get(wd);
        if ((mask & IN_IGNORED) !== 0) current.callbacks.delete(wd);
        else if (callback !== undefined) callback();
      }
      current.rest = bytes.slice(offset);
    }
  } catch {
    // A read error ends this descriptor's watches; the next watch makes a new descriptor.
  }
  if (watcher === current) watcher = undefined;
  libc.close(current.fd);
}
