// Who names whom, read backwards: for a service, the services that need it or are ordered
// against it. The service set keeps one of these in step with its specs (a spec is indexed when
// it is added and unindexed when a reload replaces or removes it), so that a change to one
// service finds the few others whose next step could change without scanning them all. Keyed by
// name, because a spec may name a service that is not loaded (yet). Pure.
import type { ServiceSpec } from "../base/service-spec.ts";

const NONE: ReadonlySet<string> = new Set();

export class ServiceIndex {
  /** X -> the services with X in depends-on, depends-ms or waits-for. */
  private readonly neededBy = new Map<string, Set<string>>();
  /** X -> the services with X in depends-on. */
  private readonly hardDependents = new Map<string, Set<string>>();
  /** X -> the services with X in after. */
  private readonly afterNamedBy = new Map<string, Set<string>>();
  /** X -> the services with X in before (they start first). */
  private readonly beforeNamedBy = new Map<string, Set<string>>();
  /** Services that take turns on the console, in the order they were indexed. */
  private readonly consoleUsers = new Set<string>();

  add(spec: ServiceSpec): void {
    this.edit(spec, (map, key) => {
      let set = map.get(key);
      if (set === undefined) map.set(key, (set = new Set()));
      set.add(spec.name);
    });
    if (usesConsole(spec)) this.consoleUsers.add(spec.name);
  }

  remove(spec: ServiceSpec): void {
    this.edit(spec, (map, key) => {
      const set = map.get(key);
      set?.delete(spec.name);
      if (set?.size === 0) map.delete(key);
    });
    this.consoleUsers.delete(spec.name);
  }

  private edit(spec: ServiceSpec, apply: (map: Map<string, Set<string>>, key: string) => void): void {
    for (const name of [...spec.dependsOn, ...spec.dependsMs, ...spec.waitsFor]) apply(this.neededBy, name);
    for (const name of spec.dependsOn) apply(this.hardDependents, name);
    for (const name of spec.after) apply(this.afterNamedBy, name);
    for (const name of spec.before) apply(this.beforeNamedBy, name);
  }

  /** The services that need `name` (depends-on, depends-ms, waits-for). */
  dependentsOf(name: string): ReadonlySet<string> {
    return this.neededBy.get(name) ?? NONE;
  }

  /** The services that depend on `name` with depends-on. */
  hardDependentsOf(name: string): ReadonlySet<string> {
    return this.hardDependents.get(name) ?? NONE;
  }

  /** The services that name `name` in their `after`: they wait for it. */
  orderedAfter(name: string): ReadonlySet<string> {
    return this.afterNamedBy.get(name) ?? NONE;
  }

  /** The services that name `name` in their `before`: it waits for them. */
  orderedBefore(name: string): ReadonlySet<string> {
    return this.beforeNamedBy.get(name) ?? NONE;
  }

  /** runs-on-console and starts-on-console services. */
  consoleServices(): ReadonlySet<string> {
    return this.consoleUsers;
  }
}

/** runs-on-console and starts-on-console services take turns on the console. */
export function usesConsole(spec: ServiceSpec): boolean {
  return spec.options.has("runs-on-console") || spec.options.has("starts-on-console");
}
