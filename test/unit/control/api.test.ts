import { afterEach, describe, expect, it, vi } from "vitest";
import type { CommandResponse, ErrorResponse, HelloResponse, ListResponse, StatusResponse } from "../../../src/control/api.ts";
import { ControlApi, LOG_WAIT_MS, type ControlledSupervisor } from "../../../src/control/handlers.ts";
import { Log } from "../../../src/log/log.ts";
import { FakeClock } from "../fakes/fake-clock.ts";
import { ApiHarness, NOBODY, OTHER, ROOT, settle, svc } from "./api-harness.ts";

const SIGTERM = 15;

afterEach(() => {
  vi.useRealTimers();
});

const error = (body: unknown) => (body as ErrorResponse).error;

describe("reading", () => {
  it("says hello with the API version and what it made of the caller", async () => {
    const h = new ApiHarness([]);
    expect((await h.call("GET", "/v1")).body).toEqual({ api: 1, mode: "supervisor", pid: 1, you: { uid: 0, gid: 0, admin: true } } satisfies HelloResponse);
    expect(((await h.call("GET", "/v1/", { peer: NOBODY })).body as HelloResponse).you).toEqual({ uid: 65534, gid: 65534, admin: false });
    expect(((await h.call("GET", "/v1", { peer: null })).body as HelloResponse).you).toBeNull();
  });

  it("lists every service by name, to anyone", async () => {
    const h = new ApiHarness([svc("web"), svc("boot", "internal", { waitsFor: ["web"] }), svc("db")]);
    h.supervisor.start("boot");
    const reply = await h.call("GET", "/v1/services", { peer: NOBODY });
    expect(reply.status).toBe(200);
    const services = (reply.body as ListResponse).services;
    expect(services.map((s) => [s.name, s.state, s.target])).toEqual([
      ["boot", "started", "started"],
      ["db", "stopped", "stopped"],
      ["web", "started", "started"],
    ]);
    expect(services[2]).toMatchObject({ pid: 100, explicit: false, requiredBy: 1, file: "/etc/tsinit.d/web", command: ["/bin/web"], crashes: 0 });
  });

  it("shows crash count, last exit and the next restart of a crashing service", async () => {
    vi.useFakeTimers();
    const h = new ApiHarness([svc("flaky", "process", { restart: "yes", restartDelayMs: 1000, restartLimitCount: 5 })]);
    h.supervisor.start("flaky");
    h.machine.clock.time = 50;
    h.exit("flaky", { code: 3 });
    h.machine.clock.time = 300;
    const status = ((await h.call("GET", "/v1/services/flaky")).body as StatusResponse).service;
    expect(status).toMatchObject({
      state: "stopped",
      target: "started",
      lastExit: "exited 3",
      crashes: 1,
      restartsInInterval: 1,
      restartLimit: { count: 5, intervalMs: 10_000 },
      restartPending: true,
      nextRestartInMs: 750,
      nextRestartAt: new Date(Date.UTC(2030, 0, 1) + 1050).toISOString(),
    });
    expect(status.pid).toBeUndefined();
  });

  it("answers 404 for an unknown service", async () => {
    const h = new ApiHarness([]);
    const reply = await h.call("GET", "/v1/services/nope");
    expect(reply.status).toBe(404);
    expect(error(reply.body)).toEqual({ code: "unknown-service", message: "no service named nope" });
  });
});

