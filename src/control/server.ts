// The control socket: HTTP/1.1 with JSON bodies on a unix stream socket. This file only moves
// bytes: it accepts connections, reads each caller's SO_PEERCRED, caps request bodies, and
// hands every request to ControlApi (handlers.ts), which decides everything else.
//
// Bun's node:http server does not expose a connection's descriptor (PLATFORM.md says it does;
// measured with Bun 1.4.4, `socket._handle` is null there), so connections are accepted by a
// node:net server, whose sockets do have `_handle.fd`, and then given to a node:http server
// with `emit("connection")`.
//
// This runs inside PID 1: no exception may escape. Every callback catches, socket errors are
// swallowed per connection, and failures are logged through the Log passed in.
import { chmodSync, lstatSync, unlinkSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createNetServer, type Socket } from "node:net";
import { peerCredentials, socketFd } from "../sys/peer-credentials.ts";
import { MAX_BODY_BYTES } from "./api.ts";
import { isAdmin, type Peer } from "./auth.ts";
import { ControlApi, errorReply, type ControlOptions, type ControlReply } from "./handlers.ts";

export interface ControlServerOptions extends ControlOptions {
  path: string;
}

export interface ControlServer {
  readonly path: string;
  readonly api: ControlApi;
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
/** A connection must finish sending its first request's headers this soon (a trickle is no use). */
const FIRST_REQUEST_MS = 10_000;
/** A connection with no request in flight for this long is closed (a client that went quiet). */
const IDLE_TIMEOUT_MS = 30_000;
const SOCKET_MODE = 0o666;

interface Connection {
  peer: Peer | undefined;
  inFlight: number;
  /** Requests whose headers have arrived. */
  requests: number;
}

export async function startControlServer(options: ControlServerOptions): Promise<{ ok: true; server: ControlServer } | { ok: false; error: string }> {
  const { path, log } = options;
  const stale = removeStaleSocket(path);
  if (stale !== undefined) return { ok: false, error: stale };

  const api = new ControlApi(options);
  const connections = new Map<Socket, Connection>();
  const http = createHttpServer((request, response) => {
    void serve(api, connections.get(request.socket as Socket), request, response).catch((error) => {
      log.error(`control: ${String(error)}`);
      destroy(response.socket);
    });
  });
  http.on("clientError", (error, socket) => {
    // Unparseable HTTP: say so if the socket still takes it, then close.
    try {
      if (socket.writable) socket.end(rawError(400, "bad-request", `malformed HTTP request: ${(error as Error).message}`));
      else socket.destroy();
    } catch {
      destroy(socket);
    }
  });
  http.on("error", (error) => log.warn(`control: ${error.message}`));

  const net = createNetServer((socket) => {
    try {
      accept(socket, connections, options);
      http.emit("connection", socket);
    } catch (error) {
      log.warn(`control: accepting a connection: ${String(error)}`);
      destroy(socket);
    }
  });
  net.maxConnections = MAX_CONNECTIONS;
  net.on("error", (error) => log.warn(`control socket ${path}: ${error.message}`));

  const listening = await new Promise<string | undefined>((resolve) => {
    const onError = (error: Error) => resolve(`cannot listen on ${path}: ${error.message}`);
    net.once("error", onError);
    try {
      net.listen(path, () => {
        net.off("error", onError);
        resolve(undefined);
      });
    } catch (error) {
      resolve(`cannot listen on ${path}: ${String(error)}`);
    }
  });
  if (listening !== undefined) return { ok: false, error: listening };
  const inode = socketInode(path);
  try {
    // Anyone may connect: what a caller may do is decided by its credentials, not the mode.
    chmodSync(path, SOCKET_MODE);
  } catch (error) {
    log.warn(`control socket ${path}: chmod: ${String(error)}; only its owner can connect`);
  }

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= new Promise<void>((resolve) => {
      try {
        net.close(() => resolve());
      } catch {
        resolve();
      }
      for (const socket of connections.keys()) destroy(socket);
      connections.clear();
      unlinkIfOurs(path, inode);
      // net.close waits for connections; they are destroyed above, but never hang an exit.
      setTimeout(resolve, 1000).unref?.();
    }));
  return { ok: true, server: { path, api, close } };
}

