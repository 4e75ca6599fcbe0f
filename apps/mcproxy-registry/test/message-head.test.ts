// The HTTP/1.1 head parsers on their own: what they accept, what they refuse with which status, how
// they rewrite a head for the next hop, and 5,000 mutated heads of each kind that may only ever be
// refused with HeadError.

import { random } from "@mcp/mcdsl/testing";
import { describe, expect, it } from "vitest";
import { HeadError, parseRequestHead, parseResponseHead } from "../src/dataplane/http1/message-head.js";
import { parseTrailers } from "../src/dataplane/http1/trailer-fields.js";

/** The HeadError a parse throws, or undefined when it accepts. */
function refusal(parse: () => unknown): HeadError | undefined {
  try {
    parse();
  } catch (err) {
    if (err instanceof HeadError) return err;
    throw err;
  }
  return undefined;
}

const head = (...lines: string[]) => lines.join("\r\n");

describe("parseRequestHead", () => {
  it.each<[string, number, ...string[]]>([
    ["Content-Length with Transfer-Encoding", 400, "Content-Length: 5", "Transfer-Encoding: chunked"],
    ["two different Content-Lengths", 400, "Content-Length: 5", "Content-Length: 6"],
    ["a signed Content-Length", 400, "Content-Length: +5"],
    ["a Content-Length list", 400, "Content-Length: 5, 5"],
    ["Transfer-Encoding: xchunked", 501, "Transfer-Encoding: xchunked"],
    ["Transfer-Encoding: chunked, identity", 501, "Transfer-Encoding: chunked, identity"],
    ["Transfer-Encoding: gzip, chunked", 501, "Transfer-Encoding: gzip, chunked"],
    ["two Transfer-Encoding fields", 400, "Transfer-Encoding: chunked", "Transfer-Encoding: chunked"],
    ["an obs-fold line", 400, "X-A: a", " folded"],
    ["a bare LF", 400, "X-A: a\nX-B: b"],
    ["a bare CR", 400, "X-A: a\rX-B: b"],
    ["a NUL", 400, "X-A: a\0b"],
    ["a DEL", 400, "X-A: a\x7fb"],
    ["a space before the colon", 400, "X-A : b"],
    ["an empty field name", 400, ": b"],
    ["a line without a colon", 400, "X-A b"],
    ["two Host fields", 400, "Host: b.test"],
  ])("refuses %s with %i", (_what, status, ...fields) => {
    const error = refusal(() => parseRequestHead(head("POST / HTTP/1.1", "Host: a.test", ...fields)));
    expect(error?.status).toBe(status);
    expect(error?.message.length).toBeGreaterThan(10);
  });

  it.each([
    ["GET / HTTP/2.0", 505],
    ["GET / HTTP/1.2", 505],
    ["GET / http/1.1", 400],
    ["GET  / HTTP/1.1", 400],
    ["GET /", 400],
  ])("refuses the request line %j with %i", (line, status) => {
    expect(refusal(() => parseRequestHead(head(line, "Host: a")))?.status).toBe(status);
  });

  it("refuses HTTP/1.1 without Host and HTTP/1.0 with Transfer-Encoding, and takes HTTP/1.0 without Host", () => {
    expect(refusal(() => parseRequestHead("GET / HTTP/1.1"))?.status).toBe(400);
    expect(
      refusal(() => parseRequestHead(head("POST / HTTP/1.0", "Transfer-Encoding: chunked")))?.status,
    ).toBe(400);
    expect(parseRequestHead("GET / HTTP/1.0")).toMatchObject({ minor: 0, close: true, host: "" });
  });

  it("reads the body's framing", () => {
    const framing = (...fields: string[]) =>
      parseRequestHead(head("POST / HTTP/1.1", "Host: a", ...fields)).framing;
    expect(framing()).toEqual({ kind: "none" });
    expect(framing("Content-Length: 0")).toEqual({ kind: "none" });
    expect(framing("Content-Length: 12", "content-length: 12")).toEqual({ kind: "length", length: 12 });
    expect(framing("Transfer-Encoding: Chunked")).toEqual({ kind: "chunked" });
  });

  it("forwards the head with hop-by-hop fields out and X-Forwarded-* set", () => {
    const parsed = parseRequestHead(
      head(
        "POST /p?q=1 HTTP/1.1",
        "Host: a.test",
        "X-Forwarded-For: 10.0.0.1",
        "Connection: keep-alive, X-Foo",
        "X-Foo: gone",
        "Keep-Alive: timeout=5",
        "TE: trailers",
        "Proxy-Connection: keep-alive",
        "Trailer: x-sum",
        "x-forwarded-for: 10.0.0.2",
        "X-Forwarded-Proto: http",
        "X-Forwarded-Host: evil.example",
        "X-Case:   MiXeD  value ",
        "Content-Length: 3",
        "Content-Length: 3",
      ),
    );
    expect(parsed.forward("192.0.2.7").split("\r\n")).toEqual([
      "POST /p?q=1 HTTP/1.1",
      "Host: a.test",
      "Trailer: x-sum",
      "X-Case:   MiXeD  value ",
      "Content-Length: 3",
      // TE is hop-by-hop, but the proxy takes trailers too (and relays them): it asks on its own.
      "connection: te",
      "te: trailers",
      "x-forwarded-for: 10.0.0.1, 10.0.0.2, 192.0.2.7",
      "x-forwarded-proto: https",
      "x-forwarded-host: a.test",
      "",
      "",
    ]);
  });

  it("forwards HTTP/1.0 as 1.0 with close, and an Upgrade with its two fields", () => {
    const old = parseRequestHead(head("GET / HTTP/1.0", "Connection: keep-alive", "Host: a"));
    expect(old.forward("1.2.3.4")).toMatch(/^GET \/ HTTP\/1\.0\r\n(?:.*\r\n)*connection: close\r\n/);
    const ws = parseRequestHead(
      head("GET /ws HTTP/1.1", "Host: a", "Upgrade: websocket", "Connection: Upgrade"),
    );
    expect(ws.upgrade).toBe("websocket");
    expect(ws.forward("1.2.3.4")).toContain("\r\nconnection: upgrade\r\nupgrade: websocket\r\n");
    // Upgrade without Connection: upgrade is no upgrade.
    expect(parseRequestHead(head("GET / HTTP/1.1", "Host: a", "Upgrade: websocket")).upgrade).toBeUndefined();
  });
  it("knows the fields it acts on in any case, and only those: names one letter off are copied through", () => {
    // Same-length look-alikes and near misses are not the fields they resemble: they go on as sent.
    const lookAlikes = [
      "Content-Lengthy: 1",
      "Content_Length: 2",
      "Hosts: b.test",
      "Xontent-Length: 3",
      "Transfer-Encodinh: chunked",
      "x-forwarded-fox: 4",
      "Keep-Alivf: 5",
    ];
    const r = parseRequestHead(
      head(
        "POST /x HTTP/1.1",
        "hOsT: a.test",
        "cOnTeNt-LeNgTh: 7",
        "X-FORWARDED-FOR: 10.0.0.1",
        "Proxy-CONNECTION: keep-alive",
        "http2-SETTINGS: AAMAAABkAAQAAP__",
        "tE: trailers",
        ...lookAlikes,
      ),
    );
    expect(r.host).toBe("a.test");
    expect(r.framing).toEqual({ kind: "length", length: 7 });
    const out = r.forward("192.0.2.9");
    for (const kept of [...lookAlikes, "hOsT: a.test", "cOnTeNt-LeNgTh: 7"]) {
      expect(out).toContain(`\r\n${kept}\r\n`);
    }
    for (const dropped of ["Proxy-CONNECTION", "http2-SETTINGS", "X-FORWARDED-FOR", "tE:"]) {
      expect(out).not.toContain(dropped);
    }
    expect(out).toContain("x-forwarded-for: 10.0.0.1, 192.0.2.9\r\n");
    expect(out).toContain("connection: te\r\nte: trailers\r\n");
  });

  it("reads the request line's parts, and refuses a target with a control or a method with a separator", () => {
    const r = parseRequestHead(head("M-SEARCH *\xff/%20?a=b HTTP/1.0", "Host: a"));
    expect([r.method, r.target, r.minor]).toEqual(["M-SEARCH", "*\xff/%20?a=b", 0]);
    expect(refusal(() => parseRequestHead(head("GET /a\tb HTTP/1.1", "Host: a")))?.status).toBe(400);
    expect(refusal(() => parseRequestHead(head("GE(T / HTTP/1.1", "Host: a")))?.status).toBe(400);
    expect(refusal(() => parseRequestHead(head("GET / HTTP/1.1 ", "Host: a")))?.status).toBe(400);
    expect(refusal(() => parseRequestHead(head("GET / HTTP/1.10", "Host: a")))?.status).toBe(505);
  });
});

