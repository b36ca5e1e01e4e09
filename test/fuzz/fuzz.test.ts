// The fuzz tier (`make test-fuzz`): hostile service files, reloads and control requests against
// the compiled tsinit as PID 1 of a PID namespace. Seeded and reproducible: FUZZ_SEED picks the
// input (default 1, so `make test` runs the same input every time; a failure names its seed),
// FUZZ_ROUNDS how much. Now and then a service file is a FIFO, a link (to /dev/zero, to nothing,
// to itself) or a directory. It fails when tsinit exits, when it does not answer within 2 s,
// when its log shows an uncaught exception, or when its Rss grows beyond a bound over 800
// reloads of the same files.
import { afterEach, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { Control, Namespace, tempDir } from "../ns/harness.ts";
import { Picker, rawRequest, rng, serviceFile, serviceNames } from "./generate.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 1);
const ROUNDS = Number(process.env.FUZZ_ROUNDS ?? 4);
const ANSWER_MS = 2_000;
const RANDOM_RELOADS = 12;
/**
 * Reloads of the same files, in the first round only: 200 to warm up, then 800 measured, Rss read
 * after each. Growth is the lowest Rss of the last WINDOW reloads less the lowest of the first
 * WINDOW measured: the lowest, because Rss moves with the garbage collector's timing. Measured
 * here (seed 1, three runs at once beside a CI run): 5.2, 9.7 and 9.8 MB; Rss creeps up to about
 * 80 MB and levels off there (3,000 reloads). The leak issue 9 found (14 MB over 200 reloads,
 * about 70 kB a reload) would add some 56 MB over 800.
 */
const WARM_RELOADS = 200;
const ALTERNATING_RELOADS = 1_000;
const WINDOW = 50;
const MAX_GROWTH_KB = 24_000;

let ns: Namespace | undefined;
afterEach(() => {
  ns?.kill();
  ns = undefined;
});

/** What may stand in a service file's place: each must be refused with its path, never waited on or read without bound. */
const NOT_FILES: readonly ((path: string) => void)[] = [
  (path) => execFileSync("mkfifo", [path]),
  (path) => symlinkSync("/dev/zero", path),
  (path) => symlinkSync(`${path}.nowhere`, path),
  (path) => symlinkSync(path, path),
  (path) => mkdirSync(path),
];

/** A new set of service files; with `notFiles`, now and then one of them is not a regular file. */
function writeServices(pick: Picker, dir: string, work: string, notFiles = false): void {
  for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
  const names = serviceNames(pick, 4 + pick.int(8));
  for (const name of names) writeFileSync(join(dir, name), serviceFile(pick, names, work), "latin1");
  if (notFiles && pick.chance(0.5)) {
    const victim = join(dir, pick.one(names));
    rmSync(victim, { force: true });
    pick.one(NOT_FILES)(victim);
  }
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
    writeServices(pick, dir, work, true);
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
      writeServices(pick, dir, work, true);
      await reload(`reload ${i}`);
    }
    // A leak: two fixed sets of files in turn, so that every reload adds, changes and removes
    // services; once warm, Rss must not keep growing with the count. (With new random files
    // every time the heap keeps growing to a high-water mark for 20 to 40 reloads, measured,
    // which is no leak.)
    if (round === 0) {
      const sets = [snapshot(pick, dir, work), snapshot(pick, dir, work)];
      const samples: number[] = [];
      for (let i = 0; i < ALTERNATING_RELOADS; i++) {
        restore(dir, sets[i % 2]!);
        await reload(`alternating reload ${i}`);
        if (i >= WARM_RELOADS) samples.push(rssKb(target.pid1));
      }
      const low = (from: number, to: number) => Math.min(...samples.slice(from, to));
      const growth = low(samples.length - WINDOW, samples.length) - low(0, WINDOW);
      console.log(`Rss grew ${growth} kB over ${ALTERNATING_RELOADS - WARM_RELOADS} reloads of the same files (seed ${seed})`);
      expect(growth, `Rss growth in kB over ${ALTERNATING_RELOADS - WARM_RELOADS} reloads of the same files (seed ${seed})`).toBeLessThan(MAX_GROWTH_KB);
    }

    // Requests: each gets an answer (or a close) in time, and tsinit still serves.
    for (let i = 0; i < 60; i++) await send(socket, rawRequest(pick));
    await alive(ns, socket, `requests (seed ${seed})`);
    ns.kill();
    ns = undefined;
    rmSync(work, { recursive: true, force: true });
  }
}, 300_000);
