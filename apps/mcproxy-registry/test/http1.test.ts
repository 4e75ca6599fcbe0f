// HTTP/1.1 on the proxy's own framing, through the real process: hand-made bytes over TLS (the
// chain verified against the test root, SNI = the route's name) for pipelining, chunked bodies and
// trailers, HTTP/1.0, HEAD/204/304, close-delimited responses, hop-by-hop and X-Forwarded-* fields,
// refused smuggling attempts, stale keep-alive connections, early answers, broken backends and
// random garbage; curl for a 5 MiB upload with Expect: 100-continue.
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type AddressInfo, createServer as createNetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { RouteMode } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Backend, freePort, type ProxyProcess, run, startHttpBackend, startProxy } from "./harness.js";
import { createPki, type Pki } from "./pki.js";

let dir: string;
let pki: Pki;
let ca: Buffer;
let proxy: ProxyProcess;
let port: number;
let echo: Backend;
let raw: RawBackend;
let stale: RawBackend;

/** "METHOD /path" of every request the echo backend received. */
const echoSeen: string[] = [];

/** What the echo backend answers by default: the request as it arrived. */
interface Echoed {
  method: string;
  url: string;
  version: string;
  headers: Record<string, string>;
  trailers: Record<string, string>;
  bodyBytes: number;
  body: string;
}

function echoHandler(req: IncomingMessage, res: ServerResponse): void {
  echoSeen.push(`${req.method} ${req.url}`);
  switch (req.url) {
    case "/chunked": // no length: chunked, with a trailer
      res.setHeader("trailer", "x-sum");
      res.write("part one\n");
      setTimeout(() => {
        res.addTrailers({ "x-sum": "2 parts" });
        res.end("part two\n");
      }, 20);
      return;
    case "/stream":
      res.write("one\n");
      setTimeout(() => res.end("two\n"), 20);
      return;
    case "/head":
      res.setHeader("content-length", 11);
      res.end(req.method === "HEAD" ? undefined : "hello world");
      return;
    case "/204":
    case "/304":
      res.statusCode = Number(req.url.slice(1));
      res.setHeader("etag", '"v1"');
      res.end();
      return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    res.setHeader("content-type", "application/json");
    const echoed: Echoed = {
      method: req.method ?? "",
      url: req.url ?? "",
      version: req.httpVersion,
      headers: req.headers as Record<string, string>,
      trailers: req.trailers as Record<string, string>,
      bodyBytes: body.length,
      body: body.length <= 4096 ? body.toString("latin1") : "",
    };
    res.end(JSON.stringify(echoed));
  });
}

interface RawBackend {
  address: string;
  /** "METHOD /path" of every request head it read. */
  seen: string[];
  close(): Promise<void>;
}

/**
 * A backend that writes its answers byte by byte, for what a Node server would not send. `answer`
 * gets each request head's path, its number on the connection (from 1) and the connection's number.
 */