describe("commands wait for their outcome", () => {
  it("start answers once the service is ready", async () => {
    const h = new ApiHarness([svc("db", "process", { readyNotification: { kind: "pipefd", fd: 3 } })]);
    let answered = false;
    const pending = h.call("POST", "/v1/services/db/start").then((reply) => {
      answered = true;
      return reply;
    });
    await settle();
    expect(h.state("db")).toBe("starting");
    expect(answered).toBe(false);
    h.supervisor.dispatch({ kind: "ready", service: "db" });
    const reply = await pending;
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ done: true, service: { name: "db", state: "started", pid: 100 } });
  });

  it("start with wait=0 answers at once", async () => {
    const h = new ApiHarness([svc("db", "process", { readyNotification: { kind: "pipefd", fd: 3 } })]);
    const reply = await h.call("POST", "/v1/services/db/start?wait=0");
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ done: false, service: { state: "starting" } });
  });

  it("start reports a failure with the reason and the status", async () => {
    const h = new ApiHarness([svc("bad", "process", { command: ["/missing"] })]);
    const reply = await h.call("POST", "/v1/services/bad/start");
    expect(reply.status).toBe(409);
    expect(error(reply.body).code).toBe("failed");
    expect(error(reply.body).message).toMatch(/^bad: exec .*ENOENT/);
    expect((reply.body as ErrorResponse).service).toMatchObject({ name: "bad", state: "stopped" });
  });

  it("start reports a service that exits before it is ready", async () => {
    const h = new ApiHarness([svc("db", "process", { readyNotification: { kind: "pipefd", fd: 3 } })]);
    const pending = h.call("POST", "/v1/services/db/start");
    await settle();
    h.exit("db", { code: 1 });
    const reply = await pending;
    expect(reply.status).toBe(409);
    expect(error(reply.body).message).toBe("db: exited 1 before it was ready");
  });

  it("start of a service whose dependency fails reports the dependency", async () => {
    const h = new ApiHarness([svc("bad", "process", { command: ["/missing"] }), svc("app", "process", { dependsOn: ["bad"] })]);
    const reply = await h.call("POST", "/v1/services/app/start");
    expect(reply.status).toBe(409);
    expect(error(reply.body).message).toBe("app: dependency bad failed");
  });

  it("stop answers once the process has exited", async () => {
    const h = new ApiHarness([svc("web")]);
    h.supervisor.start("web");
    let answered = false;
    const pending = h.call("POST", "/v1/services/web/stop").then((reply) => {
      answered = true;
      return reply;
    });
    await settle();
    expect(h.state("web")).toBe("stopping");
    expect(h.sys.calls).toContain(`kill -100 ${SIGTERM}`);
    expect(answered).toBe(false);
    h.exit("web", { signal: SIGTERM });
    const reply = await pending;
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ done: true, service: { state: "stopped", target: "stopped" } });
  });

  it("stop of a service whose removal is pending answers done, and the service is gone", async () => {
    const h = new ApiHarness([svc("web")]);
    h.supervisor.start("web");
    // Its file went and a reload came while it ran: it goes once stopped.
    expect(h.supervisor.reload(new Map(), new Map(), new Set()).pending).toEqual(["web"]);
    const pending = h.call("POST", "/v1/services/web/stop");
    await settle();
    h.exit("web", { signal: SIGTERM });
    const reply = await pending;
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ done: true, removed: true, service: { name: "web", state: "stopped", target: "stopped" } });
    expect(h.supervisor.services.get("web")).toBeUndefined();
    expect((await h.call("GET", "/v1/services/web")).status).toBe(404);
  });

  it("start of a service removed before it started reports why it failed", async () => {
    const h = new ApiHarness([svc("db", "process", { readyNotification: { kind: "pipefd", fd: 3 } })]);
    const pending = h.call("POST", "/v1/services/db/start");
    await settle();
    h.supervisor.reload(new Map(), new Map(), new Set());
    h.exit("db", { code: 1 });
    const reply = await pending;
    expect(reply.status).toBe(409);
    expect(error(reply.body).message).toBe("db: exited 1 before it was ready; the service was then removed");
    expect(h.supervisor.services.get("db")).toBeUndefined();
  });

  it("restart answers once the new process runs", async () => {
    const h = new ApiHarness([svc("web")]);
    h.supervisor.start("web");
    const pending = h.call("POST", "/v1/services/web/restart");
    await settle();
    h.exit("web", { signal: SIGTERM });
    const reply = await pending;
    expect(reply.status).toBe(200);
    expect((reply.body as CommandResponse).service).toMatchObject({ state: "started", pid: 101 });
  });

  it("release leaves a service that a dependent still holds", async () => {
    const h = new ApiHarness([svc("db"), svc("app", "process", { dependsOn: ["db"] })]);
    h.supervisor.start("db");
    h.supervisor.start("app");
    const reply = await h.call("POST", "/v1/services/db/release");
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ done: true, service: { state: "started", explicit: false, requiredBy: 1 } });
  });

  it("trigger starts a wanted triggered service, and its dependents", async () => {
    const h = new ApiHarness([svc("net-up", "triggered"), svc("app", "process", { dependsOn: ["net-up"] })]);
    h.supervisor.start("app");
    expect(h.supervisor.services.get("app")?.state).toBe("stopped");
    const reply = await h.call("POST", "/v1/services/net-up/trigger");
    expect(reply.status).toBe(200);
    expect(h.supervisor.services.get("net-up")?.state).toBe("started");
    expect(h.supervisor.services.get("app")?.state).toBe("started");
  });

  it("stops waiting when the client goes away", async () => {
    const h = new ApiHarness([svc("db", "process", { readyNotification: { kind: "pipefd", fd: 3 } })]);
    const gone = new AbortController();
    const pending = h.call("POST", "/v1/services/db/start", { signal: gone.signal });
    await settle();
    gone.abort();
    expect((await pending).body).toMatchObject({ done: false });
  });
});

