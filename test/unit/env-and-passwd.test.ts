import { describe, expect, it } from "vitest";
import { parseEnvFile } from "../../src/config/env-file.ts";
import { resolveRunAs } from "../../src/config/passwd.ts";

describe("env-file", () => {
  it("reads NAME=value lines, skipping comments and blank lines, values literal", () => {
    expect(parseEnvFile("# comment\n\nA=1\n B = x y \nC=$HOME \"q\"\nEMPTY=\n", "/e")).toEqual({
      ok: true,
      vars: { A: "1", B: " x y", C: '$HOME "q"', EMPTY: "" },
    });
  });

  it("names the file and line of a bad line", () => {
    expect(parseEnvFile("A=1\nnot a setting\n", "/etc/x.env")).toEqual({ ok: false, error: '/etc/x.env:2: expected NAME=value, found "not a setting"' });
    expect(parseEnvFile("1A=2\n", "/e")).toMatchObject({ ok: false });
  });
});

const PASSWD = "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/false\nalice:x:1000:1000::/home/alice:/bin/sh\n";
const GROUP = "root:x:0:\nwww:x:33:\nalice:x:1000:\nwheel:x:10:alice,bob\naudio:x:29:alice\n";

describe("run-as", () => {
  it("resolves a user name to its uid, primary gid and supplementary groups", () => {
    expect(resolveRunAs({ user: "alice" }, PASSWD, GROUP)).toEqual({ ok: true, credentials: { uid: 1000, gid: 1000, groups: [1000, 10, 29] }, name: "alice", home: "/home/alice", shell: "/bin/sh" });
  });

  it("takes user:group by name or number", () => {
    expect(resolveRunAs({ user: "www", group: "wheel" }, PASSWD, GROUP)).toMatchObject({ ok: true, credentials: { uid: 33, gid: 10, groups: [10] } });
    expect(resolveRunAs({ user: "4000", group: "4001" }, PASSWD, GROUP)).toEqual({ ok: true, credentials: { uid: 4000, gid: 4001, groups: [4001] }, home: undefined });
    expect(resolveRunAs({ user: "33" }, PASSWD, GROUP)).toMatchObject({ ok: true, credentials: { uid: 33, gid: 33 } });
  });

  it("skips lines whose ids are not numbers: an empty uid is not root", () => {
    const broken = "eve:x::0::/:/bin/sh\nmallory:x:abc:0::/:/bin/sh\n";
    expect(resolveRunAs({ user: "eve" }, broken, GROUP)).toEqual({ ok: false, error: "no user eve in /etc/passwd" });
    expect(resolveRunAs({ user: "www", group: "bad" }, PASSWD, "bad:x::\n")).toEqual({ ok: false, error: "no group bad in /etc/group" });
  });

  it("says what is missing", () => {
    expect(resolveRunAs({ user: "mallory" }, PASSWD, GROUP)).toEqual({ ok: false, error: "no user mallory in /etc/passwd" });
    expect(resolveRunAs({ user: "www", group: "nogroup" }, PASSWD, GROUP)).toEqual({ ok: false, error: "no group nogroup in /etc/group" });
    expect(resolveRunAs({ user: "4000" }, PASSWD, GROUP)).toMatchObject({ ok: false });
    expect(resolveRunAs({ user: "root" }, undefined, undefined)).toEqual({ ok: false, error: "no user root in /etc/passwd" });
  });
});
