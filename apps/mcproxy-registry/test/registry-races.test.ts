// The route registry driven directly, in this process, with its real parts (a SQLite store, the
// data plane's real listeners): calls that overlap at their awaits. Through the API the handlers
// happen not to interleave there; nothing guarantees it, so the registry must not depend on it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@mcp/mcdsl/log";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CertStore } from "../src/certs/cert-store.js";
import { DataPlane } from "../src/dataplane/data-plane.js";
import { ProxyMetrics } from "../src/dataplane/metrics.js";
import { RouteTable } from "../src/dataplane/route-table.js";
import { RouteRegistry } from "../src/routes/registry.js";
import { RouteEvents } from "../src/routes/route-events.js";
import type { RouteSpec } from "../src/routes/types.js";
import { RouteStore } from "../src/store/route-store.js";
import { freePort } from "./harness.js";
import { listenersOn } from "./lifecycle-setup.js";

let dir: string;
let store: RouteStore;
let dataPlane: DataPlane;
let registry: RouteRegistry;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcproxy-registry-races-"));
  store = new RouteStore(join(dir, "routes.db"));
  const logger = createLogger({ app: "test", level: "error" });
  const metrics = new ProxyMetrics(new Registry());
  const table = new RouteTable();
  const certs = new CertStore();
  dataPlane = new DataPlane({
    table,
    certs,
    metrics,
    logger,
    options: {
      bind: "127.0.0.1",
      handshakeTimeoutMs: 2_000,
      connectTimeoutMs: 2_000,
      backendDownMs: 1_000,
      responseTimeoutMs: 2_000,
      idleTimeoutMs: 5_000,
      maxConnections: 100,
      maxConnectionsPerClient: 100,
      tlsGroups: ["X25519", "P-256"],
    },
  });
  registry = new RouteRegistry({
    store,
    table,
    dataPlane,
    certs,
    metrics,
    logger,
    events: new RouteEvents(store.outbox({ logger })),
    certDir: join(dir, "certs"),
    certDirs: [join(dir, "certs")],
    defaultDrainMs: 1_000,
  });
  await registry.start([]);
});

afterAll(async () => {
  await dataPlane.shutdown(0);
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const l4 = (port: number, hostname: string): RouteSpec => ({
  listenerPort: port,
  hostname,
  mode: "l4",
  backends: [{ address: "127.0.0.1:9", weight: 1 }],
  owner: "deploy",
  proxyProtocol: false,
});

describe("overlapping registry calls", () => {
  it("a port's last route removed while another is being added to it: the port stays open for the new one", async () => {
    const port = await freePort();
    const old = await registry.add(l4(port, "old.race.test"));
    // Started in one tick, as two calls read from one connection would be.
    const [added] = await Promise.all([
      registry.add(l4(port, "new.race.test")),
      registry.remove(old.id, "deploy", false),
    ]);
    expect(dataPlane.ports).toContain(port);
    expect(await listenersOn(port)).toBe(1);
    await registry.remove(added.id, "deploy", false);
    expect(await listenersOn(port)).toBe(0);
  });

  it("two first routes of a new port added at once: both stored and served on one listener", async () => {
    const port = await freePort();
    const both = await Promise.allSettled([
      registry.add(l4(port, "a.race.test")),
      registry.add(l4(port, "b.race.test")),
    ]);
    expect(both.map((r) => (r.status === "fulfilled" ? "added" : String(r.reason)))).toEqual([
      "added",
      "added",
    ]);
    expect(await listenersOn(port)).toBe(1);
  });
});
