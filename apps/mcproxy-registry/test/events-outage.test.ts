// Route events survive a NATS outage and a crash: the change is answered promptly while NATS is
// down, and its mcp.route.* event reaches the stream once NATS is back (or once the proxy starts
// again), exactly once. Real process, real nats-server taken down and up.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectEvents, type McpEvent } from "@mcp/mcdsl/events";
import { type NatsServer, startApp, startNatsServer } from "@mcp/mcdsl/testing";
import { RouteMode } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, freePort, MAIN, type ProxyProcess, startProxy } from "./harness.js";

let dir: string;
let nats: NatsServer;
let proxy: ProxyProcess;
let port: number;

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

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcproxy-outage-"));
  nats = await startNatsServer();
  proxy = await startProxy(join(dir, "proxy"), { natsUrl: nats.url });
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
