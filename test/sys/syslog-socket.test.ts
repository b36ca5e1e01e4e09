// starts-log: records reach a datagram socket at the syslog path, one per send, and a send to
// a path where nobody listens fails without throwing or blocking.
import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSyslogSocket } from "../../src/sys/syslog-socket.ts";

test("a record is one datagram on the socket; nobody listening is false", async () => {
  const path = join(mkdtempSync(join(tmpdir(), "tsinit-syslog-")), "log");
  const reader = Bun.spawn(["python3", "-c", `import socket,sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
s.settimeout(10)
print(s.recv(2000).decode(), flush=True)`, path], { stdout: "pipe" });
  const chunks = (reader.stdout as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let pending = "";
  const readLine = async (): Promise<string> => {
    while (!pending.includes("\n")) {
      const { value, done } = await chunks.read();
      if (done) return pending;
      pending += decoder.decode(value);
    }
    const line = pending.slice(0, pending.indexOf("\n"));
    pending = pending.slice(line.length + 1);
    return line;
  };
  try {
    expect(await readLine()).toBe("bound");
    const send = openSyslogSocket(path);
    expect(send?.("<30>tsinit: hello syslog")).toBe(true);
    expect(await readLine()).toBe("<30>tsinit: hello syslog");
    expect(openSyslogSocket(join(tmpdir(), "no-such-tsinit-syslog"))?.("<30>x")).toBe(false);
  } finally {
    reader.kill();
  }
});
