// dinitctl's verbs through the control API over a real Supervisor and a fake Sys: who may use
// them, what bad input gets, and the JSON each answers with.
import { describe, expect, it } from "vitest";
import type { DependentsResponse, EnvResponse, ErrorResponse, LogResponse, StatusResponse } from "../../../src/control/api.ts";
import { ControlApi } from "../../../src/control/handlers.ts";
import type { ServiceFiles } from "../../../src/control/verbs.ts";
import type { ServiceSpec } from "../../../src/base/service-spec.ts";
import { STOP_GRACE_MS } from "../../../src/supervisor/supervisor.ts";
import { ApiHarness, NOBODY, settle, svc } from "./api-harness.ts";
import { renderAnswer } from "../../../src/cli/output.ts";
import { formatServiceDetail, formatServiceTable } from "../../../src/cli/format.ts";
import { serviceFiles } from "../../../src/service-files.ts";

const SIGTERM = 15;
const error = (body: unknown) => (body as ErrorResponse).error;

/** A ServiceFiles over a map of specs, recording the links it was asked for. */
function fakeFiles(specs: Record<string, ServiceSpec>): ServiceFiles & { links: string[] } {
  const links: string[] = [];
  return {
    links,
    load: (name) => (specs[name] === undefined ? { ok: false, message: `no service named ${name} in /s` } : { ok: true, spec: specs[name]!, warnings: [] }),
    link: (verb, to, from) => {
      links.push(`${verb} ${from ?? "boot"} ${to}`);
      return { ok: true, from: from ?? "boot", path: `/s/boot.d/${to}`, changed: true };
    },
  };
}

function withFiles(h: ApiHarness, files: ServiceFiles): ApiHarness {
  (h as { api: ControlApi }).api = new ControlApi({ ...h.api.options, files });
  return h;
}

describe("stop and restart with active dependents", () => {
  it("refuses without force, naming the dependents, and stops them with force", async () => {
    const h = new ApiHarness([svc("db"), svc("api", "process", { dependsOn: ["db"] })]);
    h.supervisor.start("api");
    const refused = await h.call("POST", "/v1/services/db/stop");
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      error: { code: "conflict", message: "not stopping db: api depends on it; stop it first, or use --force to stop it too" },
      dependents: ["api"],
      service: { name: "db", state: "started" },
    });
    expect((await h.call("POST", "/v1/services/db/restart")).body).toMatchObject({
      error: { message: "not restarting db: api depends on it; use --force to restart it too" },
      dependents: ["api"],
    });
    expect((await h.call("POST", "/v1/services/db/stop?force=maybe")).status).toBe(400);
    const forced = h.call("POST", "/v1/services/db/stop?force=1");
    await settle();
    h.exit("api", { signal: SIGTERM });
    await settle();
    h.exit("db", { signal: SIGTERM });
    expect((await forced).status).toBe(200);
    expect(h.state("api")).toBe("stopped");
  });
});

