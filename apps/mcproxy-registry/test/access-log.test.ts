// The access log through the real process: with `access_log = true`, each L7 request (HTTP/1.1
// and HTTP/2, the backend's answers and the proxy's own) and each L4 connection is one JSON line
// on stdout with what an operator looks for; with the default (off) there is none.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RouteMode } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Backend,
  curlVia,
  eventually,
  freePort,
  type ProxyProcess,
  startHttpBackend,
  startProxy,
  startTlsBackend,
} from "./harness.js";
import { createPki, type Pki } from "./pki.js";

let dir: string;
let pki: Pki;
let logged: ProxyProcess;
let quiet: ProxyProcess;
let web: Backend;
let tls: Backend;
const ports = { logged: 0, quiet: 0 };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcproxy-access-"));
  pki = createPki(join(dir, "pki"));
  for (const host of ["web.test", "gone.test", "tls.test"]) pki.issue(host);
  web = await startHttpBackend("web");
  tls = await startTlsBackend("tls", join(pki.dir, "tls.test.pem"), join(pki.dir, "tls.test.key"));
  logged = await startProxy(join(dir, "logged"), { certDir: pki.dir, extraConfig: "access_log = true" });
  quiet = await startProxy(join(dir, "quiet"), { certDir: pki.dir });
  for (const [name, proxy] of [
    ["logged", logged],
    ["quiet", quiet],
  ] as const) {
    const port = await freePort();
    ports[name] = port;
    const add = (hostname: string, mode: RouteMode, address: string) =>
      proxy.client.addRoute({
        route: { listenerPort: port, hostname, mode, backends: [{ address }], owner: "test" },
      });
    await add("web.test", RouteMode.L7, web.address);
    await add("gone.test", RouteMode.L7, `127.0.0.1:${await freePort()}`); // nothing listens: 502
    await add("tls.test", RouteMode.L4, tls.address);
  }
});

afterAll(async () => {
  await logged?.stop();
  await quiet?.stop();
  await web?.close();
  await tls?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The access lines a proxy wrote so far. */
function accessLines(proxy: ProxyProcess): Record<string, unknown>[] {
  return proxy.app
    .stdout()
    .split("\n")
    .filter((l) => l.includes('"log":"access"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("access_log = true", () => {
  it("writes a line per L7 request (HTTP/1.1, HTTP/2, a 502 of its own) and per L4 connection", async () => {
    const port = ports.logged;
    expect((await curlVia(port, "web.test", pki.rootFile, "/one?x=1", "--http1.1")).status).toBe(200);
    expect(
      (await curlVia(port, "web.test", pki.rootFile, "/two", "--http2", "-X", "POST", "-d", "hi")).status,
    ).toBe(200);
    expect((await curlVia(port, "gone.test", pki.rootFile, "/down", "--http1.1")).status).toBe(502);
    expect((await curlVia(port, "tls.test", pki.rootFile, "/through")).status).toBe(200);
    await eventually(async () => expect(accessLines(logged)).toHaveLength(4));
    const [one, two, down, through] = accessLines(logged);
    expect(one).toMatchObject({
      msg: "request",
      proto: "http/1.1",
      route: "web.test",
      client: "127.0.0.1",
      method: "GET",
      target: "/one?x=1",
      status: 200,
      backend: web.address,
    });
    expect(one!.bytes).toBeGreaterThan(0);
    expect(one!.ms).toBeGreaterThan(0);
    expect(two).toMatchObject({ proto: "h2", method: "POST", target: "/two", status: 200 });
    expect(down).toMatchObject({ route: "gone.test", target: "/down", status: 502 });
    expect(through).toMatchObject({
      msg: "connection",
      route: "tls.test",
      backend: tls.address,
      client: "127.0.0.1",
    });
    expect(through!.bytes_in).toBeGreaterThan(0);
    expect(through!.bytes_out).toBeGreaterThan(0);
    // (All written at info although the harness runs the proxy at [log] level = "warn".)
  });
});

describe("access_log off (the default)", () => {
  it("writes no access line", async () => {
    expect((await curlVia(ports.quiet, "web.test", pki.rootFile, "/one", "--http1.1")).status).toBe(200);
    expect((await curlVia(ports.quiet, "tls.test", pki.rootFile, "/through")).status).toBe(200);
    // Give a line time to appear if one were coming.
    await new Promise((r) => setTimeout(r, 200));
    expect(accessLines(quiet)).toEqual([]);
  });
});
