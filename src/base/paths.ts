// POSIX path arithmetic on strings, touching no file system: the parts of node:path tsinit
// uses, written here because loading node:path costs a compiled Bun program executable size
// and memory (docs/bench.md). Pure: imported by the control server, the CLI and main.

/** `path` with `.`, `..`, empty and trailing parts resolved textually; "" for a relative path that ends up empty. */
function normalizeParts(path: string): string[] {
  const parts: string[] = [];
  const absolute = path.startsWith("/");
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === ".." && parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
    else if (part !== ".." || !absolute) parts.push(part);
  }
  return parts;
}

/** The directory part, as node:path gives it: "/a/b/" -> "/a", "a" -> ".", "/" -> "/". */
export function dirname(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  if (trimmed === "") return path.startsWith("/") ? "/" : ".";
  const slash = trimmed.lastIndexOf("/");
  if (slash < 0) return ".";
  const dir = trimmed.slice(0, slash);
  return dir === "" ? "/" : dir;
}

/** The last part: "/a/b/" -> "b". */
export function basename(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/** `path` made absolute against `cwd` (an absolute path) and normalized, as node:path's resolve. */
export function resolvePath(cwd: string, path: string): string {
  const parts = normalizeParts(path.startsWith("/") ? path : `${cwd}/${path}`);
  return `/${parts.join("/")}`;
}

/** The way from directory `from` to `to`, both absolute: "/a/b", "/a/c/d" -> "../c/d"; "" if the same. */
export function relativePath(from: string, to: string): string {
  const a = normalizeParts(from);
  const b = normalizeParts(to);
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  return [...a.slice(common).map(() => ".."), ...b.slice(common)].join("/");
}
