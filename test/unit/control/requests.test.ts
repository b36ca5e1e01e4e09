import { describe, expect, it } from "vitest";
import { refusal } from "../../../src/control/auth.ts";
import { checkRunRequest, checkServiceName, MAX_RUN_BYTES, checkShutdownRequest, checkWait, defaultRunName, parseJsonBody } from "../../../src/control/requests.ts";
import { route } from "../../../src/control/router.ts";

const message = (checked: { ok: boolean; message?: string }) => (checked.ok ? "ok" : checked.message);

describe("request validation", () => {
  it("accepts a run request and fills nothing in", () => {
    expect(checkRunRequest({ command: ["sleep", "1"] })).toEqual({ ok: true, value: { command: ["sleep", "1"] } });
    expect(checkRunRequest({ command: ["x"], name: "job@1", restart: true, workingDir: "/srv" })).toEqual({
      ok: true,
      value: { command: ["x"], name: "job@1", restart: true, workingDir: "/srv" },
    });
  });

  it("says what is wrong with a run request", () => {
    expect(message(checkRunRequest(null))).toBe('the body must be a JSON object like {"command": ["sleep", "60"]}');
    expect(message(checkRunRequest({ command: [] }))).toBe("command must be a non-empty array of strings");
    expect(message(checkRunRequest({ command: ["a", 1] }))).toBe("command must be an array of strings without NUL characters");
    expect(message(checkRunRequest({ command: ["a\0b"] }))).toBe("command must be an array of strings without NUL characters");
    expect(message(checkRunRequest({ command: [""] }))).toBe("command[0] (the program) must not be empty");
    expect(message(checkRunRequest({ command: Array(2000).fill("x") }))).toBe("command has more than 1024 arguments");
    expect(message(checkRunRequest({ command: ["x"], restart: "yes" }))).toBe("restart must be true or false");
    expect(message(checkRunRequest({ command: ["x"], nmae: "y", z: 1 }))).toBe('unknown fields "nmae", "z"');
    expect(message(checkRunRequest({ command: ["x"], workingDir: "srv" }))).toBe("workingDir must be an absolute path");
    expect(message(checkRunRequest({ command: ["x"], name: 5 }))).toBe("name must be a string");
  });

  it("bounds what a run request stores: its words in UTF-8, each with a NUL, name and working directory included", () => {
    // Two words of 3-byte characters: (3n + 1) * 2 bytes.
    const n = (MAX_RUN_BYTES / 2 - 1) / 3;
    const word = "\u20ac".repeat(Math.floor(n));
    expect(checkRunRequest({ command: [word, word] }).ok).toBe(true);
    const stored = (Buffer.byteLength(word) + 1) * 2;
    const filler = "x".repeat(MAX_RUN_BYTES - stored);
    expect(checkRunRequest({ command: [word, word], workingDir: `/${filler.slice(2)}` }).ok).toBe(true);
    expect(message(checkRunRequest({ command: [word, word], workingDir: `/${filler.slice(1)}` }))).toBe(
      `the command, name and working directory come to ${MAX_RUN_BYTES + 1} bytes; a run request may have at most ${MAX_RUN_BYTES}`,
    );
    expect(message(checkRunRequest({ command: [word, `${word}\u20ac`] }))).toBe(
      `the command, name and working directory come to ${stored + 3} bytes; a run request may have at most ${MAX_RUN_BYTES}`,
    );
    // Below what exec takes, so a run that passes never fails at exec for its size (E2BIG).
    expect(MAX_RUN_BYTES).toBeLessThan(128 * 1024);
  });

  it("allows service-file-like names only", () => {
    for (const name of ["sshd", "getty@tty1", "a.b-c_d+e", "9lives"]) expect(message(checkServiceName(name)), name).toBe("ok");
    for (const name of ["", "-x", ".hidden", "a/b", "a b", "x".repeat(65), "../etc"]) expect(message(checkServiceName(name)), name).not.toBe("ok");
  });

  it("parses bodies and the wait query", () => {
    expect(parseJsonBody("")).toEqual({ ok: true, value: undefined });
    expect(parseJsonBody(" {} ")).toEqual({ ok: true, value: {} });
    expect(message(parseJsonBody("{"))).toMatch(/^the body is not valid JSON: /);
    expect(checkWait(new URLSearchParams(""))).toEqual({ ok: true, value: true });
    expect(checkWait(new URLSearchParams("wait=0"))).toEqual({ ok: true, value: false });
    expect(checkWait(new URLSearchParams("wait=1"))).toEqual({ ok: true, value: true });
    expect(message(checkWait(new URLSearchParams("wait=soon")))).toBe('wait must be 0 or 1, not "soon"');
  });

  it("checks shutdown requests", () => {
    expect(checkShutdownRequest(undefined)).toEqual({ ok: true, value: {} });
    expect(checkShutdownRequest({ kind: "halt" })).toEqual({ ok: true, value: { kind: "halt" } });
    expect(message(checkShutdownRequest({ kind: "now" }))).toBe("kind must be one of poweroff, reboot, halt");
    expect(message(checkShutdownRequest("poweroff"))).toMatch(/must be empty or a JSON object/);
  });

  it("names a runtime service after its program, uniquely", () => {
    const taken = new Set(["sleep", "sleep-2"]);
    expect(defaultRunName(["/usr/bin/sleep"], (n) => taken.has(n))).toBe("sleep-3");
    expect(defaultRunName(["./my script.sh"], () => false)).toBe("my_script.sh");
    expect(defaultRunName(["/"], () => false)).toBe("run");
    expect(defaultRunName(["--x"], () => false)).toBe("x");
  });
});

describe("routing", () => {
  it("finds endpoints and says why it did not", () => {
    expect(route("GET", "/v1/services/getty%40tty1")).toEqual({ ok: true, endpoint: { kind: "status", name: "getty@tty1" } });
    expect(route("POST", "/v1/services/a/restart")).toEqual({ ok: true, endpoint: { kind: "command", name: "a", command: "restart" } });
    expect(route("DELETE", "/v1/services/a/")).toEqual({ ok: true, endpoint: { kind: "remove", name: "a" } });
    expect(route("GET", "/v1/services/a/b/c")).toMatchObject({ ok: false, code: "not-found" });
    expect(route("DELETE", "/v1/shutdown")).toMatchObject({ ok: false, code: "method-not-allowed", allow: ["POST"] });
  });
});

describe("authorization", () => {
  const admins = new Set([0]);
  const user = { pid: 5, uid: 1000, gid: 1000 };
  it("lets anyone read and run, owners control their own services, root everything", () => {
    expect(refusal({ kind: "read" }, undefined, admins)).toBeUndefined();
    expect(refusal({ kind: "run" }, user, admins)).toBeUndefined();
    expect(refusal({ kind: "service", verb: "stop", service: "job", ownerUid: 1000 }, user, admins)).toBeUndefined();
    expect(refusal({ kind: "service", verb: "stop", service: "job", ownerUid: 1001 }, user, admins)).toBe(
      "uid 1000 may not stop job: only root may control services it did not start",
    );
    expect(refusal({ kind: "service", verb: "stop", service: "sshd", ownerUid: undefined }, user, admins)).toMatch(/may not stop sshd/);
    expect(refusal({ kind: "admin", verb: "shut down" }, user, admins)).toBe("uid 1000 may not shut down: only root may");
    expect(refusal({ kind: "admin", verb: "shut down" }, { ...user, uid: 0 }, admins)).toBeUndefined();
    expect(refusal({ kind: "run" }, undefined, admins)).toMatch(/credentials could not be read/);
  });
});
