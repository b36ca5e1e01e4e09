// src/base/paths.ts against node:path itself, on the shapes tsinit passes and the odd ones.
import { basename as nodeBasename, dirname as nodeDirname, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { basename, dirname, relativePath, resolvePath } from "../../src/base/paths.ts";

const paths = ["/", "//", "/a", "/a/", "/a/b", "/a/b/", "/a//b", "a", "a/", "a/b", "./a", "../a", ".", "..", "", "/run/tsinit.sock", "/a/./b/../c", "x/../../y"];

describe("paths", () => {
  it("dirname and basename as node:path's", () => {
    for (const path of paths) {
      expect([path, dirname(path)]).toEqual([path, nodeDirname(path)]);
      expect([path, basename(path)]).toEqual([path, nodeBasename(path)]);
    }
  });

  it("resolvePath as node:path's resolve from a working directory", () => {
    for (const cwd of ["/", "/home/user", "/a/b/"]) {
      for (const path of paths) expect([cwd, path, resolvePath(cwd, path)]).toEqual([cwd, path, resolve(cwd, path)]);
    }
  });

  it("relativePath as node:path's relative between absolute paths", () => {
    const absolute = ["/", "/a", "/a/b", "/a/b/c", "/a/c/d", "/x/y", "/a/b/../c", "/ab", "/a/bc"];
    for (const from of absolute) {
      for (const to of absolute) expect([from, to, relativePath(from, to)]).toEqual([from, to, relative(from, to)]);
    }
  });
});
