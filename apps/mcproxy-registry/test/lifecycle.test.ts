// Route and listener lifecycle under concurrency, against the real process: the deploy agent adds,
// removes and switches routes quickly one after another (and several agents' calls overlap), so a
// port's listener must open and close with its routes without EADDRINUSE, duplicates or leftovers,
// requests in flight must be cut or drained as the README says, and a restart must bring back
// every route. Every case ends with the process alive and serving a good route.
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect as connectHttp2 } from "node:http2";
import { Agent } from "node:https";
import { createServer as createNetServer, connect as netConnect, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import { startApp } from "@mcp/mcdsl/testing";
import { RouteMode } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Backend,
  eventually,
  freePort,
  MAIN,
  type ProxyProcess,
  startHttpBackend,
  startProxy,
} from "./harness.js";
import { clientHello, get, inBatches, listenersOn, servedBy } from "./lifecycle-setup.js";
import { createPki } from "./pki.js";

let dir: string;
let ca: Buffer;
let certFile: string;
let keyFile: string;
let proxy: ProxyProcess;
let web: Backend;
/** Echo backends that take 40 ms per answer, so switches find requests in flight. */
let slow: Record<"a" | "b" | "c", Backend>;
/** A backend that never answers; `hung` counts the requests it holds. */
let hang: Backend;
let hung = 0;
let goodPort: number;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** An L7 route served with the *.life.test certificate, owned by "deploy". */
const add = (listenerPort: number, hostname: string, address: string) =>
  proxy.client.addRoute({
    route: {
      listenerPort,
      hostname,
      mode: RouteMode.L7,
      backends: [{ address }],
      owner: "deploy",
      certificate: { certFile, keyFile },
    },
  });
const remove = (id: string) => proxy.client.removeRoute({ id, owner: "deploy" });
const codeOf = (err: unknown) => ConnectError.from(err).code;

/** The process is up and a route nobody touched still answers. */
async function expectAlive(): Promise<void> {
  expect(proxy.app.child.exitCode, proxy.app.stderr()).toBeNull();
  expect(await servedBy(goodPort, "good.life.test", ca)).toBe("web");
}

/** `workers` loops of `fetchOnce` until stop(); what each request got, and when it started. */
function steadyLoad(fetchOnce: () => Promise<string>, workers: number) {
  const outcomes: { startedAt: number; result: string; failed: boolean }[] = [];
  let running = true;
  const loops = range(workers).map(async () => {
    while (running) {
      const startedAt = performance.now();
      await fetchOnce().then(
        (result) => outcomes.push({ startedAt, result, failed: false }),
        (err: Error) => outcomes.push({ startedAt, result: err.message, failed: true }),
      );
    }
  });
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcproxy-lifecycle-"));
  const pki = createPki(join(dir, "pki"));
  pki.issue("*.life.test");
  ca = readFileSync(pki.rootFile);
  certFile = join(pki.dir, "*.life.test.pem");
  keyFile = join(pki.dir, "*.life.test.key");
  web = await startHttpBackend("web");
  const delayed = (name: string) =>
    startHttpBackend(name, (_req, res) => {
      setTimeout(() => res.end(JSON.stringify({ backend: name })), 40);
    });
  slow = { a: await delayed("a"), b: await delayed("b"), c: await delayed("c") };
  hang = await startHttpBackend("hang", () => {
    hung++;
  });
  proxy = await startProxy(join(dir, "proxy"), {
    certDir: pki.dir,
    extraConfig: "handshake_timeout_ms = 2000",
  });
  goodPort = await freePort();
  await add(goodPort, "good.life.test", web.address);
});

