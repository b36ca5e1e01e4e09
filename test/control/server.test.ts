// The control server on a real unix socket, in front of a real Supervisor over a fake Sys:
// peer credentials, the socket file's life, HTTP-level errors and many clients at once.
// Run as root (the non-root client is `setpriv ... curl`).
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { dlopen, FFIType, ptr } from "bun:ffi";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { answerDeadlineMs, FIRST_REQUEST_MS, IDLE_TIMEOUT_MS, LINGER_MS, SLOWEST_READ_BYTES_PER_S, startControlServer, type ControlServer, type ControlServerOptions } from "../../src/control/server.ts";
import { send } from "../../src/cli/client.ts";
import { ANSWER_LIMITS, type AnswerLimits } from "../../src/control/answer-budget.ts";
import { defaultSpec, type ServiceSpec } from "../../src/base/service-spec.ts";
import { Log } from "../../src/log/log.ts";
import { Supervisor } from "../../src/supervisor/supervisor.ts";
import { FakeSys } from "../unit/fakes/fake-sys.ts";
import { FakeMachine } from "../unit/fakes/fake-machine.ts";
import { FakeClock } from "../unit/fakes/fake-clock.ts";

let server: ControlServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function spec(name: string, extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return { ...defaultSpec(name, "process", `/etc/tsinit.d/${name}`), command: [`/bin/${name}`], ...extra };
}

async function serve(specs: ServiceSpec[], path = join(socketDir(), "ctl.sock"), admins = new Set([0]), answerLimits?: AnswerLimits, timers?: ControlServerOptions["timers"]) {
  const sys = new FakeSys();
  const logs: string[] = [];
  const log = new Log({ console: (line) => logs.push(line), kmsg: () => false }, { consoleThreshold: 7, kernelConsoleLevel: 0 });
  const supervisor = new Supervisor(specs, { runtime: new FakeMachine(sys), log, env: {} });
  const shutdowns: unknown[] = [];
  const result = await startControlServer({
    path,
    supervisor,
    log,
    mode: "supervisor",
    pid: process.pid,
    clock: { monotonic: () => 0, wall: () => Date.now() },
    admins,
    answerLimits,
    timers,
    shutdown: (kind) => shutdowns.push(kind ?? "exit"),
  });
  if (!result.ok) throw new Error(result.error);
  server = result.server;
  return { path, sys, supervisor, logs, shutdowns };
}

/** A directory others may enter, so a non-root client can reach the socket. */
function socketDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tsinit-control-"));
  chmodSync(dir, 0o755);
  return dir;
}

async function call(path: string, method: string, url: string, body?: string) {
  const response = await fetch(`http://tsinit${url}`, { unix: path, method, body });
  return { status: response.status, body: (await response.json()) as any };
}

/** Re-asks until `probe` answers (neither undefined nor false); fails after `timeoutMs`. */
async function poll<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(delay);
  }
}

/**
 * Writes raw bytes and returns everything the server sent back before closing. After an error
 * answer the server lingers before it closes (the client may still be sending): given the
 * server's FakeClock, `raw` moves it past the linger once the whole answer is in, so no real
 * second passes.
 */
function raw(path: string, payload: string | Buffer, lingering?: FakeClock): Promise<string> {
  return new Promise((resolve) => {
    let data = "";
    let answered = false;
    const socket = connect(path, () => socket.write(payload));
    socket.on("data", (chunk) => {
      data += chunk;
      if (lingering === undefined || answered || !holdsWholeAnswer(data)) return;
      answered = true;
      lingering.advance(LINGER_MS);
    });
    socket.on("close", () => resolve(data));
    socket.on("error", () => resolve(data));
  });
}

/** Whether `text` begins with a whole HTTP answer (its head and Content-Length bytes of body). */
function holdsWholeAnswer(text: string): boolean {
  const head = text.indexOf("\r\n\r\n");
  const length = /content-length: (\d+)/i.exec(text.slice(0, Math.max(0, head)))?.[1];
  return head !== -1 && length !== undefined && Buffer.byteLength(text.slice(head + 4)) >= Number(length);
}

async function asNobody(...args: string[]): Promise<{ code: number; out: string }> {
  return asUid(65534, ...args);
}

