// dinit's starts-log: once the system log daemon runs, tsinit's messages go to it through the
// /dev/log datagram socket (syslog(3)'s protocol: `<PRI>tag: text`). Each send is
// non-blocking: a daemon that stops reading costs lines, never PID 1's time.
import { cstr, libc, ptr } from "./libc.ts";

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const SOCK_NONBLOCK = 0o4000;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;

/** A sender of records to `path`, or undefined when no datagram socket could be made. */
export function openSyslogSocket(path = "/dev/log"): ((record: string) => boolean) | undefined {
  const fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd === -1) return undefined;
  // struct sockaddr_un: the family, then the NUL-terminated path (at most 107 bytes).
  const address = new Uint8Array(110);
  new DataView(address.buffer).setUint16(0, AF_UNIX, true);
  address.set(cstr(path).subarray(0, 108), 2);
  return (record) => {
    const bytes = Buffer.from(record.slice(0, 1000), "utf8");
    return Number(libc.sendto(fd, bytes, bytes.length, MSG_DONTWAIT | MSG_NOSIGNAL, ptr(address), address.length)) >= 0;
  };
}
