// Services added at run time through the API (`initctl run`): no description file, just a
// command. This module builds their specs and remembers who added each one, which is what
// decides whether a non-root caller may control it. Pure.
import { defaultSpec, type ServiceSpec } from "../base/service-spec.ts";
import type { RunRequest } from "./api.ts";
import type { Peer } from "./auth.ts";

export interface Owner {
  uid: number;
  gid: number;
  /** The command as the caller gave it (the spec's has each `$` doubled). */
  command: readonly string[];
}

/** How many runtime services one non-admin user may have at a time. */
export const MAX_RUNTIME_SERVICES_PER_USER = 64;

export class RuntimeServices {
  private readonly owners = new Map<string, Owner>();

  owner(name: string): Owner | undefined {
    return this.owners.get(name);
  }

  add(name: string, owner: Owner): void {
    this.owners.set(name, owner);
  }

  delete(name: string): void {
    this.owners.delete(name);
  }

  countOwnedBy(uid: number): number {
    let count = 0;
    for (const owner of this.owners.values()) if (owner.uid === uid) count++;
    return count;
  }
}

/**
 * A `process` service from a run request. A non-admin caller's service runs as the caller
 * (numeric ids, so no /etc/passwd entry is needed); an admin's runs as the supervisor does.
 */
export function runtimeSpec(name: string, request: RunRequest, peer: Peer, runAsCaller: boolean): ServiceSpec {
  const spec = defaultSpec(name, "process");
  // The supervisor substitutes $VAR in commands at start time, as for service files; a run
  // request means its words literally, so each `$` is escaped as `$$`.
  spec.command = request.command.map(escapeDollars);
  spec.restart = request.restart === true ? "yes" : "no";
  if (request.workingDir !== undefined) spec.workingDir = escapeDollars(request.workingDir);
  if (runAsCaller) spec.runAs = { user: String(peer.uid), group: String(peer.gid) };
  return spec;
}

function escapeDollars(word: string): string {
  return word.replaceAll("$", "$$$$");
}