async function asUid(uid: number, ...args: string[]): Promise<{ code: number; out: string }> {
  const child = Bun.spawn(["setpriv", `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "curl", "-s", ...args], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(child.stdout).text();
  return { code: await child.exited, out };
}

describe("the socket file", () => {
  test("is mode 0666, replaces a stale socket, and is removed on close", async () => {
    const dir = socketDir();
    const path = join(dir, "ctl.sock");
    const first = await serve([], path);
    expect(statSync(path).mode & 0o777).toBe(0o666);
    // Simulate a crash: the old server's file stays behind while a new one starts.
    const stale = server!;
    server = undefined;
    await serve([], path);
    expect((await call(first.path, "GET", "/v1")).status).toBe(200);
    // The old server's close must not remove the new server's socket.
    await stale.close();
    expect((await call(path, "GET", "/v1")).status).toBe(200);
    await server!.close();
    server = undefined;
    expect(existsSync(path)).toBe(false);
  });

  test("appears only once it listens with mode 0666 (made under another name, then renamed)", async () => {
    const dir = socketDir();
    const path = join(dir, "ctl.sock");
    // What happened to the final name, from inotify: it must arrive in one step (a rename of a
    // socket already listening and chmodded), never be created or chmodded in place.
    const { symbols: c } = dlopen("libc.so.6", {
      inotify_init1: { args: [FFIType.i32], returns: FFIType.i32 },
      inotify_add_watch: { args: [FFIType.i32, FFIType.cstring, FFIType.u32], returns: FFIType.i32 },
      read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
      close: { args: [FFIType.i32], returns: FFIType.i32 },
    });
    const IN_ATTRIB = 0x4, IN_MOVED_FROM = 0x40, IN_MOVED_TO = 0x80, IN_CREATE = 0x100;
    const fd = c.inotify_init1(0o4000 /* IN_NONBLOCK */);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(c.inotify_add_watch(fd, Buffer.from(`${dir}\0`), IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE)).toBeGreaterThanOrEqual(0);
    await serve([], path);
    const events: string[] = [];
    const buffer = Buffer.alloc(64 * 1024);
    const length = Number(c.read(fd, ptr(buffer), buffer.length));
    c.close(fd);
    for (let at = 0; at < length; ) {
      const mask = buffer.readUInt32LE(at + 4);
      const nameLength = buffer.readUInt32LE(at + 12);
      const name = buffer.subarray(at + 16, at + 16 + nameLength).toString().replace(/\0+$/, "");
      const what = mask & IN_CREATE ? "create" : mask & IN_ATTRIB ? "attrib" : mask & IN_MOVED_FROM ? "moved-from" : "moved-to";
      events.push(`${what} ${name === "ctl.sock" ? name : "temporary"}`);
      at += 16 + nameLength;
    }
    expect(events).toEqual(["create temporary", "attrib temporary", "moved-from temporary", "moved-to ctl.sock"]);
    expect(statSync(path).mode & 0o777).toBe(0o666);
    expect((await call(path, "GET", "/v1")).status).toBe(200);
  });

  test("is made in a directory whose path leaves little room, and refused with a message past 107 bytes", async () => {
    const base = socketDir();
    // The socket's own name is three characters, the whole path 107 bytes: the temporary name
    // (a dot and random characters) must be no longer than the socket's.
    const dir = join(base, "d".repeat(107 - base.length - 5));
    mkdirSync(dir);
    const { path } = await serve([spec("web")], join(dir, "ctl"));
    expect(Buffer.byteLength(path)).toBe(107);
    expect((await call(path, "GET", "/v1/services/web")).status).toBe(200);
    await server?.close();
    server = undefined;
    const tooLong = join(dir, "ctl1");
    await expect(serve([spec("web")], tooLong)).rejects.toThrow(`control socket ${tooLong}: a unix socket's path may have at most 107 bytes`);
    const noRoom = join(`${dir}dd`, "s");
    mkdirSync(`${dir}dd`);
    await expect(serve([spec("web")], noRoom)).rejects.toThrow(`control socket ${noRoom}: no room for the temporary name`);
  });

  test("is not created over a file that is not a socket", async () => {
    const path = join(socketDir(), "precious");
    writeFileSync(path, "keep me");
    const sys = new FakeSys();
    const log = new Log({ console: () => {}, kmsg: () => false }, { consoleThreshold: 7, kernelConsoleLevel: 0 });
    const result = await startControlServer({
      path,
      supervisor: new Supervisor([], { runtime: new FakeMachine(sys), log, env: {} }),
      log,
      mode: "supervisor",
      pid: 1,
      clock: { monotonic: () => 0, wall: () => 0 },
      admins: new Set([0]),
    });
    expect(result).toEqual({ ok: false, error: `${path} exists and is not a socket; not replacing it` });
    expect(readFileSync(path, "utf8")).toBe("keep me");
  });
});

describe("peer credentials", () => {
  test("root is an admin; its pid is seen", async () => {
    const { path } = await serve([]);
    expect((await call(path, "GET", "/v1")).body).toEqual({ api: 1, mode: "supervisor", pid: process.pid, you: { uid: 0, gid: 0, admin: true } });
  });

  test("another uid may read, is refused a root service with 403, and may run its own", async () => {
    const { path, supervisor } = await serve([spec("web")]);
    supervisor.start("web");
    const hello = await asNobody("--unix-socket", path, "http://tsinit/v1");
    expect(JSON.parse(hello.out).you).toEqual({ uid: 65534, gid: 65534, admin: false });
    const list = await asNobody("--unix-socket", path, "http://tsinit/v1/services");
    expect(JSON.parse(list.out).services).toHaveLength(1);

    const refused = await asNobody("--unix-socket", path, "-X", "POST", "http://tsinit/v1/services/web/stop");
    expect(JSON.parse(refused.out)).toEqual({ error: { code: "forbidden", message: "uid 65534 may not stop web: only root may control services it did not start" } });
    expect(supervisor.services.get("web")?.state).toBe("started");

    const run = await asNobody("--unix-socket", path, "-X", "POST", "-d", '{"name":"mine","command":["sleep","60"]}', "http://tsinit/v1/services");
    expect(JSON.parse(run.out).service).toMatchObject({ name: "mine", state: "started", runtime: { ownerUid: 65534 } });
    expect(supervisor.services.get("mine")?.spec.runAs).toEqual({ user: "65534", group: "65534" });
  });
});

