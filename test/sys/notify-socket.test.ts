// The sd_notify listener against the real kernel: datagrams from child processes (bun, and
// Debian's systemd-notify when installed), garbage, and close(). Run with `bun test test/sys`
// (as root here). Every wait has a deadline; none is a fixed sleep.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_OUTSTANDING } from "../../src/sys/notify-credit.ts";
import { abandonedSocket, listenForNotifications, notifyReportsOutstanding, parseNotifyPayload, sendNotification } from "../../src/sys/notify-socket.ts";
import type { NotifyListener, NotifyMessage } from "../../src/sys/notify-socket.ts";
import { SysError } from "../../src/sys/sys.ts";
import { libc } from "../../src/sys/libc.ts";
import { linkSync, symlinkSync, unlinkSync } from "node:fs";

const DEADLINE_MS = 5000;
const dir = mkdtempSync(join(tmpdir(), "tsinit-notify-"));
const notifySocketModule = join(import.meta.dir, "../../src/sys/notify-socket.ts");
let serial = 0;
const listeners: NotifyListener[] = [];

afterEach(() => {
  for (const listener of listeners.splice(0)) listener.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Resolves when `condition` holds, checking every few milliseconds; rejects at the deadline. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const end = Date.now() + DEADLINE_MS;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

/** A listener whose messages and errors are collected for the test to wait on. */
function listen(path = join(dir, `notify-${++serial}.sock`)) {
  const messages: NotifyMessage[] = [];
  const errors: Error[] = [];
  const listener = listenForNotifications(path, (message) => messages.push(message), (error) => errors.push(error));
  listeners.push(listener);
  const waitForMessage = async (predicate: (message: NotifyMessage) => boolean) => {
    await until(() => messages.some(predicate), "a notify message");
    return messages.find(predicate)!;
  };
  return { path, listener, messages, errors, waitForMessage };
}

/** The socket inodes this process holds open, from /proc/self/fd. */
function openSockets(): Set<string> {
  const sockets = new Set<string>();
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith("socket:")) sockets.add(target);
    } catch {
      // Closed between readdir and readlink.
    }
  }
  return sockets;
}

describe("parseNotifyPayload", () => {
  test("splits lines into fields", () => {
    expect(parseNotifyPayload("READY=1\nSTATUS=up and running")).toEqual({ READY: "1", STATUS: "up and running" });
  });

  test("keeps '=' in values, allows empty values, ignores a trailing newline", () => {
    expect(parseNotifyPayload("STATUS=a=b\nERRNO=\n")).toEqual({ STATUS: "a=b", ERRNO: "" });
  });

  test("ignores lines without '=' or with an empty key; the first value of a key wins", () => {
    expect(parseNotifyPayload("garbage\n=1\nREADY=1\nREADY=0\n\n")).toEqual({ READY: "1" });
  });

  test("a key named __proto__ is only a key", () => {
    const fields = parseNotifyPayload("__proto__=x\nREADY=1");
    expect(fields["__proto__"]).toBe("x");
    expect(fields.READY).toBe("1");
    expect(Object.getPrototypeOf(fields)).toBeNull();
  });

  test("an empty payload has no fields", () => {
    expect(parseNotifyPayload("")).toEqual({});
  });
});

