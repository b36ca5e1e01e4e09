// What the notify reader (notify-worker.ts) and the main thread (notify-socket.ts) agree on to
// bound the reports between them; a module of its own, as the worker's module runs its loop when
// loaded and the main thread's pulls in the worker's embedding.

/**
 * At most this many datagram and drop reports are posted and not yet handled by the main thread.
 * Notify sockets are writable by every user, and the main thread does more per message than
 * this worker, so without a bound a flood would grow the queue between the threads without end;
 * with it, the rest waits in the socket's receive queue (bounded by the kernel), whose senders
 * then get EAGAIN.
 */
export const MAX_OUTSTANDING = 256;

/** The command that only wakes the worker (the main thread handled reports: credit is back). */
export const WAKE_COMMAND = -0x80000000;