describe("robustness", () => {
  test("answers malformed HTTP with a JSON 400 and keeps serving", async () => {
    const clock = new FakeClock();
    const { path } = await serve([], undefined, undefined, undefined, clock);
    for (const payload of ["GARBAGE\r\n\r\n", "GET /v1 HTTP/1.1\r\nContent-Length: x\r\n\r\n", "\u0000\u0001\u0002\r\n\r\n"]) {
      const answer = await raw(path, payload, clock);
      expect(answer).toStartWith("HTTP/1.1 400");
      expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)).error.code).toBe("bad-request");
    }
    expect((await call(path, "GET", "/v1/services")).status).toBe(200);
  });

  test("after an error answer, keeps the connection LINGER_MS (the client may still be sending), then closes", async () => {
    const clock = new FakeClock();
    const { path } = await serve([], undefined, undefined, undefined, clock);
    let data = "";
    let closed = false;
    const socket = connect(path);
    const answered = new Promise<void>((resolve) => {
      socket.on("data", (chunk) => {
        data += chunk;
        if (holdsWholeAnswer(data)) resolve();
      });
    });
    socket.on("close", () => (closed = true));
    try {
      socket.write("GARBAGE\r\n\r\n");
      await answered;
      expect(data).toStartWith("HTTP/1.1 400");
      clock.advance(LINGER_MS - 1);
      expect(server!.stats().connections).toBe(1);
      clock.advance(1);
      expect(server!.stats()).toEqual({ connections: 0, inputCapacity: 0, inputPending: 0, unsent: 0 });
      await poll("the client to see the close", () => closed);
      expect(data).toStartWith("HTTP/1.1 400");
    } finally {
      socket.destroy();
    }
  });

  test("answers a client that shuts down its writing side after its request", async () => {
    const { path, supervisor } = await serve([spec("db", { readyNotification: { kind: "pipefd", fd: 3 } })]);
    /**
     * Sends the request, then shutdown(SHUT_WR). `answer` resolves with what came back before
     * close; `shut` once the shutdown is made (the socket's "finish" follows the system call).
     */
    const halfClosed = (payload: string) => {
      let shut!: Promise<unknown>;
      const answer = new Promise<string>((resolve) => {
        let data = "";
        const socket = connect({ path, allowHalfOpen: true }, () => {
          socket.write(payload);
          socket.end();
        });
        shut = new Promise((done) => socket.on("finish", done));
        socket.on("data", (chunk) => (data += chunk));
        socket.on("close", () => resolve(data));
        socket.on("error", () => resolve(data));
      });
      return { answer, shut };
    };
    expect(await halfClosed("GET /v1 HTTP/1.1\r\nHost: tsinit\r\n\r\n").answer).toStartWith("HTTP/1.1 200");
    // Two requests, then the half-close: both are answered, in order.
    const two = await halfClosed("GET /v1 HTTP/1.1\r\nHost: tsinit\r\n\r\nGET /v1/services/nope HTTP/1.1\r\nHost: tsinit\r\n\r\n").answer;
    expect(two.match(/^HTTP\/1\.1 \d+/gm)).toEqual(["HTTP/1.1 200", "HTTP/1.1 404"]);
    // A waiting command is not taken for a client that went away.
    const waiting = halfClosed("POST /v1/services/db/start HTTP/1.1\r\nHost: tsinit\r\n\r\n");
    await poll("db to be starting", () => supervisor.services.get("db")?.state === "starting");
    // The server must have read the half-close before db is ready. Once the shutdown is made,
    // the end of input waits on the server's socket; a request on another connection, accepted
    // and answered after that, takes the server's event loop past it.
    await waiting.shut;
    expect((await call(path, "GET", "/v1")).status).toBe(200);
    supervisor.dispatch({ kind: "ready", service: "db" });
    const answer = await waiting.answer;
    expect(answer).toStartWith("HTTP/1.1 200");
    expect(answer).toContain('"done":true');
  });

  test("closes after a request whose Connection list says close", async () => {
    const { path } = await serve([]);
    // raw() resolves only when the server closes the connection.
    const answer = await raw(path, "GET /v1 HTTP/1.1\r\nHost: tsinit\r\nConnection: keep-alive, close\r\n\r\n");
    expect(answer).toStartWith("HTTP/1.1 200");
    expect(answer.toLowerCase()).toContain("connection: close");
  });

  test("ignores empty lines before a request line and takes bare LF line ends", async () => {
    const { path } = await serve([]);
    const answer = await raw(path, "\r\n\nGET /v1 HTTP/1.1\nHost: tsinit\nConnection: close\n\n");
    expect(answer).toStartWith("HTTP/1.1 200");
  });

  test("refuses an oversized body, declared or streamed, without reading it all", async () => {
    const clock = new FakeClock();
    const { path } = await serve([], undefined, undefined, undefined, clock);
    const big = "x".repeat(64 * 1024 + 1);
    const declared = await call(path, "POST", "/v1/services", big);
    expect(declared).toEqual({ status: 413, body: { error: { code: "too-large", message: "the request body is larger than 65536 bytes" } } });
    const chunked = await raw(path, `POST /v1/services HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000\r\n${"y".repeat(0x10000)}\r\n10\r\n${"y".repeat(16)}\r\n0\r\n\r\n`, clock);
    expect(chunked).toStartWith("HTTP/1.1 413");
    expect((await call(path, "GET", "/v1")).status).toBe(200);
  });

  test("a client that goes away while waiting does not disturb the server", async () => {
    const { path, supervisor } = await serve([spec("db", { readyNotification: { kind: "pipefd", fd: 3 } })]);
    const gone = new AbortController();
    const waiting = fetch("http://tsinit/v1/services/db/start", { unix: path, method: "POST", signal: gone.signal }).catch((error) => error);
    // The supervisor's pending command waits, one per client still waiting (a private field).
    const waiters = () => {
      const map = (supervisor as unknown as { commandWaiters?: Map<number, unknown> }).commandWaiters;
      if (!(map instanceof Map)) throw new Error("Supervisor.commandWaiters is gone: this test must follow it");
      return map.size;
    };
    // The request is being served: db is starting and the client's wait is registered.
    await poll("db to be starting", () => supervisor.services.get("db")?.state === "starting");
    await poll("the first client's wait", () => waiters() === 1);
    gone.abort();
    expect(await waiting).toBeInstanceOf(Error);
    // Its wait ends with it: no waiter is left behind on the supervisor.
    await poll("the gone client's wait to be dropped", () => waiters() === 0);
    // Another client waits for the same start and gets its answer once db is ready.
    let answered = false;
    const second = call(path, "POST", "/v1/services/db/start").finally(() => (answered = true));
    await poll("the second client's wait", () => waiters() === 1);
    expect(answered).toBe(false);
    expect(supervisor.services.get("db")?.state).toBe("starting");
    supervisor.dispatch({ kind: "ready", service: "db" });
    expect(await second).toMatchObject({ status: 200, body: { done: true, service: { state: "started" } } });
  });

  test("one user cannot hold every connection: past 32 of its own, the next is closed", async () => {
    // Root counts as an ordinary user here (the admins are someone else).
    const { path } = await serve([spec("web")], undefined, new Set([4242]));
    const held = await Promise.all(
      Array.from({ length: 32 }, () => new Promise<ReturnType<typeof connect>>((resolve) => {
        const socket = connect(path, () => resolve(socket));
      })),
    );
    try {
      expect(await raw(path, "GET /v1 HTTP/1.1\r\nHost: tsinit\r\nConnection: close\r\n\r\n")).toBe("");
      held[0]!.destroy();
      await new Promise((resolve) => held[0]!.on("close", resolve));
      const answer = await poll("an answer once a held connection is closed", async () => {
        const text = await raw(path, "GET /v1 HTTP/1.1\r\nHost: tsinit\r\nConnection: close\r\n\r\n");
        return text.startsWith("HTTP/1.1 200") ? text : undefined;
      });
      expect(answer).toContain('"api"');
    } finally {
      for (const socket of held) socket.destroy();
    }
  });

  test("a slow reader cannot make the server hold more than its budget; it gets 503s, and others are answered", async () => {
    // Root counts as an ordinary user here (the admin is uid 4242). 64 services with 60 KiB
    // commands make a list of about 4 MB, as 64 runtime services of one user can.
    const services = Array.from({ length: 64 }, (_, i) => spec(`s${i}`, { command: ["/bin/x", "y".repeat(60 * 1024)] }));
    const { path, logs } = await serve(services, undefined, new Set([4242]));
    const { perUser } = server!.answers.limits;
    // The list has many spellings; its size is remembered by the endpoint, so none of them is
    // built again to be dropped.
    const spellings = ["/v1/services", "//v1/services", "/v1//services", "/v1/s%65rvices", "/v1/services/"];
    const requestFor = (i: number) => `GET ${spellings[i % spellings.length]} HTTP/1.1\r\nHost: tsinit\r\n\r\n`;
    const size = Buffer.byteLength(await raw(path, requestFor(0).replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")));
    expect(size).toBeGreaterThan(64 * 60 * 1024);
    // 32 connections (the per-uid cap), each asking three times and reading nothing.
    const sockets = await Promise.all(
      Array.from({ length: 32 }, (_, i) => new Promise<ReturnType<typeof connect>>((resolve) => {
        const socket = connect(path, () => {
          socket.pause();
          socket.write(requestFor(i) + requestFor(i + 1) + requestFor(i + 2));
          resolve(socket);
        });
      })),
    );
    try {
      // Refused before the answer is built (its last size is known) or after.
      const refusals = () => logs.filter((line) => /control: (refused|dropped the answer to) GET \S+:/.test(line)).length;
      // As many whole answers as fit in the budget are held, each on its own connection, whose
      // next requests wait for it to be read. The other connections get a 503 for each request
      // (small, so the socket takes it at once and the next request is answered).
      const admitted = Math.max(1, Math.floor(perUser / size));
      await poll("every request but the held answers' next ones to be answered", () => refusals() === (32 - admitted) * 3);
      // None of those answers was built to be dropped: the list's size was known from the
      // first ask, so PID 1 made no garbage of 4 MB each.
      expect(logs.filter((line) => line.includes("control: dropped the answer"))).toEqual([]);
      expect(server!.answers.held(0)).toBeLessThanOrEqual(perUser);
      expect(server!.answers.held(0)).toBeGreaterThan(admitted * size - 32 * 1024);
      // An admin and another user are answered in full meanwhile.
      const admin = await asUid(4242, "--unix-socket", path, "http://tsinit/v1/services");
      expect(JSON.parse(admin.out).services).toHaveLength(64);
      const other = await asNobody("--unix-socket", path, "http://tsinit/v1/services");
      expect(JSON.parse(other.out).services).toHaveLength(64);
      // What each slow connection gets once it reads: a whole list, or a 503 that says why.
      const firsts = await Promise.all(
        sockets.map((socket) => new Promise<string>((resolve) => {
          let data = "";
          socket.on("data", (chunk) => {
            data += chunk;
            const head = data.indexOf("\r\n\r\n");
            const length = /content-length: (\d+)/i.exec(data)?.[1];
            if (head !== -1 && length !== undefined && data.length >= head + 4 + Number(length)) resolve(data.slice(0, head + 4 + Number(length)));
          });
          socket.resume();
        })),
      );
      expect(firsts.filter((text) => text.startsWith("HTTP/1.1 200"))).toHaveLength(admitted);
      const busy = firsts.filter((text) => text.startsWith("HTTP/1.1 503"));
      expect(busy).toHaveLength(32 - admitted);
      const error = JSON.parse(busy[0]!.slice(busy[0]!.indexOf("\r\n\r\n") + 4)).error;
      expect(error.code).toBe("busy");
      expect(error.message).toMatch(/^uid 0 has \d+ bytes of answers not yet read on other connections, and this one \(about \d+ bytes\) would pass its \d+; read those first, then ask again$/);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
    await poll("the closed connections' answers to be let go", () => server!.answers.total === 0);
  });

  test("an admin's list of 10,000 services is answered in full, and let go once read", async () => {
    const { path } = await serve(Array.from({ length: 10_000 }, (_, i) => spec(`service-${i}`, { command: [`/usr/sbin/daemon-${i}`, "--foreground", "--config", `/etc/daemon-${i}.conf`] })));
    const text = await raw(path, "GET /v1/services HTTP/1.1\r\nHost: tsinit\r\nConnection: close\r\n\r\n");
    expect(text).toStartWith("HTTP/1.1 200");
    expect(JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)).services).toHaveLength(10_000);
    // Well within one admin's budget even if it asked on several connections at once.
    expect(Buffer.byteLength(text)).toBeLessThan(ANSWER_LIMITS.perAdmin / 8);
    expect(server!.answers.total).toBe(0);
  });

  test("a command is never answered 503 once carried out, and root's is carried out whatever it holds unread", async () => {
    // Small budgets: one unread list of 64 services with 16 KiB commands (~1 MB, more than the
    // socket takes at once) fills them.
    const services = Array.from({ length: 64 }, (_, i) => spec(`s${i}`, { command: ["/bin/x", "y".repeat(16 * 1024)] }));
    const limits: AnswerLimits = { perUser: 256 * 1024, nonAdmins: 256 * 1024, perAdmin: 256 * 1024 };
    const { path, shutdowns, supervisor } = await serve(services, undefined, new Set([0]), limits);
    // Root asks for the list on a connection it does not read: that answer is held for it.
    const held = await new Promise<ReturnType<typeof connect>>((resolve) => {
      const socket = connect(path, () => {
        socket.pause();
        socket.write("GET /v1/services HTTP/1.1\r\nHost: tsinit\r\n\r\n");
        resolve(socket);
      });
    });
    try {
      await poll("the list to be held", () => server!.answers.held(0) > limits.perAdmin);
      // Another read of root's is refused now (it would pass its budget)...
      expect(await raw(path, "GET /v1/services HTTP/1.1\r\nHost: tsinit\r\nConnection: close\r\n\r\n")).toStartWith("HTTP/1.1 503");
      // ...but its commands are carried out and answered: a start, then a poweroff.
      const start = await raw(path, "POST /v1/services/s1/start?wait=0 HTTP/1.1\r\nHost: tsinit\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      expect(start).toStartWith("HTTP/1.1 20");
      expect(supervisor.service("s1")?.state).not.toBe("stopped");
      const poweroff = await raw(path, 'POST /v1/shutdown HTTP/1.1\r\nHost: tsinit\r\nContent-Length: 19\r\nConnection: close\r\n\r\n{"kind":"poweroff"}');
      expect(poweroff).toStartWith("HTTP/1.1 20");
      await poll("the shutdown to be carried out", () => shutdowns.length === 1);
    } finally {
      held.destroy();
    }
  });

  test("initctl's reads refused as busy are asked again after Retry-After, and answered once there is room", async () => {
    const services = Array.from({ length: 64 }, (_, i) => spec(`s${i}`, { command: ["/bin/x", "y".repeat(16 * 1024)] }));
    const limits: AnswerLimits = { perUser: 256 * 1024, nonAdmins: 256 * 1024, perAdmin: 256 * 1024 };
    const { path, logs } = await serve(services, undefined, new Set([0]), limits);
    const held = await new Promise<ReturnType<typeof connect>>((resolve) => {
      const socket = connect(path, () => {
        socket.pause();
        socket.write("GET /v1/services HTTP/1.1\r\nHost: tsinit\r\n\r\n");
        resolve(socket);
      });
    });
    await poll("the list to be held", () => server!.answers.held(0) > limits.perAdmin);
    const refusals = () => logs.filter((line) => line.startsWith("tsinit: control: refused GET /v1/services")).length;
    // While initctl waits out the Retry-After of its first ask's 503, the held list is read
    // (its connection closed): the next ask is answered.
    const waits: number[] = [];
    const answer = await send(path, { method: "GET", path: "/v1/services" }, async (seconds) => {
      waits.push(seconds);
      expect(refusals()).toBe(1);
      held.destroy();
      await poll("the held list to be let go", () => server!.answers.held(0) === 0);
    });
    expect(waits).toEqual([1]);
    expect(refusals()).toBe(1);
    expect(answer.ok && answer.status).toBe(200);
    expect(answer.ok && (answer.body as { services: unknown[] }).services).toHaveLength(64);
  });

  test("50 simultaneous clients all get answers", async () => {
    const { path, supervisor } = await serve(Array.from({ length: 10 }, (_, i) => spec(`s${i}`)));
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => {
        const name = `s${(i >> 1) % 10}`;
        return i % 2 === 0 ? call(path, "GET", "/v1/services") : call(path, "POST", `/v1/services/${name}/start`);
      }),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    expect(supervisor.services.list().every((r) => r.state === "started")).toBe(true);
  });

  test("a shutdown is carried out after its answer is sent, in the server clock's next turn", async () => {
    const clock = new FakeClock();
    const { path, shutdowns } = await serve([], undefined, undefined, undefined, clock);
    const answer = await call(path, "POST", "/v1/shutdown", "{}");
    expect(answer).toEqual({ status: 202, body: { shutdown: "exit" } });
    // The client has its answer; the shutdown waits for the clock the server was given.
    expect(shutdowns).toEqual([]);
    clock.advance(0);
    expect(shutdowns).toEqual(["exit"]);
  });
});