function accept(socket: Socket, connections: Map<Socket, Connection>, options: ControlServerOptions): void {
  const fd = socketFd(socket);
  const credentials = fd === undefined ? undefined : peerCredentials(fd);
  let peer: Peer | undefined;
  if (credentials === undefined || credentials instanceof Error) {
    options.log.warn(`control: a client's credentials are unknown (${credentials?.message ?? "no descriptor"}); it may only read`);
  } else {
    peer = credentials;
  }
  if (!isAdmin(peer, options.admins)) {
    const nonAdmins = [...connections.values()].filter((c) => !isAdmin(c.peer, options.admins));
    const mine = nonAdmins.filter((c) => c.peer?.uid === peer?.uid).length;
    if (mine >= PER_USER_CONNECTIONS || nonAdmins.length >= NON_ADMIN_CONNECTIONS) {
      options.log.debug(`control: refused a connection of uid ${peer?.uid ?? "unknown"}: too many open`);
      destroy(socket);
      return;
    }
  }
  const connection: Connection = { peer, inFlight: 0, requests: 0 };
  connections.set(socket, connection);
  setTimeout(() => {
    if (connection.requests === 0) destroy(socket);
  }, FIRST_REQUEST_MS).unref?.();
  socket.on("error", () => destroy(socket));
  socket.on("close", () => connections.delete(socket));
  socket.setTimeout(IDLE_TIMEOUT_MS, () => {
    if (connection.inFlight === 0) destroy(socket);
  });
}

async function serve(api: ControlApi, connection: Connection | undefined, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (connection !== undefined) {
    connection.inFlight++;
    connection.requests++;
  }
  response.on("close", () => {
    if (connection !== undefined) connection.inFlight--;
  });
  const body = await readBody(request);
  if (typeof body !== "string") {
    // Refuse without reading the rest; the connection cannot be reused after that.
    send(response, body, true);
    return;
  }
  const aborted = new AbortController();
  response.on("close", () => {
    if (!response.writableFinished) aborted.abort();
  });
  const url = request.url ?? "/";
  const question = url.indexOf("?");
  const reply = await api.handle({
    method: request.method ?? "GET",
    path: question === -1 ? url : url.slice(0, question),
    query: new URLSearchParams(question === -1 ? "" : url.slice(question + 1)),
    body,
    peer: connection?.peer,
    signal: aborted.signal,
  });
  if (!aborted.signal.aborted) send(response, reply, false);
}

/** The body as text, or an error reply when it is too large or cannot be read. */
function readBody(request: IncomingMessage): Promise<string | ControlReply> {
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) return Promise.resolve(tooLarge());
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: string | ControlReply) => {
      if (done) return;
      done = true;
      resolve(result);
    };
    request.on("data", (chunk: Buffer | string) => {
      if (done) return;
      const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      size += buffer.length;
      if (size > MAX_BODY_BYTES) {
        finish(tooLarge());
        return;
      }
      chunks.push(buffer);
    });
    request.on("end", () => finish(Buffer.concat(chunks).toString("utf8")));
    request.on("error", (error) => finish(errorReply("bad-request", `reading the request: ${error.message}`)));
    request.on("close", () => finish(errorReply("bad-request", "the client closed the connection before sending its body")));
  });
}

function tooLarge(): ControlReply {
  return errorReply("too-large", `the request body is larger than ${MAX_BODY_BYTES} bytes`);
}

function send(response: ServerResponse, reply: ControlReply, closeAfter: boolean): void {
  try {
    if (response.headersSent || response.destroyed) return;
    const text = `${JSON.stringify(reply.body)}\n`;
    const headers: Record<string, string | number> = {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(text),
      ...reply.headers,
    };
    if (closeAfter) headers.connection = "close";
    if (reply.afterSend !== undefined) response.on("finish", reply.afterSend);
    response.writeHead(reply.status, headers);
    response.end(text, () => {
      if (closeAfter) destroy(response.socket);
    });
  } catch {
    destroy(response.socket);
  }
}

/** An answer written straight to a socket, for requests the HTTP parser could not read. */
function rawError(status: number, code: string, message: string): string {
  const text = `${JSON.stringify({ error: { code, message } })}\n`;
  return `HTTP/1.1 ${status} Bad Request\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`;
}

/**
 * A socket file left by an earlier run is replaced; anything else at the path is not touched.
 * Returns why the path cannot be used, or undefined.
 */
function removeStaleSocket(path: string): string | undefined {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return undefined; // nothing there
  }
  if (!isSocket) return `${path} exists and is not a socket; not replacing it`;
  try {
    unlinkSync(path);
    return undefined;
  } catch (error) {
    return `cannot remove the stale socket ${path}: ${String(error)}`;
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

function destroy(socket: { destroy(): unknown } | null | undefined): void {
  try {
    socket?.destroy();
  } catch {}
}
