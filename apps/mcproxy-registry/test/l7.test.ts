// L7 through the real process: TLS terminated with the hostname's certificate (chain verified
// against the root), HTTP/1.1 and HTTP/2 from curl forwarded to plain HTTP/1.1 backends, streaming
// bodies, WebSocket upgrades, 502/504, and certificates renewed in place (NATS event, API call).
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { type AddressInfo, createConnection, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { connectEvents } from "@mcp/mcdsl/events";
import { type NatsServer, startNatsServer } from "@mcp/mcdsl/testing";
import { RouteMode } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Backend,
  curlVia,
  eventually,
  freePort,
  type ProxyProcess,
  run,
  sClient,
  startHttpBackend,
  startProxy,
} from "./harness.js";
import { createPki, type Pki } from "./pki.js";

let dir: string;
let certDir: string;
let pki: Pki;
let nats: NatsServer;
let proxy: ProxyProcess;
let port: number;
let web: Backend;
let slow: Backend;

const l7 = (hostname: string, address: string) =>
  proxy.client.addRoute({
    route: { listenerPort: port, hostname, mode: RouteMode.L7, backends: [{ address }], owner: "test" },
  });

/** The serial of the certificate the proxy presents for `hostname` (openssl s_client | x509). */
async function servedSerial(hostname: string): Promise<string> {
  const r = await sClient(port, ["-servername", hostname]);
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(r.out)?.[0];
  if (!pem) throw new Error(`no certificate in s_client output:\n${r.out}`);
  const { stdout } = await run("sh", ["-c", `printf '%s\\n' "$0" | openssl x509 -noout -serial`, pem]);
  return stdout.trim().replace(/^serial=/, "");
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcproxy-l7-"));
  certDir = join(dir, "certs");
  pki = createPki(join(dir, "pki"));
  mkdirSync(certDir, { recursive: true });
  for (const host of ["web.test", "slow.test", "dead.test", "renew.test", "idle.test"])
    pki.issue(host, certDir);
  web = await startHttpBackend("web", (req, res) => {
    if (req.url === "/stream") {
      // A streamed response: chunks written over time, no content-length.
      let i = 0;
      const timer = setInterval(() => {
        res.write(`chunk ${i}\n`);
        if (++i === 5) {
          clearInterval(timer);
          res.end();
        }
      }, 10);
      return;
    }
    let bytes = 0;
    req.on("data", (c: Buffer) => {
      bytes += c.length;
    });
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      res.setHeader("connection", "keep-alive");
      res.end(
        JSON.stringify({
          backend: "web",
          method: req.method,
          url: req.url,
          headers: req.headers,
          bodyBytes: bytes,
        }),
      );
    });
  });
  web.server.on("upgrade", (req, socket) => {
    socket.write(
      "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
        `x-seen-host: ${req.headers.host}\r\n\r\n`,
    );
    socket.on("data", (c: Buffer) => socket.write(Buffer.concat([Buffer.from("echo:"), c])));
    socket.on("end", () => socket.end());
  });
  slow = await startHttpBackend("slow", () => {}); // never answers
  nats = await startNatsServer();
  proxy = await startProxy(join(dir, "proxy"), {
    certDir,
    natsUrl: nats.url,
    extraConfig: "response_timeout_ms = 1000",
  });
  port = await freePort();
  await l7("web.test", web.address);
  await l7("slow.test", slow.address);
  await l7("dead.test", `127.0.0.1:${await freePort()}`);
  await l7("renew.test", web.address);
});