describe("the activation environment", () => {
  it("is root's to read and change; bad names and values are 400s", async () => {
    const h = new ApiHarness([]);
    const changed = await h.call("POST", "/v1/env", { body: { set: { A: "1", B: "x y" }, unset: ["B"] } });
    expect(changed).toMatchObject({ status: 200, body: { env: { A: "1" } } });
    expect(((await h.call("GET", "/v1/env")).body as EnvResponse).env).toEqual({ A: "1" });
    expect((await h.call("GET", "/v1/env", { peer: NOBODY })).status).toBe(403);
    expect((await h.call("POST", "/v1/env", { peer: NOBODY, body: { set: { A: "2" } } })).status).toBe(403);
    for (const body of [{ set: { "A=B": "1" } }, { set: { A: 1 } }, { set: { A: "a\0b" } }, { unset: "A" }, { other: 1 }, []]) {
      const reply = await h.call("POST", "/v1/env", { body });
      expect([reply.status, error(reply.body).code]).toEqual([400, "bad-request"]);
    }
    const rule = "is not a variable name: use a letter or _, then letters, digits and _ (up to 256 characters)";
    expect(error((await h.call("POST", "/v1/env", { body: { set: { "A=B": "1" } } })).body).message).toBe(`"A=B" ${rule}`);
  });

  it("refuses a name with a space, or one a shell could not name, and changes nothing", async () => {
    const h = new ApiHarness([]);
    expect((await h.call("POST", "/v1/env", { body: { set: { A: "1" } } })).status).toBe(200);
    for (const name of ["X Y", "1X", "MY-VAR", "a.b", "", "V".repeat(257)]) {
      const reply = await h.call("POST", "/v1/env", { body: { set: { B: "2", [name]: "1" } } });
      expect([reply.status, error(reply.body).code]).toEqual([400, "bad-request"]);
      expect(error(reply.body).message).toContain("is not a variable name: use a letter or _, then letters, digits and _");
    }
    expect(error((await h.call("POST", "/v1/env", { body: { set: { "X Y": "1" } } })).body).message).toBe(
      '"X Y" is not a variable name: use a letter or _, then letters, digits and _ (up to 256 characters)',
    );
    expect(((await h.call("GET", "/v1/env")).body as EnvResponse).env).toEqual({ A: "1" });
    // unset still takes any name without "=": one init inherited can go.
    expect((await h.call("POST", "/v1/env", { body: { unset: ["X Y", "a.b"] } })).status).toBe(200);
  });

  it("holds at most 1 MiB in all: a setenv past it is refused whole, and an unset in the same request counts", async () => {
    const h = new ApiHarness([]);
    const big = "v".repeat(60 * 1024);
    // 16 values of 60 KiB are allowed; two more would pass the bound.
    for (let i = 0; i < 16; i++) expect((await h.call("POST", "/v1/env", { body: { set: { [`V${i}`]: big } } })).status).toBe(200);
    const before = (await h.call("GET", "/v1/env")).body as EnvResponse;
    const refused = await h.call("POST", "/v1/env", { body: { set: { V16: big, V17: big } } });
    expect([refused.status, error(refused.body).code]).toEqual([400, "bad-request"]);
    expect(error(refused.body).message).toMatch(/^the activation environment would take \d+ bytes, more than 1048576 \(1 MiB\): nothing changed/);
    expect((await h.call("GET", "/v1/env")).body).toEqual(before);
    // Making room in the same request is fine; so is a multi-byte value counted in bytes.
    expect((await h.call("POST", "/v1/env", { body: { set: { V16: big }, unset: ["V0", "V1"] } })).status).toBe(200);
    const wide = "\u00e9".repeat(40 * 1024);
    expect((await h.call("POST", "/v1/env", { body: { set: { W: wide, X: wide } } })).status).toBe(400);
  });
});

describe("add-dep, rm-dep, dependents, unload, signal, catlog --clear", () => {
  it("answers each with JSON, and refuses bad input with a message", async () => {
    const h = new ApiHarness([svc("boot", "internal"), svc("web"), svc("db", "process", { logType: "buffer" })]);
    h.supervisor.start("boot");
    const added = await h.call("POST", "/v1/dependencies/add", { body: { kind: "waits-for", from: "boot", to: "web" } });
    expect(added).toMatchObject({ status: 200, body: { kind: "waits-for", from: { name: "boot" }, to: { name: "web", state: "stopped" } } });
    expect(((await h.call("GET", "/v1/services/web/dependents", { peer: NOBODY })).body as DependentsResponse).dependents).toEqual([
      { name: "boot", kind: "waits-for", holds: false, state: "started" },
    ]);
    expect(error((await h.call("POST", "/v1/dependencies/add", { body: { kind: "hard", from: "boot", to: "web" } })).body).message).toBe("kind must be one of regular, milestone, waits-for");
    expect((await h.call("POST", "/v1/dependencies/add", { body: { kind: "waits-for", from: "boot", to: "nope" } })).status).toBe(404);
    expect((await h.call("POST", "/v1/dependencies/add", { peer: NOBODY, body: { kind: "waits-for", from: "boot", to: "db" } })).status).toBe(403);
    expect((await h.call("POST", "/v1/dependencies/remove", { body: { kind: "waits-for", from: "boot", to: "web" } })).status).toBe(200);
    expect((await h.call("POST", "/v1/dependencies/remove", { body: { kind: "waits-for", from: "boot", to: "web" } })).status).toBe(409);

    expect((await h.call("POST", "/v1/services/web/unload", { peer: NOBODY })).status).toBe(403);
    expect((await h.call("POST", "/v1/services/web/unload")).status).toBe(200);
    expect((await h.call("GET", "/v1/services/web")).status).toBe(404);

    h.supervisor.start("db");
    const signalled = await h.call("POST", "/v1/services/db/signal", { body: { signal: "SIGUSR1" } });
    expect(signalled).toMatchObject({ status: 200, body: { service: "db", signal: 10 } });
    expect(error((await h.call("POST", "/v1/services/db/signal", { body: { signal: "NOPE" } })).body).message).toBe('"NOPE" is not a signal name or number');
    expect((await h.call("POST", "/v1/services/boot/signal", { body: { signal: 1 } })).body).toMatchObject({ error: { code: "conflict", message: "not sending SIGHUP: boot has no process (it is started)" } });

    h.supervisor.bufferLog("db").append("one\n");
    expect((await h.call("DELETE", "/v1/services/db/log")).body).toEqual({ service: "db", text: "one\n", next: 4, dropped: 0 } satisfies LogResponse);
    expect(((await h.call("GET", "/v1/services/db/log")).body as LogResponse).text).toBe("");
    expect((await h.call("DELETE", "/v1/services/boot/log")).status).toBe(409);
  });

  it("does not unload a runtime service (remove is for those)", async () => {
    const h = new ApiHarness([]);
    await h.call("POST", "/v1/services?wait=0", { body: { command: ["sleep", "1"], name: "job" } });
    const pid = h.supervisor.service("job")!.pid!;
    expect(pid).toBeGreaterThan(0);
    expect(error((await h.call("POST", "/v1/services/job/unload")).body).message).toBe("job was added with initctl run; remove it with initctl remove");
  });
});

