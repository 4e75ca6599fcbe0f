// Nothing acknowledged is lost on a crash: route changes are fired concurrently at the real
// process, which is SIGKILLed while more are in flight. After it comes back, every acknowledged
// add, switch and removal is there (and served), and what was not acknowledged is either wholly
// there or wholly absent.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApp } from "@mcp/mcdsl/testing";
import { RouteMode } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Backend, freePort, MAIN, type ProxyProcess, startProxy, startTlsBackend } from "./harness.js";
import { servedBy } from "./lifecycle-setup.js";
import { createPki, type Pki } from "./pki.js";

let dir: string;
let pki: Pki;
let proxy: ProxyProcess;
let one: Backend;
let two: Backend;
let ca: Buffer;
const ports: number[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcproxy-crash-"));
  pki = createPki(join(dir, "pki"));
  pki.issue("*.crash.test");
  ca = readFileSync(pki.rootFile);
  const cert = [join(pki.dir, "*.crash.test.pem"), join(pki.dir, "*.crash.test.key")] as const;
  // One wildcard certificate: the backends answer every route name (L4 passes TLS through).
  one = await startTlsBackend("one", ...cert);
  two = await startTlsBackend("two", ...cert);
  proxy = await startProxy(join(dir, "proxy"));
  for (let i = 0; i < 3; i++) ports.push(await freePort());
});
afterAll(async () => {
  await proxy?.stop();
  await one?.close();
  await two?.close();
  rmSync(dir, { recursive: true, force: true });
});

const name = (i: number) => `r${i}.crash.test`;
const portOf = (i: number) => ports[i % ports.length]!;

describe("a crash (SIGKILL) during route changes", () => {
  it("loses no acknowledged add, switch or removal", async () => {
    // Routes 0-39 exist before the crash round; 40-119 are added during it.
    const ids = new Map<number, string>();
    for (let i = 0; i < 40; i++) {
      const { route } = await proxy.client.addRoute({
        route: {
          listenerPort: portOf(i),
          hostname: name(i),
          mode: RouteMode.L4,
          backends: [{ address: one.address }],
          owner: "t",
        },
      });
      ids.set(i, route!.id);
    }

    const acked = { added: new Set<number>(), switched: new Set<number>(), removed: new Set<number>() };
    const calls: Promise<unknown>[] = [];
    const ignoreCrash = () => {}; // calls cut by the kill fail; they were not acknowledged
    // Interleaved, so that every kind of change is among the acknowledged and the cut ones.
    for (let k = 0; k < 80; k++) {
      const i = 40 + k;
      calls.push(
        proxy.client
          .addRoute({
            route: {
              listenerPort: portOf(i),
              hostname: name(i),
              mode: RouteMode.L4,
              backends: [{ address: one.address }],
              owner: "t",
            },
          })
          .then(() => acked.added.add(i), ignoreCrash),
      );
      if (k % 4 !== 0) continue;
      const j = k / 4;
      calls.push(
        proxy.client
          .setBackend({ id: ids.get(j)!, backends: [{ address: two.address }], owner: "t" })
          .then(() => acked.switched.add(j), ignoreCrash),
      );
      calls.push(
        proxy.client
          .removeRoute({ id: ids.get(20 + j)!, owner: "t" })
          .then(() => acked.removed.add(20 + j), ignoreCrash),
      );
    }
    // Kill once some have been answered, with others still on their way.
    const acks = () => acked.added.size + acked.switched.size + acked.removed.size;
    while (acks() < 30) await new Promise((r) => setTimeout(r, 1));
    await proxy.app.kill();
    await Promise.all(calls);
    const before = acks();
    expect(before).toBeGreaterThanOrEqual(30);
    expect(before, "some calls must still have been in flight at the kill").toBeLessThan(120);

    proxy.app = startApp(MAIN, ["--config", proxy.configFile]);
    await proxy.app.waitReady(`${proxy.apiUrl}/readyz`);
    const { routes } = await proxy.client.listRoutes({});
    const stored = new Map(routes.map((r) => [r.hostname, r]));

    for (const i of acked.added) expect(stored.has(name(i)), `acknowledged add ${name(i)}`).toBe(true);
    for (const i of acked.removed) expect(stored.has(name(i)), `acknowledged removal ${name(i)}`).toBe(false);
    for (const i of acked.switched) {
      expect(
        stored.get(name(i))?.backends.map((b) => b.address),
        `acknowledged switch ${name(i)}`,
      ).toEqual([two.address]);
    }
    // Whatever is stored is whole (one backend, its own port) and served by the data plane.
    for (const route of routes) {
      expect(route.notServed).toBe("");
      expect(route.backends).toHaveLength(1);
    }
    const sample = [...acked.added].slice(0, 5).concat([...acked.switched].slice(0, 5));
    for (const i of sample) {
      const expected = acked.switched.has(i) ? "two" : "one";
      expect(await servedBy(portOf(i), name(i), ca)).toBe(expected);
    }
    console.info(
      `crash with ${before} of 120 changes acknowledged: ${acked.added.size} adds, ${acked.switched.size} switches, ${acked.removed.size} removals`,
    );
  });
});
