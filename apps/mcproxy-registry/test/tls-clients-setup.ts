// The setup of tls-clients.test.ts: the real process with an L7 route (web.test, a counting HTTP
// backend) and an L4 route (pass.test, a TLS backend behind a relay that records every byte) on
// one port; a client-side tap that sits under Node's TLS client (records, corrupts a record,
// holds back the TCP FIN); ClientHellos captured from Node's client and patched byte for byte;
// and the check every case ends with (alive, serving, no connection left open).
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import {
  type AddressInfo,
  createServer as createNetServer,
  connect as netConnect,
  type Socket,
} from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Duplex } from "node:stream";
import {
  type ConnectionOptions,
  createServer as createTlsServer,
  type TLSSocket,
  connect as tlsConnect,
} from "node:tls";
import { RouteMode } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { expect } from "vitest";
import { eventually, freePort, httpsGet, sClient, startHttpBackend, startProxy } from "./harness.js";
import { createPki } from "./pki.js";

/** idle_timeout_ms of the test process: a silent client is closed after this. */
export const IDLE_MS = 1500;

/** What the L4 backend saw of one TLS connection. */
export interface L4Session {
  servername: string | false | null;
  protocol: string | null;
  alpn: string | false | null;
}

export async function startTlsClientsEnv() {
  const dir = mkdtempSync(join(tmpdir(), "mcproxy-tls-clients-"));
  const certDir = join(dir, "certs");
  mkdirSync(certDir);
  const pki = createPki(join(dir, "pki"));
  pki.issue("web.test", certDir);
  pki.issue("pass.test");
  // A self-signed client certificate, for a client that offers one unasked.
  const clientKey = join(dir, "client.key");
  const clientCert = join(dir, "client.pem");
  const req = "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=client";
  execFileSync("openssl", [...req.split(" "), "-keyout", clientKey, "-out", clientCert], { stdio: "ignore" });

  // L7: every request the backend receives, as "METHOD /path".
  const requests: string[] = [];
  const web = await startHttpBackend("web", (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    req.on("end", () => res.end(`hello ${req.url}`));
  });

  // L4: a TLS backend that answers with what it saw of the handshake, behind a relay that keeps
  // the bytes each way, to compare with what the client wrote and read.
  const sessions: L4Session[] = [];
  const tlsBackend = createTlsServer(
    {
      cert: readFileSync(join(pki.dir, "pass.test.pem")),
      key: readFileSync(join(pki.dir, "pass.test.key")),
      ALPNProtocols: ["h2", "http/1.1"],
    },
    (socket) => {
      const seen = {
        servername: socket.servername,
        protocol: socket.getProtocol(),
        alpn: socket.alpnProtocol,
      };
      sessions.push(seen);
      socket.end(JSON.stringify(seen));
    },
  );
  tlsBackend.listen(0, "127.0.0.1");
  await once(tlsBackend, "listening");
  const relayed = { up: [] as Buffer[], down: [] as Buffer[] };
  const relay = createNetServer((client) => {
    const upstream = netConnect((tlsBackend.address() as AddressInfo).port, "127.0.0.1");
    client.on("data", (c: Buffer) => {
      relayed.up.push(c);
      upstream.write(c);
    });
    upstream.on("data", (c: Buffer) => {
      relayed.down.push(c);
      client.write(c);
    });
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  relay.listen(0, "127.0.0.1");
  await once(relay, "listening");

  const proxy = await startProxy(join(dir, "proxy"), {
    certDir,
    extraConfig: `idle_timeout_ms = ${IDLE_MS}\nhandshake_timeout_ms = 3000`,
  });
  const port = await freePort();
  const route = (hostname: string, mode: RouteMode, address: string) =>
    proxy.client.addRoute({
      route: { listenerPort: port, hostname, mode, backends: [{ address }], owner: "test" },
    });
  await route("web.test", RouteMode.L7, web.address);
  await route("pass.test", RouteMode.L4, `127.0.0.1:${(relay.address() as AddressInfo).port}`);
  const ca = readFileSync(pki.rootFile);

  /** `openssl s_client` to the proxy with the test root trusted; stdout and stderr together. */
  const sclient = async (args: string[], input = "") =>
    (await sClient(port, ["-CAfile", pki.rootFile, ...args], input)).out;

  /** The handshake failures counted so far with `reason`. */
  const failures = (reason: string) => proxy.metric("mcproxy_handshake_failures_total", { reason });

  /** Waits until `reason` has been counted `count` more times than `before`. */
  const expectCounted = async (reason: string, before: number, count = 1) => {
    const seen = await eventually(async () => {
      const now = await failures(reason);
      return now >= before + count ? now : undefined;
    }, 5000).catch(async () => failures(reason));
    expect(seen - before, `handshake failures with reason ${reason}`).toBe(count);
  };

  /**
   * The process is up, an ordinary client still gets 200 from web.test, and no client connection
   * is left open (sniffing, l4 or l7).
   */
  const expectServing = async () => {
    const { exitCode, signalCode } = proxy.app.child;
    expect({ exitCode, signalCode }, `the proxy died:\n${proxy.app.stderr()}`).toEqual({
      exitCode: null,
      signalCode: null,
    });
    expect(await httpsGet(port, "web.test", { ca, path: "/health" })).toEqual({
      status: 200,
      body: "hello /health",
    });
    let open = -1;
    await eventually(async () => {
      open = await proxy.metric("mcproxy_active_connections");
      return open === 0;
    }, 5000).catch(() => {
      throw new Error(`${open} client connections still open in the proxy`);
    });
  };

  const stop = async () => {
    await proxy.stop();
    await web.close();
    tlsBackend.close();
    relay.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    dir,
    port,
    ca,
    pki,
    proxy,
    clientCert,
    clientKey,
    requests,
    sessions,
    relayed,
    sclient,
    failures,
    expectCounted,
    expectServing,
    stop,
  };
}

/**
 * What sits between Node's TLS client and its TCP socket: keeps the bytes each way, can flip a
 * bit in the next application-data record written, and can keep the TCP FIN back when the TLS
 * client ends (so the peer gets close_notify alone).
 */
export class Tap extends Duplex {
  readonly written: Buffer[] = [];
  readonly received: Buffer[] = [];
  corruptNext = false;
  holdFin = false;

  constructor(readonly raw: Socket) {
    super();
    raw.on("data", (c: Buffer) => {
      this.received.push(c);
      if (!this.push(c)) raw.pause();
    });
    raw.on("end", () => this.push(null));
    raw.on("close", () => this.destroy());
    raw.on("error", () => {});
  }

  override _read(): void {
    this.raw.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    let out = chunk;
    if (this.corruptNext && chunk[0] === 23) {
      // The last byte is the record's authentication tag: the record no longer verifies.
      out = Buffer.from(chunk);
      out[out.length - 1]! ^= 1;
      this.corruptNext = false;
    }
    this.written.push(out);
    this.raw.write(out, () => done());
  }

  override _final(done: () => void): void {
    if (!this.holdFin) this.raw.end();
    done();
  }
}

/** A TLS client to 127.0.0.1:`port` over a Tap; resolves once the handshake is done. */
export async function tappedClient(port: number, options: ConnectionOptions) {
  const raw = netConnect(port, "127.0.0.1");
  await once(raw, "connect");
  const tap = new Tap(raw);
  const tls: TLSSocket = tlsConnect({ ...options, socket: tap });
  const errors: Error[] = [];
  tls.on("error", (err) => errors.push(err));
  await once(tls, "secureConnect");
  return { raw, tap, tls, errors };
}

/** The first flight Node's TLS client sends for `servername` (the whole ClientHello record). */
export async function captureHello(servername: string): Promise<Buffer> {
  const server = createNetServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const got = new Promise<Buffer>((resolve) => {
    server.once("connection", (socket) => {
      socket.once("data", (chunk: Buffer) => {
        resolve(chunk);
        socket.destroy();
      });
    });
  });
  const client = tlsConnect({
    port: (server.address() as AddressInfo).port,
    host: "127.0.0.1",
    servername,
    ALPNProtocols: ["http/1.1"],
  });
  client.on("error", () => {});
  const hello = await got;
  client.destroy();
  server.close();
  return hello;
}

/** `hello` with the server name `from` replaced by `to`, byte for byte (same length: no framing changes). */
export function patchName(hello: Buffer, from: string, to: Buffer): Buffer {
  expect(to.length).toBe(from.length);
  const at = hello.indexOf(from, 0, "latin1");
  expect(at).toBeGreaterThan(0);
  const out = Buffer.from(hello);
  to.copy(out, at);
  return out;
}

/** Writes `bytes` on a new TCP connection and returns everything received until the proxy closes. */
export async function rawExchange(port: number, bytes: Buffer): Promise<Buffer> {
  const socket = netConnect(port, "127.0.0.1");
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  socket.on("error", () => {});
  socket.end(bytes);
  await once(socket, "close");
  return Buffer.concat(chunks);
}

/** A fatal alert record as the sniffer writes it (TLS 1.2 framing, level 2). */
export const alert = (description: number) => Buffer.from([21, 3, 3, 0, 2, 2, description]);

/**
 * An SSLv2-format ClientHello (2-byte header with the high bit set; RFC 6101 appendix E.2), as
 * very old clients sent for compatibility: version 3.1, two cipher specs, a 16-byte challenge.
 */
export function sslv2Hello(): Buffer {
  const specs = Buffer.from([0x00, 0x00, 0x2f, 0x01, 0x00, 0x80]);
  const challenge = Buffer.alloc(16, 0x5a);
  const body = Buffer.concat([
    Buffer.from([1, 3, 1, 0, specs.length, 0, 0, 0, challenge.length]),
    specs,
    challenge,
  ]);
  return Buffer.concat([Buffer.from([0x80 | (body.length >> 8), body.length & 0xff]), body]);
}
