// The setup of backend-abuse.test.ts: misbehaving raw backends (by path, for HTTP/2 clients), a
// tunnel backend that answers upgrades with 101 and echoes, an HTTP/2 request that records how its
// stream ended, a raw HTTP/1.1 client whose TCP socket can be reset, and the real process.
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { type ClientHttp2Session, connect as h2connect, type IncomingHttpHeaders } from "node:http2";
import {
  type AddressInfo,
  createServer as createNetServer,
  connect as netConnect,
  type Socket,
} from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import { RouteMode } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { type Backend, freePort, type ProxyProcess, startHttpBackend, startProxy } from "./harness.js";
import { Client } from "./http1-client.js";
import { type RawBackend, startRawBackend } from "./http1-raw.js";
import { createPki } from "./pki.js";

/** What one HTTP/2 request came to: its head (if any), its data, and how its stream closed. */
export interface Outcome {
  status: number | undefined;
  headers: IncomingHttpHeaders | undefined;
  body: Buffer;
  /** END_STREAM arrived: the response is complete. */
  ended: boolean;
  /** The RST_STREAM code the stream closed with (0: none, or NO_ERROR). */
  rstCode: number;
  ms: number;
}

/** One request; `upload` writes the body (the stream is ended when it resolves). */
export async function h2request(
  session: ClientHttp2Session,
  headers: Record<string, string>,
  upload?: (stream: ReturnType<ClientHttp2Session["request"]>) => Promise<void>,
): Promise<Outcome> {
  const startedAt = performance.now();
  const stream = session.request(headers, { endStream: !upload });
  const out: Outcome = {
    status: undefined,
    headers: undefined,
    body: Buffer.alloc(0),
    ended: false,
    rstCode: 0,
    ms: 0,
  };
  const chunks: Buffer[] = [];
  stream.on("error", () => {}); // the reset is read from rstCode
  stream.on("response", (h) => {
    out.headers = h;
    out.status = Number(h[":status"]);
  });
  stream.on("data", (c: Buffer) => chunks.push(c));
  stream.on("end", () => {
    out.ended = true;
  });
  if (upload)
    void upload(stream).then(
      () => stream.end(),
      () => {},
    );
  // Not events.once: it would reject on the stream's 'error' (a reset).
  await new Promise((resolve) => stream.once("close", resolve));
  out.body = Buffer.concat(chunks);
  out.rstCode = stream.rstCode ?? 0;
  out.ms = performance.now() - startedAt;
  return out;
}

/** A backend for upgrades: 101 then echo (a tunnel), or a refusal; plain requests get "plain". */
export interface TunnelBackend {
  address: string;
  /** The bytes each tunnel received after its request head, by path. */
  received: Map<string, Buffer>;
  /** Its tunnels still open (a leaked one shows here; idle pooled connections do not count). */
  readonly open: number;
  /** The server side of the newest tunnel per path. */
  sockets: Map<string, Socket>;
  close(): Promise<void>;
}

