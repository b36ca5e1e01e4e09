import { describe, expect, it } from "vitest";
import { formatResponse, parseRequest } from "../../../src/control/http.ts";

const parse = (text: string, max = 100) => parseRequest(Buffer.from(text, "latin1"), max);

describe("the control socket's HTTP", () => {
  it("waits for a whole request, then gives it with what it used", () => {
    expect(parse("GET /v1 HTTP/1.1\r\nHost: x\r\n")).toEqual({ kind: "incomplete" });
    const text = "POST /v1/services?wait=0 HTTP/1.1\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcdGET";
    const parsed = parse(text);
    expect(parsed).toMatchObject({ kind: "request", consumed: text.length - 3 });
    if (parsed.kind !== "request") throw new Error("no request");
    expect(parsed.request).toMatchObject({ method: "POST", target: "/v1/services?wait=0", body: "abcd", keepAlive: false });
    expect(parsed.request.headers.get("content-length")).toBe("4");
    // The parser says how long the input must be before it is worth trying again.
    expect(parse("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab")).toEqual({ kind: "incomplete", need: 42 });
  });

  it("refuses a body that is not UTF-8 (an invalid byte would be stored as U+FFFD, three bytes)", () => {
    const request = (body: Buffer) => parseRequest(Buffer.concat([Buffer.from(`POST / HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n`), body]), 100);
    expect(request(Buffer.from([0x22, 0xff, 0xfe, 0x22]))).toEqual({ kind: "error", status: 400, code: "bad-request", message: "the request body is not valid UTF-8" });
    // A character cut in half, and a surrogate encoded as UTF-8 (CESU), are not UTF-8 either.
    expect(request(Buffer.from([0x22, 0xe2, 0x82, 0x22]))).toMatchObject({ kind: "error", status: 400 });
    expect(request(Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]))).toMatchObject({ kind: "error", status: 400 });
    expect(request(Buffer.from('"\u20ac \u{1f600}"', "utf8"))).toMatchObject({ kind: "request", request: { body: '"\u20ac \u{1f600}"' } });
  });

  it("keeps HTTP/1.1 connections and closes HTTP/1.0 ones by default", () => {
    expect(parse("GET / HTTP/1.1\r\n\r\n")).toMatchObject({ request: { keepAlive: true } });
    expect(parse("GET / HTTP/1.0\r\n\r\n")).toMatchObject({ request: { keepAlive: false } });
  });

  it("closes on a Connection list that says close, and takes a field given twice as one list", () => {
    expect(parse("GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n")).toMatchObject({ request: { keepAlive: false } });
    expect(parse("GET / HTTP/1.1\r\nConnection: Upgrade,Close\r\n\r\n")).toMatchObject({ request: { keepAlive: false } });
    expect(parse("GET / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n")).toMatchObject({ request: { keepAlive: false } });
    expect(parse("GET / HTTP/1.0\r\nConnection: foo, keep-alive\r\n\r\n")).toMatchObject({ request: { keepAlive: true } });
    expect(parse("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n")).toMatchObject({ request: { keepAlive: false } });
    expect(parse("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")).toMatchObject({ kind: "error", status: 400 });
  });

  it("ignores empty lines before the request line and takes bare LF line ends (RFC 9112 2.2)", () => {
    const crlf = "\r\n\r\nGET /v1 HTTP/1.1\r\nHost: x\r\n\r\n";
    expect(parse(crlf)).toMatchObject({ kind: "request", consumed: crlf.length, request: { method: "GET", target: "/v1" } });
    expect(parse("\r\n")).toEqual({ kind: "incomplete" });
    const lf = "\nPOST /v1/services HTTP/1.1\nHost: x\nContent-Length: 2\n\nabGET";
    const parsed = parse(lf);
    expect(parsed).toMatchObject({ kind: "request", consumed: lf.length - 3, request: { method: "POST", body: "ab" } });
    if (parsed.kind !== "request") throw new Error("no request");
    expect(parsed.request.headers.get("host")).toBe("x");
    expect(parse("GET / HTTP/1.1\r\nHost: x\n\r\n")).toMatchObject({ kind: "request", request: { target: "/" } });
    // A bare CR is not a line end.
    expect(parse("GET / HTTP/1.1\r\nHost: x\ry: z\r\n\r\n")).toMatchObject({ kind: "error", status: 400 });
  });

  it("reads chunked bodies and refuses one that grows past the limit before it is all there", () => {
    expect(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n")).toMatchObject({
      kind: "request",
      request: { body: "abcde" },
    });
    expect(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab")).toMatchObject({ kind: "incomplete" });
    expect(parse(`POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;${"x".repeat(300)}`)).toMatchObject({ kind: "error", status: 400 });
    expect(parse(`POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n${"0;a\r\n".repeat(0)}${"1\r\na\r\n".repeat(1100)}`, 5000)).toMatchObject({
      kind: "error",
      message: "more than 1024 chunks",
    });
    expect(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n", 100)).toMatchObject({ kind: "error", status: 413, code: "too-large" });
  });

  it("says what is wrong with a malformed request", () => {
    expect(parse("GARBAGE\r\n\r\n")).toEqual({ kind: "error", status: 400, code: "bad-request", message: 'malformed HTTP request line "GARBAGE"' });
    expect(parse("GET / HTTP/1.1\r\nno colon\r\n\r\n")).toMatchObject({ status: 400, message: 'malformed HTTP header "no colon"' });
    expect(parse("GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n")).toMatchObject({ status: 400, message: 'content-length "x" is not a number' });
    expect(parse("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n")).toMatchObject({ status: 413 });
    expect(parse("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n")).toMatchObject({ status: 400 });
    expect(parse(`GET / HTTP/1.1\r\nX: ${"y".repeat(17 * 1024)}`)).toMatchObject({ status: 431 });
    expect(parse(`GET / HTTP/1.1\r\nX: ${"y".repeat(17 * 1024)}\r\n\r\n`)).toMatchObject({ status: 431 });
  });

  it("writes a JSON response with its length", () => {
    expect(formatResponse(404, '{"a":1}\n', { allow: "GET" }, true).toString()).toBe(
      'HTTP/1.1 404 Not Found\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: 8\r\nallow: GET\r\nconnection: close\r\n\r\n{"a":1}\n',
    );
  });
});
