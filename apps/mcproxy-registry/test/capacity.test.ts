// max_connections through the real process: at the cap a new client is closed on arrival and
// counted, the ones already open keep working, and a place freed is a place for the next client.
// The default cap follows the open-file limit (unit-tested on the function that computes it).
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RouteMode } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultMaxConnections, defaultPerClient, openFileLimit } from "../src/dataplane/connection-gate.js";
import {
  type Backend,
  curlVia,
  eventually,
  freePort,
  type ProxyProcess,
  startProxy,
  startTlsBackend,
} from "./harness.js";
import { createPki, type Pki } from "./pki.js";

const MAX = 3;
let dir: string;
let pki: Pki;
let proxy: ProxyProcess;
let port: number;
let backend: Backend;
const open: Socket[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcproxy-capacity-"));
  pki = createPki(join(dir, "pki"));
  pki.issue("cap.test");
  backend = await startTlsBackend("cap", join(pki.dir, "cap.test.pem"), join(pki.dir, "cap.test.key"));
  proxy = await startProxy(join(dir, "proxy"), { extraConfig: `max_connections = ${MAX}` });
  port = await freePort();
  await proxy.client.addRoute({
    route: {
      listenerPort: port,
      hostname: "cap.test",
      mode: RouteMode.L4,
      backends: [{ address: backend.address }],
      owner: "test",
    },
  });
});

afterAll(async () => {
  for (const s of open) s.destroy();
  await proxy?.stop();
  await backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A TCP connection to the listener that sends nothing (it holds a place while the proxy waits for
 * its hello), from `from` (any 127.x address is this machine's).
 */
async function idle(to = port, from = "127.0.0.1"): Promise<Socket> {
  const s = connect({ port: to, host: "127.0.0.1", localAddress: from });
  s.on("error", () => {});
  await once(s, "connect");
  open.push(s);
  return s;
}

/** Resolves to "closed" when the proxy closes `s` within `ms`, else "open". */
function fate(s: Socket, ms: number): Promise<"closed" | "open"> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve("open"), ms);
    s.once("close", () => {
      clearTimeout(timer);
      resolve("closed");
    });
  });
}

describe("max_connections", () => {
  it("closes a client over the cap on arrival, counts it, and takes the next one when a place frees", async () => {
    const held = [await idle(), await idle(), await idle()];
    await eventually(async () =>
      expect(await proxy.metric("mcproxy_active_connections", { mode: "sniffing" })).toBe(MAX),
    );
    // Reset on arrival, perhaps before the client saw its connect complete.
    const over = connect(port, "127.0.0.1");
    over.on("error", () => {});
    open.push(over);
    expect(await fate(over, 2_000)).toBe("closed");
    expect(await proxy.metric("mcproxy_handshake_failures_total", { reason: "over_capacity" })).toBe(1);
    // The ones inside are untouched.
    for (const s of held) expect(s.destroyed).toBe(false);
    // A place freed is a place for a real client, end to end.
    held[0]!.destroy();
    await eventually(async () =>
      expect(await proxy.metric("mcproxy_active_connections", { mode: "sniffing" })).toBe(MAX - 1),
    );
    const served = await curlVia(port, "cap.test", pki.rootFile, "/through");
    expect(served.status).toBe(200);
    expect(served.json).toMatchObject({ backend: "cap", url: "/through" });
    // The admin API is not behind the cap.
    expect((await proxy.client.listRoutes({})).routes).toHaveLength(1);
  });
});

describe("max_connections_per_client", () => {
  it("closes a client address's connection over its cap, counted, while other addresses get in", async () => {
    const perClient = await startProxy(join(dir, "per-client"), {
      extraConfig: "max_connections = 10\nmax_connections_per_client = 2",
    });
    try {
      const p = await freePort();
      await perClient.client.addRoute({
        route: {
          listenerPort: p,
          hostname: "cap.test",
          mode: RouteMode.L4,
          backends: [{ address: backend.address }],
          owner: "test",
        },
      });
      const greedy = [await idle(p, "127.0.0.2"), await idle(p, "127.0.0.2")];
      // Reset on arrival, perhaps before the client saw its connect complete (so not idle()).
      const third = connect({ port: p, host: "127.0.0.1", localAddress: "127.0.0.2" });
      third.on("error", () => {});
      open.push(third);
      expect(await fate(third, 2_000)).toBe("closed");
      expect(
        await perClient.metric("mcproxy_handshake_failures_total", { reason: "client_over_capacity" }),
      ).toBe(1);
      // Another address, and a real client from a third, still get in; the greedy ones stay.
      const other = await idle(p, "127.0.0.3");
      expect(await fate(other, 300)).toBe("open");
      expect((await curlVia(p, "cap.test", pki.rootFile, "/other")).status).toBe(200);
      for (const s of greedy) expect(s.destroyed).toBe(false);
      // A place freed is a place for the same address again.
      greedy[0]!.destroy();
      await eventually(async () =>
        expect(await perClient.metric("mcproxy_active_connections", { mode: "sniffing" })).toBe(2),
      );
      const again = await idle(p, "127.0.0.2");
      expect(await fate(again, 300)).toBe("open");
      expect(perClient.app.stdout()).toContain('"client":"127.0.0.2"');
    } finally {
      // Idle connections would hold the stop for its whole shutdown_timeout_ms.
      for (const s of open.splice(0)) s.destroy();
      await perClient.stop();
    }
  });
});

describe("the default cap", () => {
  it("is half of what the open-file limit leaves after 256, read from /proc/self/limits", () => {
    expect(defaultMaxConnections(20_000)).toBe(9_872);
    expect(defaultMaxConnections(1024)).toBe(384);
    expect(defaultMaxConnections(100)).toBe(16);
    expect(defaultMaxConnections(Number.POSITIVE_INFINITY)).toBe(1_000_000);
    expect(defaultMaxConnections(undefined)).toBe(10_000);
    // One address may take a quarter of it, at least 64.
    expect(defaultPerClient(9_872)).toBe(2_468);
    expect(defaultPerClient(16)).toBe(64);
    const limits = join(dir, "limits");
    writeFileSync(
      limits,
      "Limit                     Soft Limit           Hard Limit           Units\n" +
        "Max processes             63704                63704                processes\n" +
        "Max open files            4096                 524288               files\n",
    );
    expect(openFileLimit(limits)).toBe(4096);
    expect(openFileLimit(join(dir, "missing"))).toBeUndefined();
    // This machine's own limit reads as a number.
    expect(openFileLimit()).toBeGreaterThan(0);
  });
});
