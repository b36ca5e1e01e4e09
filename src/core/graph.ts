// Dependency cycles in a set of ServiceSpecs, found at load time (pure). The service set
// refuses to start a cycle's members; loading reports them once, with the cycle.
//
// An edge `from -> to` means "`from` starts after `to`". Three kinds also make a start of
// `from` pull `to` in (dinit's dependency types); ordering edges only order two services that
// are both starting:
//
//   depends-on = X, depends-ms = X, waits-for = X on A   A -> X  (needs: start A starts X)
//   after = X on A                                         A -> X  (order only)
//   before = X on A                                        X -> A  (order only: A starts first)
//
// The service set checks the same edges at run time (ServiceSet.closesCycle) before add-dep or
// `reload NAME` adds an edge, counting a description still waiting to be applied as well as the
// one in place; a full reload checks the new files together with the services it keeps as they
// are (added with initctl run, or whose file now fails); a load on demand checks what it added
// and what that reaches (findCyclesThrough), not every service again, counting waiting
// descriptions as closesCycle does (ServiceSet.cyclesThrough). So the changes tsinit makes
// after load do not close a cycle unseen.
//
// Names that are not in the map (a dependency that failed to load, an ordering against a
// service that does not exist) have no edges. A cycle over any kind of edge can never be
// ordered: findCycles reports it, and its members are blocked together with the services that
// hard-depend (depends-on, depends-ms) on them. Services that only wait for or order against a
// cycle member still start, as they would if that member had failed. A change to one member at
// run time (`reload NAME`, rm-dep, unload) has the service set look again at the blocked
// services that member reaches (ServiceSet.recheckCycles): the block goes from those no longer
// on a cycle.

import type { ServiceSpec } from "../base/service-spec.ts";

export type EdgeKind = "depends-on" | "depends-ms" | "waits-for" | "order";

export interface Edge {
  /** Starts after `to`. */
  from: string;
  to: string;
  kind: EdgeKind;
}

export type Services = ReadonlyMap<string, ServiceSpec>;

/**
 * Called once for each step of work (an edge looked at, a vertex entered or left). Tests count
 * the calls to show that the work grows with the edges, not their square; tsinit passes none.
 */
export type OnStep = () => void;

const noStep: OnStep = () => {};

/**
 * A running service whose new description waits until it stops, as the cycle checks see it: the
 * edges of both, since it may still restart under the one in place (dependencyEdges reads only
 * the lists merged here).
 */
export function bothDescriptions(inPlace: ServiceSpec, waiting: ServiceSpec): ServiceSpec {
  return {
    ...waiting,
    dependsOn: [...inPlace.dependsOn, ...waiting.dependsOn],
    dependsMs: [...inPlace.dependsMs, ...waiting.dependsMs],
    waitsFor: [...inPlace.waitsFor, ...waiting.waitsFor],
    after: [...inPlace.after, ...waiting.after],
    before: [...inPlace.before, ...waiting.before],
  };
}

/** Every edge between services in the map, in a stable order. */
export function dependencyEdges(services: Services, step: OnStep = noStep): Edge[] {
  const edges: Edge[] = [];
  const add = (from: string, to: string, kind: EdgeKind): void => {
    step();
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
function successors(services: Services, within: ReadonlySet<string>, step: OnStep): Map<string, string[]> {
  const out = new Map<string, Set<string>>([...within].map((n) => [n, new Set<string>()]));
  for (const { from, to } of dependencyEdges(services, step)) {
    step();
    if (within.has(from) && within.has(to)) out.get(from)?.add(to);
  }
  return new Map([...out].map(([n, s]) => [n, [...s].sort()]));
}

/**
 * Tarjan's strongly connected components; only components that contain a cycle are returned.
 * Iterative, with an explicit stack of frames: a `depends-on` chain as long as the user cares
 * to write must not overflow the JavaScript stack.
 */
function cyclicComponents(next: ReadonlyMap<string, readonly string[]>, step: OnStep): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  /** A vertex being visited and how far through its successors the visit is. */
  const frames: { v: string; successors: readonly string[]; at: number }[] = [];

  const open = (v: string): void => {
    step();
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    frames.push({ v, successors: next.get(v) ?? [], at: 0 });
  };
  const lower = (v: string, to: number): void => {
    if (to < (low.get(v) as number)) low.set(v, to);
  };
  const close = (v: string): void => {
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      step();
      w = stack.pop() as string;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    const selfLoop = next.get(v)?.includes(v) ?? false;
    if (component.length > 1 || selfLoop) found.push(component.sort());
  };

  for (const root of [...next.keys()].sort()) {
    if (index.has(root)) continue;
    open(root);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1] as (typeof frames)[number];
      if (frame.at < frame.successors.length) {
        step();
        const w = frame.successors[frame.at++] as string;
        if (!index.has(w)) open(w);
        else if (onStack.has(w)) lower(frame.v, index.get(w) as number);
        continue;
      }
      frames.pop();
      close(frame.v);
      const parent = frames[frames.length - 1];
      if (parent !== undefined) lower(parent.v, low.get(frame.v) as number);
    }
  }
  return found.sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1));
}