describe("parseResponseHead", () => {
  it.each([
    "HTTP/1.1 2OO OK",
    "HTTP/1.1 200OK",
    "HTTP/2 200",
    "ICY 200 OK",
    "HTTP/1.1 099 Low",
    "HTTP/1.1 20 OK",
  ])("answers the status line %j with 502", (line) => {
    expect(refusal(() => parseResponseHead(head(line, "Content-Length: 0"), "GET"))?.status).toBe(502);
  });

  it("lets Transfer-Encoding win over Content-Length and drops the length from the forwarded head", () => {
    const r = parseResponseHead(
      head("HTTP/1.1 200 OK", "Content-Length: 5", "Transfer-Encoding: chunked"),
      "GET",
    );
    expect(r.framing).toEqual({ kind: "chunked" });
    expect(r.forward(false)).not.toMatch(/content-length/i);
  });

  it("reads framing by method and status, and the backend's keep-alive hints", () => {
    const parse = (method: string, ...lines: string[]) => parseResponseHead(head(...lines), method);
    expect(parse("HEAD", "HTTP/1.1 200 OK", "Content-Length: 11").framing).toEqual({ kind: "none" });
    for (const status of [100, 204, 304])
      expect(parse("GET", `HTTP/1.1 ${status} X`, "Content-Length: 11").framing).toEqual({ kind: "none" });
    expect(parse("GET", "HTTP/1.1 200 OK")).toMatchObject({ framing: { kind: "close" }, close: true });
    expect(parse("GET", "HTTP/1.1 200 OK", "Transfer-Encoding: gzip").framing).toEqual({ kind: "close" });
    expect(parse("GET", "HTTP/1.0 200 OK", "Content-Length: 1").close).toBe(true);
    expect(parse("GET", "HTTP/1.0 200 OK", "Content-Length: 1", "Connection: keep-alive").close).toBe(false);
    expect(
      parse("GET", "HTTP/1.1 200 OK", "Content-Length: 1", "Keep-Alive: timeout=7").keepAliveTimeout,
    ).toBe(7);
    const plain = parse("GET", "HTTP/1.1 200 OK", "Connection: keep-alive", "Content-Length: 1");
    expect(plain.unchanged).toBe(true);
    expect(plain.forward(true)).toMatch(/\r\nconnection: close\r\n\r\n$/);
  });
});

