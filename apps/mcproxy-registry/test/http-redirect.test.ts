// `[proxy] http_redirect_port`: the plain-HTTP door. A browser given a bare name tries http://
// first; every request for a routed hostname gets a 308 to its https:// address (the route's port,
// 443 left out), other names a 404 (never an open redirector), and nothing is proxied in clear.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { curl } from "@mcp/mcdsl/testing";
import { RouteMode } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Backend,
  freePort,
  type ProxyProcess,
  run,
  startHttpBackend,
  startProxy,
  startTlsBackend,
} from "./harness.js";
import { createPki, type Pki } from "./pki.js";

let dir: string;
let certDir: string;
let pki: Pki;
let proxy: ProxyProcess;
let backend: Backend;
let tlsBackend: Backend;
let httpPort: number;
let l7Port: number;
let l4Port: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcproxy-redirect-"));
  certDir = join(dir, "certs");
  mkdirSync(certDir, { recursive: true });
  pki = createPki(join(dir, "pki"));
  for (const name of ["web.test", "late.test", "pass.test"]) pki.issue(name, certDir);
  backend = await startHttpBackend("web");
  tlsBackend = await startTlsBackend("pass", join(certDir, "pass.test.pem"), join(certDir, "pass.test.key"));
  [httpPort, l7Port, l4Port] = [await freePort(), await freePort(), await freePort()];
  proxy = await startProxy(join(dir, "proxy"), {
    certDir,
    extraConfig: `http_redirect_port = ${httpPort}\naccess_log = true`,
  });
  await proxy.client.addRoute({
    route: {
      listenerPort: l7Port,
      hostname: "web.test",
      mode: RouteMode.L7,
      backends: [{ address: backend.address }],
      owner: "t",
    },
  });
  await proxy.client.addRoute({
    route: {
      listenerPort: l4Port,
      hostname: "pass.test",
      mode: RouteMode.L4,
      backends: [{ address: tlsBackend.address }],
      owner: "t",
    },
  });
});
afterAll(async () => {
  await proxy?.stop();
  await backend?.close();
  await tlsBackend?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What curl saw of one plain-HTTP request: status, Location, body. */
async function plain(host: string, path = "/", ...args: string[]) {
  const { stdout } = await run("curl", [
    "-sS",
    "-H",
    `Host: ${host}`,
    "-w",
    "\n%{http_code} %{redirect_url}",
    ...args,
    `http://127.0.0.1:${httpPort}${path}`,
  ]);
  const cut = stdout.lastIndexOf("\n");
  const [status, location = ""] = stdout.slice(cut + 1).split(" ");
  return { status: Number(status), location, body: stdout.slice(0, cut).trimEnd() };
}

/** `curl -L http://web.test:<httpPort><path>`, trusting only the test root, as a user would. */
function follow(path: string, ...args: string[]) {
  const resolve = [httpPort, l7Port].flatMap((p) => ["--resolve", `web.test:${p}:127.0.0.1`]);
  return curl("-L", "--cacert", pki.rootFile, ...resolve, ...args, `http://web.test:${httpPort}${path}`);
}

describe("http_redirect_port", () => {
  it("sends a browser from http:// to the route's https:// address, where it gets the page", async () => {
    const res = await plain("web.test", "/a/b?c=d&e=%20f");
    expect(res.status).toBe(308);
    expect(res.location).toBe(`https://web.test:${l7Port}/a/b?c=d&e=%20f`);
    // The whole trip as a user makes it: curl -L from the http:// name, the chain verified.
    const followed = await follow("/page");
    expect(followed.status).toBe(200);
    expect(followed.json).toMatchObject({ backend: "web", method: "GET", url: "/page" });
  });

  it("keeps the method and body through the 308 (a form posted to http://)", async () => {
    const followed = await follow("/form", "-d", "name=value");
    expect(followed.status).toBe(200);
    expect(followed.json).toMatchObject({ backend: "web", method: "POST", url: "/form", bodyBytes: 10 });
  });

  it("takes the Host in any case and with a port; an L4 route's name goes to its port too", async () => {
    expect((await plain(`WEB.test:${httpPort}`)).location).toBe(`https://web.test:${l7Port}/`);
    expect((await plain("pass.test", "/x")).location).toBe(`https://pass.test:${l4Port}/x`);
  });

  it("answers 404 for a name without a route, and 400 without a Host or for an absolute target", async () => {
    const unknown = await plain("evil.example", "/");
    expect([unknown.status, unknown.location, unknown.body]).toEqual([404, "", "no route for this name"]);
    const noHost = await plain("", "/");
    expect(noHost.status).toBe(400);
    const absolute = await curl(
      "--request-target",
      "http://evil.example/",
      "-H",
      "Host: web.test",
      `http://127.0.0.1:${httpPort}/`,
    );
    expect(absolute.status).toBe(400);
  });

  it("follows the routes as they change: a route added later is redirected, a removed one is not", async () => {
    expect((await plain("late.test")).status).toBe(404);
    const port = await freePort();
    const { route } = await proxy.client.addRoute({
      route: {
        listenerPort: port,
        hostname: "late.test",
        mode: RouteMode.L7,
        backends: [{ address: backend.address }],
        owner: "t",
      },
    });
    expect((await plain("late.test")).location).toBe(`https://late.test:${port}/`);
    await proxy.client.removeRoute({ id: route!.id, owner: "t" });
    expect((await plain("late.test")).status).toBe(404);
  });

  it("answers malformed requests with 400 or 431 and keeps serving; counts every result", async () => {
    const before = await proxy.metric("mcproxy_http_redirects_total", { result: "bad_request" });
    const raw = async (bytes: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(httpPort, "127.0.0.1");
        let got = "";
        socket.on("data", (c) => {
          got += c;
        });
        socket.on("close", () => resolve(got));
        socket.on("error", reject);
        socket.end(bytes);
      });
    expect(await raw("\x16\x03\x01\x00\xa5 not http at all\r\n\r\n")).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(`GET / HTTP/1.1\r\nHost: web.test\r\nX: ${"a".repeat(20_000)}\r\n\r\n`)).toMatch(
      /^HTTP\/1\.1 431 /,
    );
    expect(await proxy.metric("mcproxy_http_redirects_total", { result: "bad_request" })).toBe(before + 2);
    expect((await plain("web.test")).status).toBe(308);
    expect(await proxy.metric("mcproxy_http_redirects_total", { result: "redirected" })).toBeGreaterThan(0);
    expect(await proxy.metric("mcproxy_http_redirects_total", { result: "no_route" })).toBeGreaterThan(0);
    // One access-log line per answer, with the status.
    expect(proxy.app.stdout()).toMatch(/"log":"access".*"status":308/);
  });
});