/** The shortest cycle from `start` back to itself inside `component`, as [start, ..., last]. */
function shortestCycle(start: string, component: ReadonlySet<string>, next: ReadonlyMap<string, readonly string[]>, step: OnStep): string[] {
  const parent = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i] as string;
    for (const w of next.get(v) ?? []) {
      step();
      if (!component.has(w)) continue;
      if (w === start) {
        // Walk back to start, then turn round: unshift would make a long cycle quadratic.
        const path = [v];
        while (path[path.length - 1] !== start) {
          step();
          path.push(parent.get(path[path.length - 1] as string) as string);
        }
        return path.reverse();
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
export function findCycles(services: Services, names?: Iterable<string>, step: OnStep = noStep): string[][] {
  const within = new Set(names ?? services.keys());
  return cyclesOf(successors(services, within, step), step);
}

/**
 * A set of services seen one at a time, as a search needs them: the service set's records and
 * its index of who names whom, so that a search pays for what it visits, not for the whole set.
 */
export interface GraphView {
  /** The description of a loaded service; undefined for a name that is not loaded. */
  spec(name: string): ServiceSpec | undefined;
  /** The loaded services that have `name` in their `before` (it starts after them). */
  orderedBefore(name: string): Iterable<string>;
}

/**
 * The cycles through any of `from`, exactly as findCycles over every service in `view` gives
 * them (in the same order, each in edge order), without that pass over every service: a cycle
 * through a service lies among what the service reaches, and what it reaches has no edge out of
 * that, so the strongly connected components there are those of the whole set. Loading services
 * at run time can close a cycle only through them (any new edge has one of them at an end), so
 * the cost of a load is what it reaches, however many services are loaded already.
 */
export function findCyclesThrough(view: GraphView, from: Iterable<string>, step: OnStep = noStep): string[][] {
  const starts = new Set([...from].filter((name) => view.spec(name) !== undefined));
  const next = new Map<string, string[]>();
  const work = [...starts];
  for (const name of work) next.set(name, []);
  for (let i = 0; i < work.length; i++) {
    step();
    const name = work[i] as string;
    const spec = view.spec(name) as ServiceSpec;
    const out = new Set<string>();
    // The edges out of `name` as dependencyEdges gives them: its own lists, and every `before`
    // that names it (`before = name` on X is `name -> X`).
    for (const to of [...spec.dependsOn, ...spec.dependsMs, ...spec.waitsFor, ...spec.after, ...view.orderedBefore(name)]) {
      step();
      if (view.spec(to) === undefined) continue;
      out.add(to);
      if (next.has(to)) continue;
      next.set(to, []);
      work.push(to);
    }
    next.set(name, [...out].sort());
  }
  return cyclesOf(next, step).filter((cycle) => cycle.some((name) => starts.has(name)));
}

/** The cycles of a graph given as each vertex's sorted successors (see findCycles). */
function cyclesOf(next: ReadonlyMap<string, readonly string[]>, step: OnStep): string[][] {
  const cycles: string[][] = [];
  for (const component of cyclicComponents(next, step)) {
    const members = new Set(component);
    const covered = new Set<string>();
    for (const start of component) {
      if (covered.has(start)) continue;
      const cycle = shortestCycle(start, members, next, step);
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

/** Why a member of `cycle` can never start: `dependency cycle: a -> b -> a`. */
export function cycleReason(cycle: readonly string[]): string {
  return `dependency cycle: ${formatCycle(cycle)}`;
}
