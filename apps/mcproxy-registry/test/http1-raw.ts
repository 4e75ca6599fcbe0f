// Plumbing for the HTTP/1.1 tests, which speak hand-made bytes so that what they check is the
// proxy's own framing: raw TCP backends that write answers byte by byte, a response reader
// independent of the proxy's parser, a TLS client that writes raw bytes to a route, and the setup
// both test files share (an echo backend, raw backends, one route per behaviour, the real process).
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type AddressInfo, createServer as createNetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from "node:tls";
import { RouteMode } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { expect } from "vitest";
import { type Backend, freePort, startHttpBackend, startProxy } from "./harness.js";
import { createPki } from "./pki.js";

/** The route most requests go to (the echo backend). */
const H1 = "h1.test";

/** The size of /big: enough for a slow reader to back the proxy's writes up. */
export const BIG = (1 << 20) + (60 << 10);

/** What the echo backend answers by default: the request as it arrived. */
export interface Echoed {
  method: string;
  url: string;
  version: string;
  headers: Record<string, string>;
  trailers: Record<string, string>;
  bodyBytes: number;
  body: string;
}

/** Answers as the echo backends do, recording "METHOD /path" of each request in `seen`. */
const echoHandler = (seen: string[]) => (req: IncomingMessage, res: ServerResponse) => {
  seen.push(`${req.method} ${req.url}`);
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
    case "/big":
      res.end(Buffer.alloc(BIG, 0x62));
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
};

export interface RawBackend {
  address: string;
  /** "METHOD /path" of every request head it read. */
  seen: string[];
  close(): Promise<void>;
}

/**
 * A backend that writes its answers byte by byte, for what a Node server would not send. `answer`
 * gets each request head's path, its number on the connection (from 1) and the connection's number.
 */
