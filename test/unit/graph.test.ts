import { describe, expect, it } from "vitest";
import {
  closure,
  dependencyEdges,
  findCycles,
  formatCycle,
  startOrder,
  stopOrder,
} from "../../src/core/graph.ts";
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

describe("closure", () => {
  const g = graph({
    boot: { dependsOn: ["net"], waitsFor: ["sshd"] },
    net: { dependsMs: ["udev"] },
    sshd: { dependsOn: ["net"], after: ["log"], before: ["getty"] },
    udev: {},
    log: {},
    getty: {},
  });
  it("follows depends-on, depends-ms and waits-for, not before/after", () => {
    expect([...closure(g, "boot")].sort()).toEqual(["boot", "net", "sshd", "udev"]);
    expect([...closure(g, "sshd")].sort()).toEqual(["net", "sshd", "udev"]);
  });
  it("takes several roots and ignores unknown names", () => {
    expect([...closure(g, ["log", "getty", "nope"])].sort()).toEqual(["getty", "log"]);
  });
  it("terminates on cycles", () => {
    expect([...closure(graph({ a: { dependsOn: ["b"] }, b: { dependsOn: ["a"] } }), "a")].sort()).toEqual(["a", "b"]);
  });
});

describe("startOrder / stopOrder", () => {
  it("puts independent services in the same layer", () => {
    const g = graph({
      boot: { dependsOn: ["sshd", "getty"] },
      sshd: { dependsOn: ["net"] },
      getty: {},
      net: { dependsOn: ["udev"] },
      udev: {},
      log: {},
    });
    expect(startOrder(g)).toEqual({
      layers: [["getty", "log", "udev"], ["net"], ["sshd"], ["boot"]],
      cycles: [],
      blocked: [],
    });
  });

  it("orders only what the roots pull in", () => {
    const g = graph({ boot: { waitsFor: ["a"] }, a: { dependsOn: ["b"] }, b: {}, unrelated: {} });
    expect(startOrder(g, "boot").layers).toEqual([["b"], ["a"], ["boot"]]);
  });

  it("applies before/after only between services that both start", () => {
    const g = graph({
      boot: { waitsFor: ["a", "b"] },
      a: { after: ["b"], before: ["c"] },
      b: {},
      c: {},
    });
    expect(startOrder(g, "boot").layers).toEqual([["b"], ["a"], ["boot"]]);
    expect(startOrder(g).layers).toEqual([["b"], ["a"], ["boot", "c"]]);
  });

  it("leaves out cycle members and their hard dependents, but starts waiters and the rest", () => {
    const g = graph({
      a: { dependsOn: ["b"] },
      b: { dependsOn: ["a"] },
      hard: { dependsOn: ["a"] },
      harder: { dependsMs: ["hard"] },
      waiter: { waitsFor: ["b"] },
      orderer: { after: ["a"] },
      free: {},
      top: { dependsOn: ["free"] },
    });
    expect(startOrder(g)).toEqual({
      layers: [["free", "orderer", "waiter"], ["top"]],
      cycles: [["a", "b"]],
      blocked: ["hard", "harder"],
    });
  });

  it("stops in the reverse order of starting", () => {
    const g = graph({ boot: { dependsOn: ["sshd"] }, sshd: { dependsOn: ["net"] }, net: {}, log: {} });
    expect(startOrder(g).layers).toEqual([["log", "net"], ["sshd"], ["boot"]]);
    expect(stopOrder(g)).toEqual({ layers: [["boot"], ["sshd"], ["log", "net"]], cycles: [], blocked: [] });
  });

  it("reports cycles in stopOrder too", () => {
    const g = graph({ a: { dependsOn: ["a"] }, b: {} });
    expect(stopOrder(g)).toEqual({ layers: [["b"]], cycles: [["a"]], blocked: [] });
  });

  it("handles an empty set", () => {
    expect(startOrder(new Map())).toEqual({ layers: [], cycles: [], blocked: [] });
  });
});
