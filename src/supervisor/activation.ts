// socket-listen: the listening socket of a service, made on its first start and kept across
// restarts, so that connections made while the service restarts wait in the backlog. A reload
// that changes or removes the setting closes the old socket once the new description applies.
import { substituteValue } from "../config/substitute.ts";
import type { ServiceSpec } from "../base/service-spec.ts";
import type { Sys } from "../sys/sys.ts";

interface Held {
  fd: number;
  /** The setting as written (before substitution), to tell when a reload changed it. */
  path: string;
  mode: number;
  /** The owner it was made with ("uid:gid"), to tell when a reload changed it. */
  owner: string;
}

export class ActivationSockets {
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly sys: Sys,
    private readonly env: Readonly<Record<string, string>>,
  ) {}

  /** The socket for `spec`, made now if it has none (or a reload changed it); an Error when it cannot be made. */
  socketFor(spec: ServiceSpec & { socketListen: string }, owner: { uid?: number; gid?: number } = {}): number | Error {
    const { name, socketListen: path, socketPermissions: mode } = spec;
    const ownerKey = `${owner.uid ?? ""}:${owner.gid ?? ""}`;
    const known = this.held.get(name);
    if (known !== undefined && known.path === path && known.mode === mode && known.owner === ownerKey) return known.fd;
    if (known !== undefined) this.close(name);
    const fd = this.sys.listenUnix(substituteValue(path, this.env), mode, owner);
    if (typeof fd === "number") this.held.set(name, { fd, path, mode, owner: ownerKey });
    return fd;
  }

  /** Close the sockets whose service is gone or whose description no longer names them. */
  closeUnused(specOf: (service: string) => ServiceSpec | undefined): void {
    for (const [service, known] of [...this.held]) {
      const spec = specOf(service);
      if (spec === undefined || spec.socketListen !== known.path || spec.socketPermissions !== known.mode) this.close(service);
    }
  }

  get size(): number {
    return this.held.size;
  }

  private close(service: string): void {
    const known = this.held.get(service);
    if (known === undefined) return;
    this.held.delete(service);
    this.sys.close(known.fd);
  }
}
