// Passive health through the real process: a route with a dead backend (nothing listens on its
// port) and a live one. The first connection the dead one refuses marks it down for
// backend_down_ms and goes to the live one instead (L7 requests without a body, L4 connections),
// so clients see no error; a request with a body is not replayed (502); once the down time is
// over, a backend that came back gets its share again.
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { RouteMode } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Backend,
  freePort,
  httpsGet,
  type ProxyProcess,
  startHttpBackend,
  startProxy,
  startTlsBackend,
} from "./harness.js";
import { createPki, type Pki } from "./pki.js";

const DOWN_MS = 1500;
let dir: string;
let pki: Pki;
let ca: Buffer;
let proxy: ProxyProcess;
let port: number;
let live: Backend;
let liveTls: Backend;
let deadPort: number;
let revived: Server | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcproxy-failover-"));
  pki = createPki(join(dir, "pki"));
  for (const host of ["two.test", "post.test", "tls.test"]) pki.issue(host);
  ca = readFileSync(pki.rootFile);
  live = await startHttpBackend("live");
  liveTls = await startTlsBackend("live-tls", join(pki.dir, "tls.test.pem"), join(pki.dir, "tls.test.key"));
  deadPort = await freePort();
  proxy = await startProxy(join(dir, "proxy"), {
    certDir: pki.dir,
    extraConfig: `backend_down_ms = ${DOWN_MS}`,
  });
  port = await freePort();
  const dead = `127.0.0.1:${deadPort}`;
  const add = (hostname: string, mode: RouteMode, addresses: string[]) =>
    proxy.client.addRoute({
      route: {
        listenerPort: port,
        hostname,
        mode,
        backends: addresses.map((address) => ({ address })),
        owner: "test",
      },
    });
  // The dead backend first: round robin tries it first.
  await add("two.test", RouteMode.L7, [dead, live.address]);
  await add("post.test", RouteMode.L7, [dead, live.address]);
  await add("tls.test", RouteMode.L4, [dead, liveTls.address]);
});

afterAll(async () => {
  await proxy?.stop();
  await live?.close();
  await liveTls?.close();
  revived?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One request on a new connection: its status and the backend that answered. */
async function get(
  hostname: string,
  method = "GET",
  body?: string,
): Promise<{ status: number; backend?: string }> {
  const answer = await httpsGet(port, hostname, { ca, method, body });
  const backend =
    answer.status === 200 ? (JSON.parse(answer.body) as { backend: string }).backend : undefined;
  return { status: answer.status, backend };
}

const refusals = (route: string) =>
  proxy.metric("mcproxy_backend_errors_total", { route, reason: "refused" });

describe("a backend that refuses connections", () => {
  it("L7: the request goes to the other backend, and the dead one is passed over while down", async () => {
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await get("two.test"));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(new Set(answers.map((a) => a.backend))).toEqual(new Set(["live"]));
    expect(await refusals("two.test")).toBe(1);
  });

  it("L7: a request with a body is not sent again elsewhere (its bytes went into the failed connection): 502", async () => {
    expect((await get("post.test", "POST", "payload")).status).toBe(502);
    // Marked down by that failure: the next one goes to the live backend.
    expect(await get("post.test", "POST", "payload")).toEqual({ status: 200, backend: "live" });
  });

  it("L4: the connection goes to the other backend, its ClientHello replayed there", async () => {
    for (let i = 0; i < 4; i++) {
      const socket = tlsConnect({ port, host: "127.0.0.1", servername: "tls.test", ca });
      await once(socket, "secureConnect");
      socket.end("GET /l4 HTTP/1.0\r\nHost: tls.test\r\n\r\n");
      let text = "";
      for await (const chunk of socket) text += chunk;
      expect(text).toContain('"backend":"live-tls"');
    }
    expect(await refusals("tls.test")).toBe(1);
  });

  it("gets its share again once it is back and its down time is over", async () => {
    revived = createHttpServer((_req, res) => res.end(JSON.stringify({ backend: "revived" })));
    revived.listen(deadPort, "127.0.0.1");
    await once(revived, "listening");
    await new Promise((r) => setTimeout(r, DOWN_MS + 100));
    const seen = new Set<string | undefined>();
    for (let i = 0; i < 6; i++) seen.add((await get("two.test")).backend);
    expect(seen).toEqual(new Set(["live", "revived"]));
  });
});