describe("a connection's life", () => {
  /** A connected client that reads nothing until resumed. */
  function pausedClient(path: string): Promise<ReturnType<typeof connect>> {
    return new Promise((resolve) => {
      const socket = connect(path, () => resolve(socket));
      socket.pause();
    });
  }

  /** `count` services with 60 KiB commands: 64 make a list of about 4 MB. */
  const bigList = (count = 64) => Array.from({ length: count }, (_, i) => spec(`s${i}`, { command: ["/bin/x", "y".repeat(60 * 1024)] }));

  /**
   * How much of an answer this host's unix socket takes at once after a reader drained it (its
   * send buffer: about 208 KB by default, more where net.core.wmem_default is raised), measured
   * once on a server of its own. The slow-reader tests size their answer and pace from it.
   */
  let chunkBytes: number | undefined;
  async function measuredChunk(): Promise<number> {
    if (chunkBytes !== undefined) return chunkBytes;
    const { path } = await serve(bigList(), undefined, undefined, undefined, new FakeClock());
    const socket = await pausedClient(path);
    socket.write("GET /v1/services HTTP/1.1\r\nHost: tsinit\r\n\r\n");
    await poll("the answer to be built and partly sent", () => server!.stats().unsent > 0);
    chunkBytes = await takeSome(socket);
    socket.destroy();
    await server!.close();
    server = undefined;
    return chunkBytes;
  }

  /** Services enough for an answer of some 24 chunks of this host's socket, and at least 64. */
  async function bigListCount(): Promise<number> {
    return Math.max(64, Math.ceil((24 * (await measuredChunk())) / (60 * 1024)));
  }

  /** Resolves with the first whole answer in what `socket` receives (by its Content-Length). */
  function firstAnswer(socket: ReturnType<typeof connect>, received: Buffer[]): Promise<{ head: string; body: string }> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const data = Buffer.concat(received);
        const head = data.indexOf("\r\n\r\n");
        const length = /content-length: (\d+)/i.exec(data.subarray(0, Math.max(0, head)).toString())?.[1];
        if (head === -1 || length === undefined || data.length < head + 4 + Number(length)) return false;
        received.splice(0, received.length, data.subarray(head + 4 + Number(length)));
        resolve({ head: data.subarray(0, head).toString(), body: data.subarray(head + 4, head + 4 + Number(length)).toString() });
        return true;
      };
      if (check()) return;
      const onData = () => check() && socket.off("data", onData).off("close", onClose);
      const onClose = () => reject(new Error(`the connection closed after ${Buffer.concat(received).length} bytes, before a whole answer`));
      socket.on("data", onData).on("close", onClose);
    });
  }

  /**
   * A paused client on a server with a fake clock that has asked for the big list, once the
   * server holds part of the answer unsent; `received` counts the bytes the client has had.
   */
  async function askBigList(): Promise<{ clock: FakeClock; socket: ReturnType<typeof connect>; received: () => number }> {
    const count = await bigListCount();
    const clock = new FakeClock();
    const { path } = await serve(bigList(count), undefined, undefined, undefined, clock);
    const socket = await pausedClient(path);
    let receivedBytes = 0;
    socket.on("data", (chunk: Buffer) => (receivedBytes += chunk.length));
    socket.write("GET /v1/services HTTP/1.1\r\nHost: tsinit\r\n\r\n");
    await poll("the answer to be built and partly sent", () => server!.stats().unsent > 0);
    return { clock, socket, received: () => receivedBytes };
  }

  /**
   * Lets a paused client read until the server has handed its socket more of the answer (the
   * socket drained: the kernel gives room back once about three quarters of the send buffer
   * was read), then pauses it again. Returns how many bytes the server handed over.
   */
  function takeSome(socket: ReturnType<typeof connect>): Promise<number> {
    const before = server!.stats().unsent;
    return new Promise<number>((resolve) => {
      const onData = () => {
        const after = server!.stats().unsent;
        if (after >= before) return;
        socket.pause();
        socket.off("data", onData);
        resolve(before - after);
      };
      socket.on("data", onData);
      socket.resume();
    });
  }

  test("a client reading a large answer slowly but steadily is not cut off: one at the slowest rate allowed gets all of it", async () => {
    const count = await bigListCount();
    const clock = new FakeClock();
    const { path } = await serve(bigList(count), undefined, undefined, undefined, clock);
    const socket = await pausedClient(path);
    const received: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    try {
      socket.write("GET /v1/services HTTP/1.1\r\nHost: tsinit\r\n\r\n");
      await poll("the answer to be built and partly sent", () => server!.stats().unsent > 0);
      // The client takes what the socket holds, then waits as long as those bytes take at the
      // slowest rate allowed, and again: an answer's deadline leaves the idle period on top.
      let steps = 0;
      let lastTaken = 0;
      while (server!.stats().unsent > 0) {
        const taken = await takeSome(socket);
        lastTaken = clock.now();
        const pause = (taken * 1000) / SLOWEST_READ_BYTES_PER_S;
        // Each pause is within the idle period, which this test is not about. (A host whose
        // socket takes an idle period's worth at the slowest rate at once would fail here: a
        // reader at that rate would be cut off there, which is worth knowing.)
        expect(pause).toBeLessThan(IDLE_TIMEOUT_MS);
        clock.advance(pause);
        expect(server!.stats().connections).toBe(1);
        steps++;
      }
      // The answer took several idle periods to read, and all of it came.
      expect(clock.now()).toBeGreaterThan(4 * IDLE_TIMEOUT_MS);
      socket.resume();
      const { head, body } = await firstAnswer(socket, received);
      expect(head).toStartWith("HTTP/1.1 200");
      expect(JSON.parse(body).services).toHaveLength(count);
      expect(server!.answers.total).toBe(0);
      // Quiet from now on: the idle period is counted from the last byte taken, and it is the
      // only timer left (the answer's deadline went with the answer).
      expect(clock.armed).toBe(1);
      clock.advance(lastTaken + IDLE_TIMEOUT_MS - 1 - clock.now());
      expect(server!.stats().connections).toBe(1);
      clock.advance(1);
      expect(server!.stats().connections).toBe(0);
      expect(steps).toBeGreaterThan(8);
    } finally {
      socket.destroy();
    }
  });

  test("a client taking a chunk of a large answer every three quarters of the idle period is closed at the answer's deadline, and the answer let go", async () => {
    const { clock, socket, received } = await askBigList();
    try {
      const held = server!.answers.total;
      const deadline = answerDeadlineMs(server!.stats().unsent);
      // Every chunk is taken before the idle period is up, so the idle timer alone would let
      // this client keep its answer for ever; yet a chunk each period is slower than the
      // slowest rate allowed. Three quarters of the idle period, or longer where this host's
      // socket hands over more at once (between a chunk's time at that rate and the period).
      const chunkMs = ((await measuredChunk()) * 1000) / SLOWEST_READ_BYTES_PER_S;
      expect(chunkMs).toBeLessThan(IDLE_TIMEOUT_MS);
      const period = Math.max((IDLE_TIMEOUT_MS * 3) / 4, Math.ceil((chunkMs + IDLE_TIMEOUT_MS) / 2));
      let steps = 0;
      while (clock.now() + period < deadline) {
        clock.advance(period);
        expect(server!.stats().connections).toBe(1);
        await takeSome(socket);
        steps++;
      }
      expect(steps).toBeGreaterThan(8);
      expect(server!.stats().unsent).toBeGreaterThan(0);
      expect(server!.answers.total).toBe(held);
      clock.advance(deadline - 1 - clock.now());
      expect(server!.stats().connections).toBe(1);
      clock.advance(1);
      expect(server!.stats()).toEqual({ connections: 0, inputCapacity: 0, inputPending: 0, unsent: 0 });
      expect(server!.answers.total).toBe(0);
      const closed = new Promise((resolve) => socket.on("close", resolve));
      socket.resume();
      await closed;
      expect(received()).toBeLessThan(held);
    } finally {
      socket.destroy();
    }
  });

  test("a client that reads nothing of its answer for the idle period is closed, and the answer let go", async () => {
    const { clock, socket, received } = await askBigList();
    try {
      const held = server!.answers.total;
      expect(held).toBeGreaterThan(64 * 60 * 1024);
      clock.advance(IDLE_TIMEOUT_MS - 1);
      expect(server!.answers.total).toBe(held);
      clock.advance(1);
      expect(server!.stats()).toEqual({ connections: 0, inputCapacity: 0, inputPending: 0, unsent: 0 });
      expect(server!.answers.total).toBe(0);
      // The client gets what its socket had taken, then the end: not the whole answer.
      const closed = new Promise((resolve) => socket.on("close", resolve));
      socket.resume();
      await closed;
      expect(received()).toBeLessThan(held);
    } finally {
      socket.destroy();
    }
  });

  test("a client that sends bytes but reads nothing of its answer is still closed after the idle period", async () => {
    const { clock, socket } = await askBigList();
    try {
      const held = server!.answers.total;
      // A byte every three quarters of the idle period, never a byte read: no activity.
      clock.advance((IDLE_TIMEOUT_MS * 3) / 4);
      const pending = server!.stats().inputPending;
      socket.write("G");
      await poll("the byte to arrive", () => server!.stats().inputPending > pending);
      expect(server!.answers.total).toBe(held);
      clock.advance(IDLE_TIMEOUT_MS / 4);
      expect(server!.stats()).toEqual({ connections: 0, inputCapacity: 0, inputPending: 0, unsent: 0 });
      expect(server!.answers.total).toBe(0);
    } finally {
      socket.destroy();
    }
  });

  test("bytes trickling in do not extend the first request's deadline: closed 10 s after connecting", async () => {
    const clock = new FakeClock();
    const { path } = await serve([spec("web")], undefined, undefined, undefined, clock);
    const socket = await pausedClient(path);
    let receivedBytes = 0;
    socket.on("data", (chunk: Buffer) => (receivedBytes += chunk.length));
    const closed = new Promise((resolve) => socket.on("close", resolve));
    socket.resume();
    try {
      await poll("the connection to be accepted", () => server!.stats().connections === 1);
      // A byte of a request every 3 s (at 3, 6 and 9 s), never the whole request.
      const request = "GET /v1/services/web HTTP/1.1\r\nHost: tsinit\r\n\r\n";
      let sent = 0;
      while (clock.now() + 3_000 < FIRST_REQUEST_MS) {
        clock.advance(3_000);
        expect(server!.stats().connections).toBe(1);
        socket.write(request[sent]!);
        sent++;
        await poll("the byte to be received", () => server!.stats().inputPending === sent);
      }
      expect(sent).toBe(3);
      // The last byte came at 9 s; the deadline is still 10 s after the connection was accepted.
      clock.advance(FIRST_REQUEST_MS - 1 - clock.now());
      expect(server!.stats().connections).toBe(1);
      clock.advance(1);
      expect(server!.stats()).toEqual({ connections: 0, inputCapacity: 0, inputPending: 0, unsent: 0 });
      await closed;
      expect(receivedBytes).toBe(0);
    } finally {
      socket.destroy();
    }
  });

  test("a client sending its next request slowly but steadily is not cut off by the idle timeout", async () => {
    const clock = new FakeClock();
    const { path } = await serve([spec("web")], undefined, undefined, undefined, clock);
    const socket = await pausedClient(path);
    const received: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    socket.resume();
    try {
      socket.write("GET /v1 HTTP/1.1\r\nHost: tsinit\r\n\r\n");
      expect((await firstAnswer(socket, received)).head).toStartWith("HTTP/1.1 200");
      // The next request comes in pieces, three quarters of the idle period apart.
      const request = "GET /v1/services/web HTTP/1.1\r\nHost: tsinit\r\n\r\n";
      const pieces = [request.slice(0, 10), request.slice(10, 25), request.slice(25, 40), request.slice(40)];
      let sent = 0;
      for (const piece of pieces.slice(0, -1)) {
        clock.advance((IDLE_TIMEOUT_MS * 3) / 4);
        expect(server!.stats().connections).toBe(1);
        socket.write(piece);
        sent += piece.length;
        await poll("the piece to be received", () => server!.stats().inputPending === sent);
      }
      clock.advance((IDLE_TIMEOUT_MS * 3) / 4);
      socket.write(pieces.at(-1)!);
      const { head, body } = await firstAnswer(socket, received);
      expect(head).toStartWith("HTTP/1.1 200");
      expect(JSON.parse(body).service.name).toBe("web");
    } finally {
      socket.destroy();
    }
  });

  test("a connection's input buffer shrinks back once a request near the size limit is taken", async () => {
    const { path, supervisor } = await serve([spec("web"), spec("db")]);
    const socket = await pausedClient(path);
    const received: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    socket.resume();
    try {
      await poll("the connection to be accepted", () => server!.stats().connections === 1);
      const small = server!.stats().inputCapacity;
      // A 15 KiB header and a 64 KiB body (an empty JSON object and whitespace), then a small
      // request behind it in the same write, kept alive.
      const body = `${" ".repeat(64 * 1024 - 2)}{}`;
      const large = `POST /v1/services/web/start HTTP/1.1\r\nHost: tsinit\r\nX-Padding: ${"p".repeat(15 * 1024)}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
      socket.write(large + "POST /v1/services/db/start HTTP/1.1\r\nHost: tsinit\r\nContent-Length: 0\r\n\r\n");
      expect((await firstAnswer(socket, received)).head).toStartWith("HTTP/1.1 200");
      expect((await firstAnswer(socket, received)).head).toStartWith("HTTP/1.1 200");
      expect(supervisor.service("db")?.state).toBe("started");
      // The buffer grew past the large request while it came in; it is that small again now.
      expect(server!.stats()).toEqual({ connections: 1, inputCapacity: small, inputPending: 0, unsent: 0 });
      // And the connection still serves.
      socket.write("GET /v1 HTTP/1.1\r\nHost: tsinit\r\n\r\n");
      expect((await firstAnswer(socket, received)).head).toStartWith("HTTP/1.1 200");
      expect(server!.stats().inputCapacity).toBe(small);
    } finally {
      socket.destroy();
    }
  });
});
