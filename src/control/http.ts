// The HTTP/1.1 that the control socket speaks, parsed by hand: a request line, headers, and a
// body by Content-Length or chunked. Bun's node:http costs PID 1 about 4 MB of memory
// (docs/bench.md), and the control API needs only this much of HTTP. Pure.

export interface HttpRequest {
  method: string;
  /** The request target: path and query. */
  target: string;
  /** Header names in lower case. */
  headers: Map<string, string>;
  body: string;
  /** HTTP/1.1 keeps the connection unless asked not to; HTTP/1.0 closes it. */
  keepAlive: boolean;
}

export type ParseResult =
  /** `need`: do not try again before the input is at least this long (or has a new CRLF). */
  | { kind: "incomplete"; need?: number }
  | { kind: "request"; request: HttpRequest; consumed: number }
  | { kind: "error"; status: 400 | 413 | 431; code: "bad-request" | "too-large"; message: string };

/** Request line and headers together may not be longer than this. */
export const MAX_HEAD_BYTES = 16 * 1024;
/** A chunked body may not have more chunks than this, nor a chunk-size line longer than 256. */
const MAX_CHUNKS = 1024;
const MAX_CHUNK_LINE = 256;

const CRLF = Buffer.from("\r\n");
const CR = 0x0d;
const LF = 0x0a;
const REQUEST_LINE = /^([A-Z]{1,16}) (\/[^\s]*) HTTP\/1\.([01])$/;
const HEADER = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;

const bad = (message: string): ParseResult => ({ kind: "error", status: 400, code: "bad-request", message });
const tooLarge = (maxBody: number): ParseResult => ({
  kind: "error",
  status: 413,
  code: "too-large",
  message: `the request body is larger than ${maxBody} bytes`,
});

/**
 * Where the head ends: the end of the first empty line after `from`, with CRLF or bare LF line
 * ends (RFC 9112 2.2 lets a recipient take a bare LF as a line end). -1 when there is none yet.
 */
function headEnd(buffer: Buffer, from: number): number {
  for (let lf = buffer.indexOf(LF, from); lf !== -1; lf = buffer.indexOf(LF, lf + 1)) {
    if (buffer[lf + 1] === LF) return lf + 2;
    if (buffer[lf + 1] === CR && buffer[lf + 2] === LF) return lf + 3;
  }
  return -1;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The text of `bytes`, or undefined if they are not valid UTF-8. */
function utf8(bytes: Buffer): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Empty lines before a request line, which a server should ignore (RFC 9112 2.2). */
function leadingEmptyLines(buffer: Buffer): number {
  let at = 0;
  for (;;) {
    if (buffer[at] === LF) at += 1;
    else if (buffer[at] === CR && buffer[at + 1] === LF) at += 2;
    else return at;
  }
}

/** The first complete request at the start of `buffer`, or what is wrong with it. */
export function parseRequest(buffer: Buffer, maxBody: number): ParseResult {
  const headTooLong: ParseResult = { kind: "error", status: 431, code: "bad-request", message: `request headers longer than ${MAX_HEAD_BYTES} bytes` };
  const headStart = leadingEmptyLines(buffer);
  const start = headEnd(buffer, headStart);
  if (start === -1) return buffer.length > MAX_HEAD_BYTES ? headTooLong : { kind: "incomplete" };
  if (start > MAX_HEAD_BYTES) return headTooLong;
  // Each line without its LF and the CR before it; the last two "lines" are the empty line's.
  const lines = buffer
    .subarray(headStart, start)
    .toString("latin1")
    .split("\n")
    .slice(0, -2)
    .map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
  // A CR anywhere else is a bare CR, which RFC 9112 2.2 says to reject (or replace).
  const bareCr = lines.find((line) => line.includes("\r"));
  if (bareCr !== undefined) return bad(`a bare CR in ${JSON.stringify(bareCr.slice(0, 100))}`);
  const requestLine = REQUEST_LINE.exec(lines[0] ?? "");
  if (requestLine === null) return bad(`malformed HTTP request line ${JSON.stringify((lines[0] ?? "").slice(0, 100))}`);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const header = HEADER.exec(line);
    if (header === null) return bad(`malformed HTTP header ${JSON.stringify(line.slice(0, 100))}`);
    // A field given twice is one list (RFC 9110 5.3): "Connection: keep-alive" and
    // "Connection: close" close; two Content-Lengths are no longer a number and get a 400.
    const name = header[1]!.toLowerCase();
    const earlier = headers.get(name);
    headers.set(name, earlier === undefined ? header[2]! : `${earlier}, ${header[2]!}`);
  }
  const minor = requestLine[3];
  // Connection is a list of options (RFC 9110 7.6.1): "keep-alive, close" closes.
  const options = (headers.get("connection") ?? "").toLowerCase().split(",").map((option) => option.trim());
  const keepAlive = !options.includes("close") && (minor === "1" || options.includes("keep-alive"));
  const make = (body: Buffer, end: number): ParseResult => {
    // JSON is UTF-8 (RFC 8259 8.1). Decoded leniently, each invalid byte would become U+FFFD,
    // three bytes where the client sent one, in what a run request stores and every list shows.
    const text = utf8(body);
    if (text === undefined) return bad("the request body is not valid UTF-8");
    return { kind: "request", request: { method: requestLine[1]!, target: requestLine[2]!, headers, body: text, keepAlive }, consumed: end };
  };

  const encoding = headers.get("transfer-encoding");
  if (encoding !== undefined) {
    if (encoding.toLowerCase() !== "chunked") return bad(`transfer-encoding ${JSON.stringify(encoding)} is not supported`);
    const chunked = readChunked(buffer, start, maxBody);
    return "end" in chunked ? make(chunked.body, chunked.end) : chunked;
  }
  const declared = headers.get("content-length") ?? "0";
  if (!/^\d{1,15}$/.test(declared)) return bad(`content-length ${JSON.stringify(declared.slice(0, 40))} is not a number`);
  const length = Number(declared);
  if (length > maxBody) return tooLarge(maxBody);
  if (buffer.length < start + length) return { kind: "incomplete", need: start + length };
  return make(buffer.subarray(start, start + length), start + length);
}

