// dinit's on-demand loading through the control API: a name a client gives that is not loaded
// yet is loaded (with what it reaches) from the services directory; a failed load says why.
import { describe, expect, it } from "vitest";
import type { ErrorResponse, ListResponse, StatusResponse } from "../../../src/control/api.ts";
import { ApiHarness, NOBODY } from "./api-harness.ts";

const D = "/etc/tsinit.d";
const error = (body: unknown) => (body as ErrorResponse).error;

describe("a name that is not loaded", () => {
  const files = {
    [`${D}/web`]: "type = process\ncommand = /bin/web\ndepends-on = db\n",
    [`${D}/db`]: "type = process\ncommand = /bin/db\n",
    [`${D}/getty`]: "type = process\ncommand = /sbin/getty $1\n",
    [`${D}/typo`]: "type = process\ncommand = /bin/true\nrestart = sometimes\n",
    [`${D}/waiter`]: "waits-for = typo\n",
  };

  it("loads on start, with its dependencies, and the list then shows them", async () => {
    const h = new ApiHarness([], { files });
    expect(((await h.call("GET", "/v1/services")).body as ListResponse).services).toEqual([]);
    const reply = await h.call("POST", "/v1/services/web/start");
    expect(reply.status).toBe(200);
    const names = ((await h.call("GET", "/v1/services")).body as ListResponse).services.map((s) => [s.name, s.state]);
    expect(names).toEqual([["db", "started"], ["web", "started"]]);
    expect(h.logs.join("\n")).toContain("loaded web, db");
  });

  it("loads an instance by name for status and start", async () => {
    const h = new ApiHarness([], { files });
    const status = (await h.call("GET", "/v1/services/getty@ttyS1")).body as StatusResponse;
    expect(status.service).toMatchObject({ name: "getty@ttyS1", state: "stopped", command: ["/sbin/getty", "ttyS1"] });
    expect((await h.call("POST", "/v1/services/getty@ttyS1/start")).status).toBe(200);
  });

  it("answers 404 when there is no file, and says why a file did not load", async () => {
    const h = new ApiHarness([], { files });
    const missing = await h.call("POST", "/v1/services/ghost/start");
    expect(missing.status).toBe(404);
    expect(error(missing.body)).toEqual({ code: "unknown-service", message: "no service named ghost" });
    const typo = await h.call("POST", "/v1/services/typo/start");
    expect(typo.status).toBe(409);
    expect(error(typo.body)).toEqual({ code: "failed", message: `typo failed to load: ${D}/typo:3: restart: "sometimes" is not one of yes, true, no, false, on-failure` });
  });

  it("a waits-for dependency that does not load fails when started, and its dependent starts", async () => {
    const h = new ApiHarness([], { files });
    expect((await h.call("POST", "/v1/services/waiter/start")).status).toBe(200);
    const typo = ((await h.call("GET", "/v1/services/typo")).body as StatusResponse).service;
    expect(typo.state).toBe("stopped");
    expect(typo.failed).toContain(`did not load: "typo" failed to load: ${D}/typo:3: restart:`);
    expect(((await h.call("GET", "/v1/services/waiter")).body as StatusResponse).service.state).toBe("started");
  });

  it("never looks on disk for a name that is not a valid service name", async () => {
    const h = new ApiHarness([], { files });
    const reply = await h.call("GET", "/v1/services/..%2Fetc");
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(h.sys.calls.some((call) => call.includes(".."))).toBe(false);
  });
});

describe("a client that is not root", () => {
  const files = {
    [`${D}/web`]: "type = process\ncommand = /bin/web\ndepends-on = db\n",
    [`${D}/db`]: "type = process\ncommand = /bin/db\n",
    [`${D}/getty`]: "type = process\ncommand = /sbin/getty $1\n",
  };
  const loaded = async (h: ApiHarness) => ((await h.call("GET", "/v1/services")).body as ListResponse).services.map((s) => s.name);

  it("is refused a command on a service that is not loaded, and nothing is loaded", async () => {
    const h = new ApiHarness([], { files });
    const reply = await h.call("POST", "/v1/services/web/start", { peer: NOBODY });
    expect(reply.status).toBe(403);
    expect(error(reply.body).message).toBe("uid 65534 may not start web: only root may control services it did not start");
    expect(await loaded(h)).toEqual([]);
  });

  it("gets 404 for the status of a service that is not loaded, and nothing is loaded", async () => {
    const h = new ApiHarness([], { files });
    expect((await h.call("GET", "/v1/services/web", { peer: NOBODY })).status).toBe(404);
    expect((await h.call("GET", "/v1/services/getty@tty1", { peer: NOBODY })).status).toBe(404);
    expect(await loaded(h)).toEqual([]);
    // Once root loaded it, everyone may read it.
    expect((await h.call("GET", "/v1/services/web")).status).toBe(200);
    expect((await h.call("GET", "/v1/services/web", { peer: NOBODY })).status).toBe(200);
  });

  it("may not run a service under the name of a file, which is looked at but not loaded", async () => {
    const h = new ApiHarness([], { files });
    for (const name of ["web", "getty@tty1"]) {
      const reply = await h.call("POST", "/v1/services", { peer: NOBODY, body: { name, command: ["/bin/sleep", "600"] } });
      expect(reply.status).toBe(409);
      expect(error(reply.body).message).toContain(`a service named ${name} already exists`);
    }
    expect(await loaded(h)).toEqual([]);
    expect((await h.call("POST", "/v1/services?wait=0", { peer: NOBODY, body: { name: "mine", command: ["/bin/sleep", "600"] } })).status).toBe(201);
    expect(await loaded(h)).toEqual(["mine"]);
  });
});

describe("run and names with a file", () => {
  it("refuses a run-time service the name of a service file that is not loaded yet", async () => {
    const h = new ApiHarness([], { files: { [`${D}/sshd`]: "type = process\ncommand = /usr/sbin/sshd -D\n" } });
    const reply = await h.call("POST", "/v1/services", { body: { name: "sshd", command: ["/bin/sleep", "600"] } });
    expect(reply.status).toBe(409);
    expect(error(reply.body).message).toContain("a service named sshd already exists");
  });
});
