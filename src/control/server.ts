// The control socket: HTTP/1.1 with JSON bodies on a unix stream socket. This file only moves
// bytes: it accepts connections with Bun.listen, reads each caller's SO_PEERCRED, parses
// requests (http.ts), and hands each one to ControlApi (handlers.ts), which decides everything
// else. Bun's node:http would cost PID 1 about 4 MB more (docs/bench.md).
//
// This runs inside PID 1: no exception may escape. Every callback catches, a connection's
// errors close that connection only, and failures are logged through the Log passed in.
import { chmodSync, lstatSync, renameSync, unlinkSync } from "../sys/file-calls.ts";
import { dirname } from "../base/paths.ts";
import type { Socket, TCPSocketListener, UnixSocketListener } from "bun";
import type { Clock, Timer } from "../sys/sys.ts";
import { peerCredentials, peerHungUp } from "../sys/peer-credentials.ts";
import { MAX_BODY_BYTES } from "./api.ts";
import { AnswerBudget, type AnswerLimits, type Holder } from "./answer-budget.ts";
import { isAdmin, type Peer } from "./auth.ts";
import { ControlApi, errorReply, type ControlOptions, type ControlReply } from "./handlers.ts";
import { formatResponse, MAX_HEAD_BYTES, parseRequest, type HttpRequest } from "./http.ts";
import { route } from "./router.ts";
import { unguessable } from "../supervisor/unguessable.ts";
import { randomBytes } from "../sys/random.ts";

export interface ControlServerOptions extends Omit<ControlOptions, "timers"> {
  path: string;
  /** How many bytes of unread answers may be held (ANSWER_LIMITS unless a test sets smaller). */
  answerLimits?: AnswerLimits;
  /**
   * The timers of each connection's deadlines (first request, idle, answer, linger), of what
   * runs once an answer is sent (a shutdown, a debug stall) and of the API's long polls: the
   * Runtime's clock in tsinit, the event loop's setTimeout when absent; a test drives a FakeClock.
   */
  timers?: Pick<Clock, "setTimer">;
}

/** What the open connections hold now, by the server's own accounting. */
export interface ConnectionStats {
  /** Connections open (accepted and not yet closed by either side). */
  connections: number;
  /** Bytes allocated for their input buffers, the part in use or not. */
  inputCapacity: number;
  /** Bytes received and not yet taken by a request (the part of those buffers in use). */
  inputPending: number;
  /** Bytes of answers written and not yet taken by their sockets. */
  unsent: number;
}

export interface ControlServer {
  readonly path: string;
  readonly api: ControlApi;
  /** The bytes of answers written and not yet taken by a client's socket, by uid and in all. */
  readonly answers: Pick<AnswerBudget, "held" | "total" | "nonAdmins" | "limits">;
  /** What the open connections hold now (tests measure the server with it). */
  stats(): ConnectionStats;
  /** Stops listening, drops every connection and removes the socket file. Never rejects. */
  close(): Promise<void>;
}

/** Beyond this many open connections new ones are refused; each one costs PID 1 a descriptor. */
const MAX_CONNECTIONS = 256;
/**
 * One user may not lock the others (and root's poweroff) out: each non-admin uid holds at most
 * this many connections, and all non-admins together leave room for admins.
 */
const PER_USER_CONNECTIONS = 32;
const NON_ADMIN_CONNECTIONS = MAX_CONNECTIONS - 64;
/** A connection must send its first request this soon (a trickle of bytes is no use). */
export const FIRST_REQUEST_MS = 10_000;
/**
 * A connection on which nothing moves for this long, with no request in flight, is closed (a
 * client that went quiet): no byte received, and no byte of an answer taken by the client.
 */
export const IDLE_TIMEOUT_MS = 30_000;
/**
 * What is left of an answer once the socket has taken what it can at once must be taken within
 * IDLE_TIMEOUT_MS plus a second per this many bytes (a 4 MiB list: 286 s), or the
 * connection is closed and the answer let go. The idle period alone does not bound a reader:
 * the kernel gives a unix socket's writer room back in chunks (once the reader has emptied most
 * of the send buffer: about 180 KB at a time with the default buffer), each chunk counts as
 * life, and so a client taking one chunk every 29 s would keep a 4 MB answer for some ten
 * minutes, then ask again. An honest client takes a local socket's answer far faster than this
 * even on a loaded machine: initctl reads the whole answer before it prints anything.
 */