export async function startRawBackend(
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

/** The raw backend's answers, by path. */
function rawAnswer(socket: Socket, path: string): void {
  if (path === "/close-delimited") {
    // Neither length nor chunking: the body ends with the connection.
    socket.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nfirst line\n");
    setTimeout(() => socket.end("second line\nlast line\n"), 20);
  } else if (path === "/bad-status") {
    socket.end("HTTP/1.1 2OO Fine\r\ncontent-length: 2\r\n\r\nok");
  } else if (path.startsWith("/early")) {
    // Answers at once and goes on reading (a lingering close): closing is the proxy's job.
    socket.write(
      "HTTP/1.1 413 Content Too Large\r\ncontent-type: text/plain\r\ncontent-length: 9\r\n" +
        "connection: close\r\n\r\ntoo large",
    );
  } else if (path === "/in-two-pieces") {
    // A long head cut in two, its rest arriving with the whole body: one piece of over 64 KiB.
    socket.write(`HTTP/1.1 200 OK\r\nkeep-alive: timeout=30\r\nx-pad: ${"p".repeat(1000)}`);
    setTimeout(() => socket.write(`\r\ncontent-length: 65000\r\n\r\n${"b".repeat(65000)}`), 20);
  } else {
    socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
  }
}

export interface Response {
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
export function parseResponses(data: Buffer, methods: string[], ended: boolean): Response[] {
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

/** Where a Client connects: the proxy's listener port, and the root its certificates chain to. */
export interface Target {
  port: number;
  ca: Buffer;
}

/** A TLS client connection to a route, writing raw bytes and reading whatever comes back. */
export class Client {
  data = Buffer.alloc(0);
  /** The connection closed (both ways). */
  ended = false;
  /** The proxy is done sending (it may still be reading). */
  readEnded = false;
  readonly #waiters = new Set<() => void>();

  constructor(readonly socket: TLSSocket) {
    socket.on("data", (c: Buffer) => {
      this.data = Buffer.concat([this.data, c]);
      for (const w of this.#waiters) w();
    });
    socket.on("error", () => {}); // a write into a connection the proxy closed: seen as the close
    socket.on("end", () => {
      this.readEnded = true;
      for (const w of this.#waiters) w();
    });
    socket.on("close", () => {
      this.ended = true;
      for (const w of this.#waiters) w();
    });
  }

  /**
   * Connects to the route `hostname` on `target`'s port, verifying the chain against its root.
   * `halfOpen`: keep sending after the proxy has ended its side (Node's default is to end too).
   */
  static async open(target: Target, hostname = H1, halfOpen = false): Promise<Client> {
    // tls.connect hands allowHalfOpen to the TLSSocket, though ConnectionOptions does not list it.
    const options: ConnectionOptions & { allowHalfOpen: boolean } = {
      port: target.port,
      host: "127.0.0.1",
      servername: hostname,
      ca: target.ca,
      ALPNProtocols: ["http/1.1"],
      allowHalfOpen: halfOpen,
    };
    const socket = tlsConnect(options);
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

export const get = (path: string, fields = "", host = H1) =>
  `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${fields}\r\n`;
export const echoed = (r: Response) => JSON.parse(r.body) as Echoed;

export type H1Proxy = Awaited<ReturnType<typeof startH1Proxy>>;

/**
 * Starts the backends and the proxy (L7 routes on one port, certificates from a fresh test root):
 * h1.test and gone.test to an echo backend; raw.test, early.test and pieces.test to raw backends
 * answering by path (early.test and pieces.test for one test each); stale.test to a backend that
 * closes kept-alive connections as the next request arrives; refusal.test, connection.test and
 * download.test to an echo backend each, so that a bug that spoils a pooled backend connection
 * stays in its test.
 */
export async function startH1Proxy() {
  const dir = mkdtempSync(join(tmpdir(), "mcproxy-h1-"));
  const certDir = join(dir, "certs");
  mkdirSync(certDir);
  const pki = createPki(join(dir, "pki"));
  const echoSeen: string[] = [];
  const echo = await startHttpBackend("echo", echoHandler(echoSeen));
  const raw = await startRawBackend(rawAnswer);
  const early = await startRawBackend(rawAnswer);
  const pieces = await startRawBackend(rawAnswer);
  // Answers the first request on each connection with keep-alive, then closes the connection as
  // the second one arrives: the race every keep-alive client meets at the backend's idle timeout.
  const stale = await startRawBackend((socket, _path, nth, conn) => {
    if (nth > 1) return void socket.destroy();
    const body = `connection ${conn}`;
    socket.write(
      "HTTP/1.1 200 OK\r\nconnection: keep-alive\r\nkeep-alive: timeout=30\r\n" +
        `content-length: ${body.length}\r\n\r\n${body}`,
    );
  });
  const isolated: Backend[] = [];
  const own = async () => {
    const backend = await startHttpBackend("own", echoHandler(echoSeen));
    isolated.push(backend);
    return backend.address;
  };
  const routes: [string, string][] = [
    [H1, echo.address],
    ["raw.test", raw.address],
    ["stale.test", stale.address],
    ["gone.test", echo.address],
    ["early.test", early.address],
    ["pieces.test", pieces.address],
    ["refusal.test", await own()],
    ["connection.test", await own()],
    ["download.test", await own()],
  ];
  for (const [host] of routes) pki.issue(host, certDir);
  const proxy = await startProxy(join(dir, "proxy"), {
    certDir,
    extraConfig: "response_timeout_ms = 3000\nidle_timeout_ms = 1500",
  });
  const port = await freePort();
  try {
    for (const [hostname, address] of routes) {
      await proxy.client.addRoute({
        route: { listenerPort: port, hostname, mode: RouteMode.L7, backends: [{ address }], owner: "test" },
      });
    }
  } catch (err) {
    await stop(); // no test file gets a handle to stop it with
    throw err;
  }
  const target: Target = { port, ca: readFileSync(pki.rootFile) };
  /** A client connection to route `hostname` (see Client.open). */
  const open = (hostname = H1, halfOpen = false) => Client.open(target, hostname, halfOpen);
  /** One request on a new connection: its response, and the client to check the connection with. */
  async function roundTrip(request: string, hostname = H1, method = "GET") {
    const client = await open(hostname);
    client.send(request);
    const response = await client.response(method);
    return { response, client };
  }
  /** Waits for a plain request on a new connection: what was sent before has arrived by then. */
  async function settled(): Promise<void> {
    const { response, client } = await roundTrip(get("/barrier"));
    expect(response.status).toBe(200);
    client.close();
  }
  async function stop(): Promise<void> {
    await proxy.stop();
    for (const backend of [echo, raw, early, pieces, stale, ...isolated]) await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
  // echoSeen: "METHOD /path" of every request the echo backends received.
  return { ...target, dir, pki, proxy, echoSeen, raw, stale, early, pieces, open, roundTrip, settled, stop };
}
