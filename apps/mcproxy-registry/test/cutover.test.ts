// Zero-drop cut-over: a steady load of HTTPS requests (HTTP/1.1 and HTTP/2) runs through the real proxy while SetBackend
// moves the route from the old backend to the new one and the old backend then shuts down, as a
// deploy does. Not one request may fail, and every request started after the switch returned
// must be served by the new backend.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { type ClientHttp2Session, connect as connectHttp2 } from "node:http2";
import { Agent } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RouteMode } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  eventually,
  freePort,
  httpsGet,
  type ProxyProcess,
  startHttpBackend,
  startProxy,
  startTlsBackend,
} from "./harness.js";
import { createPki, type Pki } from "./pki.js";

let dir: string;
let pki: Pki;
let proxy: ProxyProcess;
let port: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcproxy-cutover-"));
  pki = createPki(join(dir, "pki"));
  proxy = await startProxy(join(dir, "proxy"), { certDir: pki.dir });
  port = await freePort();
});

afterAll(async () => {
  await proxy?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Outcome {
  startedAt: number;
  backend?: string;
  error?: string;
}

/** One GET through the proxy: the status and body, or a thrown error. */
type Fetch = () => Promise<{ status: number; body: string }>;

function viaHttps(hostname: string, agent: Agent): Fetch {
  return () => httpsGet(port, hostname, { agent, timeoutMs: 30_000 });
}

/** Requests spread over `sessions` HTTP/2 connections, many streams on each at once. */
function viaHttp2(sessions: ClientHttp2Session[]): Fetch {
  let next = 0;
  return () =>
    new Promise((resolve, reject) => {
      const session = sessions[next++ % sessions.length]!;
      const stream = session.request({ ":path": "/" });
      let status = 0;
      let body = "";
      stream.on("response", (h) => {
        status = Number(h[":status"]);
      });
      stream.on("data", (c) => {
        body += c;
      });
      stream.on("end", () => resolve({ status, body }));
      stream.on("error", reject);
    });
}

/** `workers` loops of `fetchOnce` until stop() is called; every outcome is recorded. */
function steadyLoad(fetchOnce: Fetch, workers: number) {
  const outcomes: Outcome[] = [];
  let running = true;
  const one = async () => {
    const outcome: Outcome = { startedAt: performance.now() };
    outcomes.push(outcome);
    try {
      const { status, body } = await fetchOnce();
      if (status === 200) outcome.backend = (JSON.parse(body) as { backend: string }).backend;
      else outcome.error = `status ${status}: ${body}`;
    } catch (err) {
      outcome.error = (err as Error).message;
    }
  };
  const loops = Array.from({ length: workers }, async () => {
    while (running) await one();
  });
  return {
    outcomes,
    served: (name: string) => outcomes.filter((o) => o.backend === name).length,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** The clients: HTTPS/1.1 with keep-alive, HTTPS/1.1 with a connection per request, or HTTP/2. */
type Clients = "keep-alive" | "close" | "h2";

async function cutOver(mode: "l4" | "l7", clients: Clients) {
  const hostname = `${mode}.${clients}.cutover.test`;
  pki.issue(hostname);
  const start =
    mode === "l4"
      ? (name: string) =>
          startTlsBackend(name, join(pki.dir, `${hostname}.pem`), join(pki.dir, `${hostname}.key`))
      : (name: string) => startHttpBackend(name);
  const oldBackend = await start("old");
  const newBackend = await start("new");
  const { route } = await proxy.client.addRoute({
    route: {
      listenerPort: port,
      hostname,
      mode: mode === "l4" ? RouteMode.L4 : RouteMode.L7,
      backends: [{ address: oldBackend.address }],
      owner: "deploy",
    },
  });
  const ca = readFileSync(pki.rootFile);
  // Finite maxSockets would make Node reuse a socket for a queued request even without keep-alive.
  const keepAlive = clients === "keep-alive";
  const agent = new Agent({ keepAlive, maxSockets: keepAlive ? 8 : Number.POSITIVE_INFINITY, ca });
  const sessions =
    clients === "h2"
      ? [0, 1].map(() => connectHttp2(`https://127.0.0.1:${port}`, { ca, servername: hostname }))
      : [];
  for (const session of sessions) session.on("error", () => {});
  const load = steadyLoad(
    clients === "h2" ? viaHttp2(sessions) : viaHttps(hostname, agent),
    clients === "h2" ? 12 : 6,
  );
  await eventually(async () => load.served("old") >= 100, 30_000);

  await proxy.client.setBackend({
    id: route!.id,
    owner: "deploy",
    backends: [{ address: newBackend.address }],
    drainTimeout: { seconds: 10n },
  });
  const switchedAt = performance.now();
  await eventually(async () => load.served("new") >= 100, 30_000);
  // The deploy stops the old version once its connections have drained.
  await eventually(
    async () => (await proxy.client.getRoute({ id: route!.id })).route?.draining.length === 0,
    15_000,
  );
  await oldBackend.close();
  const before = load.served("new");
  await eventually(async () => load.served("new") >= before + 100, 30_000);
  await load.stop();
  agent.destroy();
  for (const session of sessions) session.close();
  await newBackend.close();
  return { outcomes: load.outcomes, switchedAt };
}

describe("SetBackend under steady load", () => {
  it("L7 with keep-alive clients: no request fails, new requests go to the new backend at once", async () => {
    const { outcomes, switchedAt } = await cutOver("l7", "keep-alive");
    expect(outcomes.filter((o) => o.error)).toEqual([]);
    expect(outcomes.filter((o) => o.startedAt > switchedAt && o.backend === "old")).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(300);
  });

  it("L7 with HTTP/2 clients (streams in flight on shared connections): no request fails", async () => {
    const { outcomes, switchedAt } = await cutOver("l7", "h2");
    expect(outcomes.filter((o) => o.error)).toEqual([]);
    expect(outcomes.filter((o) => o.startedAt > switchedAt && o.backend === "old")).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(300);
  });

  it("L4 with a connection per request: no connection fails", async () => {
    const { outcomes, switchedAt } = await cutOver("l4", "close");
    expect(outcomes.filter((o) => o.error)).toEqual([]);
    expect(outcomes.filter((o) => o.startedAt > switchedAt && o.backend === "old")).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(300);
  });
});