describe("run and remove", () => {
  it("runs a command as a runtime service and removes it once stopped", async () => {
    const h = new ApiHarness([]);
    const run = await h.call("POST", "/v1/services", { body: { command: ["/usr/bin/sleep", "60"] } });
    expect(run.status).toBe(201);
    expect((run.body as CommandResponse).service).toMatchObject({ name: "sleep", state: "started", restart: "no", runtime: { ownerUid: 0, ownerGid: 0 } });
    expect((run.body as CommandResponse).service.file).toBeUndefined();
    expect(h.sys.requests[0]?.credentials).toBeUndefined();

    const second = await h.call("POST", "/v1/services?wait=0", { body: { command: ["sleep", "1"], restart: true } });
    expect((second.body as CommandResponse).service).toMatchObject({ name: "sleep-2", restart: "yes" });

    const busy = await h.call("DELETE", "/v1/services/sleep");
    expect(busy.status).toBe(409);
    expect(error(busy.body).message).toBe("sleep is started (target started); stop it before removing it");

    const stopping = h.call("POST", "/v1/services/sleep/stop");
    await settle();
    h.exit("sleep", { signal: SIGTERM });
    expect((await stopping).status).toBe(200);
    const removed = await h.call("DELETE", "/v1/services/sleep");
    expect(removed.status).toBe(200);
    expect((removed.body as StatusResponse).service.name).toBe("sleep");
    expect(h.supervisor.services.get("sleep")).toBeUndefined();
    expect((await h.call("GET", "/v1/services/sleep")).status).toBe(404);
  });

  it("passes the command literally: a $ is not substituted", async () => {
    const h = new ApiHarness([]);
    await h.call("POST", "/v1/services", { body: { name: "echo", command: ["/bin/sh", "-c", "echo $HOME $$"], workingDir: "/tmp/$x" } });
    expect(h.sys.requests[0]).toMatchObject({ argv: ["/bin/sh", "-c", "echo $HOME $$"], cwd: "/tmp/$x" });
    const status = ((await h.call("GET", "/v1/services/echo")).body as StatusResponse).service;
    expect(status.command).toEqual(["/bin/sh", "-c", "echo $HOME $$"]);
  });

  it("refuses a name that is taken, and bad bodies", async () => {
    const h = new ApiHarness([svc("web")]);
    const taken = await h.call("POST", "/v1/services", { body: { name: "web", command: ["x"] } });
    expect(taken.status).toBe(409);
    expect(error(taken.body).code).toBe("conflict");
    for (const body of ["{", "[]", { command: [] }, { command: "sleep 1" }, { command: ["x"], extra: 1 }, { command: ["x"], name: "../etc" }, { command: ["x"], workingDir: "rel" }]) {
      const reply = await h.call("POST", "/v1/services", { body });
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(error(reply.body).code).toBe("bad-request");
    }
    expect(h.supervisor.services.list()).toHaveLength(1);
  });

  it("reports a runtime service that cannot start, and keeps it to be looked at", async () => {
    const h = new ApiHarness([]);
    const reply = await h.call("POST", "/v1/services", { body: { name: "oops", command: ["/missing"] } });
    expect(reply.status).toBe(409);
    expect(error(reply.body).message).toMatch(/^oops: exec .*ENOENT/);
    expect((await h.call("DELETE", "/v1/services/oops")).status).toBe(200);
  });

  it("does not remove a service that has a file", async () => {
    const h = new ApiHarness([svc("web")]);
    const reply = await h.call("DELETE", "/v1/services/web");
    expect(reply.status).toBe(409);
    expect(error(reply.body).message).toBe("web comes from /etc/tsinit.d/web; only services added with run can be removed");
  });
});

