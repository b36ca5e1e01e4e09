// The service set at scale: 2,000 services in a layered DAG start in dependency order and stop
// in reverse, and every event settles. No timing assertions: bench/services.ts measures.
import { describe, expect, it } from "vitest";
import { defaultSpec, type ServiceSpec } from "../../src/base/service-spec.ts";
import { layeredDag } from "../fixtures/dag.ts";
import { FakeRuntime } from "./fakes/fake-runtime.ts";

const LAYERS = 20;
const WIDTH = 100;
const SIGTERM = 15;

function dagServices(): { specs: ServiceSpec[]; deps: Map<string, string[]> } {
  const deps = layeredDag(LAYERS, WIDTH, 3);
  const specs: ServiceSpec[] = [...deps].map(([name, dependsOn]) => ({ ...defaultSpec(name, "process"), command: [`/bin/${name}`], dependsOn }));
  specs.push({ ...defaultSpec("boot", "internal"), waitsFor: [...deps.keys()] });
  return { specs, deps };
}

// A hang guard, not a timing check: the work is 2,000 services' starts and stops, about 3 s on an
// idle 2-core machine, which vitest's 5 s default leaves too little room for on a busy one.
const SCALE_TEST_MS = 30_000;

describe("2,000 services in a layered DAG", () => {
  it("start in dependency order, and stop in reverse order", () => {
    const { specs, deps } = dagServices();
    const rt = new FakeRuntime(specs);
    const began = performance.now();
    rt.start("boot");
    const startMs = performance.now() - began;
    expect(rt.state("boot")).toBe("started");
    expect(rt.spawns).toHaveLength(deps.size);
    const spawnedAt = new Map(rt.spawnOrder().map((name, index) => [name, index]));
    for (const [name, dependsOn] of deps) {
      expect(rt.state(name)).toBe("started");
      for (const dependency of dependsOn) expect(spawnedAt.get(dependency)!).toBeLessThan(spawnedAt.get(name)!);
    }
    expect(rt.set.isQuiet()).toBe(true);
    // Each event steps only what it touched: about a constant per service and dependency edge,
    // where stepping every service on every event would take millions here.
    const edges = [...deps.values()].reduce((sum, list) => sum + list.length, 0);
    expect(rt.set.steps).toBeLessThan(10 * (deps.size + edges));

    // Stopping the bottom layer takes everything down, dependents first.
    const stopBegan = performance.now();
    for (let i = 0; i < WIDTH; i++) rt.stop(`s0-${i}`);
    const exitedAt = new Map<string, number>();
    // Each service's dependents, looked up once: checking the order must not cost n² itself.
    const dependents = new Map<string, string[]>();
    for (const [name, dependsOn] of deps) for (const dependency of dependsOn) dependents.set(dependency, [...(dependents.get(dependency) ?? []), name]);
    for (let answered = 0; answered < rt.signals.length; answered++) {
      const { service, signal } = rt.signals[answered]!;
      expect(signal).toBe(SIGTERM);
      const notYet = (dependents.get(service) ?? []).filter((name) => !exitedAt.has(name));
      expect(notYet, `stopped before ${service}`).toEqual([]);
      rt.exit(service, { kind: "signaled", signal: SIGTERM, core: false });
      exitedAt.set(service, answered);
    }
    const stopMs = performance.now() - stopBegan;
    expect(rt.set.steps).toBeLessThan(25 * (deps.size + edges));
    expect(exitedAt.size).toBe(deps.size);
    expect([...deps.keys()].every((name) => rt.state(name) === "stopped")).toBe(true);
    // boot only waited for them: it stays up.
    expect(rt.state("boot")).toBe("started");
    expect(rt.set.isQuiet()).toBe(true);
    expect(rt.logs.filter((line) => line.startsWith("error"))).toEqual([]);
    console.log(`2,000 services: started in ${startMs.toFixed(0)} ms, stopped in ${stopMs.toFixed(0)} ms (fake runtime)`);
  }, SCALE_TEST_MS);

  it("a crash in the bottom layer restarts it without disturbing the rest", () => {
    const { specs } = dagServices();
    const rt = new FakeRuntime(specs.map((spec) => (spec.name === "s0-0" ? { ...spec, restart: "yes", smoothRecovery: true } : spec)));
    rt.start("boot");
    const spawns = rt.spawns.length;
    rt.exit("s0-0", 1);
    rt.advance(200);
    expect(rt.spawns).toHaveLength(spawns + 1);
    expect(rt.signals).toEqual([]);
    expect(rt.set.list().every((record) => record.state === "started")).toBe(true);
  }, SCALE_TEST_MS);
});

describe("a depends-on chain of 10,000 process services (issue 9: 228 s of event loop)", () => {
  it("starts from its far end in steps linear in its length, each service after the one it needs", () => {
    const n = 10_000;
    const specs = Array.from({ length: n }, (_, i) => ({ ...defaultSpec(`s${i}`, "process"), command: [`/bin/s${i}`], dependsOn: i === 0 ? [] : [`s${i - 1}`] }));
    const rt = new FakeRuntime(specs);
    rt.start(`s${n - 1}`);
    expect(rt.spawnOrder()).toEqual(specs.map((spec) => spec.name));
    expect(rt.set.list().every((record) => record.state === "started")).toBe(true);
    // Stepping the whole chain again at each link's start was n² (50 million here).
    expect(rt.set.steps).toBeLessThan(10 * 2 * n);
    rt.stop("s0");
    for (let answered = 0; answered < rt.signals.length; answered++) rt.exit(rt.signals[answered]!.service, { kind: "signaled", signal: SIGTERM, core: false });
    // Dependents first: the far end is signalled first, s0 last.
    expect(rt.signals.map((signal) => signal.service)).toEqual(specs.map((spec) => spec.name).reverse());
    expect(rt.set.steps).toBeLessThan(25 * 2 * n);
    expect(rt.set.isQuiet()).toBe(true);
  }, SCALE_TEST_MS);
});