export async function startTunnelBackend(): Promise<TunnelBackend> {
  const received = new Map<string, Buffer>();
  const sockets = new Map<string, Socket>();
  const all = new Set<Socket>();
  const tunnels = new Set<Socket>();
  // Half-open: a client's FIN through the tunnel must not end what the backend still sends.
  const server = createNetServer({ allowHalfOpen: true }, (socket) => {
    all.add(socket);
    socket.on("close", () => all.delete(socket));
    socket.on("error", () => {});
    let buf = Buffer.alloc(0);
    const onHead = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (let end = buf.indexOf("\r\n\r\n"); end >= 0; end = buf.indexOf("\r\n\r\n")) {
        const head = buf.toString("latin1", 0, end);
        const rest = buf.subarray(end + 4);
        buf = Buffer.alloc(0);
        const path = head.split(" ")[1] ?? "";
        if (!/\r\nupgrade:/i.test(head)) {
          socket.write("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nplain");
          buf = rest;
          continue;
        }
        if (path === "/refuse-426") {
          const body = "upgrade refused\n";
          socket.write(`HTTP/1.1 426 Upgrade Required\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
          buf = rest;
          continue;
        }
        if (path === "/refuse-400") {
          // No length: the body ends with the connection, so the client's connection must end too.
          return void socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\nnot a websocket\n");
        }
        socket.off("data", onHead);
        tunnel(socket, path, rest);
        return;
      }
    };
    socket.on("data", onHead);
  });
  function tunnel(socket: Socket, path: string, early: Buffer): void {
    sockets.set(path, socket);
    tunnels.add(socket);
    socket.on("close", () => tunnels.delete(socket));
    received.set(path, early);
    const echo = (chunk: Buffer) => {
      received.set(path, Buffer.concat([received.get(path)!, chunk]));
      if (!socket.write(chunk)) socket.pause();
    };
    socket.on("drain", () => socket.resume());
    // After the client's FIN: one more line, then ours (a half-close the other way round).
    socket.on("end", () => socket.end("after your end\n"));
    // Answered late, so that what the client sends right after its request is in before the 101.
    socket.pause();
    socket.on("data", echo);
    setTimeout(() => {
      socket.write("HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n");
      if (early.length > 0) socket.write(early);
      socket.resume();
    }, 50);
  }
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    sockets,
    get open() {
      return tunnels.size;
    },
    close: async () => {
      for (const s of all) s.destroy();
      server.close();
    },
  };
}

/** An HTTP/1.1 client over TLS whose TCP socket is at hand (to reset it). */
export async function openRaw(port: number, ca: Buffer, hostname: string, halfOpen = false) {
  const tcp = netConnect({ port, host: "127.0.0.1", allowHalfOpen: halfOpen });
  // tls.connect hands allowHalfOpen to the TLSSocket, though ConnectionOptions does not list it.
  const options: ConnectionOptions & { allowHalfOpen: boolean } = {
    socket: tcp,
    servername: hostname,
    ca,
    ALPNProtocols: ["http/1.1"],
    allowHalfOpen: halfOpen,
  };
  const tls = tlsConnect(options);
  await once(tls, "secureConnect");
  return { client: new Client(tls), tcp };
}

/** The upgrade request a WebSocket client sends (its key and version left out: a raw tunnel). */
export const upgrade = (path: string, host: string) =>
  `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`;

export type AbuseProxy = Awaited<ReturnType<typeof startAbuseProxy>>;

/**
 * raw.test: a raw backend answering by path (`answer`); good.test: a Node echo backend;
 * ws.test, cut.test, drain.test: tunnel backends (one each, so that leaks stay in their test).
 */
export async function startAbuseProxy(answer: (socket: Socket, path: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), "mcproxy-backend-abuse-"));
  const certDir = join(dir, "certs");
  mkdirSync(certDir);
  const pki = createPki(join(dir, "pki"));
  const raw: RawBackend = await startRawBackend(answer);
  const good: Backend = await startHttpBackend("good");
  const tunnels = {
    ws: await startTunnelBackend(),
    cut: await startTunnelBackend(),
    drain: await startTunnelBackend(),
  };
  const proxy: ProxyProcess = await startProxy(join(dir, "proxy"), {
    certDir,
    extraConfig: "response_timeout_ms = 800",
  });
  const port = await freePort();
  const ids: Record<string, string> = {};
  const routes: [string, string][] = [
    ["raw.test", raw.address],
    ["good.test", good.address],
    ["ws.test", tunnels.ws.address],
    ["cut.test", tunnels.cut.address],
    ["drain.test", tunnels.drain.address],
  ];
  for (const [hostname, address] of routes) {
    pki.issue(hostname, certDir);
    const { route } = await proxy.client.addRoute({
      route: { listenerPort: port, hostname, mode: RouteMode.L7, backends: [{ address }], owner: "test" },
    });
    ids[hostname] = route!.id;
  }
  const ca = readFileSync(pki.rootFile);
  const session = async (hostname: string) => {
    const s = h2connect(`https://127.0.0.1:${port}`, { ca, servername: hostname });
    s.on("error", () => {});
    await once(s, "connect");
    return s;
  };
  const activeL7 = () => proxy.metric("mcproxy_active_connections", { mode: "l7" });
  const stop = async () => {
    await proxy.stop();
    await raw.close();
    await good.close();
    for (const t of Object.values(tunnels)) await t.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { port, ca, proxy, raw, good, tunnels, ids, session, activeL7, stop };
}