describe("listenForNotifications", () => {
  test("binds a socket file that every user may write to", () => {
    const { path } = listen();
    const stat = statSync(path);
    expect(stat.isSocket()).toBe(true);
    expect(stat.mode & 0o777).toBe(0o777);
  });

  test("replaces a stale socket file", () => {
    const path = join(dir, "stale.sock");
    listenForNotifications(path, () => {}).close();
    writeFileSync(path, "left over");
    const { path: bound } = listen(path);
    expect(statSync(bound).isSocket()).toBe(true);
  });

  test("the chmod to 0777 follows no link put at the name after the bind", () => {
    const bindings = libc as unknown as { bind: (fd: number, address: Uint8Array, length: number) => number };
    const realBind = bindings.bind;
    for (const put of [symlinkSync, linkSync]) {
      const path = join(dir, `swapped-${++serial}.sock`);
      const victim = join(dir, `victim-${serial}`);
      writeFileSync(victim, "root's\n", { mode: 0o600 });
      bindings.bind = (fd, address, length) => {
        const result = realBind(fd, address, length);
        unlinkSync(path);
        put(victim, path);
        return result;
      };
      try {
        expect(() => listen(path)).toThrow(SysError);
      } finally {
        bindings.bind = realBind;
      }
      expect(statSync(victim).mode & 0o7777).toBe(0o600);
    }
  });

  test("throws a SysError when the socket cannot be bound", () => {
    const missing = join(dir, "no-such-dir", "notify.sock");
    const bind = () => listenForNotifications(missing, () => {});
    expect(bind).toThrow(SysError);
    expect(bind).toThrow(`bind ${missing}: ENOENT`);
    expect(() => listenForNotifications(join(dir, "x".repeat(120)), () => {})).toThrow("ENAMETOOLONG");
  });

  test("a child's READY=1 and STATUS= arrive with the child's pid and uid", async () => {
    const { path, waitForMessage, errors } = listen();
    const script = `
      import { sendNotification } from ${JSON.stringify(notifySocketModule)};
      const error = sendNotification(process.env.NOTIFY_SOCKET, "READY=1\\nSTATUS=serving on :80");
      if (error) { console.error(error.message); process.exit(1); }
    `;
    const child = Bun.spawn([process.execPath, "-e", script], { env: { ...process.env, NOTIFY_SOCKET: path }, stderr: "inherit" });
    const message = await waitForMessage((m) => m.fields.READY === "1");
    expect(await child.exited).toBe(0);
    // The session is read as the datagram arrives: the test's own, which the child shares; or
    // none, when the child had already exited by then (the listener cannot always win that race).
    // A session of 0 (its leader is outside this PID namespace, as in some CI containers) is
    // reported as none: no service's session can be 0.
    const ownSession = Number(readFileSync("/proc/self/stat", "latin1").split(") ")[1]!.split(" ")[3]);
    const session = ownSession > 0 ? ownSession : undefined;
    const { session: seen, cgroup, senderGone, ...rest } = message;
    expect(rest).toEqual({ pid: child.pid, uid: process.getuid!(), fields: { READY: "1", STATUS: "serving on :80" } });
    expect([session, undefined]).toContain(seen);
    // Its cgroup likewise (the test's own), with `senderGone` saying which case it was.
    const ours = /^0::(.*)$/m.exec(readFileSync("/proc/self/cgroup", "latin1"))?.[1];
    if (senderGone === true) expect([seen, cgroup]).toEqual([undefined, undefined]);
    else {
      expect(seen).toBe(session);
      // The child may exit between the worker's two reads: its session is known, its cgroup not.
      expect([ours, undefined]).toContain(cgroup);
    }
    expect(message.pid).not.toBe(process.pid);
    expect(errors).toEqual([]);
  });

  test.skipIf(Bun.which("systemd-notify") === null)("systemd-notify --ready reaches it through NOTIFY_SOCKET", async () => {
    const { path, waitForMessage, errors } = listen();
    const child = Bun.spawn(["systemd-notify", "--ready", "--status=up"], { env: { ...process.env, NOTIFY_SOCKET: path }, stderr: "pipe" });
    const message = await waitForMessage((m) => m.fields.READY === "1");
    expect(message.fields.STATUS).toBe("up");
    // As root, systemd-notify sends its parent's pid (this process); otherwise its own.
    expect([child.pid, process.pid]).toContain(message.pid);
    // systemd-notify then waits on a barrier: it passes a pipe's write end and waits for it to
    // be closed. Exiting 0 shows that descriptor did not stay open in the listening process.
    expect(await child.exited).toBe(0);
    expect(errors).toEqual([]);
  });

  test("an abstract socket (@name) works and leaves no file", async () => {
    const name = `@tsinit-notify-test-${process.pid}-${++serial}`;
    const { listener, waitForMessage } = listen(name);
    expect(sendNotification(name, "READY=1")).toBeUndefined();
    const message = await waitForMessage((m) => m.fields.READY === "1");
    expect(message.pid).toBe(process.pid);
    listener.close();
    // Shut down at once (EPIPE); once the worker is gone the descriptor closes and the name is free.
    expect(["EPIPE", "ECONNREFUSED"]).toContain(sendNotification(name, "READY=1")?.code ?? "sent");
    await until(() => sendNotification(name, "READY=1")?.code === "ECONNREFUSED", "the abstract name to be released");
    expect(listen(name).listener.path).toBe(name);
  });

  test("oversize, non-UTF-8 and NUL-containing datagrams are dropped and reported; the listener goes on", async () => {
    const { path, messages, errors, waitForMessage } = listen();
    expect(sendNotification(path, `STATUS=${"x".repeat(5000)}`)).toBeUndefined();
    expect(sendNotification(path, new Uint8Array([0x53, 0x3d, 0xff, 0xfe, 0x0a]))).toBeUndefined();
    expect(sendNotification(path, "READY=1\0STATUS=hidden")).toBeUndefined();
    expect(sendNotification(path, "")).toBeUndefined();
    expect(sendNotification(path, "READY=1\nSTATUS=fine")).toBeUndefined();
    await waitForMessage((m) => m.fields.STATUS === "fine");
    await until(() => errors.length === 3, "three drop reports");
    expect(errors.map((e) => e.message.replace(/.*: /, ""))).toEqual([
      "larger than 4096 bytes",
      "it is not UTF-8",
      "it contains a NUL byte",
    ]);
    expect(errors.every((e) => e.message.includes(`from pid ${process.pid}`))).toBe(true);
    // The empty datagram is delivered with no fields; only the last one has any.
    expect(messages.map((m) => m.fields)).toEqual([{}, { READY: "1", STATUS: "fine" }]);
  });

  test("a throwing onMessage is reported, not thrown, and later messages still arrive", async () => {
    const path = join(dir, "throwing.sock");
    const errors: Error[] = [];
    const seen: string[] = [];
    listeners.push(
      listenForNotifications(
        path,
        (message) => {
          seen.push(message.fields.STATUS!);
          if (message.fields.STATUS === "boom") throw new Error("handler failed");
        },
        (error) => errors.push(error),
      ),
    );
    sendNotification(path, "STATUS=boom");
    sendNotification(path, "STATUS=after");
    await until(() => seen.includes("after"), "the message after the throw");
    expect(errors.map((e) => e.message)).toEqual(["handler failed"]);
  });

  test("close() removes the socket file, stops delivery and closes the descriptor", async () => {
    const before = openSockets();
    const { path, listener, messages, errors } = listen();
    const ours = [...openSockets()].filter((socket) => !before.has(socket));
    expect(ours).toHaveLength(1);

    listener.close();
    listener.close();
    expect(existsSync(path)).toBe(false);
    expect(sendNotification(path, "READY=1")?.code).toBe("ENOENT");
    await until(() => !openSockets().has(ours[0]!), "the socket descriptor to close");
    expect(messages).toEqual([]);
    expect(errors).toEqual([]);
  });

  test("one reader serves many sockets: each datagram reaches the listener of the socket it came in on", async () => {
    const before = openSockets();
    const first = Array.from({ length: 40 }, () => listen());
    for (const [index, { path }] of first.entries()) expect(sendNotification(path, `STATUS=${index}`)).toBeUndefined();
    for (const [index, { waitForMessage }] of first.entries()) await waitForMessage((m) => m.fields.STATUS === String(index));
    // Close every other one; their descriptors are closed once the reader lets them go, and new
    // sockets that reuse those numbers get only their own datagrams.
    for (const { listener } of first.filter((_, index) => index % 2 === 0)) listener.close();
    await until(() => openSockets().size === before.size + 20, "the closed sockets' descriptors to close");
    const second = Array.from({ length: 20 }, () => listen());
    for (const [index, { path }] of second.entries()) expect(sendNotification(path, `STATUS=new-${index}`)).toBeUndefined();
    for (const [index, { path }] of first.entries()) if (index % 2 === 1) expect(sendNotification(path, `STATUS=again-${index}`)).toBeUndefined();
    for (const [index, { waitForMessage }] of second.entries()) await waitForMessage((m) => m.fields.STATUS === `new-${index}`);
    for (const [index, { waitForMessage }] of first.entries()) if (index % 2 === 1) await waitForMessage((m) => m.fields.STATUS === `again-${index}`);
    expect(second.map(({ messages }) => messages.length)).toEqual(second.map(() => 1));
    expect(first.map(({ messages }) => messages.length)).toEqual(first.map((_, index) => (index % 2 === 1 ? 2 : 1)));
  });

  test("a flood while the main thread is busy: the reports between the threads stay bounded, senders get EAGAIN, and reading resumes", async () => {
    const { path, messages, waitForMessage } = listen();
    sendNotification(path, "STATUS=warm");
    await waitForMessage((m) => m.fields.STATUS === "warm");
    // The main thread never yields here: the worker reads until its credit is spent, the
    // socket's receive queue then fills, and only then does a send fail.
    let sent = 0;
    let highest = 0;
    for (;;) {
      const error = sendNotification(path, `STATUS=${sent}`);
      const outstanding = notifyReportsOutstanding() ?? 0;
      highest = Math.max(highest, outstanding);
      if (error !== undefined) {
        expect(error.code).toBe("EAGAIN");
        if (outstanding >= MAX_OUTSTANDING) break;
        continue;
      }
      sent += 1;
    }
    expect(highest).toBe(MAX_OUTSTANDING);
    // What was taken beyond the credit waits in the kernel: a receive queue, not an endless one.
    const inKernel = sent - MAX_OUTSTANDING;
    expect(inKernel).toBeLessThanOrEqual(Number(readFileSync("/proc/sys/net/unix/max_dgram_qlen", "utf8")) + 1);
    // Handled, every datagram sent arrives, the last included, and the count comes back down.
    await waitForMessage((m) => m.fields.STATUS === String(sent - 1));
    expect(messages.length).toBe(1 + sent);
    await until(() => notifyReportsOutstanding() === 0, "the reports to be handled");
    expect(sendNotification(path, "STATUS=after")).toBeUndefined();
    await waitForMessage((m) => m.fields.STATUS === "after");
  });

  test("messages already queued when close() is called are not delivered", async () => {
    const { path, listener, messages, waitForMessage } = listen();
    sendNotification(path, "STATUS=first");
    await waitForMessage((m) => m.fields.STATUS === "first");
    for (let i = 0; i < 50; i++) sendNotification(path, `STATUS=${i}`);
    listener.close();
    const count = messages.length;
    // Let anything the worker had already posted reach the main thread's queue and be dropped.
    await new Promise((resolve) => setImmediate(resolve));
    expect(messages.length).toBe(count);
  });
});

describe("abandonedSocket", () => {
  test("is true only for a datagram socket file that nothing has bound any more, never through a link", () => {
    const { path: live } = listen();
    expect(abandonedSocket(live)).toBe(false);
    // A process that bound one and died without unlinking it (a supervisor killed by SIGKILL).
    const left = join(dir, "left.sock");
    const bound = Bun.spawnSync(["python3", "-c", `import socket; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).bind(${JSON.stringify(left)})`]);
    expect(bound.exitCode).toBe(0);
    expect(statSync(left).isSocket()).toBe(true);
    expect(abandonedSocket(left)).toBe(true);
    const link = join(dir, "link-to-left.sock");
    symlinkSync(left, link);
    expect(abandonedSocket(link)).toBe(false);
    const plain = join(dir, "plain.sock");
    writeFileSync(plain, "");
    expect(abandonedSocket(plain)).toBe(false);
    expect(abandonedSocket(join(dir, "missing.sock"))).toBe(false);
  });
});