afterAll(async () => {
  await proxy?.stop();
  for (const backend of [web, hang, ...Object.values(slow ?? {})]) await backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a port's last route replaced at once", () => {
  it("serves the new route every time, 50 times with the calls overlapping and 50 awaited, under connection load", async () => {
    const port = await freePort();
    let current = (await add(port, "r0.life.test", web.address)).route!;
    // Clients keep connecting to whatever route is current; refusals while the port has no route
    // are expected, a hang or a crash is not.
    const load = steadyLoad(() => servedBy(port, current.hostname, ca), 4);
    for (const overlap of [true, false]) {
      for (let i = 1; i <= 50; i++) {
        const hostname = `${overlap ? "o" : "s"}${i}.life.test`;
        const removing = remove(current.id);
        if (!overlap) await removing;
        const added = await add(port, hostname, web.address);
        await removing;
        current = added.route!;
        expect(await servedBy(port, hostname, ca), `${hostname}`).toBe("web");
      }
    }
    await load.stop();
    expect(load.outcomes.filter((o) => o.result === "web").length).toBeGreaterThan(20);
    expect(await listenersOn(port)).toBe(1);
    await remove(current.id);
    await eventually(async () => (await listenersOn(port)) === 0);
    await expectAlive();
  });
});

describe("concurrent calls", () => {
  it("50 AddRoute at once on a new port: one listener, every route served", async () => {
    const port = await freePort();
    const names = range(50).map((i) => `many${i}.life.test`);
    const added = await Promise.all(names.map((n) => add(port, n, web.address)));
    expect(new Set(added.map((a) => a.route!.id)).size).toBe(50);
    expect(await listenersOn(port)).toBe(1);
    expect((await proxy.client.listRoutes({ listenerPort: port })).routes).toHaveLength(50);
    expect(await inBatches(names, 10, (n) => servedBy(port, n, ca))).toEqual(names.map(() => "web"));
    await Promise.all(added.map((a) => remove(a.route!.id)));
    await eventually(async () => (await listenersOn(port)) === 0);
    await expectAlive();
  });

  it("AddRoute of one hostname with different backends at once: one route, the others AlreadyExists or the same route", async () => {
    const port = await freePort();
    const addresses = range(12).map((i) => [slow.a, slow.b, slow.c][i % 3]!.address);
    const results = await Promise.allSettled(
      addresses.map((address) => add(port, "same.life.test", address)),
    );
    const won = results.flatMap((r) => (r.status === "fulfilled" ? [r.value.route!] : []));
    const lost = results.flatMap((r) => (r.status === "rejected" ? [codeOf(r.reason)] : []));
    expect(won.length).toBeGreaterThanOrEqual(1);
    // Only the calls that asked for the winner's backend are answered with it (idempotent add).
    expect(new Set(won.map((r) => r.id)).size).toBe(1);
    expect(new Set(won.map((r) => r.backends[0]!.address)).size).toBe(1);
    expect(won).toHaveLength(4);
    expect(lost).toEqual(range(8).map(() => Code.AlreadyExists));
    const stored = (await proxy.client.listRoutes({ listenerPort: port })).routes;
    expect(stored.map((r) => r.id)).toEqual([won[0]!.id]);
    expect(await listenersOn(port)).toBe(1);
    const winner = Object.entries(slow).find(([, b]) => b.address === won[0]!.backends[0]!.address)![0];
    expect(await servedBy(port, "same.life.test", ca)).toBe(winner);

    // RemoveRoute of that id, ten times at once: one removes it, nine get NotFound.
    const removals = await Promise.allSettled(range(10).map(() => remove(won[0]!.id)));
    expect(removals.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(removals.flatMap((r) => (r.status === "rejected" ? [codeOf(r.reason)] : []))).toEqual(
      range(9).map(() => Code.NotFound),
    );
    await eventually(async () => (await listenersOn(port)) === 0);
    await expectAlive();
  });
});

describe("SetBackend while an earlier switch still drains", () => {
  it("three switches in 200 ms under load: nothing fails, the last backend serves, the drains end", async () => {
    const port = await freePort();
    const { route } = await add(port, "switch.life.test", slow.a.address);
    const id = route!.id;
    const agent = new Agent({ keepAlive: true, maxSockets: 6, ca });
    const load = steadyLoad(() => servedBy(port, "switch.life.test", ca, agent), 6);
    const served = (name: string, after = 0) =>
      load.outcomes.filter((o) => o.result === name && o.startedAt > after).length;
    await eventually(async () => served("a") >= 20);
    // a → b → c → back to a (a rollback onto a backend that is still draining).
    const switchTo = (b: Backend) =>
      proxy.client.setBackend({
        id,
        owner: "deploy",
        backends: [{ address: b.address }],
        drainTimeout: { seconds: 10n },
      });
    await switchTo(slow.b);
    await delay(70);
    await switchTo(slow.c);
    await delay(70);
    const last = await switchTo(slow.a);
    const switchedAt = performance.now();
    expect(last.route!.backends.map((b) => b.address)).toEqual([slow.a.address]);
    await eventually(async () => served("a", switchedAt) >= 30);
    await eventually(async () => (await proxy.client.getRoute({ id })).route!.draining.length === 0);
    await load.stop();
    agent.destroy();
    expect(load.outcomes.filter((o) => o.failed || !["a", "b", "c"].includes(o.result))).toEqual([]);
    // A request sent after the last switch returned goes to a (one already on its way may not).
    expect(load.outcomes.filter((o) => o.startedAt > switchedAt + 5 && o.result !== "a")).toEqual([]);
    expect(served("b") + served("c")).toBeGreaterThan(0);
    await remove(id);
    await expectAlive();
  });
});

describe("RemoveRoute while a client is in the middle", () => {
  let port: number;
  let webId: string;

  beforeAll(async () => {
    port = await freePort();
    webId = (await add(port, "web4.life.test", web.address)).route!.id;
  });

  it("cuts an L7 request in progress (HTTP/1.1 and HTTP/2) at once; the gauges go back to 0", async () => {
    const { route } = await add(port, "hang.life.test", hang.address);
    hung = 0;
    const h1 = get(port, "hang.life.test", ca, { timeoutMs: 20_000 }).then(
      (r) => `status ${r.status}`,
      (err: Error) => `error ${err.message}`,
    );
    const session = connectHttp2(`https://127.0.0.1:${port}`, { ca, servername: "hang.life.test" });
    session.on("error", () => {});
    const stream = session.request({ ":path": "/", ":authority": "hang.life.test" });
    let h2Status = 0;
    stream.on("response", (h) => {
      h2Status = Number(h[":status"]);
    });
    stream.on("error", () => {});
    stream.resume();
    const h2 = new Promise((resolve) => stream.on("close", resolve)).then(
      () => `status ${h2Status}, rst ${stream.rstCode}`,
    );
    await eventually(async () => hung === 2);
    expect(await proxy.metric("mcproxy_active_connections", { mode: "l7" })).toBe(2);

    const removedAt = performance.now();
    await remove(route!.id);
    const [r1, r2] = await Promise.all([h1, h2]);
    expect(performance.now() - removedAt).toBeLessThan(3_000);
    expect(r1).not.toBe("status 200");
    expect(r2).not.toMatch(/^status 200/);
    session.close();
    await eventually(async () => (await proxy.metric("mcproxy_active_connections")) === 0);
    // The proxy's connections to the backend are gone too.
    await eventually(
      async () =>
        (await new Promise<number>((resolve) => hang.server.getConnections((_e, n) => resolve(n)))) === 0,
    );
    expect(await servedBy(port, "web4.life.test", ca)).toBe("web");
    await expectAlive();
  });

  it("closes connections still sending their ClientHello when the port's last route goes", async () => {
    const hello = await clientHello("web4.life.test");
    const half = Math.floor(hello.length / 2);
    const sockets = [0, 1].map(() => netConnect({ port, host: "127.0.0.1" }));
    const received = sockets.map(() => [] as Buffer[]);
    const closed = sockets.map((s, i) => {
      s.on("data", (c: Buffer) => received[i]!.push(c));
      s.on("error", () => {});
      return once(s, "close");
    });
    for (const s of sockets) s.write(hello.subarray(0, half));
    await eventually(
      async () => (await proxy.metric("mcproxy_active_connections", { mode: "sniffing" })) === 2,
    );
    const failures = (reason: string) => proxy.metric("mcproxy_handshake_failures_total", { reason });
    const before = { unknown: await failures("unknown_sni"), timeout: await failures("timeout") };

    await remove(webId);
    await eventually(async () => (await listenersOn(port)) === 0);
    // The rest of the hello names a route that is gone: an unrecognized_name alert (112), closed.
    sockets[0]!.write(hello.subarray(half));
    await closed[0];
    expect([...Buffer.concat(received[0]!)].slice(-2)).toEqual([2, 112]);
    // The silent one is closed at handshake_timeout_ms (2 s).
    const silentFrom = performance.now();
    await closed[1];
    expect(performance.now() - silentFrom).toBeLessThan(4_000);
    expect(await proxy.metric("mcproxy_active_connections", { mode: "sniffing" })).toBe(0);
    expect(await failures("unknown_sni")).toBe(before.unknown + 1);
    expect(await failures("timeout")).toBe(before.timeout + 1);
    await expectAlive();
  });
});

/** Another process's listener on `port` (here: this test's). */
async function occupy(port: number): Promise<Server> {
  const server = createNetServer((s) => s.destroy());
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  return server;
}

describe("a port taken by another process", () => {
  it("AddRoute fails naming the port, nothing is stored, and a restart is not hindered", async () => {
    const port = await freePort();
    const squatter = await occupy(port);
    const results = await Promise.allSettled(
      range(3).map((i) => add(port, `taken${i}.life.test`, web.address)),
    );
    for (const r of results) {
      expect(r.status).toBe("rejected");
      const err = ConnectError.from((r as PromiseRejectedResult).reason);
      expect(err.code).toBe(Code.FailedPrecondition);
      expect(err.rawMessage).toContain(`cannot listen on port ${port}`);
      expect(err.rawMessage).toContain("EADDRINUSE");
    }
    expect((await proxy.client.listRoutes({ listenerPort: port })).routes).toEqual([]);
    await proxy.restart();
    expect((await proxy.client.listRoutes({ listenerPort: port })).routes).toEqual([]);
    squatter.close();
    await expectAlive();
  });

  it("a stored route whose port was taken while the proxy was down: the start goes on, a repeated AddRoute serves it", async () => {
    const port = await freePort();
    const { route } = await add(port, "later.life.test", web.address);
    await proxy.app.stop();
    const squatter = await occupy(port);
    proxy.app = startApp(MAIN, ["--config", proxy.configFile]);
    await proxy.app.waitReady(`${proxy.apiUrl}/readyz`);
    await expectAlive();
    // Said once, as "route not served" with the reason (not also as a listener failure).
    const output = proxy.app.stdout() + proxy.app.stderr();
    expect(output.split(`cannot listen on port ${port}`)).toHaveLength(2);
    expect(output).not.toContain("listener failed");
    // ListRoutes says so, with the reason, until the route is served.
    const { route: unserved } = await proxy.client.getRoute({ id: route!.id });
    expect(unserved?.notServed).toMatch(new RegExp(`^cannot listen on port ${port}: listen EADDRINUSE`));
    // The port comes free; the agent repeats its deploy (the same AddRoute), which must serve it.
    await new Promise((resolve) => squatter.close(resolve));
    const again = await add(port, "later.life.test", web.address);
    expect(again.route!.id).toBe(route!.id);
    expect(again.route!.notServed).toBe("");
    expect(await servedBy(port, "later.life.test", ca)).toBe("web");
    await remove(route!.id);
    await expectAlive();
  });
});

describe("restart", () => {
  it("brings back 200 routes on 20 ports, all served, in well under 10 s", async () => {
    const ports = new Set<number>();
    while (ports.size < 20) ports.add(await freePort());
    const routes = [...ports].flatMap((port, p) =>
      range(10).map((i) => ({ port, hostname: `p${p}h${i}.life.test` })),
    );
    await inBatches(routes, 50, (r) => add(r.port, r.hostname, web.address));
    const startedAt = performance.now();
    await proxy.restart();
    const took = performance.now() - startedAt;
    console.info(`restart with ${routes.length} routes on ${ports.size} ports: ${Math.round(took)} ms`);
    expect(took).toBeLessThan(10_000);
    const served = await inBatches(routes, 20, (r) => servedBy(r.port, r.hostname, ca));
    expect(served.filter((s) => s !== "web")).toEqual([]);
    for (const port of ports) expect(await listenersOn(port)).toBe(1);
    await expectAlive();
  });
});
