// SIGTERM through the real process: the listeners close at once, a request in progress still gets
// its whole response (HTTP/1.1 with `connection: close`, HTTP/2 before the GOAWAY takes effect),
// idle keep-alive connections are closed, the process exits as soon as nothing is left, and what
// outlives `shutdown_timeout_ms` (an L4 connection) is cut at that deadline.
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { connect as connectHttp2 } from "node:http2";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { RouteMode } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Backend,
  freePort,
  type ProxyProcess,
  startHttpBackend,
  startProxy,
  startTlsBackend,
} from "./harness.js";
import { createPki, type Pki } from "./pki.js";

let dir: string;
let pki: Pki;
let ca: Buffer;
let web: Backend;
let tls: Backend;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcproxy-shutdown-"));
  pki = createPki(join(dir, "pki"));
  for (const host of ["web.test", "tls.test"]) pki.issue(host);
  ca = readFileSync(pki.rootFile);
  // /slow answers after 1.5 s: long enough to be in progress when the signal comes, and to tell
  // "closed at once" from "closed when the last request finished" on a busy machine.
  web = await startHttpBackend("web", (req: IncomingMessage, res: ServerResponse) => {
    const delay = req.url === "/slow" ? 1_500 : 0;
    setTimeout(() => res.end(`done ${req.url}`), delay);
  });
  tls = await startTlsBackend("tls", join(pki.dir, "tls.test.pem"), join(pki.dir, "tls.test.key"));
});

afterAll(async () => {
  await web?.close();
  await tls?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function proxyWithRoutes(
  name: string,
  extraConfig = "",
): Promise<{ proxy: ProxyProcess; port: number }> {
  const proxy = await startProxy(join(dir, name), { certDir: pki.dir, extraConfig });
  const port = await freePort();
  const add = (hostname: string, mode: RouteMode, address: string) =>
    proxy.client.addRoute({
      route: { listenerPort: port, hostname, mode, backends: [{ address }], owner: "test" },
    });
  await add("web.test", RouteMode.L7, web.address);
  await add("tls.test", RouteMode.L4, tls.address);
  return { proxy, port };
}

/** An HTTP/1.1 client over TLS that reads whole responses (Content-Length or until close). */
async function h1Client(port: number) {
  const socket = tlsConnect({
    port,
    host: "127.0.0.1",
    servername: "web.test",
    ca,
    ALPNProtocols: ["http/1.1"],
  });
  await once(socket, "secureConnect");
  let received = "";
  socket.on("data", (c) => {
    received += c;
  });
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.on("error", () => {});
  return {
    socket,
    closed,
    send: (path: string) => socket.write(`GET ${path} HTTP/1.1\r\nHost: web.test\r\n\r\n`),
    received: () => received,
  };
}

/** Milliseconds until `promise` settles, from now. */
async function timed(promise: Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await promise;
  return performance.now() - t0;
}

describe("SIGTERM", () => {
  it("finishes HTTP/1.1 and HTTP/2 requests in progress, closes idle connections, refuses new ones, exits when done", async () => {
    const { proxy, port } = await proxyWithRoutes("graceful");
    const idle = await h1Client(port);
    idle.send("/fast");
    await expect.poll(() => idle.received()).toContain("done /fast");
    const busy = await h1Client(port);
    busy.send("/slow");
    const session = connectHttp2(`https://127.0.0.1:${port}`, { ca, servername: "web.test" });
    session.on("error", () => {});
    const stream = session.request({ ":path": "/slow" });
    let h2Body = "";
    stream.on("data", (c) => {
      h2Body += c;
    });
    const h2Done = new Promise<void>((resolve) => stream.once("close", () => resolve()));
    const goaway = once(session, "goaway");
    await new Promise((r) => setTimeout(r, 200)); // both requests are at the backend now

    proxy.app.child.kill("SIGTERM");
    const exited = proxy.app.exited();
    // The idle connection is closed at once (before the requests in progress are answered, so not
    // at the end of the drain); a new client finds no listener.
    await idle.closed;
    expect(busy.received()).not.toContain("done /slow");
    const refused = connect(port, "127.0.0.1");
    const [err] = (await once(refused, "error")) as [NodeJS.ErrnoException];
    expect(err.code).toBe("ECONNREFUSED");
    await goaway;
    // The requests in progress get their answers, and the process exits right after.
    await busy.closed;
    expect(busy.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(busy.received()).toMatch(/\r\nconnection: close\r\n/i);
    expect(busy.received()).toContain("done /slow");
    await h2Done;
    expect(h2Body).toBe("done /slow");
    expect(await timed(exited)).toBeLessThan(3_000);
    expect(await exited).toBe(0);
    session.destroy();
  });

  it("cuts what is still open at shutdown_timeout_ms (an L4 connection) and exits", async () => {
    const { proxy, port } = await proxyWithRoutes("deadline", "shutdown_timeout_ms = 1000");
    const l4: TLSSocket = tlsConnect({ port, host: "127.0.0.1", servername: "tls.test", ca });
    await once(l4, "secureConnect");
    l4.on("error", () => {});
    const closed = new Promise<void>((resolve) => l4.once("close", () => resolve()));
    proxy.app.child.kill("SIGTERM");
    const t0 = performance.now();
    await closed;
    const cutAfter = performance.now() - t0;
    expect(cutAfter).toBeGreaterThan(800);
    expect(cutAfter).toBeLessThan(3_000);
    expect(await proxy.app.exited()).toBe(0);
    expect(proxy.app.stdout()).toContain("shutdown deadline: cutting the connections left");
  });
});
