// The fuzz tier (`make test-fuzz`): hostile service files, reloads and control requests against
// the compiled tsinit as PID 1 of a PID namespace. Seeded and reproducible: FUZZ_SEED picks the
// input (default 1, so `make test` runs the same input every time; a failure names its seed),
// FUZZ_ROUNDS how much. It fails when tsinit exits, when it
// does not answer within 2 s, or when its log shows an uncaught exception; it prints how Rss
// moved over 200 reloads of the same files.
import { afterEach, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { Control, Namespace, tempDir } from "../ns/harness.ts";
import { Picker, rawRequest, rng, serviceFile, serviceNames } from "./generate.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 1);
const ROUNDS = Number(process.env.FUZZ_ROUNDS ?? 4);
const ANSWER_MS = 2_000;
const RANDOM_RELOADS = 12;
/**
 * Reloads of the same files, in the first round only: 50 to warm up, then 200 measured. Measured
 * on seed 200 (400 reloads): the warm-up adds about 11 MB, then Rss creeps about 13 kB a reload.
 */
const WARM_RELOADS = 50;
const ALTERNATING_RELOADS = 250;

let ns: Namespace | undefined;
afterEach(() => {
  ns?.kill();
  ns = undefined;
});

function writeServices(pick: Picker, dir: string, work: string): void {
  for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
  const names = serviceNames(pick, 4 + pick.int(8));
  for (const name of names) writeFileSync(join(dir, name), serviceFile(pick, names, work), "latin1");
  writeFileSync(join(dir, "boot"), `type = internal\n${names.map((n) => `waits-for = ${n}`).join("\n")}\n`);
  if (pick.chance(0.3)) {
    mkdirSync(join(dir, "boot.d"), { recursive: true });
    writeFileSync(join(dir, "boot.d", "s0"), "");
  }
}

/** The files `writeServices` makes, kept to be written again. */
function snapshot(pick: Picker, dir: string, work: string): Map<string, string> {
  writeServices(pick, dir, work);
  const files = new Map<string, string>();
  for (const name of readdirSync(dir)) if (!name.endsWith(".d")) files.set(name, readFileSync(join(dir, name), "latin1"));
  return files;
}

function restore(dir: string, files: Map<string, string>): void {
  for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
  for (const [name, text] of files) writeFileSync(join(dir, name), text, "latin1");
}

/** One request on its own connection: resolves with what came back by the close, or rejects after ANSWER_MS. */
function send(socket: string, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = "";
    const client = connect(socket);
    const timer = setTimeout(() => {
      client.destroy();
      reject(new Error(`no answer within ${ANSWER_MS} ms to ${JSON.stringify(request.slice(0, 200))}`));
    }, ANSWER_MS);
    client.on("data", (data) => {
      answer += data.toString("latin1");
      // One answer is enough: the server may keep the connection for the next request.
      if (/^HTTP\/1\.1 \d{3} /.test(answer) && answer.includes("\r\n\r\n")) client.destroy();
    });
    client.on("error", () => {});
    client.on("close", () => {
      clearTimeout(timer);
      resolve(answer);
    });
    // Then half-close: a request that is not complete (garbage with no line end, a short body)
    // ends here, and the server must answer or close instead of waiting for more.
    client.end(Buffer.from(request, "latin1"));
  });
}

async function alive(target: Namespace, socket: string, what: string): Promise<void> {
  expect(target.proc.exitCode, `tsinit exited after ${what}\n${target.log().slice(-2000)}`).toBeNull();
  const answer = await send(socket, "GET /v1 HTTP/1.1\r\nHost: tsinit\r\n\r\n");
  expect(answer, `GET /v1 after ${what}`).toStartWith("HTTP/1.1 200");
  expect(target.log()).not.toMatch(/uncaught exception|unhandled rejection/);
}

function rssKb(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+)/m)?.[1] ?? 0);
}

test(`hostile service files, reloads and requests (FUZZ_SEED=${SEED}, FUZZ_ROUNDS=${ROUNDS})`, async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const seed = SEED + round;
    const pick = new Picker(rng(seed));
    const work = tempDir("fuzz");
    const dir = join(work, "services");
    mkdirSync(dir);
    writeServices(pick, dir, work);
    const socket = join(work, "ctl.sock");
    ns = await Namespace.start(["--services-dir", dir, "--socket", socket]);
    const target = ns;
    await new Control(socket).ready(() => `round seed ${seed}, exit ${target.proc.exitCode}\n${target.log().slice(-3000)}`);
    await alive(ns, socket, `loading (seed ${seed})`);

    // Reloads of new hostile files: each answer comes within the limit.
    const reload = async (what: string) => {
      const answer = await send(socket, "POST /v1/reload HTTP/1.1\r\nHost: tsinit\r\nContent-Length: 0\r\n\r\n");
      expect(answer, `${what} (seed ${seed})`).toMatch(/^HTTP\/1\.1 (200|409|500) /);
      await alive(target, socket, `${what} (seed ${seed})`);
    };
    for (let i = 0; i < RANDOM_RELOADS; i++) {
      writeServices(pick, dir, work);
      await reload(`reload ${i}`);
    }
    // A leak: two fixed sets of files in turn, so that every reload adds, changes and removes
    // services; once warm, Rss must not keep growing with the count. (With new random files
    // every time the heap keeps growing to a high-water mark for 20 to 40 reloads, measured,
    // which is no leak.)
    if (round === 0) {
      const sets = [snapshot(pick, dir, work), snapshot(pick, dir, work)];
      let before = 0;
      for (let i = 0; i < ALTERNATING_RELOADS; i++) {
        if (i === WARM_RELOADS) before = rssKb(target.pid1);
        restore(dir, sets[i % 2]!);
        await reload(`alternating reload ${i}`);
      }
      // Reported, not asserted: Rss moves with the garbage collector's timing, and a bound that
      // catches a leak at the rate issue 9 found also failed now and then on a clean run (seed 1
      // grew 2.6 MB in one run here, 9.9 MB in another). test/ns/reload-memory.test.ts asserts a
      // bound over reloads that replace running services and their full buffer logs.
      const growth = rssKb(target.pid1) - before;
      console.log(`Rss grew ${growth} kB over ${ALTERNATING_RELOADS - WARM_RELOADS} reloads of the same files (seed ${seed})`);
    }

    // Requests: each gets an answer (or a close) in time, and tsinit still serves.
    for (let i = 0; i < 60; i++) await send(socket, rawRequest(pick));
    await alive(ns, socket, `requests (seed ${seed})`);
    ns.kill();
    ns = undefined;
    rmSync(work, { recursive: true, force: true });
  }
}, 300_000);