describe("parseTrailers", () => {
  it("gives the fields of a trailer section, leaving out those no trailer may carry", () => {
    expect(parseTrailers("")).toEqual({});
    expect(
      parseTrailers(head("Grpc-Status: 0", "X-Sum: a", "x-sum: b", "Content-Length: 5", "TE: trailers")),
    ).toEqual({ "grpc-status": "0", "x-sum": "a, b" });
  });

  it("refuses a line that is not a field, naming it", () => {
    expect(refusal(() => parseTrailers(head("X-Ok: 1", "not a field")))).toMatchObject({
      status: 502,
      message: "response trailer head has a malformed field line (line 2)",
    });
    expect(refusal(() => parseTrailers("X-A: \x01"))?.status).toBe(502);
  });
});

// Mutations of valid heads: a byte replaced, inserted or removed, a line doubled, dropped or one
// of the fields smuggling is made of added. Whatever the parser accepts, it must forward as a head
// that reads the same way (method, target, framing) when parsed again.
const REQUESTS = [
  head("GET /a?b=c HTTP/1.1", "Host: a.test", "Accept: */*", "Connection: keep-alive"),
  head("POST /up HTTP/1.1", "Host: a.test", "Content-Length: 10", "Content-Type: text/plain"),
  head("PUT /up HTTP/1.1", "Host: a.test", "Transfer-Encoding: chunked", "Expect: 100-continue"),
  head(
    "GET /ws HTTP/1.1",
    "Host: a.test",
    "Upgrade: websocket",
    "Connection: Upgrade",
    "X-Forwarded-For: 1.2.3.4",
  ),
  head("GET / HTTP/1.0", "User-Agent: old"),
];
const RESPONSES = [
  head("HTTP/1.1 200 OK", "Content-Length: 10", "Connection: keep-alive", "Keep-Alive: timeout=5"),
  head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "Trailer: x-sum"),
  head("HTTP/1.1 304 Not Modified", 'ETag: "v1"'),
  head("HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade"),
  head("HTTP/1.0 200 OK", "Content-Type: text/html"),
];
const EXTRA_LINES = [
  "Transfer-Encoding: chunked",
  "Content-Length: 10",
  "Content-Length: 11",
  "Connection: close",
  "Connection: upgrade",
  "Upgrade: h2c",
  "Host: b.test",
  " folded",
  "\tfolded",
  "TE: trailers",
  "Keep-Alive: timeout=3",
  "X-Forwarded-For: 5.6.7.8",
];
const BYTES = "\r\n\0 \t:,;0123456789aA\x7f\x80\xff/";

