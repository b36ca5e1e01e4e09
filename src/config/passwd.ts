// run-as resolved by reading /etc/passwd and /etc/group directly (no NSS: the image has no
// libnss modules). Numbers are taken as they are. Pure.
import type { Credentials } from "../base/process.ts";

export interface RunAs {
  user: string;
  group?: string;
}

export type ResolveResult = { ok: true; credentials: Credentials; name?: string; home?: string; shell?: string } | { ok: false; error: string };

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

function records(text: string | undefined): string[][] {
  return (text ?? "")
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => line.split(":"));
}

const isNumber = (text: string | undefined): text is string => text !== undefined && /^\d+$/.test(text);

/** Lines whose uid or gid is not a number are skipped: an empty one must not mean root. */
function passwdEntries(text: string | undefined): PasswdEntry[] {
  return records(text)
    .filter((f) => f.length >= 4 && isNumber(f[2]) && isNumber(f[3]))
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? "/", shell: f[6] ?? "/bin/sh" }));
}

export function resolveRunAs(runAs: RunAs, passwd: string | undefined, group: string | undefined): ResolveResult {
  const users = passwdEntries(passwd);
  const groups = records(group).filter((f) => f.length >= 3 && isNumber(f[2]));
  const entry = isNumber(runAs.user) ? users.find((u) => u.uid === Number(runAs.user)) : users.find((u) => u.name === runAs.user);
  if (entry === undefined && !isNumber(runAs.user)) return { ok: false, error: `no user ${runAs.user} in /etc/passwd` };
  const uid = entry?.uid ?? Number(runAs.user);

  let gid: number;
  if (runAs.group === undefined) {
    if (entry === undefined) return { ok: false, error: `uid ${uid} has no /etc/passwd entry; give a group too (uid:gid)` };
    gid = entry.gid;
  } else if (isNumber(runAs.group)) {
    gid = Number(runAs.group);
  } else {
    const found = groups.find((g) => g[0] === runAs.group);
    if (found === undefined) return { ok: false, error: `no group ${runAs.group} in /etc/group` };
    gid = Number(found[2]);
  }

  // Supplementary groups: those that list the user by name, as initgroups(3) would find them.
  const supplementary = entry === undefined ? [] : groups.filter((g) => (g[3] ?? "").split(",").includes(entry.name)).map((g) => Number(g[2]));
  const all = [...new Set([gid, ...supplementary])];
  return { ok: true, credentials: { uid, gid, groups: all }, name: entry?.name, home: entry?.home, shell: entry?.shell };
}