describe("authorization by peer credentials", () => {
  it("refuses another user's stop of a root service with 403 and changes nothing", async () => {
    const h = new ApiHarness([svc("web")]);
    h.supervisor.start("web");
    const calls = h.sys.calls.length;
    for (const [method, path] of [
      ["POST", "/v1/services/web/stop"],
      ["POST", "/v1/services/web/restart"],
      ["POST", "/v1/services/web/start"],
      ["POST", "/v1/services/web/release"],
      ["DELETE", "/v1/services/web"],
      ["POST", "/v1/shutdown"],
    ] as const) {
      const reply = await h.call(method, path, { peer: NOBODY });
      expect(reply.status, path).toBe(403);
      expect(error(reply.body).code).toBe("forbidden");
    }
    expect(error((await h.call("POST", "/v1/services/web/stop", { peer: NOBODY })).body).message).toBe(
      "uid 65534 may not stop web: only root may control services it did not start",
    );
    expect(h.state("web")).toBe("started");
    expect(h.sys.calls.length).toBe(calls);
    expect(h.shutdowns).toEqual([]);
  });

  it("lets a user run a service as itself and control only that one", async () => {
    const h = new ApiHarness([]);
    const run = await h.call("POST", "/v1/services", { peer: NOBODY, body: { name: "mine", command: ["sleep", "60"] } });
    expect(run.status).toBe(201);
    expect(h.supervisor.services.get("mine")?.spec.runAs).toEqual({ user: "65534", group: "65534" });
    expect(h.sys.requests[0]?.credentials).toEqual({ uid: 65534, gid: 65534, groups: [65534] });

    expect((await h.call("POST", "/v1/services/mine/stop", { peer: OTHER })).status).toBe(403);
    const stopping = h.call("POST", "/v1/services/mine/stop", { peer: NOBODY });
    await settle();
    h.exit("mine", { signal: SIGTERM });
    expect((await stopping).status).toBe(200);
    expect((await h.call("DELETE", "/v1/services/mine", { peer: OTHER })).status).toBe(403);
    expect((await h.call("DELETE", "/v1/services/mine", { peer: NOBODY })).status).toBe(200);
  });

  it("does not let a user's service stand in for another service's missing dependency", async () => {
    const h = new ApiHarness([svc("sshd", "process", { dependsOn: ["net"] })]);
    const reply = await h.call("POST", "/v1/services", { peer: NOBODY, body: { name: "net", command: ["sleep", "60"] } });
    expect(reply.status).toBe(409);
    expect(error(reply.body).message).toBe("net is named as a dependency of sshd; pick another name with --name");
    expect(h.supervisor.services.get("net")).toBeUndefined();
    expect((await h.call("POST", "/v1/services", { peer: ROOT, body: { name: "net", command: ["sleep", "60"] } })).status).toBe(201);
  });

  it("lets a client with unknown credentials only read", async () => {
    const h = new ApiHarness([svc("web")]);
    expect((await h.call("GET", "/v1/services/web", { peer: null })).status).toBe(200);
    const run = await h.call("POST", "/v1/services", { peer: null, body: { command: ["x"] } });
    expect(run.status).toBe(403);
    expect(error(run.body).message).toMatch(/credentials could not be read/);
  });

  it("lets root run a service that runs as root, and stop a user's service", async () => {
    const h = new ApiHarness([]);
    await h.call("POST", "/v1/services", { peer: NOBODY, body: { name: "mine", command: ["sleep", "60"] } });
    const stopping = h.call("POST", "/v1/services/mine/stop?wait=0", { peer: ROOT });
    expect((await stopping).status).toBe(200);
  });
});

