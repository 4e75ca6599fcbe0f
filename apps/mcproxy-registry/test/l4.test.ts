// L4 passthrough through the real process: openssl s_client and curl reach real TLS backends by
// SNI, the chain verified against the test root; broken and hostile clients are refused cleanly,
// counted in /metrics, and everyone else keeps being served.
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { RouteMode } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Backend,
  curlVia,
  eventually,
  freePort,
  type ProxyProcess,
  sClient,
  startProxy,
  startTlsBackend,
} from "./harness.js";
import { clientHello } from "./lifecycle-setup.js";
import { createPki, type Pki } from "./pki.js";

let dir: string;
let pki: Pki;
let proxy: ProxyProcess;
let port: number;
let backendA: Backend;
let backendB: Backend;
const cleanup: (() => unknown)[] = [];

const l4 = (hostname: string, address: string, extra: { proxyProtocol?: boolean } = {}) =>
  proxy.client.addRoute({
    route: {
      listenerPort: port,
      hostname,
      mode: RouteMode.L4,
      backends: [{ address }],
      owner: "test",
      ...extra,
    },
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcproxy-l4-"));
  pki = createPki(join(dir, "pki"));
  for (const host of ["a.test", "b.test", "p.test"]) pki.issue(host);
  backendA = await startTlsBackend("a", join(pki.dir, "a.test.pem"), join(pki.dir, "a.test.key"));
  backendB = await startTlsBackend("b", join(pki.dir, "b.test.pem"), join(pki.dir, "b.test.key"));
  proxy = await startProxy(join(dir, "proxy"), { extraConfig: "handshake_timeout_ms = 1000" });
  port = await freePort();
  await l4("a.test", backendA.address);
  await l4("b.test", backendB.address);
});

afterAll(async () => {
  await proxy?.stop();
  await backendA?.close();
  await backendB?.close();
  for (const fn of cleanup) await fn();
  rmSync(dir, { recursive: true, force: true });
});