export const SLOWEST_READ_BYTES_PER_S = 16 * 1024;

/** How long a client has to take `bytes` of an answer (see SLOWEST_READ_BYTES_PER_S). */
export function answerDeadlineMs(bytes: number): number {
  return IDLE_TIMEOUT_MS + Math.ceil((bytes * 1000) / SLOWEST_READ_BYTES_PER_S);
}
const SOCKET_MODE = 0o666;
/** How long a connection closed after an error answer reads and drops what still comes (see linger). */
export const LINGER_MS = 1_000;

/**
 * How much unparsed input a connection may hold: one whole request and some. Past it the
 * connection is closed, so no client can grow PID 1's memory.
 */
const MAX_INPUT_BYTES = MAX_HEAD_BYTES + MAX_BODY_BYTES + 4096;
/**
 * A connection's input buffer to begin with, enough for a request without a body. A larger
 * request grows it; once that request is taken it is cut back to this (or to what is left).
 */
const INPUT_BUFFER_BYTES = 1024;

interface Connection {
  socket: Socket<Connection>;
  peer: Peer | undefined;
  /** Whom the answers held for this connection are counted against. */
  holder: Holder;
  budget: AnswerBudget;
  /** The last size of large answers by path, shared by all connections (see answer). */
  sizes: Map<string, number>;
  /**
   * Bytes of `output` counted in the budget: the whole of each answer until its last byte is
   * taken (a partly written answer's buffer is alive until then).
   */
  held: number;
  /** Bytes received: `input` is a growing buffer, of which the first `inputLength` are used. */
  input: Buffer;
  inputLength: number;
  /** Do not parse again before the input is this long (a parser hint; 0: on any data). */
  need: number;
  /** Answers the next request: called again once the last answer is written. */
  resume: () => void;
  /** Bytes of answers not yet taken by the socket. */
  output: Buffer;
  /** A request is being answered; the next one waits (HTTP/1.1 answers in order). */
  busy: boolean;
  /** A request was taken: the idle period applies now, not the first request's deadline. */
  served: boolean;
  /** Close once the output is written. */
  closing: boolean;
  /**
   * The client shut down its writing side (shutdown(SHUT_WR) after its request): what it sent
   * is still answered, then the connection is closed.
   */
  peerEnded: boolean;
  /** An error answer: the client may still be sending, so closing waits for it (linger). */
  lingering: boolean;
  closed: boolean;
  /** Aborted when the client goes away, so a waiting command stops waiting. */
  aborted: AbortController;
  timers: Pick<Clock, "setTimer">;
  /** The first request's deadline, the idle period or the linger, whichever applies now. */
  timer?: Timer;
  /** When the answer in `output` must have been taken (armed while the socket cannot take it all). */
  answerDeadline?: Timer;
}

/** The most bytes a unix socket's path may have (sun_path is 108 bytes with its NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

/**
 * The name a socket is made under before it is renamed to `path`: a dot and up to sixteen random
 * characters, in the same directory, and never longer than the kernel allows. Fewer random
 * characters only when the directory leaves no room; none at all is an error naming the path.
 */
export function temporarySocketPath(path: string, random: string): string | { error: string } {
  const dir = dirname(path);
  const prefix = dir.endsWith("/") ? `${dir}.` : `${dir}/.`;
  const room = MAX_SOCKET_PATH_BYTES - Buffer.byteLength(prefix, "utf8");
  if (Buffer.byteLength(path, "utf8") > MAX_SOCKET_PATH_BYTES) {
    return { error: `control socket ${path}: a unix socket's path may have at most ${MAX_SOCKET_PATH_BYTES} bytes` };
  }
  if (room < 2) {
    return { error: `control socket ${path}: no room for the temporary name it is made under (a dot and two characters beside it, at most ${MAX_SOCKET_PATH_BYTES} bytes); use a shorter path` };
  }
  return prefix + random.replace(/[^a-z0-9]/g, "").slice(0, Math.min(16, room)).padEnd(Math.min(2, room), "0");
}

