// A name part that no other user can guess (for sockets made where users can write, such as
// /tmp): 64 bits from the kernel's random source (Sys.randomBytes), never Math.random, whose
// state a user who sees a few outputs can recover.
import type { Sys } from "../sys/sys.ts";

/** 16 lowercase hex digits (64 random bits). */
export function unguessable(sys: Pick<Sys, "randomBytes">): string {
  return [...sys.randomBytes(8)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
