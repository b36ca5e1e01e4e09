// Pure helpers over the dependency graph of a set of ServiceSpecs.
//
// An edge `from -> to` means "`from` starts after `to`". Three kinds also make a start of
// `from` pull `to` in (dinit's dependency types); ordering edges only order two services that
// are both starting:
//
//   depends-on = X, depends-ms = X, waits-for = X on A   A -> X  (needs: start A starts X)
//   after = X on A                                         A -> X  (order only)
//   before = X on A                                        X -> A  (order only: A starts first)
//
// Names that are not in the map (a dependency that failed to load, an ordering against a
// service that does not exist) have no edges. A cycle over any kind of edge can never be
// ordered: findCycles reports it, and startOrder leaves its members out together with the
// services that hard-depend (depends-on, depends-ms) on them. Services that only wait for or
// order against a cycle member still start, as they would if that member had failed.

import type { ServiceSpec } from "../base/service-spec.ts";

export type EdgeKind = "depends-on" | "depends-ms" | "waits-for" | "order";

export interface Edge {
  /** Starts after `to`. */
  from: string;
  to: string;
  kind: EdgeKind;
}

export type Services = ReadonlyMap<string, ServiceSpec>;

/** Every edge between services in the map, in a stable order. */
export function dependencyEdges(services: Services): Edge[] {
  const edges: Edge[] = [];
  const add = (from: string, to: string, kind: EdgeKind): void => {
    if (services.has(from) && services.has(to)) edges.push({ from, to, kind });
  };
  for (const [name, spec] of services) {
    for (const dep of spec.dependsOn) add(name, dep, "depends-on");
    for (const dep of spec.dependsMs) add(name, dep, "depends-ms");
    for (const dep of spec.waitsFor) add(name, dep, "waits-for");
    for (const dep of spec.after) add(name, dep, "order");
    for (const dep of spec.before) add(dep, name, "order");
  }
  return edges;
}

/** For each service in `within`, the sorted names it starts after (edges inside `within` only). */
function successors(services: Services, within: ReadonlySet<string>): Map<string, string[]> {
  const out = new Map<string, Set<string>>([...within].map((n) => [n, new Set<string>()]));
  for (const { from, to } of dependencyEdges(services)) {
    if (within.has(from) && within.has(to)) out.get(from)?.add(to);
  }
  return new Map([...out].map(([n, s]) => [n, [...s].sort()]));
}

/** Tarjan's strongly connected components; only components that contain a cycle are returned. */
function cyclicComponents(next: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];

  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = next.get(v)?.includes(v) ?? false;
      if (component.length > 1 || selfLoop) found.push(component.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return found.sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1));
}

/** The shortest cycle from `start` back to itself inside `component`, as [start, ..., last]. */
function shortestCycle(start: string, component: ReadonlySet<string>, next: ReadonlyMap<string, readonly string[]>): string[] {
  const parent = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i] as string;
    for (const w of next.get(v) ?? []) {
      if (!component.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(parent.get(path[0] as string) as string);
        return path;
      }
      if (!parent.has(w) && w !== start) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start]; // unreachable for a cyclic component
}

/**
 * Cycles among `names` (default: all services), each as its members in edge order: [a, b, c]
 * means a -> b -> c -> a (see formatCycle). Every service that is on some cycle appears in at
 * least one of them; a tangle of several cycles is reported as several.
 */
export function findCycles(services: Services, names?: Iterable<string>): string[][] {
  const within = new Set(names ?? services.keys());
  const next = successors(services, within);
  const cycles: string[][] = [];
  for (const component of cyclicComponents(next)) {
    const members = new Set(component);
    const covered = new Set<string>();
    for (const start of component) {
      if (covered.has(start)) continue;
      const cycle = shortestCycle(start, members, next);
      cycle.forEach((n) => covered.add(n));
      cycles.push(cycle);
    }
  }
  return cycles;
}

/** `a -> b -> c -> a`, for "dependency cycle: ..." messages. */
export function formatCycle(cycle: readonly string[]): string {
  return [...cycle, cycle[0]].join(" -> ");
}

/**
 * The services a start of `roots` pulls in: the roots and, transitively, their depends-on,
 * depends-ms and waits-for (not before/after). Names not in the map are left out.
 */
export function closure(services: Services, roots: string | Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const queue = typeof roots === "string" ? [roots] : [...roots];
  while (queue.length > 0) {
    const name = queue.pop() as string;
    const spec = services.get(name);
    if (spec === undefined || seen.has(name)) continue;
    seen.add(name);
    queue.push(...spec.dependsOn, ...spec.dependsMs, ...spec.waitsFor);
  }
  return seen;
}

export interface StartPlan {
  /** Services in layers: each layer needs only earlier layers, so a layer may start in parallel. */
  layers: string[][];
  /** Cycles found (see findCycles); their members are in no layer. */
  cycles: string[][];
  /** Services left out because they depend-on / depends-ms a cycle member (or on such a service). */
  blocked: string[];
}

/**
 * Order a start of `roots` (default: every service) into layers. Cycle members and what
 * hard-depends on them are left out and reported; everything else is in exactly one layer.
 */
export function startOrder(services: Services, roots?: string | Iterable<string>): StartPlan {
  const within = roots === undefined ? new Set(services.keys()) : closure(services, roots);
  const cycles = findCycles(services, within);
  const excluded = new Set(cycles.flat());

  // Hard dependents of excluded services cannot start either; repeat until nothing changes.
  const blocked = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const name of within) {
      if (excluded.has(name) || blocked.has(name)) continue;
      const spec = services.get(name) as ServiceSpec;
      const hard = [...spec.dependsOn, ...spec.dependsMs];
      if (hard.some((dep) => excluded.has(dep) || blocked.has(dep))) {
        blocked.add(name);
        changed = true;
      }
    }
  }

  const remaining = new Set([...within].filter((n) => !excluded.has(n) && !blocked.has(n)));
  const next = successors(services, remaining);
  const layers: string[][] = [];
  const done = new Set<string>();
  while (done.size < remaining.size) {
    const layer = [...remaining]
      .filter((n) => !done.has(n) && (next.get(n) ?? []).every((dep) => done.has(dep)))
      .sort();
    if (layer.length === 0) break; // cannot happen: cycles were removed
    layer.forEach((n) => done.add(n));
    layers.push(layer);
  }
  return { layers, cycles, blocked: [...blocked].sort() };
}

/**
 * The order to stop `roots` (default: every service): startOrder's layers reversed, so every
 * service stops before what it depends on. Cycle members and blocked services are reported the
 * same way and are in no layer; the caller decides when to stop them (they never started in an
 * ordered boot).
 */
export function stopOrder(services: Services, roots?: string | Iterable<string>): StartPlan {
  const plan = startOrder(services, roots);
  return { ...plan, layers: [...plan.layers].reverse() };
}