export async function startControlServer(options: ControlServerOptions): Promise<{ ok: true; server: ControlServer } | { ok: false; error: string }> {
  const { path, log } = options;
  const refused = refuseNonSocket(path);
  if (refused !== undefined) return { ok: false, error: refused };

  const timers = options.timers ?? eventLoopTimers;
  const api = new ControlApi({ ...options, timers });
  const budget = new AnswerBudget(options.answerLimits);
  const sizes = new Map<string, number>();
  const connections = new Set<Connection>();
  let listener: UnixSocketListener<Connection> | TCPSocketListener<Connection> | undefined;
  const guard = (what: string, action: () => void) => {
    try {
      action();
    } catch (error) {
      log.warn(`control: ${what}: ${String(error)}`);
    }
  };
  // The socket is made under a temporary name in the same directory, given its mode, and only
  // then renamed to `path`: a client never finds the file before it listens (refused) or before
  // its chmod (only root could connect). The rename also replaces a stale socket in one step.
  let temporary = "";
  let lastError: unknown;
  for (let attempt = 0; attempt < 5 && listener === undefined; attempt++) {
    const named = temporarySocketPath(path, unguessable({ randomBytes }));
    if (typeof named !== "string") return { ok: false, error: named.error };
    temporary = named;
    try {
      listener = Bun.listen<Connection>({
        unix: temporary,
        // A client that half-closes after its request still gets the answer (see `end`).
        allowHalfOpen: true,
        socket: {
          open: (socket) => guard("accepting a connection", () => accept(socket, connections, api, budget, sizes, timers, options)),
          data: (socket, bytes) =>
            guard("reading a request", () => {
              const connection = socket.data;
              if (connection === undefined || connection.closed) return;
              // Answered and closing: what else comes (the rest of a refused body) is dropped.
              if (connection.closing) return;
              append(connection, bytes);
              // Bytes in count as life only while no answer waits to be read: a client that
              // sends but never reads must not keep its unread answer held past the idle period.
              if (connection.output.length === 0) stirred(connection);
              pump(connection, api, options);
              // Parsed first, so that a body declared too large gets its 413; what is still
              // unanswered past one request's worth closes the connection.
              if (!connection.closing && connection.inputLength > MAX_INPUT_BYTES) {
                options.log.debug(`control: closed a connection that sent more than ${MAX_INPUT_BYTES} bytes ahead`);
                end(connection);
              }
            }),
          // End of input. A client that is gone for good stops what it waited for; one that
          // only shut down its writing side is answered what it sent, then closed (pump).
          end: (socket) =>
            guard("reading the end of a request", () => {
              const connection = socket.data;
              if (connection === undefined || connection.closed) return;
              connection.peerEnded = true;
              if (connection.closing || peerHungUp((socket as unknown as { fd: number }).fd)) end(connection);
              else if (!connection.busy && connection.output.length === 0) pump(connection, api, options);
            }),
          drain: (socket) => guard("writing an answer", () => socket.data !== undefined && flush(socket.data)),
          close: (socket) => guard("closing a connection", () => socket.data !== undefined && forget(socket.data, connections)),
          error: (socket) => guard("a connection failed", () => socket.data !== undefined && forget(socket.data, connections)),
        },
      });
    } catch (error) {
      lastError = error;
    }
  }
  if (listener === undefined) return { ok: false, error: `cannot listen on ${temporary} (to become ${path}): ${String(lastError)}` };
  try {
    // Anyone may connect: what a caller may do is decided by its credentials, not the mode.
    chmodSync(temporary, SOCKET_MODE);
  } catch (error) {
    log.warn(`control socket ${path}: chmod: ${String(error)}; only its owner can connect`);
  }
  try {
    renameSync(temporary, path);
  } catch (error) {
    try {
      listener.stop(true);
    } catch {}
    try {
      unlinkSync(temporary);
    } catch {}
    return { ok: false, error: `cannot put the control socket at ${path}: ${String(error)}` };
  }
  const inode = socketInode(path);
  const server = listener;

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      try {
        server.stop(true);
      } catch {}
      for (const connection of connections) end(connection);
      connections.clear();
      unlinkIfOurs(path, inode);
    })());
  const stats = (): ConnectionStats => {
    const totals: ConnectionStats = { connections: 0, inputCapacity: 0, inputPending: 0, unsent: 0 };
    for (const connection of connections) {
      if (connection.closed) continue;
      totals.connections++;
      totals.inputCapacity += connection.input.length;
      totals.inputPending += connection.inputLength;
      totals.unsent += connection.output.length;
    }
    return totals;
  };
  return { ok: true, server: { path, api, answers: budget, stats, close } };
}

