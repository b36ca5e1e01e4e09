// 100 services in a dependency DAG: every service starts after its dependencies, independent
// ones start together, and a shutdown stops dependents before their dependencies.
import { afterEach, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { layeredDag } from "../fixtures/dag.ts";
import { Namespace, servicesDir, waitFor } from "./harness.ts";

let ns: Namespace | undefined;
afterEach(() => {
  ns?.kill();
  ns = undefined;
});

const LAYERS = 10;
const WIDTH = 10;

test("100 services in a DAG start in dependency order, in parallel, and stop in reverse", async () => {
  const deps = layeredDag(LAYERS, WIDTH, 2);
  const files: Record<string, string> = { boot: `type = internal\n${[...deps.keys()].map((n) => `waits-for = ${n}`).join("\n")}\n` };
  for (const [name, below] of deps) {
    files[name] = `command = /bin/sh $WORK/svc.sh ${name}\nready-notification = pipefd:3\n${below.map((d) => `depends-on = ${d}\n`).join("")}`;
  }
  // "up" when running; "ready" (through the readiness pipe) once every service of its layer is
  // up, a barrier that only services started in parallel pass; "stop" on the first SIGTERM (a
  // stop may signal the shell twice: its process group, then itself).
  const script = `trap 'trap "" TERM; echo "stop $1" >> "$WORK/log"; exit 0' TERM
echo "up $1" >> "$WORK/log"
until [ "$(grep -c "^up \${1%%-*}-" "$WORK/log")" -ge ${WIDTH} ]; do sleep 0.01; done
echo "ready $1" >> "$WORK/log"
echo ready >&3
exec 3>&-
while :; do sleep 0.05; done
`;
  const { dir, work } = servicesDir(files, { "svc.sh": script });
  process.env.WORK = work;
  const log = () => (existsSync(join(work, "log")) ? readFileSync(join(work, "log"), "utf8").trim().split("\n") : []);

  ns = await Namespace.start(["--services-dir", dir]);
  await waitFor("all 100 services ready", () => log().filter((l) => l.startsWith("ready")).length === 100, 60_000);
  await waitFor("the status line of a top service", () => ns!.log().includes("[  OK  ] started s9-9"));

  const lines = log();
  const at = (event: string) => lines.indexOf(event);
  for (const [name, below] of deps) {
    for (const dep of below) expect(at(`ready ${dep}`)).toBeLessThan(at(`up ${name}`));
  }
  // Parallel: a whole layer was between "up" and "ready" at the same moment.
  let running = 0;
  let most = 0;
  for (const line of lines) {
    running += line.startsWith("up ") ? 1 : line.startsWith("ready ") ? -1 : 0;
    most = Math.max(most, running);
  }
  expect(most).toBeGreaterThanOrEqual(WIDTH);

  ns.signal("SIGTERM");
  expect(await ns.exitCode(60_000)).toBe(0);
  const stops = log();
  for (const [name, below] of deps) {
    for (const dep of below) expect(stops.indexOf(`stop ${name}`)).toBeLessThan(stops.indexOf(`stop ${dep}`));
  }
  expect(stops.filter((l) => l.startsWith("stop")).length).toBe(100);
}, 120_000);