async function startRawBackend(
  answer: (socket: Socket, path: string, nth: number, conn: number) => void,
): Promise<RawBackend> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createNetServer((socket) => {
    const conn = ++connections;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buf = Buffer.alloc(0);
    let skip = 0; // body bytes of the current request still to pass over
    let nth = 0;
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (!socket.destroyed) {
        const n = Math.min(skip, buf.length);
        skip -= n;
        buf = buf.subarray(n);
        const end = skip > 0 ? -1 : buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buf.toString("latin1", 0, end);
        buf = buf.subarray(end + 4);
        const [method, path = ""] = head.split(" ");
        seen.push(`${method} ${path}`);
        skip = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        answer(socket, path, ++nth, conn);
      }
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

interface Response {
  status: number;
  head: string;
  headers: Record<string, string>;
  body: string;
  trailers: string;
}

/**
 * The complete responses at the start of `data` (1xx included), read independently of the proxy's
 * parser: `methods` are the requests' methods in order (HEAD has no body); a body without length
 * or chunking is complete only once the connection `ended`.
 */
function parseResponses(data: Buffer, methods: string[], ended: boolean): Response[] {
  const text = data.toString("latin1");
  const out: Response[] = [];
  let at = 0;
  let finals = 0;
  for (;;) {
    const end = text.indexOf("\r\n\r\n", at);
    if (end < 0) return out;
    const head = text.slice(at, end);
    const [line = "", ...lines] = head.split("\r\n");
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(line)?.[1] ?? Number.NaN);
    if (Number.isNaN(status)) throw new Error(`not a status line: ${JSON.stringify(line)}`);
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const name = l.slice(0, l.indexOf(":")).toLowerCase();
      const value = l.slice(l.indexOf(":") + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    let pos = end + 4;
    let body = "";
    let trailers = "";
    if (status >= 200 && methods[finals++] !== "HEAD" && status !== 204 && status !== 304) {
      if (headers["transfer-encoding"] === "chunked") {
        for (;;) {
          const eol = text.indexOf("\r\n", pos);
          if (eol < 0) return out;
          const size = Number.parseInt(text.slice(pos, eol).split(";")[0]!, 16);
          if (size === 0) {
            const close = text.indexOf("\r\n\r\n", eol);
            const bare = text.startsWith("\r\n", eol + 2);
            if (!bare && close < 0) return out;
            trailers = bare ? "" : text.slice(eol + 2, close);
            pos = bare ? eol + 4 : close + 4;
            break;
          }
          if (text.length < eol + 2 + size + 2) return out;
          body += text.slice(eol + 2, eol + 2 + size);
          pos = eol + 2 + size + 2;
        }
      } else if (headers["content-length"] !== undefined) {
        const length = Number(headers["content-length"]);
        if (text.length < pos + length) return out;
        body = text.slice(pos, pos + length);
        pos += length;
      } else {
        if (!ended) return out;
        body = text.slice(pos);
        pos = text.length;
      }
    }
    out.push({ status, head, headers, body, trailers });
    at = pos;
  }
}

/** A TLS client connection to a route, writing raw bytes and reading whatever comes back. */
class Client {
  data = Buffer.alloc(0);
  ended = false;
  readonly #waiters = new Set<() => void>();

  constructor(readonly socket: TLSSocket) {
    socket.on("data", (c: Buffer) => {
      this.data = Buffer.concat([this.data, c]);
      for (const w of this.#waiters) w();
    });
    socket.on("error", () => {}); // a write into a connection the proxy closed: seen as the close
    socket.on("close", () => {
      this.ended = true;
      for (const w of this.#waiters) w();
    });
  }

  static async open(hostname = "h1.test"): Promise<Client> {
    const socket = tlsConnect({ port, host: "127.0.0.1", servername: hostname, ca, ALPNProtocols: ["http/1.1"] });
    await once(socket, "secureConnect");
    return new Client(socket);
  }

  send(bytes: string | Buffer): void {
    this.socket.write(typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes);
  }

  /** Resolves with `check`'s first defined value, checked on every read; fails on a close or at `ms`. */
  until<T>(what: string, check: () => T | undefined, ms = 5_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(`no ${what} in ${ms} ms`), ms);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(test);
      };
      const fail = (why: string) => {
        done();
        reject(new Error(`${why}; received: ${JSON.stringify(this.data.toString("latin1").slice(0, 600))}`));
      };
      const test = () => {
        try {
          const value = check();
          if (value !== undefined) {
            done();
            resolve(value);
          } else if (this.ended) fail(`the connection closed before ${what}`);
        } catch (err) {
          fail(String(err));
        }
      };
      this.#waiters.add(test);
      test();
    });
  }

  /** The first `count` final (non-1xx) responses; `methods` as for parseResponses. */
  responses(count: number, methods: string[] = []): Promise<Response[]> {
    return this.until(`${count} responses`, () => {
      const finals = parseResponses(this.data, methods, this.ended).filter((r) => r.status >= 200);
      return finals.length >= count ? finals : undefined;
    });
  }

  async response(method = "GET"): Promise<Response> {
    return (await this.responses(1, [method]))[0]!;
  }

  closed(ms = 3_000): Promise<true> {
    return this.until("the close", () => this.ended || undefined, ms);
  }

  close(): void {
    this.socket.destroy();
  }
}

