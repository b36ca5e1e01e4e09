// Seeded generators of hostile input for the fuzz tier: service files (valid settings with odd
// values, unknown and prototype-named settings, long lines, binary bytes, cycles), and control
// requests (odd methods, paths, headers, bodies, framing). Same seed, same input. Every path a
// generated file names lies inside `work`, and every command is harmless.

/** mulberry32: small, fast, and good enough to pick inputs. */
export function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export class Picker {
  constructor(readonly random: () => number) {}
  int(max: number): number {
    return Math.floor(this.random() * max);
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
  one<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  text(length: number, alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-_.:@$/{}= \t\\\"'#"): string {
    let out = "";
    for (let i = 0; i < length; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }
  bytes(length: number): string {
    let out = "";
    for (let i = 0; i < length; i++) out += String.fromCharCode(this.int(256));
    return out;
  }
}

const TYPES = ["process", "bgprocess", "scripted", "internal", "triggered", "bogus", ""];
const NASTY_NAMES = ["__proto__", "constructor", "toString", "valueOf", "hasOwnProperty", "__defineGetter__", "__defineSetter__", "prototype"];
const SETTINGS = [
  "type", "command", "stop-command", "depends-on", "depends-ms", "waits-for", "before", "after", "chain-to",
  "restart", "restart-delay", "restart-delay-max", "restart-limit-interval", "restart-limit-count", "smooth-recovery",
  "start-timeout", "stop-timeout", "term-signal", "ready-notification", "run-as", "working-dir", "env-file",
  "rlimit-nofile", "rlimit-core", "rlimit-data", "logfile", "log-type", "log-buffer-size", "options",
  "socket-listen", "socket-permissions", "pid-file", "load-options", "depends-on.d", "waits-for.d",
];

/** A value for `setting`, sometimes sensible, sometimes not; paths stay inside `work`. */
function value(pick: Picker, setting: string, names: readonly string[], work: string): string {
  if (pick.chance(0.1)) return pick.text(pick.int(40));
  if (pick.chance(0.03)) return pick.bytes(pick.int(30));
  switch (setting) {
    case "type":
      return pick.one(TYPES);
    case "command":
    case "stop-command":
      return pick.one(["/bin/true", "/bin/false", "/bin/sleep 30", "/nonexistent/x", "/bin/sh -c 'exit 3'", "/bin/sh -c 'echo $1 $HOME'", ""]);
    case "depends-on":
    case "depends-ms":
    case "waits-for":
    case "before":
    case "after":
    case "chain-to":
      return pick.chance(0.2) ? pick.one(NASTY_NAMES) : pick.one(names);
    case "restart":
      return pick.one(["yes", "no", "on-failure", "true", "maybe"]);
    case "run-as":
      return pick.one(["nobody", "65534:65534", "root", "9notanumber", "nosuchuser", "0"]);
    case "working-dir":
    case "logfile":
    case "env-file":
    case "pid-file":
      return `${work}/${pick.one(["a", "b", "missing/x", "..", "f"])}`;
    case "socket-listen":
      return `${work}/sock-${pick.int(3)}`;
    case "options":
      return pick.one(["runs-on-console", "starts-on-console", "skippable", "no-sigterm", "bogus-option", "start-interruptible"]);
    case "log-type":
      return pick.one(["file", "buffer", "none", "pipe", "??"]);
    case "ready-notification":
      return pick.one(["pipefd:3", "pipefd:0", "pipevar:READY_FD", "notify", "pipefd:-1", "x"]);
    default:
      return String(pick.one([0, 1, -1, 0.5, 1e12, 2 ** 31, "inf", "1:2", ":", "unlimited"]));
  }
}

/** The text of one service file. */
export function serviceFile(pick: Picker, names: readonly string[], work: string): string {
  const lines: string[] = [];
  const count = pick.int(12);
  for (let i = 0; i < count; i++) {
    if (pick.chance(0.08)) {
      lines.push(`${pick.one(NASTY_NAMES)} = ${pick.text(5)}`);
      continue;
    }
    if (pick.chance(0.05)) {
      lines.push(pick.text(pick.int(200)));
      continue;
    }
    if (pick.chance(0.02)) {
      lines.push(`command = ${"x".repeat(20_000 + pick.int(50_000))}`);
      continue;
    }
    const setting = pick.one(SETTINGS);
    const op = pick.chance(0.9) ? "=" : pick.one(["+=", ":", "=="]);
    lines.push(`${setting} ${op} ${value(pick, setting, names, work)}`);
  }
  if (pick.chance(0.1)) lines.push("@include " + pick.one(["/etc/passwd", `${work}/a`, "nothing"]));
  return lines.join(pick.chance(0.05) ? "\r\n" : "\n") + (pick.chance(0.9) ? "\n" : "");
}

/** Service names: a few ordinary ones and the awkward ones. */
export function serviceNames(pick: Picker, count: number): string[] {
  const names = Array.from({ length: count }, (_, i) => `s${i}`);
  if (pick.chance(0.5)) names.push(pick.one(NASTY_NAMES));
  if (pick.chance(0.3)) names.push("inst@arg");
  return names;
}

const METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS", "HEAD", "get", "", "G\x00T"];
const PATHS = [
  "/v1", "/v1/services", "/v1/services/s0", "/v1/services/s0/start", "/v1/services/s0/stop?wait=0", "/v1/services/s0/restart",
  "/v1/services/s0/log?after=-1", "/v1/services/__proto__", "/v1/services/constructor/start", "/v1/reload",
  "/v1/services/%00", "/v1/services/../../etc", "/", "*", "/v2/x", "/v1/shutdownx",
  "/v1/services/s0/wake", "/v1/services/s0/stop?force=1", "/v1/services/s0/enable", "/v1/services/s0/disable",
  "/v1/services/s0/unload", "/v1/services/s0/reload", "/v1/services/s0/signal", "/v1/services/s0/dependents",
  "/v1/dependencies/add", "/v1/dependencies/remove", "/v1/env", "/v1/services/..%2f..%2fetc/enable",
];

/** One raw HTTP request (or something that is not one). Never a shutdown: that would end the target by design. */
export function rawRequest(pick: Picker): string {
  const method = pick.one(METHODS);
  let path = pick.one(PATHS);
  if (pick.chance(0.1)) path += pick.text(pick.int(50));
  const bodies = ["", "{}", "null", "[]", '{"name":"__proto__","command":["/bin/true"]}', '{"command":[]}', '{"command":"x"}', "{".repeat(100), pick.bytes(pick.int(100)), JSON.stringify({ name: pick.text(300), command: ["/bin/true"] }), '{"signal":"HUP"}', '{"signal":-1}', '{"from":"../x"}', '{"kind":"waits-for","from":"s0","to":"s1"}', '{"set":{"A":"1"},"unset":["__proto__"]}', '{"set":{"__proto__":"x"}}'].map((text) => Buffer.from(text, "utf8").toString("latin1"));
  // Sent as latin1, one byte a character: the length is the string's.
  const body = pick.one(bodies);
  const headers: string[] = ["Host: tsinit"];
  if (pick.chance(0.8)) headers.push(`Content-Length: ${pick.chance(0.9) ? body.length : pick.one(["-1", "x", "99999999999", "0"])}`);
  if (pick.chance(0.1)) headers.push("Transfer-Encoding: chunked");
  if (pick.chance(0.1)) headers.push(`X-${pick.text(10)}: ${pick.text(pick.int(100))}`);
  if (pick.chance(0.05)) headers.push(`Connection: ${pick.one(["close", "keep-alive", "keep-alive, close", "upgrade"])}`);
  const eol = pick.chance(0.9) ? "\r\n" : "\n";
  if (pick.chance(0.05)) return pick.bytes(pick.int(400));
  return `${method} ${path} HTTP/1.${pick.chance(0.95) ? 1 : pick.int(3)}${eol}${headers.join(eol)}${eol}${eol}${body}`;
}