function mutate(text: string, rnd: () => number): string {
  const int = (n: number) => Math.floor(rnd() * n);
  let s = text;
  for (let m = 1 + int(3); m > 0; m--) {
    const at = int(s.length + 1);
    const byte = rnd() < 0.7 ? BYTES[int(BYTES.length)]! : String.fromCharCode(int(256));
    const lines = s.split("\r\n");
    const line = int(lines.length);
    switch (int(6)) {
      case 0:
        s = s.slice(0, at) + byte + s.slice(at + 1);
        break;
      case 1:
        s = s.slice(0, at) + byte + s.slice(at);
        break;
      case 2:
        s = s.slice(0, at) + s.slice(at + 1);
        break;
      case 3:
        lines.splice(line, 0, lines[line]!);
        s = lines.join("\r\n");
        break;
      case 4:
        if (line > 0) lines.splice(line, 1);
        s = lines.join("\r\n");
        break;
      default:
        lines.splice(1 + int(lines.length), 0, EXTRA_LINES[int(EXTRA_LINES.length)]!);
        s = lines.join("\r\n");
    }
  }
  return s;
}

/** The forwarded head without its closing empty line, as the next hop would read it. */
const reread = (forwarded: string) => forwarded.slice(0, -4);

describe("random heads", () => {
  it("refuses 5,000 mutated request heads only with HeadError (400/501/505); an accepted one forwards as read", () => {
    const rnd = random(7);
    const statuses = new Map<number, number>();
    for (let n = 0; n < 5_000; n++) {
      const text = mutate(REQUESTS[n % REQUESTS.length]!, rnd);
      const where = `head ${n}: ${JSON.stringify(text)}`;
      let parsed: ReturnType<typeof parseRequestHead>;
      try {
        parsed = parseRequestHead(text);
      } catch (err) {
        expect(err, where).toBeInstanceOf(HeadError);
        expect([400, 501, 505], where).toContain((err as HeadError).status);
        statuses.set((err as HeadError).status, (statuses.get((err as HeadError).status) ?? 0) + 1);
        continue;
      }
      statuses.set(200, (statuses.get(200) ?? 0) + 1);
      const again = parseRequestHead(reread(parsed.forward("192.0.2.1")));
      expect({ ...again, forward: undefined }, where).toMatchObject({
        method: parsed.method,
        target: parsed.target,
        framing: parsed.framing,
        upgrade: parsed.upgrade,
      });
    }
    // Both ways were taken often: the mutations reached past the first refusal.
    expect(statuses.get(200)).toBeGreaterThan(500);
    expect(statuses.get(400)).toBeGreaterThan(500);
  });

  it("refuses 5,000 mutated response heads only with HeadError (502); an accepted one forwards as read", () => {
    const rnd = random(8);
    let accepted = 0;
    for (let n = 0; n < 5_000; n++) {
      const text = mutate(RESPONSES[n % RESPONSES.length]!, rnd);
      const method = n % 7 === 0 ? "HEAD" : "GET";
      const where = `head ${n}: ${JSON.stringify(text)}`;
      let parsed: ReturnType<typeof parseResponseHead>;
      try {
        parsed = parseResponseHead(text, method);
      } catch (err) {
        expect(err, where).toBeInstanceOf(HeadError);
        expect((err as HeadError).status, where).toBe(502);
        continue;
      }
      accepted++;
      for (const close of [false, true]) {
        const again = parseResponseHead(reread(parsed.forward(close)), method);
        expect({ status: again.status, framing: again.framing }, where).toEqual({
          status: parsed.status,
          framing: parsed.framing,
        });
      }
    }
    expect(accepted).toBeGreaterThan(500);
  });

  // A field the Connection header names is dropped as hop-by-hop, but never the framing the proxy
  // goes by: the next hop would read the body as the next message (smuggling).
  it("Connection naming Content-Length or Transfer-Encoding: the forwarded head keeps the framing", () => {
    const request = parseRequestHead(
      head("POST / HTTP/1.1", "Host: a", "Connection: content-length", "Content-Length: 5"),
    );
    expect(parseRequestHead(reread(request.forward("1.2.3.4"))).framing).toEqual(request.framing);
    const chunked = parseRequestHead(
      head("POST / HTTP/1.1", "Host: a", "Connection: transfer-encoding", "Transfer-Encoding: chunked"),
    );
    expect(parseRequestHead(reread(chunked.forward("1.2.3.4"))).framing).toEqual(chunked.framing);
    const response = parseResponseHead(
      head("HTTP/1.1 200 OK", "Connection: content-length", "Content-Length: 5"),
      "GET",
    );
    expect(parseResponseHead(reread(response.forward(false)), "GET").framing).toEqual(response.framing);
  });
});
