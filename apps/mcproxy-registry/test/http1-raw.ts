// The setup both HTTP/1.1 test files share: an echo backend, raw TCP backends that write answers
// byte by byte, one route per behaviour, the real process. The client side (a raw TLS client and
// a response reader independent of the proxy's parser) is in http1-client.ts.
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type AddressInfo, createServer as createNetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RouteMode } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { expect } from "vitest";
import { type Backend, freePort, startHttpBackend, startProxy } from "./harness.js";
import { Client, get, H1, type Response, type Target } from "./http1-client.js";
import { createPki } from "./pki.js";

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
  } else if (path === "/status-600") {
    socket.end("HTTP/1.1 600 Beyond\r\ncontent-length: 2\r\n\r\nok");
  } else if (path === "/unasked-101") {
    // Switches protocols for a request that asked for no upgrade, then speaks something else.
    socket.write(
      "HTTP/1.1 101 Switching Protocols\r\nupgrade: other\r\nconnection: upgrade\r\n\r\n\x00\x01binary",
    );
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