/** A chunked body from `at`: refused as soon as the sizes add up past `maxBody`. */
function readChunked(buffer: Buffer, at: number, maxBody: number): { body: Buffer; end: number } | ParseResult {
  const parts: Buffer[] = [];
  let total = 0;
  let position = at;
  for (let chunks = 0; ; chunks++) {
    if (chunks > MAX_CHUNKS) return bad(`more than ${MAX_CHUNKS} chunks`);
    const lineEnd = buffer.indexOf(CRLF, position);
    if (lineEnd === -1) return buffer.length - position > MAX_CHUNK_LINE ? bad("a chunk-size line is too long") : { kind: "incomplete" };
    if (lineEnd - position > MAX_CHUNK_LINE) return bad("a chunk-size line is too long");
    const sizeText = buffer.subarray(position, lineEnd).toString("latin1").split(";")[0]!.trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) return bad(`malformed chunk size ${JSON.stringify(sizeText.slice(0, 20))}`);
    const size = parseInt(sizeText, 16);
    total += size;
    if (total > maxBody) return tooLarge(maxBody);
    position = lineEnd + CRLF.length;
    if (size === 0) {
      // No trailers are taken: the body ends with an empty line.
      if (buffer.length < position + CRLF.length) return { kind: "incomplete" };
      if (!buffer.subarray(position, position + CRLF.length).equals(CRLF)) return bad("trailers after a chunked body are not supported");
      return { body: Buffer.concat(parts), end: position + CRLF.length };
    }
    if (buffer.length < position + size + CRLF.length) return { kind: "incomplete", need: position + size + CRLF.length };
    parts.push(buffer.subarray(position, position + size));
    position += size;
    if (!buffer.subarray(position, position + CRLF.length).equals(CRLF)) return bad("a chunk does not end with CRLF");
    position += CRLF.length;
  }
}

const REASONS: Record<number, string> = {
  200: "OK",
  201: "Created",
  202: "Accepted",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
};

/** A response with a JSON body (already serialized) and the given extra headers. */
export function formatResponse(status: number, body: string, headers: Record<string, string> = {}, close = false): Buffer {
  const length = Buffer.byteLength(body, "utf8");
  const lines = [
    `HTTP/1.1 ${status} ${REASONS[status] ?? "Status"}`,
    "content-type: application/json; charset=utf-8",
    `content-length: ${length}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  if (close) lines.push("connection: close");
  const head = `${lines.join("\r\n")}\r\n\r\n`;
  // One buffer, written in place: a large answer is not copied a second time to join the two.
  const response = Buffer.allocUnsafe(Buffer.byteLength(head, "latin1") + length);
  const at = response.write(head, 0, "latin1");
  response.write(body, at, "utf8");
  return response;
}
