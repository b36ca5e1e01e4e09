// A name part that no other user can guess (for sockets made where users can write, such as
// /tmp): 64 bits from the platform's cryptographic source, never Math.random, whose state a
// user who sees a few outputs can recover.

/** 16 lowercase hex digits (64 random bits). */
export function unguessable(): string {
  const words = globalThis.crypto.getRandomValues(new Uint32Array(2));
  return [...words].map((word) => word.toString(16).padStart(8, "0")).join("");
}
