// Who may do what, decided from the peer's credentials (SO_PEERCRED), as in rund:
// - an admin (root, or the user the supervisor itself runs as) may do everything;
// - anyone may read: the API version, the service list, a service's status;
// - any other user may run services, which then run as that user, and may start, stop,
//   restart, release and remove the services it added itself, and nothing else.
// A caller whose credentials could not be read may only read. Pure.

export interface Peer {
  pid: number;
  uid: number;
  gid: number;
}

export type Operation =
  | { kind: "read" }
  | { kind: "run" }
  | { kind: "service"; verb: string; service: string; ownerUid: number | undefined }
  | { kind: "admin"; verb: string };

/** undefined when allowed, else the reason to give the caller (403). */
export function refusal(operation: Operation, peer: Peer | undefined, admins: ReadonlySet<number>): string | undefined {
  if (operation.kind === "read") return undefined;
  if (peer === undefined) return "your credentials could not be read (SO_PEERCRED), so you may only read";
  if (admins.has(peer.uid)) return undefined;
  switch (operation.kind) {
    case "run":
      return undefined;
    case "service":
      if (operation.ownerUid === peer.uid) return undefined;
      return `uid ${peer.uid} may not ${operation.verb} ${operation.service}: only root may control services it did not start`;
    case "admin":
      return `uid ${peer.uid} may not ${operation.verb}: only root may`;
  }
}

export function isAdmin(peer: Peer | undefined, admins: ReadonlySet<number>): boolean {
  return peer !== undefined && admins.has(peer.uid);
}
