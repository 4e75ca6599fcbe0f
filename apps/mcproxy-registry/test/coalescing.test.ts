// L7 requests are routed by their Host (HTTP/1.1) or :authority (HTTP/2), the SNI name picking
// only the certificate: a browser reuses one HTTP/2 connection for every hostname its certificate
// covers (connection coalescing, RFC 9113 section 9.1.1), so with a wildcard certificate requests
// for b.co.test arrive on a connection opened for a.co.test and must still reach b's backend.
// A name with no L7 route on the port is answered 421 Misdirected Request, which tells the client
// to open a connection of its own (RFC 9110 section 15.5.20).
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect as http2Connect } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RouteMode } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Backend,
  curlVia,
  freePort,
  httpsGet,
  type ProxyProcess,
  startHttpBackend,
  startProxy,
} from "./harness.js";
import { createPki, type Pki } from "./pki.js";

let dir: string;
let pki: Pki;
let proxy: ProxyProcess;
let port: number;
let backendA: Backend;
let backendB: Backend;
let ca: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcproxy-coalescing-"));
  const certDir = join(dir, "certs");
  mkdirSync(certDir, { recursive: true });
  pki = createPki(join(dir, "pki"));
  ca = readFileSync(pki.rootFile);
  // One wildcard certificate for both routes, as an operator may give them.
  pki.issue("*.co.test", certDir);
  const certificate = {
    certFile: join(certDir, "*.co.test.pem"),
    keyFile: join(certDir, "*.co.test.key"),
    serial: "",
  };
  backendA = await startHttpBackend("a");
  backendB = await startHttpBackend("b");
  proxy = await startProxy(join(dir, "proxy"), { certDir });
  port = await freePort();
  for (const [hostname, backend] of [
    ["a.co.test", backendA],
    ["b.co.test", backendB],
  ] as const) {
    await proxy.client.addRoute({
      route: {
        listenerPort: port,
        hostname,
        mode: RouteMode.L7,
        backends: [{ address: backend.address }],
        owner: "t",
        certificate,
      },
    });
  }
});
afterAll(async () => {
  await proxy?.stop();
  await backendA?.close();
  await backendB?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One HTTP/2 connection to a.co.test; each request's :authority as given. */
async function overOneConnection(authorities: string[]): Promise<Array<{ status: number; body: string }>> {
  const session = http2Connect(`https://a.co.test:${port}`, {
    host: "127.0.0.1",
    servername: "a.co.test",
    ca,
  });
  try {
    return await Promise.all(
      authorities.map(
        (authority) =>
          new Promise<{ status: number; body: string }>((resolve, reject) => {
            const stream = session.request({ ":path": "/", ":authority": authority });
            let status = 0;
            let body = "";
            stream.on("response", (headers) => {
              status = Number(headers[":status"]);
            });
            stream.on("data", (c: Buffer) => {
              body += c;
            });
            stream.on("end", () => resolve({ status, body }));
            stream.on("error", reject);
          }),
      ),
    );
  } finally {
    session.close();
  }
}

describe("routing L7 requests by their hostname", () => {
  it("sends HTTP/2 requests for both names, on one connection, each to its own backend", async () => {
    const [a, b, bWithPort] = await overOneConnection(["a.co.test", "b.co.test", `B.co.test:${port}`]);
    expect(a?.status).toBe(200);
    expect(JSON.parse(a?.body ?? "{}").backend).toBe("a");
    expect(JSON.parse(b?.body ?? "{}").backend).toBe("b");
    expect(JSON.parse(bWithPort?.body ?? "{}").backend).toBe("b");
  });

  it("answers 421 for a name that has no L7 route on the port, and serves the others on the same connection", async () => {
    const [unknown, a] = await overOneConnection(["c.co.test", "a.co.test"]);
    expect(unknown?.status).toBe(421);
    expect(unknown?.body).toContain("misdirected request");
    expect(JSON.parse(a?.body ?? "{}").backend).toBe("a");
  });

  it("routes HTTP/1.1 by the Host field too (curl and Node), and a request without Host by the SNI name", async () => {
    const viaCurl = await curlVia(port, "a.co.test", pki.rootFile, "/", "--http1.1", "-H", "Host: b.co.test");
    expect(JSON.parse(viaCurl.body).backend).toBe("b");
    const viaNode = await httpsGet(port, "a.co.test", { ca, host: "b.co.test." });
    expect(JSON.parse(viaNode.body).backend).toBe("b");
    const unknown = await httpsGet(port, "a.co.test", { ca, host: "c.co.test" });
    expect(unknown.status).toBe(421);
    // HTTP/2 from curl: its Host header becomes the :authority.
    const h2 = await curlVia(port, "a.co.test", pki.rootFile, "/", "--http2", "-H", "Host: b.co.test");
    expect(JSON.parse(h2.body).backend).toBe("b");
  });

  it("keeps the shared certificate's expiry on /metrics for the route left when the other is removed", async () => {
    const expiry = "mcproxy_certificate_expiry_timestamp_seconds";
    expect(await proxy.metric(expiry, { hostname: "b.co.test" })).toBeGreaterThan(Date.now() / 1000);
    const { routes } = await proxy.client.listRoutes({ hostname: "a.co.test" });
    await proxy.client.removeRoute({ id: routes[0]?.id ?? "", owner: "t" });
    expect(await proxy.metric(expiry, { hostname: "a.co.test" })).toBe(0);
    expect(await proxy.metric(expiry, { hostname: "b.co.test" })).toBeGreaterThan(Date.now() / 1000);
  });
});
