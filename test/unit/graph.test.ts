import { describe, expect, it } from "vitest";
import { dependencyEdges, findCycles, formatCycle } from "../../src/core/graph.ts";
import { defaultSpec, type ServiceSpec } from "../../src/base/service-spec.ts";

type Deps = Partial<Pick<ServiceSpec, "dependsOn" | "dependsMs" | "waitsFor" | "before" | "after">>;

/** Build a service map from a compact description. */
function graph(description: Record<string, Deps>): Map<string, ServiceSpec> {
  return new Map(
    Object.entries(description).map(([name, deps]) => [name, { ...defaultSpec(name, "internal"), ...deps }]),
  );
}

describe("dependencyEdges", () => {
  it("gives needs edges, after edges, and before as a reversed order edge, skipping unknown names", () => {
    const g = graph({
      a: { dependsOn: ["b"], dependsMs: ["c"], waitsFor: ["d"], after: ["e"], before: ["f"] },
      b: {},
      c: {},
      d: {},
      e: {},
      f: { dependsOn: ["ghost"] },
    });
    expect(dependencyEdges(g)).toEqual([
      { from: "a", to: "b", kind: "depends-on" },
      { from: "a", to: "c", kind: "depends-ms" },
      { from: "a", to: "d", kind: "waits-for" },
      { from: "a", to: "e", kind: "order" },
      { from: "f", to: "a", kind: "order" },
    ]);
  });
});

describe("findCycles", () => {
  it("finds nothing in an acyclic graph", () => {
    expect(findCycles(graph({ a: { dependsOn: ["b"] }, b: { waitsFor: ["c"] }, c: {} }))).toEqual([]);
  });

  it("finds a self-loop", () => {
    const cycles = findCycles(graph({ a: { dependsOn: ["a"] }, b: {} }));
    expect(cycles).toEqual([["a"]]);
    expect(formatCycle(cycles[0] as string[])).toBe("a -> a");
  });

  it("finds a 2-cycle", () => {
    expect(findCycles(graph({ a: { dependsOn: ["b"] }, b: { waitsFor: ["a"] } }))).toEqual([["a", "b"]]);
  });

  it("finds a 3-cycle in edge order next to an acyclic part", () => {
    const g = graph({
      x: { dependsOn: ["y"] },
      y: {},
      c: { dependsOn: ["a"] },
      a: { dependsOn: ["b"] },
      b: { dependsMs: ["c"] },
      z: { dependsOn: ["a", "y"] },
    });
    const cycles = findCycles(g);
    expect(cycles).toEqual([["a", "b", "c"]]);
    expect(formatCycle(cycles[0] as string[])).toBe("a -> b -> c -> a");
  });

  it("counts ordering edges: before/after can close a cycle", () => {
    // a after b, and a before b.
    expect(findCycles(graph({ a: { after: ["b"], before: ["b"] }, b: {} }))).toEqual([["a", "b"]]);
  });

  it("reports every member of a tangle of cycles", () => {
    const cycles = findCycles(graph({ a: { dependsOn: ["b", "c"] }, b: { dependsOn: ["a"] }, c: { dependsOn: ["a"] } }));
    expect(cycles).toEqual([
      ["a", "b"],
      ["c", "a"],
    ]);
  });

  it("reports separate cycles separately", () => {
    const cycles = findCycles(graph({ p: { dependsOn: ["q"] }, q: { dependsOn: ["p"] }, a: { dependsOn: ["a"] } }));
    expect(cycles.map(formatCycle)).toEqual(["a -> a", "p -> q -> p"]);
  });
});

/** A step counter for findCycles that throws past `limit` steps, so a quadratic search fails at once. */
function stepsAtMost(limit: number): { step: () => void; count: () => number } {
  let steps = 0;
  return {
    step: () => {
      if (++steps > limit) throw new Error(`more than ${limit} steps`);
    },
    count: () => steps,
  };
}

describe("long chains (issue 9)", () => {
  // A chain or a cycle of n services has about n edges; each edge is listed, indexed and followed
  // once, each service entered and left once: 5 steps a service for the chain (measured:
  // 249,997), 7 for the cycle, whose shortest cycle is searched and walked back (349,999). A
  // search that started over from each service, or looked through every edge for each one,
  // takes ~n² steps, and the counter stops it at its bound.
  const n = 50_000;

  it("finds no cycle in a depends-on chain of 50,000 without overflowing the stack, in steps linear in its length", () => {
    const g = new Map<string, ServiceSpec>();
    for (let i = 0; i < n; i++) g.set(`s${i}`, { ...defaultSpec(`s${i}`, "internal"), dependsOn: i === 0 ? [] : [`s${i - 1}`] });
    const steps = stepsAtMost(8 * n);
    expect(findCycles(g, undefined, steps.step)).toEqual([]);
    expect(steps.count()).toBeGreaterThanOrEqual(n);
    // A safety net only: the verdict is the count of steps.
  }, 60_000);

  it("reports a cycle of 50,000 as one cycle, in edge order, in steps linear in its length", () => {
    const g = new Map<string, ServiceSpec>();
    for (let i = 0; i < n; i++) g.set(`s${i}`, { ...defaultSpec(`s${i}`, "internal"), dependsOn: [`s${(i + 1) % n}`] });
    const steps = stepsAtMost(10 * n);
    const cycles = findCycles(g, undefined, steps.step);
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toHaveLength(n);
    expect(cycles[0]?.slice(0, 3)).toEqual(["s0", "s1", "s2"]);
    expect(steps.count()).toBeGreaterThanOrEqual(n);
  }, 60_000);
});