afterAll(async () => {
  await proxy?.stop();
  await web?.close();
  await slow?.close();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("L7 termination", () => {
  it("serves HTTP/2 and HTTP/1.1 with the chain verified against the root, forwarding X-Forwarded-*", async () => {
    for (const version of ["--http2", "--http1.1"]) {
      const r = await curlVia(
        port,
        "web.test",
        pki.rootFile,
        "/path?q=1",
        version,
        "-H",
        "x-forwarded-for: 10.9.9.9",
      );
      expect(r.status).toBe(200);
      const body = r.json as { url: string; headers: Record<string, string> };
      expect(body.url).toBe("/path?q=1");
      expect(body.headers).toMatchObject({
        host: `web.test:${port}`,
        "x-forwarded-for": "10.9.9.9, 127.0.0.1",
        "x-forwarded-proto": "https",
        "x-forwarded-host": `web.test:${port}`,
      });
    }
    const v = await curlVia(port, "web.test", pki.rootFile, "/", "--http2", "-i");
    expect(v.body).toMatch(/^HTTP\/2 200/);
    // Requests by route and code, and each closed connection's bytes on the wire (TLS included:
    // more than the bodies).
    const answered = await proxy.metric("mcproxy_http_requests_total", { route: "web.test", code: "200" });
    expect(answered).toBeGreaterThanOrEqual(3);
    // Each answer's latency, in the route's histogram: as many observations as answers, all of
    // them under +Inf, none over a second on loopback, and a sum that is more than nothing.
    const duration = "mcproxy_http_request_duration_seconds";
    const route = { route: "web.test" };
    expect(await proxy.metric(`${duration}_count`, route)).toBe(answered);
    expect(await proxy.metric(`${duration}_bucket`, { ...route, le: "+Inf" })).toBe(answered);
    expect(await proxy.metric(`${duration}_bucket`, { ...route, le: "1" })).toBe(answered);
    expect(await proxy.metric(`${duration}_sum`, route)).toBeGreaterThan(0);
    const out = await eventually(async () => {
      const bytes = await proxy.metric("mcproxy_bytes_total", { route: "web.test", direction: "out" });
      return bytes > 3 * 300 ? bytes : undefined;
    });
    expect(out).toBeGreaterThan(3 * 300);
    expect(await proxy.metric("mcproxy_bytes_total", { route: "web.test", direction: "in" })).toBeGreaterThan(
      300,
    );
  });

  it("streams request and response bodies", async () => {
    const big = join(dir, "big.bin");
    await run("sh", ["-c", `head -c ${5 << 20} /dev/zero > ${big}`]);
    for (const version of ["--http2", "--http1.1"]) {
      const up = await curlVia(
        port,
        "web.test",
        pki.rootFile,
        "/upload",
        version,
        "--data-binary",
        `@${big}`,
      );
      expect(up.json).toMatchObject({ method: "POST", bodyBytes: 5 << 20 });
      const chunked = await curlVia(
        port,
        "web.test",
        pki.rootFile,
        "/upload",
        version,
        "-H",
        "transfer-encoding: chunked",
        "--data-binary",
        "abc",
      );
      if (version === "--http1.1") expect(chunked.json).toMatchObject({ bodyBytes: 3 });
      const down = await curlVia(port, "web.test", pki.rootFile, "/stream", version);
      expect(down.body).toBe("chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n");
    }
  });

  it("relays a WebSocket upgrade and then both directions", async () => {
    const socket = tlsConnect({
      port,
      host: "127.0.0.1",
      servername: "web.test",
      ca: readFileSync(pki.rootFile),
      ALPNProtocols: ["http/1.1"],
    });
    await once(socket, "secureConnect");
    socket.write(
      "GET /ws HTTP/1.1\r\nHost: web.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    let text = "";
    socket.on("data", (c) => {
      text += c;
    });
    await eventually(async () => text.includes("\r\n\r\n"));
    expect(text).toMatch(/^HTTP\/1\.1 101/);
    expect(text).toContain("x-seen-host: web.test");
    socket.write("ping");
    await eventually(async () => text.endsWith("echo:ping"));
    socket.destroy();
  });

  it("terminates a ClientHello of several KB (handed to TLS in pieces), whole or in small TCP segments", async () => {
    // Fifteen 200-byte ALPN names make a hello of about 4.6 KB (today's browsers send ~1.8 KB).
    const names = Array.from({ length: 15 }, (_, i) => `x-${i}-${"p".repeat(195)}`);
    let helloBytes = 0;
    const relay = createNetServer((client) => {
      const upstream = createConnection(port, "127.0.0.1");
      upstream.setNoDelay(true);
      // Each read sent on in writes of 100 bytes, a tick apart: the hello in ~46 segments.
      client.on("data", async (chunk: Buffer) => {
        helloBytes ||= chunk.length;
        client.pause();
        for (let at = 0; at < chunk.length; at += 100) {
          upstream.write(chunk.subarray(at, at + 100));
          await new Promise((r) => setImmediate(r));
        }
        client.resume();
      });
      upstream.on("data", (c) => client.write(c));
      upstream.on("close", () => client.destroy());
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
    });
    relay.listen(0, "127.0.0.1");
    await once(relay, "listening");
    const relayPort = (relay.address() as AddressInfo).port;
    try {
      for (const to of [port, relayPort]) {
        const socket = tlsConnect({
          port: to,
          host: "127.0.0.1",
          servername: "web.test",
          ca: readFileSync(pki.rootFile),
          ALPNProtocols: [...names, "http/1.1"],
        });
        await once(socket, "secureConnect");
        expect(socket.alpnProtocol).toBe("http/1.1");
        socket.write("GET /big-hello HTTP/1.1\r\nHost: web.test\r\nConnection: close\r\n\r\n");
        let text = "";
        socket.on("data", (c) => {
          text += c;
        });
        await once(socket, "end");
        expect(text).toMatch(/^HTTP\/1\.1 200/);
        expect(text).toContain('"backend":"web"');
        socket.destroy();
      }
      expect(helloBytes).toBeGreaterThan(4000); // five pieces
    } finally {
      relay.close();
    }
  });

  it("resumes TLS 1.3 sessions connection after connection: each resumption brings a new ticket", async () => {
    // A TLS 1.3 ticket is good for one resumption; a client that reconnects over and over
    // resumes every time only if each resumed connection hands it a fresh ticket.
    const request = "GET / HTTP/1.1\r\nhost: web.test\r\nconnection: close\r\n\r\n";
    const base = ["-servername", "web.test", "-CAfile", pki.rootFile, "-tls1_3", "-ign_eof"];
    let session = join(dir, "session-0.pem");
    const first = await sClient(port, [...base, "-sess_out", session], request);
    expect(first.out).toMatch(/^New, TLSv1\.3/m);
    expect(first.out).toContain("Verify return code: 0 (ok)");
    for (let i = 1; i <= 3; i++) {
      const next = join(dir, `session-${i}.pem`);
      const r = await sClient(port, [...base, "-sess_in", session, "-sess_out", next], request);
      expect(r.out, `resumption ${i}`).toMatch(/^Reused, TLSv1\.3/m);
      expect(r.out).toContain('"backend":"web"');
      session = next;
    }
  });

  it("closes an idle backend connection a second before the backend's keep-alive time", async () => {
    // A backend that says `Keep-Alive: timeout=2` and notes when the proxy hangs up.
    let closedAt = 0;
    const backend = createNetServer((socket) => {
      socket.on("data", () =>
        socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nkeep-alive: timeout=2\r\n\r\nok"),
      );
      socket.on("end", () => {
        closedAt = Date.now();
        socket.end();
      });
    });
    backend.listen(0, "127.0.0.1");
    await once(backend, "listening");
    await l7("idle.test", `127.0.0.1:${(backend.address() as AddressInfo).port}`);
    const sentAt = Date.now();
    expect((await curlVia(port, "idle.test", pki.rootFile, "/", "--http1.1")).body).toBe("ok");
    await eventually(async () => closedAt > 0);
    // Kept about a second (2 s less one), closed by the proxy's sweep well before the backend's 2 s.
    expect(closedAt - sentAt).toBeGreaterThanOrEqual(900);
    expect(closedAt - sentAt).toBeLessThan(2_000 + 1_000);
    backend.close();
  });

  it("answers 502 when the backend refuses and 504 when it does not answer, with a short body", async () => {
    const dead = await curlVia(port, "dead.test", pki.rootFile, "/", "--http2");
    expect(dead.status).toBe(502);
    expect(dead.body).toMatch(/^bad gateway/);
    const late = await curlVia(port, "slow.test", pki.rootFile, "/", "--http1.1");
    expect(late.status).toBe(504);
    expect(late.body).toMatch(/^gateway timeout/);
    expect(
      await proxy.metric("mcproxy_backend_errors_total", { route: "dead.test", reason: "refused" }),
    ).toBe(1);
    expect(
      await proxy.metric("mcproxy_backend_errors_total", { route: "slow.test", reason: "timeout" }),
    ).toBe(1);
    expect(
      await proxy.metric("mcproxy_http_requests_total", { route: "web.test", code: "200" }),
    ).toBeGreaterThan(0);
    // Everyone else is still served.
    expect((await curlVia(port, "web.test", pki.rootFile)).status).toBe(200);
  });

  it("swaps a renewed certificate on mcp.cert.renewed without a restart; open connections keep theirs", async () => {
    const before = await servedSerial("renew.test");
    const open = tlsConnect({
      port,
      host: "127.0.0.1",
      servername: "renew.test",
      ca: readFileSync(pki.rootFile),
    });
    await once(open, "secureConnect");
    const serial = pki.issue("renew.test", certDir);
    expect(serial).not.toBe(before);
    const bus = await connectEvents({
      servers: [nats.url],
      name: "cert-broker-test",
      app: "cert-broker",
      node: "test",
    });
    await bus.ensureStream();
    await bus.publish(
      "mcp.cert.renewed",
      {
        hostname: "renew.test",
        serial,
        previousSerial: before,
        notAfter: new Date(Date.now() + 86_400_000).toISOString(),
      },
      { subject: "renew.test" },
    );
    await bus.close();
    await eventually(async () => (await servedSerial("renew.test")) === serial);
    expect(open.getPeerCertificate().serialNumber.toUpperCase()).toBe(before.toUpperCase());
    // The already-open connection still works.
    open.write("GET /still HTTP/1.1\r\nHost: renew.test\r\nConnection: close\r\n\r\n");
    let text = "";
    open.on("data", (c) => {
      text += c;
    });
    await once(open, "end");
    expect(text).toContain('"url":"/still"');
    const { route } = await proxy.client.getRoute({
      id: (await proxy.client.listRoutes({ hostname: "renew.test" })).routes[0]!.id,
    });
    expect(route?.certificate?.serial).toBe(serial);
    expect((await curlVia(port, "renew.test", pki.rootFile)).status).toBe(200);
  });

  it("swaps a renewed certificate on an API call (AddRoute again)", async () => {
    const serial = pki.issue("web.test", certDir);
    const { route } = await proxy.client.addRoute({
      route: {
        listenerPort: port,
        hostname: "web.test",
        mode: RouteMode.L7,
        backends: [{ address: web.address }],
        owner: "test",
        certificate: { serial },
      },
    });
    expect(route?.certificate?.serial).toBe(serial);
    expect(await servedSerial("web.test")).toBe(serial);
  });
});