describe("shutdown", () => {
  it("answers 202 and shuts down only after the answer is sent", async () => {
    const h = new ApiHarness([], { mode: "init" });
    const reply = await h.call("POST", "/v1/shutdown", { body: { kind: "reboot" } });
    expect(reply.status).toBe(202);
    expect(reply.body).toEqual({ shutdown: "reboot" });
    expect(h.shutdowns).toEqual([]);
    reply.afterSend?.();
    expect(h.shutdowns).toEqual(["reboot"]);
  });

  it("in supervisor mode any shutdown means stop everything and exit", async () => {
    const h = new ApiHarness([]);
    const reply = await h.call("POST", "/v1/shutdown");
    expect(reply.body).toEqual({ shutdown: "exit" });
    reply.afterSend?.();
    expect(h.shutdowns).toEqual([undefined]);
  });

  it("refuses an unknown kind, and says when it cannot shut down", async () => {
    expect((await new ApiHarness([]).call("POST", "/v1/shutdown", { body: { kind: "explode" } })).status).toBe(400);
    expect((await new ApiHarness([], { shutdown: false }).call("POST", "/v1/shutdown")).status).toBe(501);
  });
});

describe("debug stall", () => {
  it("answers 202 and stalls PID 1 only after the answer is sent", async () => {
    const h = new ApiHarness([], { mode: "init", debug: true });
    const reply = await h.call("POST", "/v1/debug/stall", { body: { seconds: 30 } });
    expect(reply.status).toBe(202);
    expect(reply.body).toEqual({ stall: { seconds: 30 } });
    expect(h.stalls).toEqual([]);
    reply.afterSend?.();
    expect(h.stalls).toEqual([30_000]);
    expect(h.logs.join("\n")).toContain("asked PID 1 to stall for 30 s (debug)");
  });

  it("is refused without tsinit.debug, saying what it needs", async () => {
    const h = new ApiHarness([], { mode: "init", debug: false });
    const reply = await h.call("POST", "/v1/debug/stall", { body: { seconds: 30 } });
    expect(reply.status).toBe(403);
    expect(error(reply.body).message).toBe("debug stall needs tsinit.debug on the kernel command line");
    expect(reply.afterSend).toBeUndefined();
  });

  it("is root's only, 501 where there is no PID 1, and checks the seconds", async () => {
    const h = new ApiHarness([], { mode: "init", debug: true });
    expect((await h.call("POST", "/v1/debug/stall", { body: { seconds: 30 }, peer: OTHER })).status).toBe(403);
    for (const body of [{}, { seconds: 0 }, { seconds: 3601 }, { seconds: 1.5 }, { seconds: "30" }, { seconds: 30, extra: 1 }]) {
      const reply = await h.call("POST", "/v1/debug/stall", { body });
      expect(reply.status).toBe(400);
    }
    expect(error((await h.call("POST", "/v1/debug/stall", { body: { seconds: 0 } })).body).message).toBe("seconds must be a whole number from 1 to 3600");
    expect((await new ApiHarness([]).call("POST", "/v1/debug/stall", { body: { seconds: 30 } })).status).toBe(501);
    expect((await h.call("GET", "/v1/debug/stall")).status).toBe(405);
    expect(h.stalls).toEqual([]);
  });
});