const eventLoopTimers: Pick<Clock, "setTimer"> = {
  setTimer: (ms, fire) => {
    const handle = setTimeout(fire, ms);
    return { cancel: () => clearTimeout(handle) };
  },
};

function accept(socket: Socket<Connection>, connections: Set<Connection>, api: ControlApi, budget: AnswerBudget, sizes: Map<string, number>, timers: Pick<Clock, "setTimer">, options: ControlServerOptions): void {
  const credentials = peerCredentials((socket as unknown as { fd: number }).fd);
  let peer: Peer | undefined;
  if (credentials instanceof Error) options.log.warn(`control: a client's credentials are unknown (${credentials.message}); it may only read`);
  else peer = credentials;

  const connection: Connection = {
    socket,
    peer,
    holder: { uid: peer?.uid, admin: isAdmin(peer, options.admins) },
    budget,
    sizes,
    held: 0,
    input: Buffer.alloc(INPUT_BUFFER_BYTES),
    inputLength: 0,
    need: 0,
    resume: () => pump(connection, api, options),
    output: Buffer.alloc(0),
    busy: false,
    served: false,
    closing: false,
    peerEnded: false,
    lingering: false,
    closed: false,
    aborted: new AbortController(),
    timers,
  };
  socket.data = connection;
  const open = [...connections];
  const nonAdmins = open.filter((c) => !isAdmin(c.peer, options.admins));
  const refused =
    open.length >= MAX_CONNECTIONS ||
    (!isAdmin(peer, options.admins) &&
      (nonAdmins.length >= NON_ADMIN_CONNECTIONS || nonAdmins.filter((c) => c.peer?.uid === peer?.uid).length >= PER_USER_CONNECTIONS));
  if (refused) {
    options.log.debug(`control: refused a connection of uid ${peer?.uid ?? "unknown"}: too many open`);
    end(connection);
    return;
  }
  connections.add(connection);
  wait(connection, FIRST_REQUEST_MS);
}

/** Closes the connection if no request arrives within `ms` (counted again when it is stirred). */
function wait(connection: Connection, ms: number): void {
  connection.timer?.cancel();
  connection.timer = connection.timers.setTimer(ms, () => {
    if (!connection.busy) end(connection);
  });
}

/**
 * Something moved: bytes came in, or the client took bytes of an answer. The idle period is one
 * without either, so a client reading a long answer slowly but steadily is not cut off halfway
 * (within the answer's deadline: SLOWEST_READ_BYTES_PER_S), while one that reads nothing for
 * that long is closed (and its answer let go). The first
 * request's deadline is not moved: a trickle of bytes does not keep a connection that never
 * sent a request.
 */
function stirred(connection: Connection): void {
  if (connection.served && !connection.busy && !connection.lingering && !connection.closed) wait(connection, IDLE_TIMEOUT_MS);
}

/** Appends to the input, doubling its buffer as needed (a copy per event would be quadratic). */
function append(connection: Connection, bytes: Uint8Array): void {
  const needed = connection.inputLength + bytes.length;
  if (needed > connection.input.length) {
    const grown = Buffer.alloc(Math.max(needed, connection.input.length * 2));
    connection.input.copy(grown, 0, 0, connection.inputLength);
    connection.input = grown;
  }
  connection.input.set(bytes, connection.inputLength);
  connection.inputLength = needed;
}

/**
 * Drops the first `bytes` of the input (a request taken). A buffer that a large request grew is
 * replaced by a small one (INPUT_BUFFER_BYTES) once what is left fits in it: kept, it would hold
 * up to MAX_INPUT_BYTES for the rest of a keep-alive connection's life, on each connection.
 * What is left is copied either way.
 */
function consume(connection: Connection, bytes: number): void {
  const left = connection.inputLength - bytes;
  // Cut back once what is left fits the small buffer: a burst of small requests pipelined after
  // a large one then moves within the large buffer, with no allocation per request.
  const into = connection.input.length > INPUT_BUFFER_BYTES && left <= INPUT_BUFFER_BYTES ? Buffer.alloc(INPUT_BUFFER_BYTES) : connection.input;
  connection.input.copy(into, 0, bytes, connection.inputLength);
  connection.input = into;
  connection.inputLength = left;
}

/**
 * Answers the complete requests in the input, one at a time and in order, and only while the
 * last answer has been written: a client that sends and never reads gets nothing more.
 */