describe("enable, disable and reload NAME", () => {
  it("enable refused (a cycle through after) leaves no link behind", async () => {
    const files = fakeFiles({ x: svc("x", "process", { after: ["boot"] }) });
    const h = withFiles(new ApiHarness([svc("boot", "internal"), svc("x", "process", { after: ["boot"] })]), files);
    const enabled = await h.call("POST", "/v1/services/x/enable");
    expect(enabled.status).toBe(409);
    expect(error(enabled.body).message).toMatch(/^not enabling x: x was not added to boot: .*that would be a dependency cycle: boot -> x -> boot \(\/s\/boot\.d\/x removed again\)$/);
    expect(files.links).toEqual(["enable boot x", "disable boot x"]);
  });

  it("loads a service enable names, links it and starts it for boot; disable stops it", async () => {
    const files = fakeFiles({ web: svc("web") });
    const h = withFiles(new ApiHarness([svc("boot", "internal")]), files);
    h.supervisor.start("boot");
    const enabled = await h.call("POST", "/v1/services/web/enable");
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ from: "boot", link: "/s/boot.d/web", changed: true, service: { state: "started", explicit: false } });
    expect(files.links).toEqual(["enable boot web"]);
    const disabling = h.call("POST", "/v1/services/web/disable", { body: {} });
    await settle();
    h.exit("web", { signal: SIGTERM });
    expect((await disabling).body).toMatchObject({ service: { state: "stopped" } });
    expect(h.supervisor.service("boot")!.spec.waitsFor).toEqual([]);
    expect((await h.call("POST", "/v1/services/nope/enable")).body).toMatchObject({ error: { code: "unknown-service", message: "not enabling nope: no service named nope in /s" } });
    expect((await h.call("POST", "/v1/services/web/enable", { body: { from: 3 } })).status).toBe(400);
    expect((await h.call("POST", "/v1/services/web/enable", { peer: NOBODY })).status).toBe(403);
  });

  it("answers disable within the stop-timeout and a grace when the service never stops", async () => {
    // stop-timeout = 0: no SIGKILL, so a process that ignores SIGTERM stays "stopping".
    const stubborn = svc("web", "process", { stopTimeoutMs: 0 });
    const h = withFiles(new ApiHarness([svc("boot", "internal", { waitsFor: ["web"] }), stubborn]), fakeFiles({ web: stubborn }));
    h.supervisor.start("boot");
    expect(h.supervisor.service("web")!.state).toBe("started");
    let answered = false;
    const disabling = h.call("POST", "/v1/services/web/disable").then((r) => ((answered = true), r));
    await settle();
    h.machine.clock.advance(STOP_GRACE_MS - 1);
    await settle();
    expect(answered).toBe(false);
    h.machine.clock.advance(1);
    const reply = await disabling;
    expect(reply.status).toBe(409);
    expect(error(reply.body)).toMatchObject({
      code: "failed",
      message: `web was disabled (/s/boot.d/web removed) but did not stop within ${STOP_GRACE_MS / 1000}s; it is still stopping`,
    });
  });

  it("stops waiting for disable when the client goes away", async () => {
    const stubborn = svc("web", "process", { stopTimeoutMs: 0 });
    const h = withFiles(new ApiHarness([svc("boot", "internal", { waitsFor: ["web"] }), stubborn]), fakeFiles({ web: stubborn }));
    h.supervisor.start("boot");
    const armed = h.machine.clock.armed;
    const gone = new AbortController();
    const disabling = h.call("POST", "/v1/services/web/disable", { signal: gone.signal });
    await settle();
    gone.abort();
    await disabling; // before the bound, this wait never ended
    expect(h.machine.clock.armed).toBe(armed);
  });

  it("reloads one service from its file", async () => {
    const h = withFiles(new ApiHarness([svc("web")]), fakeFiles({ web: svc("web", "process", { command: ["/bin/new"] }) }));
    expect((await h.call("POST", "/v1/services/web/reload")).status).toBe(200);
    expect(h.supervisor.service("web")!.spec.command).toEqual(["/bin/new"]);
    expect((await h.call("POST", "/v1/services/gone/reload")).status).toBe(404);
    expect((await h.call("POST", "/v1/services/web/reload", { peer: NOBODY })).status).toBe(403);
  });
});