describe("buffer logs", () => {
  it("serves the output kept in the buffer, and waits for more when asked", async () => {
    const h = new ApiHarness([svc("web", "process", { logType: "buffer", logBufferSize: 100 })]);
    h.supervisor.start("web");
    const log = h.supervisor.bufferLog("web");
    log.append("hello\n");
    expect((await h.call("GET", "/v1/services/web/log")).body).toEqual({ service: "web", text: "hello\n", next: 6, dropped: 0 });
    const waiting = h.call("GET", "/v1/services/web/log?after=6&wait=1");
    log.append("more\n");
    expect((await waiting).body).toEqual({ service: "web", text: "more\n", next: 11, dropped: 0 });
    // Nothing more: the answer comes with nothing new once 25 s of the API's clock have passed.
    let answered: unknown;
    void h.call("GET", "/v1/services/web/log?after=11&wait=1").then((reply) => (answered = reply.body));
    await settle();
    h.machine.clock.advance(LOG_WAIT_MS - 1);
    await settle();
    expect(answered).toBeUndefined();
    h.machine.clock.advance(1);
    await settle();
    expect(answered).toEqual({ service: "web", text: "", next: 11, dropped: 0 });
    expect((await h.call("GET", "/v1/services/web/log?after=x")).status).toBe(400);
  });

  it("says where the output goes when there is no buffer", async () => {
    const h = new ApiHarness([svc("web", "process", { logType: "file", logfile: "/var/log/web" })]);
    const reply = await h.call("GET", "/v1/services/web/log");
    expect(reply.status).toBe(409);
    expect(error(reply.body).message).toBe("web has no buffer log (log-type = file): its output goes to /var/log/web; set log-type = buffer to keep it");
  });
});

describe("bad requests", () => {
  it("answers unknown endpoints, wrong methods, bad bodies and queries with JSON errors", async () => {
    const h = new ApiHarness([svc("web")]);
    const cases: [string, string, unknown, number, string][] = [
      ["GET", "/", undefined, 404, "not-found"],
      ["GET", "/v2/services", undefined, 404, "not-found"],
      ["GET", "/v1/services/web/frobnicate", undefined, 404, "not-found"],
      ["PUT", "/v1/services", undefined, 405, "method-not-allowed"],
      ["GET", "/v1/services/web/start", undefined, 405, "method-not-allowed"],
      ["POST", "/v1/services/web/start", { now: true }, 400, "bad-request"],
      ["POST", "/v1/services/web/start", "{not json", 400, "bad-request"],
      ["POST", "/v1/services/web/start?wait=later", undefined, 400, "bad-request"],
      ["GET", "/v1/services/%E0%A4%A", undefined, 400, "bad-request"],
      ["POST", "/v1/services/nope/stop", undefined, 404, "unknown-service"],
      ["GET", "/v1/services/web/log", undefined, 409, "conflict"],
      ["GET", "/v1/services/web/log?after=x", undefined, 409, "conflict"],
      ["POST", "/v1/services/web/enable", undefined, 501, "not-implemented"], // the harness gives no services directories
      ["POST", "/v1/reload", undefined, 501, "not-implemented"], // the harness gives no reload
      ["GET", "/v1/analyze", undefined, 501, "not-implemented"],
    ];
    for (const [method, path, body, status, code] of cases) {
      const reply = await h.call(method, path, { body });
      expect([method, path, reply.status, error(reply.body).code]).toEqual([method, path, status, code]);
    }
    expect((await h.call("PUT", "/v1/services")).headers).toEqual({ allow: "GET, POST" });
    expect(h.state("web")).toBe("stopped");
  });

  it("turns an exception into a 500 and logs it", async () => {
    const logs: string[] = [];
    const broken = {
      serviceList: () => {
        throw new Error("boom");
      },
    } as unknown as ControlledSupervisor;
    const api = new ControlApi({
      supervisor: broken,
      log: new Log({ console: (line) => logs.push(line), kmsg: () => false }, { consoleThreshold: 7, kernelConsoleLevel: 0 }),
      mode: "init",
      pid: 1,
      clock: { monotonic: () => 0, wall: () => 0 },
      timers: new FakeClock(),
      admins: new Set([0]),
    });
    const reply = await api.handle({ method: "GET", path: "/v1/services", query: new URLSearchParams(), body: "", peer: ROOT });
    expect(reply.status).toBe(500);
    expect(error(reply.body)).toEqual({ code: "internal", message: "internal error: boom" });
    expect(logs.join("\n")).toMatch(/control: GET \/v1\/services: Error: boom/);
  });
});
