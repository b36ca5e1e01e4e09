// A failed system call as a SysError value: from errno after a libc call, or from the error
// a file call threw (file-calls.ts). Shared by the real Sys's files.
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

/** What a file call threw, as a SysError of `call` on `path` with the same errno (EIO if it was no SysError). */
export function fsError(call: string, path: string, error: unknown): SysError {
  return error instanceof SysError ? new SysError(call, error.errno, error.code, path) : new SysError(call, 5, "EIO", path);
}