describe("disable of a service that is not there, or goes", () => {
  const DIR = "/etc/tsinit.d";
  /** The real files port over the harness's fake machine, with `/etc/tsinit.d` as the one directory. */
  const realFiles = (h: ApiHarness) => withFiles(h, serviceFiles(h.machine.sys, () => [DIR]));
  const disable = async (h: ApiHarness, name: string) => {
    const reply = await h.call("POST", `/v1/services/${name}/disable`);
    return { reply, render: renderAnswer({ kind: "link", verb: "disable", name }, reply.status, reply.body, false) };
  };

  it("fails for a name that is not loaded, has no file and no link, and touches nothing", async () => {
    const h = realFiles(new ApiHarness([svc("boot", "internal")]));
    const { reply, render } = await disable(h, "nope");
    expect(reply.status).toBe(404);
    const message = `not disabling nope: no service named nope in ${DIR}, and it has no link (${DIR}/boot.d/nope)`;
    expect(error(reply.body)).toEqual({ code: "unknown-service", message });
    expect(render).toEqual({ stdout: "", stderr: `initctl: ${message}\n`, exitCode: 1 });
    expect(h.machine.sys.calls.filter((call) => call.startsWith("unlink"))).toEqual([]);
  });

  it("succeeds for a loaded service with no file or no link (added at run time), saying its state", async () => {
    const h = realFiles(new ApiHarness([svc("boot", "internal")]));
    expect((await h.call("POST", "/v1/services?wait=0", { body: { command: ["sleep", "60"], name: "job" } })).status).toBe(201);
    const { reply, render } = await disable(h, "job");
    expect(reply.body).toMatchObject({ from: "boot", link: `${DIR}/boot.d/job`, changed: false, service: { name: "job", state: "started" } });
    expect(render).toEqual({ stdout: `job was not enabled for boot (no ${DIR}/boot.d/job); it is started\n`, stderr: "", exitCode: 0 });
  });

  it("takes away the link of a service whose file is gone, and of one with a file that is not loaded", async () => {
    const h = realFiles(new ApiHarness([svc("boot", "internal")]));
    h.machine.sys.links.set(`${DIR}/boot.d/old`, "../old");
    const old = await disable(h, "old");
    expect(old.reply.body).toEqual({ from: "boot", link: `${DIR}/boot.d/old`, changed: true });
    expect(old.render.stdout).toBe(`disabled old for boot (removed ${DIR}/boot.d/old); it is not loaded\n`);
    expect(h.machine.sys.links.has(`${DIR}/boot.d/old`)).toBe(false);

    h.machine.sys.files.set(`${DIR}/idle`, "command = /bin/idle\n");
    const idle = await disable(h, "idle");
    expect(idle.render).toEqual({ stdout: `idle was not enabled for boot (no ${DIR}/boot.d/idle); it is not loaded\n`, stderr: "", exitCode: 0 });
  });

  it("answers with the last status and removed: true when the stop makes a service whose removal was pending go", async () => {
    const h = realFiles(new ApiHarness([svc("boot", "internal", { waitsFor: ["web"] }), svc("web")]));
    h.supervisor.start("boot");
    expect(h.state("web")).toBe("started");
    h.machine.sys.links.set(`${DIR}/boot.d/web`, "../web");
    // web's file went and a reload came while it ran: it goes once stopped.
    expect(h.supervisor.reload(new Map([["boot", svc("boot", "internal", { waitsFor: ["web"] })]]), new Map(), new Set()).pending).toEqual(["web"]);
    const disabling = disable(h, "web");
    await settle();
    h.exit("web", { signal: SIGTERM });
    const { reply, render } = await disabling;
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ from: "boot", changed: true, removed: true, service: { name: "web", state: "stopped", target: "stopped" } });
    expect(render).toEqual({ stdout: `disabled web for boot (removed ${DIR}/boot.d/web); it is no longer loaded (its file was removed)\n`, stderr: "", exitCode: 0 });
    expect(h.supervisor.service("web")).toBeUndefined();
  });
});