const get = (path: string, fields = "", host = "h1.test") =>
  `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${fields}\r\n`;
const echoed = (r: Response) => JSON.parse(r.body) as Echoed;

/** One request on a new connection; returns its response and whether the proxy closed after it. */
async function once1(request: string, hostname = "h1.test", method = "GET") {
  const client = await Client.open(hostname);
  client.send(request);
  const response = await client.response(method);
  return { response, client };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcproxy-h1-"));
  const certDir = join(dir, "certs");
  mkdirSync(certDir);
  pki = createPki(join(dir, "pki"));
  ca = readFileSync(pki.rootFile);
  for (const host of ["h1.test", "raw.test", "stale.test", "gone.test"]) pki.issue(host, certDir);
  echo = await startHttpBackend("echo", echoHandler);
  raw = await startRawBackend((socket, path) => {
    if (path === "/close-delimited") {
      // Neither length nor chunking: the body ends with the connection.
      socket.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nfirst line\n");
      setTimeout(() => socket.end("second line\nlast line\n"), 20);
    } else if (path === "/bad-status") {
      socket.end("HTTP/1.1 2OO Fine\r\ncontent-length: 2\r\n\r\nok");
    } else if (path.startsWith("/early")) {
      // Answers at once and keeps reading (a lingering close): the proxy has to close.
      socket.write(
        "HTTP/1.1 413 Content Too Large\r\ncontent-type: text/plain\r\ncontent-length: 9\r\n" +
          "connection: close\r\n\r\ntoo large",
      );
    } else {
      socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    }
  });
  // Answers the first request on each connection with keep-alive, then closes the connection as
  // the second one arrives: the race every keep-alive client meets at the backend's idle timeout.
  stale = await startRawBackend((socket, _path, nth, conn) => {
    if (nth > 1) return void socket.destroy();
    const body = `connection ${conn}`;
    socket.write(
      `HTTP/1.1 200 OK\r\nconnection: keep-alive\r\nkeep-alive: timeout=30\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
    );
  });
  proxy = await startProxy(join(dir, "proxy"), {
    certDir,
    extraConfig: "response_timeout_ms = 3000\nidle_timeout_ms = 1500",
  });
  port = await freePort();
  for (const [hostname, address] of [
    ["h1.test", echo.address],
    ["raw.test", raw.address],
    ["stale.test", stale.address],
    ["gone.test", echo.address],
  ] as const) {
    await proxy.client.addRoute({
      route: { listenerPort: port, hostname, mode: RouteMode.L7, backends: [{ address }], owner: "test" },
    });
  }
});

afterAll(async () => {
  await proxy?.stop();
  await echo?.close();
  await raw?.close();
  await stale?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("HTTP/1.1 framing through the proxy", () => {
  it("answers pipelined requests sent in one write, in order, and keeps the connection", async () => {
    const client = await Client.open();
    client.send(
      get("/p1") +
        "POST /p2 HTTP/1.1\r\nHost: h1.test\r\nContent-Length: 5\r\n\r\nhello" +
        get("/p3", "X-Third: yes\r\n"),
    );
    const [a, b, c] = await client.responses(3);
    expect([a, b, c].map((r) => echoed(r!).url)).toEqual(["/p1", "/p2", "/p3"]);
    expect(echoed(b!)).toMatchObject({ method: "POST", body: "hello" });
    expect(echoed(c!).headers["x-third"]).toBe("yes");
    expect(client.ended).toBe(false);
    client.close();
  });

  it("passes a chunked request body with a chunk extension and a trailer to the backend intact", async () => {
    const client = await Client.open();
    client.send(
      "POST /chunked-up HTTP/1.1\r\nHost: h1.test\r\nTransfer-Encoding: chunked\r\nTrailer: x-digest\r\n\r\n" +
        "5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Digest: abc123\r\n\r\n",
    );
    const seen = echoed(await client.response());
    expect(seen).toMatchObject({ body: "hello world", trailers: { "x-digest": "abc123" } });
    expect(seen.headers["transfer-encoding"]).toBe("chunked");
    // The body's end was found: the next request on the connection is read as a request.
    client.send(get("/after-chunked"));
    expect(echoed((await client.responses(2))[1]!).url).toBe("/after-chunked");
    client.close();
  });

  it("relays a chunked response with its trailer complete, and the connection carries the next request", async () => {
    const client = await Client.open();
    client.send(get("/chunked"));
    const r = await client.response();
    expect(r.headers["transfer-encoding"]).toBe("chunked");
    expect(r.body).toBe("part one\npart two\n");
    expect(r.trailers.toLowerCase()).toBe("x-sum: 2 parts");
    client.send(get("/next"));
    expect(echoed((await client.responses(2))[1]!).url).toBe("/next");
    client.close();
  });

  it("uploads 5 MiB from curl with Expect: 100-continue, the 100 coming from the backend", async () => {
    const big = join(dir, "upload.bin");
    writeFileSync(big, Buffer.alloc(5 << 20, 7));
    const started = Date.now();
    // curl waits up to --expect100-timeout for the 100 before it sends the body anyway.
    const { stdout } = await run(
      "curl",
      [
        ...["-sS", "--http1.1", "--cacert", pki.rootFile, "--resolve", `h1.test:${port}:127.0.0.1`],
        ...["-H", "Expect: 100-continue", "--expect100-timeout", "20", "--data-binary", `@${big}`, "-D", "-"],
        `https://h1.test:${port}/upload`,
      ],
      { maxBuffer: 1 << 20 },
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(stdout).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    const seen = JSON.parse(stdout.slice(stdout.indexOf("{"))) as Echoed;
    expect(seen).toMatchObject({ method: "POST", bodyBytes: 5 << 20 });
    expect(seen.headers.expect).toBe("100-continue");
  });

  it("answers an HTTP/1.0 request without chunked encoding and closes the connection", async () => {
    const { response, client } = await once1("GET /stream HTTP/1.0\r\nHost: h1.test\r\n\r\n");
    await client.closed();
    expect(response.status).toBe(200);
    expect(response.headers["transfer-encoding"]).toBeUndefined();
    expect(parseResponses(client.data, ["GET"], true)[0]!.body).toBe("one\ntwo\n");
    const seen = await once1("GET /version HTTP/1.0\r\n\r\n"); // no Host needed in 1.0
    expect(echoed(seen.response).version).toBe("1.0");
    await seen.client.closed();
  });

  it("answers HEAD with the Content-Length and no body; the connection stays usable", async () => {
    const client = await Client.open();
    client.send(`HEAD /head HTTP/1.1\r\nHost: h1.test\r\n\r\n${get("/after-head")}`);
    const [head, next] = await client.responses(2, ["HEAD", "GET"]);
    expect(head!.status).toBe(200);
    expect(head!.headers["content-length"]).toBe("11");
    // Had a body followed the HEAD response, it would be read as the next status line.
    expect(echoed(next!).url).toBe("/after-head");
    expect(client.ended).toBe(false);
    client.close();
  });

  it("relays 204 and 304 without a body and keeps the connection alive after them", async () => {
    const client = await Client.open();
    client.send(get("/204") + get("/304", 'If-None-Match: "v1"\r\n') + get("/after-304"));
    const [a, b, c] = await client.responses(3);
    expect([a!.status, b!.status]).toEqual([204, 304]);
    expect(a!.body + b!.body).toBe("");
    expect(echoed(c!).url).toBe("/after-304");
    client.send(get("/still-alive"));
    expect(echoed((await client.responses(4))[3]!).url).toBe("/still-alive");
    client.close();
  });

  it("relays a close-delimited response fully and closes the client connection after it", async () => {
    const client = await Client.open("raw.test");
    client.send(get("/close-delimited", "", "raw.test"));
    await client.closed();
    const [r] = parseResponses(client.data, ["GET"], true);
    expect(r!.status).toBe(200);
    expect(r!.headers.connection).toBe("close");
    expect(r!.body).toBe("first line\nsecond line\nlast line\n");
  });
});
