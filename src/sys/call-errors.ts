// A failed system call as a SysError value: from errno after a libc call, or from the error
// node:fs threw. Shared by the real Sys's files.
import { errnoName } from "../base/errno.ts";
import { errno } from "./libc.ts";
import { SysError } from "./sys.ts";

/** The SysError of the libc call just made (read errno before any other call). */
export function failure(call: string, path?: string, code = errno()): SysError {
  return new SysError(call, code, errnoName(code), path);
}

/** A libc return value: -1 is a failure, anything else success. */
export function check(rc: number | bigint, call: string, path?: string): SysError | undefined {
  return Number(rc) === -1 ? failure(call, path) : undefined;
}

/** What node:fs threw, as a SysError with the same errno. */
export function fsError(call: string, path: string, error: unknown): SysError {
  const code = (error as NodeJS.ErrnoException).code ?? "EIO";
  const number = -((error as NodeJS.ErrnoException).errno ?? 5);
  return new SysError(call, Math.abs(number), code, path);
}