describe("status of a triggered service", () => {
  it("says it waits for its trigger while it does, and whether the trigger is set", async () => {
    const h = new ApiHarness([svc("net", "triggered")]);
    const statusOf = async () => ((await h.call("GET", "/v1/services/net")).body as StatusResponse).service;
    expect(await statusOf()).toMatchObject({ state: "stopped", triggered: false });
    expect((await statusOf()).waitingForTrigger).toBeUndefined();

    expect((await h.call("POST", "/v1/services/net/start?wait=0")).status).toBe(200);
    const waiting = await statusOf();
    expect(waiting).toMatchObject({ state: "starting", target: "started", triggered: false, waitingForTrigger: true });
    expect(formatServiceDetail(waiting)).toContain("\n  state:   starting (target started), waiting for its trigger (initctl trigger net)\n  trigger: not set\n");
    expect(formatServiceTable([waiting]).split("\n")[1]).toMatch(/^net\s+starting\s+started\s+-\s+-\s+0\s+waiting for its trigger$/);

    expect((await h.call("POST", "/v1/services/net/trigger")).status).toBe(200);
    const started = await statusOf();
    expect(started).toMatchObject({ state: "started", triggered: true });
    expect(started.waitingForTrigger).toBeUndefined();
    expect(formatServiceDetail(started)).toContain("\n  state:   started\n  trigger: set\n");
    // Other types have no trigger to show.
    const plain = new ApiHarness([svc("web")]);
    expect(((await plain.call("GET", "/v1/services/web")).body as StatusResponse).service.triggered).toBeUndefined();
  });
});

describe("is-failed", () => {
  // dinitctl(8): failed is "stopped because of startup failure, timeout or dependency failure";
  // a process that ran and then ended is "terminated", and is-failed says no.
  const isFailed = async (h: ApiHarness, name: string) => renderAnswer({ kind: "is", what: "failed", name }, 200, (await h.call("GET", `/v1/services/${name}`)).body, false).exitCode;

  it("is yes for a failed start and a dependency's failure, no for a run that ended", async () => {
    const h = new ApiHarness([
      svc("setup", "scripted"),
      svc("app", "process", { dependsOn: ["setup"] }),
      svc("daemon"),
    ]);
    h.supervisor.start("app");
    h.exit("setup", { code: 3 });
    expect(h.state("app")).toBe("stopped");
    expect(await isFailed(h, "setup")).toBe(0);
    expect(await isFailed(h, "app")).toBe(0);

    h.supervisor.start("daemon");
    expect(h.state("daemon")).toBe("started");
    h.exit("daemon", { code: 3 });
    expect(h.state("daemon")).toBe("stopped");
    const daemon = (await h.call("GET", "/v1/services/daemon")).body as { service: { failed?: string; terminated?: true } };
    expect(daemon.service).toMatchObject({ failed: "exited 3 (restart = no)", terminated: true });
    expect(await isFailed(h, "daemon")).toBe(1);

    // Its next start clears both.
    h.supervisor.start("daemon");
    const again = (await h.call("GET", "/v1/services/daemon")).body as { service: { failed?: string; terminated?: true } };
    expect(again.service.failed).toBeUndefined();
    expect(again.service.terminated).toBeUndefined();
  });
});