function pump(connection: Connection, api: ControlApi, options: ControlServerOptions): void {
  while (!connection.busy && !connection.closing && !connection.closed && connection.output.length === 0) {
    // A client that shut down its writing side sends nothing more: once what it sent is
    // answered, the connection is done.
    if (connection.inputLength < connection.need) {
      if (connection.peerEnded) end(connection);
      return;
    }
    const parsed = parseRequest(connection.input.subarray(0, connection.inputLength), MAX_BODY_BYTES);
    if (parsed.kind === "incomplete") {
      connection.need = parsed.need ?? 0;
      if (connection.peerEnded) end(connection);
      return;
    }
    connection.need = 0;
    if (parsed.kind === "error") {
      // The rest of the input cannot be trusted: answer and close.
      connection.lingering = true;
      write(connection, formatResponse(parsed.status, `${JSON.stringify({ error: { code: parsed.code, message: parsed.message } })}\n`, {}, true), true);
      return;
    }
    consume(connection, parsed.consumed);
    connection.busy = true;
    connection.served = true;
    connection.timer?.cancel();
    void answer(connection, parsed.request, api, options.log)
      .catch((error) => {
        options.log.error(`control: ${String(error)}`);
        end(connection);
      })
      .finally(() => {
        connection.busy = false;
        if (connection.closed) return;
        wait(connection, IDLE_TIMEOUT_MS);
        // Outside the socket callbacks' guard: a throw here must close this connection only.
        try {
          pump(connection, api, options);
        } catch (error) {
          options.log.error(`control: ${String(error)}`);
          end(connection);
        }
      });
  }
}

async function answer(connection: Connection, request: HttpRequest, api: ControlApi, log: ControlServerOptions["log"]): Promise<void> {
  const close = !request.keepAlive;
  const question = request.target.indexOf("?");
  const path = question === -1 ? request.target : request.target.slice(0, question);
  const read = request.method === "GET";
  // A client already holding its budget in unread answers gets nothing carried out (root's
  // commands excepted: its poweroff must never wait on a list it left unread). A read whose
  // last answer would not fit either is refused before it is built: 32 connections of each uid
  // asking for a 4 MB list would otherwise build (and drop) 4 MB each, and PID 1's peak would
  // grow with the garbage.
  const sizeKey = read ? answerSizeKey(path, question !== -1) : undefined;
  const estimate = sizeKey === undefined ? 0 : (connection.sizes.get(sizeKey) ?? 0);
  const over = read || !connection.holder.admin ? connection.budget.refusal(estimate, connection.holder, estimate > 0) : undefined;
  if (over !== undefined) {
    log.debug(`control: refused ${request.method} ${request.target.slice(0, 200)}: ${over}`);
    write(connection, busy(over, close), close);
    return;
  }
  const reply: ControlReply = await api.handle({
    method: request.method,
    path,
    query: new URLSearchParams(question === -1 ? "" : request.target.slice(question + 1)),
    body: request.body,
    peer: connection.peer,
    signal: connection.aborted.signal,
  });
  if (connection.closed) return;
  const bytes = formatReply(reply, close);
  if (sizeKey !== undefined) rememberSize(connection.sizes, sizeKey, bytes.length);
  // Past the budget a read's answer is dropped here, before it is held. Any other request was
  // carried out: its answer (small: one service, at most a 64 KiB body's worth) is always sent,
  // or the client would take a 503 for "not done" (a shutdown, a log cleared).
  const refused = read ? connection.budget.refusal(bytes.length, connection.holder) : undefined;
  if (refused === undefined) write(connection, bytes, close);
  else {
    log.debug(`control: dropped the answer to ${request.method} ${request.target.slice(0, 200)}: ${refused}`);
    write(connection, busy(refused, close), close);
  }
  // In the clock's next turn, not now: the answer is out of the way first (a shutdown must not
  // cut off its own answer, a stall must not hold it).
  if (reply.afterSend !== undefined) connection.timers.setTimer(0, reply.afterSend);
}

/** Reads whose answers are at least this large are remembered, to refuse the next one early. */
const REMEMBERED_SIZE = 64 * 1024;
const REMEMBERED_READS = 64;

/**
 * What a read's answer size is remembered by: the endpoint it routes to, not the text of its
 * path, which has many spellings (`//v1/services`, `/v1/s%65rvices`). Reads with a query (a
 * log or the events from a point on) are not estimated: their size depends on it.
 */