describe("L4 passthrough", () => {
  it("routes by SNI to the right backend; curl verifies the backend's chain against the root", async () => {
    const a = await curlVia(port, "a.test", pki.rootFile, "/hello");
    expect(a.status).toBe(200);
    expect(a.json).toMatchObject({ backend: "a", url: "/hello" });
    const b = await curlVia(port, "b.test", pki.rootFile, "/", "--http1.1");
    expect(b.json).toMatchObject({ backend: "b" });
  });

  it("serves openssl s_client with a verified chain", async () => {
    const r = await sClient(
      port,
      ["-servername", "a.test", "-CAfile", pki.rootFile, "-verify_return_error", "-ign_eof"],
      "GET /s HTTP/1.0\r\nHost: a.test\r\n\r\n",
    );
    expect(r.out).toContain("Verify return code: 0 (ok)");
    expect(r.out).toContain('"backend":"a"');
  });

  it("reads a ClientHello split over many TLS records and TCP segments", async () => {
    // A relay between a real TLS client and the proxy that re-frames the hello into 64-byte
    // records and writes each one separately, a tick apart.
    const relay = createServer((client) => {
      const upstream = connect(port, "127.0.0.1");
      upstream.setNoDelay(true);
      let first = true;
      client.on("data", async (chunk: Buffer) => {
        if (!first) return void upstream.write(chunk);
        first = false;
        client.pause();
        const payload = chunk.subarray(5, 5 + chunk.readUInt16BE(3));
        for (let i = 0; i < payload.length; i += 64) {
          const part = payload.subarray(i, i + 64);
          const header = Buffer.from([22, chunk[1]!, chunk[2]!, 0, 0]);
          header.writeUInt16BE(part.length, 3);
          const record = Buffer.concat([header, part]);
          upstream.write(record.subarray(0, 3));
          await new Promise((r) => setTimeout(r, 2));
          upstream.write(record.subarray(3));
          await new Promise((r) => setTimeout(r, 2));
        }
        upstream.write(chunk.subarray(5 + payload.length));
        client.resume();
      });
      upstream.on("data", (c) => client.write(c));
      upstream.on("close", () => client.destroy());
      client.on("close", () => upstream.destroy());
      // The proxy may close its side while the client still sends (EPIPE): the relay just ends.
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
    });
    relay.listen(0, "127.0.0.1");
    await once(relay, "listening");
    cleanup.push(() => relay.close());
    const relayPort = (relay.address() as AddressInfo).port;
    const tls = tlsConnect({
      port: relayPort,
      host: "127.0.0.1",
      servername: "b.test",
      ca: readFileSync(pki.rootFile),
    });
    await once(tls, "secureConnect");
    tls.write("GET /split HTTP/1.0\r\nHost: b.test\r\n\r\n");
    let text = "";
    tls.on("data", (c) => {
      text += c;
    });
    await once(tls, "end");
    expect(text).toContain('"backend":"b"');
    expect(text).toContain('"url":"/split"');
  });

  it("sends a PROXY protocol v2 header when the route asks for one", async () => {
    let header: Buffer | undefined;
    const tlsServer = createHttpsServer(
      { cert: readFileSync(join(pki.dir, "p.test.pem")), key: readFileSync(join(pki.dir, "p.test.key")) },
      (_req, res) => res.end("behind proxy protocol"),
    );
    const front: Server = createServer((socket: Socket) => {
      socket.once("readable", () => {
        const head = socket.read(16) as Buffer;
        const rest = socket.read(head.readUInt16BE(14)) as Buffer;
        header = Buffer.concat([head, rest]);
        tlsServer.emit("connection", socket);
      });
    });
    front.listen(0, "127.0.0.1");
    await once(front, "listening");
    cleanup.push(() => front.close());
    await l4("p.test", `127.0.0.1:${(front.address() as AddressInfo).port}`, { proxyProtocol: true });
    const r = await curlVia(port, "p.test", pki.rootFile);
    expect(r.body).toBe("behind proxy protocol");
    expect(header?.subarray(0, 12).toString("hex")).toBe("0d0a0d0a000d0a515549540a");
    expect(header?.[12]).toBe(0x21); // version 2, PROXY
    expect(header?.[13]).toBe(0x11); // TCP over IPv4
    expect([...header!.subarray(16, 20)]).toEqual([127, 0, 0, 1]);
    expect(header!.readUInt16BE(26)).toBe(port); // the destination is the proxy's listener
  });

  it("refuses unknown and missing SNI with a TLS alert, counted by reason", async () => {
    const unknown = await sClient(port, ["-servername", "nobody.test"]);
    expect(unknown.out).toMatch(/unrecognized name/i);
    const none = await sClient(port, ["-noservername"]);
    expect(none.out).toMatch(/handshake failure/i);
    expect(
      await proxy.metric("mcproxy_handshake_failures_total", { reason: "unknown_sni" }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      await proxy.metric("mcproxy_handshake_failures_total", { reason: "no_sni" }),
    ).toBeGreaterThanOrEqual(1);
  });

  it("answers a malformed hello with decode_error and closes", async () => {
    const socket = connect(port, "127.0.0.1");
    await once(socket, "connect");
    socket.write("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    await once(socket, "close");
    expect([...Buffer.concat(chunks)]).toEqual([21, 3, 3, 0, 2, 2, 50]);
    expect(
      await proxy.metric("mcproxy_handshake_failures_total", { reason: "malformed" }),
    ).toBeGreaterThanOrEqual(1);
  });

  it("holds at most 16 KiB of an unfinished hello, but passes on what follows a whole one in the same read", async () => {
    // Whole hello and 40 KiB more in one write: routed, and every byte reaches the backend.
    const received: Buffer[] = [];
    const raw = createServer((socket) => socket.on("data", (c: Buffer) => received.push(c)));
    raw.listen(0, "127.0.0.1");
    await once(raw, "listening");
    cleanup.push(() => raw.close());
    await l4("raw.test", `127.0.0.1:${(raw.address() as AddressInfo).port}`);
    const hello = await clientHello("raw.test");
    const sent = Buffer.concat([hello, Buffer.alloc(40 * 1024, 7)]);
    const client = connect(port, "127.0.0.1");
    client.on("error", () => {});
    await once(client, "connect");
    client.write(sent);
    await eventually(async () => Buffer.concat(received).length === sent.length);
    expect(Buffer.concat(received).equals(sent)).toBe(true);
    client.destroy();
    // A hello still unfinished past what 16 KiB can take (a record of 18,000 bytes, never
    // finished): decode_error at once (a silent client would get no alert, at the timeout).
    const big = connect(port, "127.0.0.1");
    await once(big, "connect");
    const chunks: Buffer[] = [];
    big.on("data", (c: Buffer) => chunks.push(c));
    big.on("error", () => {});
    big.write(
      Buffer.concat([Buffer.from([22, 3, 1, 0x46, 0x50, 1, 0, 0x40, 0x00]), Buffer.alloc(17_000, 1)]),
    );
    await once(big, "close");
    expect([...Buffer.concat(chunks)]).toEqual([21, 3, 3, 0, 2, 2, 50]);
  });

  it("closes a client that sends nothing once the handshake timeout passes", async () => {
    const socket = connect(port, "127.0.0.1");
    const started = Date.now();
    socket.resume();
    await once(socket, "close");
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(
      await proxy.metric("mcproxy_handshake_failures_total", { reason: "timeout" }),
    ).toBeGreaterThanOrEqual(1);
  });

  it("answers internal_error when the backend refuses, and keeps serving the others", async () => {
    const dead = await freePort();
    await l4("dead.test", `127.0.0.1:${dead}`);
    const r = await sClient(port, ["-servername", "dead.test"]);
    expect(r.out).toMatch(/internal error/i);
    expect(
      await proxy.metric("mcproxy_backend_errors_total", { route: "dead.test", reason: "refused" }),
    ).toBe(1);
    const a = await curlVia(port, "a.test", pki.rootFile);
    expect(a.json).toMatchObject({ backend: "a" });
    expect(
      await proxy.metric("mcproxy_connections_total", { route: "a.test", mode: "l4" }),
    ).toBeGreaterThanOrEqual(2);
    expect(await proxy.metric("mcproxy_bytes_total", { route: "a.test", direction: "out" })).toBeGreaterThan(
      0,
    );
  });
});
