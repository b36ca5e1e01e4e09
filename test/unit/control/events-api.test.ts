// GET /v1/events and GET /v1/analyze over a real Supervisor: the replay, pages of at most 500,
// a long poll answered by the next event, a bad `after`, and the timeline of what ran.
import { describe, expect, it } from "vitest";
import { defaultSpec } from "../../../src/base/service-spec.ts";
import type { AnalyzeResponse, EventsResponse } from "../../../src/control/api.ts";
import { EVENTS_PER_ANSWER } from "../../../src/control/api.ts";
import { LOG_WAIT_MS } from "../../../src/control/handlers.ts";
import { ApiHarness, settle } from "./api-harness.ts";

const web = { ...defaultSpec("web", "process"), command: ["/bin/web"] };

describe("the event log over the API", () => {
  it("replays from the start, then answers a long poll with the next event", async () => {
    const h = new ApiHarness([web], { events: true });
    await h.call("POST", "/v1/services/web/start");
    const first = (await h.call("GET", "/v1/events?after=0")).body as EventsResponse;
    expect(first.events.map((e) => e.kind)).toEqual(expect.arrayContaining(["state", "spawned"]));
    expect(first.events[0]!.seq).toBe(1);
    expect(first.next).toBe(first.events.at(-1)!.seq + 1);
    // Nothing new yet: the answer waits for the next event.
    let answered: EventsResponse | undefined;
    void h.call("GET", `/v1/events?after=${first.next - 1}&wait=1`).then((reply) => (answered = reply.body as EventsResponse));
    await settle();
    expect(answered).toBeUndefined();
    h.exit("web", { code: 3 });
    await settle();
    expect(answered?.events.map((e) => e.kind)).toContain("exited");
    expect(answered?.events.find((e) => e.kind === "exited")).toMatchObject({ service: "web", code: 3 });
  });

  it("answers a long poll with nothing new after 25 s of the API's clock, and a woken poll lets go of its timer", async () => {
    const h = new ApiHarness([web], { events: true });
    const clock = h.machine.clock;
    const idle = clock.armed;
    let answered: EventsResponse | undefined;
    void h.call("GET", "/v1/events?after=0&wait=1").then((reply) => (answered = reply.body as EventsResponse));
    await settle();
    expect(clock.armed).toBe(idle + 1);
    clock.advance(LOG_WAIT_MS - 1);
    await settle();
    expect(answered).toBeUndefined();
    clock.advance(1);
    await settle();
    expect(answered).toEqual({ events: [], lost: 0, next: 1 });
    expect(clock.armed).toBe(idle);
    // Woken by an event before the limit: the answer comes, and its timer is cancelled.
    let woken: EventsResponse | undefined;
    void h.call("GET", "/v1/events?after=0&wait=1").then((reply) => (woken = reply.body as EventsResponse));
    await settle();
    expect(clock.armed).toBe(idle + 1);
    h.events!.emit({ kind: "ready", service: "web" });
    await settle();
    expect(woken?.events.map((e) => e.kind)).toEqual(["ready"]);
    expect(clock.armed).toBe(idle);
  });

  it("answers a page at a time, and refuses a bad after", async () => {
    const h = new ApiHarness([web], { events: true });
    for (let i = 0; i < EVENTS_PER_ANSWER + 20; i++) h.events!.emit({ kind: "ready", service: `s${i}` });
    const page = (await h.call("GET", "/v1/events?after=0")).body as EventsResponse;
    expect(page.events).toHaveLength(EVENTS_PER_ANSWER);
    const rest = (await h.call("GET", `/v1/events?after=${page.next - 1}`)).body as EventsResponse;
    expect(rest.events).toHaveLength(20);
    expect((await h.call("GET", "/v1/events?after=-1")).status).toBe(400);
    expect((await new ApiHarness([web]).call("GET", "/v1/events")).status).toBe(501);
  });

  it("analyze gives each service's times and dependencies", async () => {
    const db = { ...defaultSpec("db", "process"), command: ["/bin/db"] };
    const app = { ...defaultSpec("app", "process"), command: ["/bin/app"], dependsOn: ["db"] };
    const h = new ApiHarness([db, app], { events: true });
    await h.call("POST", "/v1/services/app/start");
    const { rows } = (await h.call("GET", "/v1/analyze")).body as AnalyzeResponse;
    expect(rows.map((r) => r.service)).toEqual(["db", "app"]);
    expect(rows[1]).toMatchObject({ service: "app", dependsOn: ["db"] });
    expect(rows[1]!.started).toBeGreaterThanOrEqual(rows[0]!.started!);
  });
});
