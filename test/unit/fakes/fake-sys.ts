// A Sys that records the calls made through it and answers from scripted results.
import type { MountRequest, RebootCommand, SpawnRequest, SpawnResult, Sys } from "../../../src/sys/sys.ts";
import type { Reaped } from "../../../src/base/process.ts";
import { SysError } from "../../../src/sys/sys.ts";

const MS_REMOUNT = 32;
const MS_RDONLY = 1;

export class FakeSys implements Sys {
  readonly calls: string[] = [];
  readonly files = new Map<string, string>();
  readonly dirs = new Set<string>(["/"]);
  readonly failMount = new Map<string, SysError>();
  readonly failUmount = new Map<string, SysError>();
  readonly pending: Reaped[] = [];
  clock = 0;
  private nextPid = 100;

  getpid(): number {
    return 1;
  }
  now(): number {
    return this.clock;
  }
  spawn(request: SpawnRequest): SpawnResult {
    this.calls.push(`spawn ${request.argv.join(" ")}`);
    return { ok: true, pid: this.nextPid++ };
  }
  reap(): { reaped: Reaped[]; noChildren: boolean } {
    return { reaped: this.pending.splice(0), noChildren: false };
  }
  kill(pid: number, signal: number): SysError | undefined {
    this.calls.push(`kill ${pid} ${signal}`);
    return undefined;
  }
  setChildSubreaper(): SysError | undefined {
    return undefined;
  }
  mount(request: MountRequest): SysError | undefined {
    const remount = (request.flags & MS_REMOUNT) !== 0 ? ((request.flags & MS_RDONLY) !== 0 ? " remount,ro" : " remount") : "";
    this.calls.push(`mount ${request.source} ${request.target}${remount}`);
    return this.failMount.get(request.target);
  }
  umount(target: string): SysError | undefined {
    this.calls.push(`umount ${target}`);
    return this.failUmount.get(target);
  }
  reboot(command: RebootCommand): SysError | undefined {
    this.calls.push(`reboot ${command}`);
    return undefined;
  }
  sync(): void {
    this.calls.push("sync");
  }
  sethostname(name: string): SysError | undefined {
    this.calls.push(`sethostname ${name}`);
    return undefined;
  }
  pipe(): { read: number; write: number } {
    return { read: 10, write: 11 };
  }
  listenUnix(path: string): number {
    this.calls.push(`listen ${path}`);
    return 12;
  }
  close(fd: number): void {
    this.calls.push(`close ${fd}`);
  }
  async readUntilClosed(): Promise<void> {}
  readFile(path: string): string | undefined {
    return this.files.get(path);
  }
  writeFile(path: string, data: string): SysError | undefined {
    this.files.set(path, data);
    return undefined;
  }
  exists(path: string): boolean {
    return this.files.has(path) || this.dirs.has(path);
  }
  mkdir(path: string): SysError | undefined {
    this.calls.push(`mkdir ${path}`);
    this.dirs.add(path);
    return undefined;
  }
  readDir(): string[] | undefined {
    return undefined;
  }
  isDirectory(path: string): boolean {
    return this.dirs.has(path);
  }
  readlink(): string | undefined {
    return undefined;
  }
}

export { SysError };
