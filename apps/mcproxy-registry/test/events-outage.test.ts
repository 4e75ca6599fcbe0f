// Route events survive a NATS outage and a crash: the change is answered promptly while NATS is
// down, and its mcp.route.* event reaches the stream once NATS is back (or once the proxy starts
// again), exactly once. Real process, real nats-server taken down and up.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { connectEvents, type McpEvent } from "@mcp/mcdsl/events";
import { type NatsServer, startApp, startNatsServer } from "@mcp/mcdsl/testing";
import { RouteMode } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, freePort, MAIN, type ProxyProcess, startProxy } from "./harness.js";
import { createPki, type Pki } from "./pki.js";

let dir: string;
let nats: NatsServer;
let proxy: ProxyProcess;
let port: number;
let pki: Pki;
let certDir: string;

/** The mcp.route.* events in the stream: "type subject". */
async function routeEvents(): Promise<string[]> {
  const bus = await connectEvents({ servers: [nats.url], name: "test", app: "test", node: "test" });
  const seen: McpEvent[] = [];
  for await (const e of bus.replay({ filter: "mcp.route.>" })) seen.push(e);
  await bus.close();
  return seen.map((e) => `${e.type} ${e.subject}`);
}

const add = (hostname: string) =>
  proxy.client.addRoute({
    route: {
      listenerPort: port,
      hostname,
      mode: RouteMode.L4,
      backends: [{ address: "127.0.0.1:9" }],
      owner: "t",
    },
  });

/** The serial of the certificate the proxy presents for `hostname`. */
function servedSerial(hostname: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: "127.0.0.1",
      port,
      servername: hostname,
      ca: readFileSync(pki.rootFile),
    });
    socket.once("secureConnect", () => {
      resolve(socket.getPeerCertificate().serialNumber.toUpperCase());
      socket.destroy();
    });
    socket.once("error", reject);
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcproxy-outage-"));
  certDir = join(dir, "certs");
  mkdirSync(certDir, { recursive: true });
  pki = createPki(join(dir, "pki"));
  pki.issue("renew.outage.test", certDir);
  nats = await startNatsServer();
  proxy = await startProxy(join(dir, "proxy"), { natsUrl: nats.url, certDir });
  port = await freePort();
});
afterAll(async () => {
  await proxy?.stop();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("route events through a NATS outage", () => {
  it("answers changes promptly while NATS is down, and publishes their events once it is back", async () => {
    await add("before.outage.test");
    await nats.down();
    const startedAt = Date.now();
    const { route } = await add("during.outage.test");
    await proxy.client.setBackend({ id: route!.id, backends: [{ address: "127.0.0.1:10" }], owner: "t" });
    // Each call waits at most ~2 s for NATS, then answers; the change itself is made.
    expect(Date.now() - startedAt).toBeLessThan(6_000);
    expect((await proxy.client.getRoute({ id: route!.id })).route?.backends[0]?.address).toBe("127.0.0.1:10");
    await nats.up();
    await eventually(async () =>
      expect(await routeEvents()).toEqual([
        "mcp.route.added before.outage.test",
        "mcp.route.added during.outage.test",
        "mcp.route.switched during.outage.test",
      ]),
    );
  });

  it("starts and serves with NATS down; once NATS is up its events go out and renewals are applied", async () => {
    await proxy.app.stop();
    await nats.down();
    const startedAt = Date.now();
    proxy.app = startApp(MAIN, ["--config", proxy.configFile]);
    await proxy.app.waitReady(`${proxy.apiUrl}/readyz`);
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    await add("nonats.outage.test");
    await proxy.client.addRoute({
      route: {
        listenerPort: port,
        hostname: "renew.outage.test",
        mode: RouteMode.L7,
        backends: [{ address: "127.0.0.1:9" }],
        owner: "t",
      },
    });
    const before = await servedSerial("renew.outage.test");
    await nats.up();
    await eventually(async () => expect(await routeEvents()).toContain("mcp.route.added nonats.outage.test"));
    // The consumer that applies mcp.cert.renewed, asked for at start, works now: a renewal is served.
    const serial = pki.issue("renew.outage.test", certDir);
    const bus = await connectEvents({
      servers: [nats.url],
      name: "broker-test",
      app: "cert-broker",
      node: "test",
    });
    await bus.publish(
      "mcp.cert.renewed",
      {
        hostname: "renew.outage.test",
        serial,
        previousSerial: before,
        notAfter: new Date(Date.now() + 86_400_000).toISOString(),
      },
      { subject: "renew.outage.test" },
    );
    await bus.close();
    await eventually(async () => (await servedSerial("renew.outage.test")) === serial);
  });

  it("publishes, at the next start, the events a crashed process had not published", async () => {
    await nats.down();
    const { route } = await add("crash.outage.test");
    await proxy.app.kill();
    await nats.up();
    proxy.app = startApp(MAIN, ["--config", proxy.configFile]);
    await proxy.app.waitReady(`${proxy.apiUrl}/readyz`);
    await eventually(async () => expect(await routeEvents()).toContain("mcp.route.added crash.outage.test"));
    const events = await routeEvents();
    expect(events.filter((e) => e === "mcp.route.added crash.outage.test")).toHaveLength(1);
    expect(route?.id).toBeDefined();
  });
});