function answerSizeKey(path: string, hasQuery: boolean): string | undefined {
  if (hasQuery) return undefined;
  const routed = route("GET", path);
  if (!routed.ok) return undefined;
  const { endpoint } = routed;
  return "name" in endpoint ? `${endpoint.kind} ${endpoint.name}` : endpoint.kind;
}

function rememberSize(sizes: Map<string, number>, key: string, bytes: number): void {
  sizes.delete(key);
  if (bytes < REMEMBERED_SIZE) return;
  // The least recently answered goes first (a Map keeps its insertion order).
  if (sizes.size >= REMEMBERED_READS) sizes.delete(sizes.keys().next().value!);
  sizes.set(key, bytes);
}

/** The 503 for a client past its budget of unread answers: small, so always held. */
function busy(message: string, close: boolean): Buffer {
  return formatReply(errorReply("busy", message, undefined, { "retry-after": "1" }), close);
}

/** A reply as the bytes of its HTTP response. */
function formatReply(reply: ControlReply, close: boolean): Buffer {
  return formatResponse(reply.status, `${JSON.stringify(reply.body)}\n`, reply.headers, close);
}

function write(connection: Connection, bytes: Buffer, closeAfter: boolean): void {
  connection.budget.take(bytes.length, connection.holder);
  connection.held += bytes.length;
  connection.output = connection.output.length === 0 ? bytes : Buffer.concat([connection.output, bytes]);
  if (closeAfter) connection.closing = true;
  flush(connection);
  // Armed once, for what the socket did not take at once; let go with the answer (release).
  if (!connection.closed && connection.output.length > 0 && connection.answerDeadline === undefined) {
    connection.answerDeadline = connection.timers.setTimer(answerDeadlineMs(connection.output.length), () => end(connection));
  }
}

/** Hands the socket what it takes now; `drain` calls again for the rest. */
function flush(connection: Connection): void {
  if (connection.closed) return;
  if (connection.output.length > 0) {
    const written = connection.socket.write(connection.output);
    connection.output = connection.output.subarray(Math.max(0, written));
    if (written > 0) stirred(connection);
  }
  if (connection.output.length === 0) {
    release(connection);
    if (connection.closing) {
      if (connection.lingering) linger(connection);
      else end(connection);
    }
    else connection.resume();
  }
}

/**
 * Closes after an answer that ends the connection. The client may still be sending (a refused
 * body): closing at once would have the kernel reset the connection, and the client could lose
 * the answer. So input is read and dropped until the client closes, or for a second.
 */
function linger(connection: Connection): void {
  if (connection.closed) return;
  connection.timer?.cancel();
  connection.timer = connection.timers.setTimer(LINGER_MS, () => end(connection));
}

/** What is left of the answers is no longer held: all of it was taken, or it is dropped. */
function release(connection: Connection): void {
  connection.budget.release(connection.held, connection.holder);
  connection.held = 0;
  connection.output = Buffer.alloc(0);
  connection.answerDeadline?.cancel();
  connection.answerDeadline = undefined;
}

function end(connection: Connection): void {
  if (connection.closed) return;
  connection.closed = true;
  release(connection);
  connection.timer?.cancel();
  connection.aborted.abort();
  try {
    connection.socket.end();
  } catch {}
}

function forget(connection: Connection, connections: Set<Connection>): void {
  connection.closed = true;
  release(connection);
  connection.timer?.cancel();
  connection.aborted.abort();
  connections.delete(connection);
}

/**
 * A socket file left by an earlier run is replaced (by the rename); anything else at the path is
 * not touched. Returns why the path cannot be used, or undefined.
 */
function refuseNonSocket(path: string): string | undefined {
  try {
    return lstatSync(path).isSocket() ? undefined : `${path} exists and is not a socket; not replacing it`;
  } catch {
    return undefined; // nothing there
  }
}

function socketInode(path: string): number | undefined {
  try {
    return lstatSync(path).ino;
  } catch {
    return undefined;
  }
}

/** Another server may have replaced the file since (a stale-socket takeover): leave that one. */
function unlinkIfOurs(path: string, inode: number | undefined): void {
  try {
    const stat = lstatSync(path);
    if (stat.isSocket() && stat.ino === inode) unlinkSync(path);
  } catch {}
}

