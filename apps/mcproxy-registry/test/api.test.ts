// The admin API through the real process: the Connect client over the Unix socket (no token) and
// curl over TCP (bearer token), changes served at once, persisted across a restart, bootstrap
// routes from the old TOML file protected, and every change published on NATS.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectEvents } from "@mcp/mcdsl/events";
import { curl, type NatsServer, startApp, startNatsServer } from "@mcp/mcdsl/testing";
import { RouteMode } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Backend,
  curlVia,
  eventually,
  freePort,
  MAIN,
  type ProxyProcess,
  startProxy,
  startTlsBackend,
} from "./harness.js";
import { createPki, type Pki } from "./pki.js";

let dir: string;
let pki: Pki;
let nats: NatsServer;
let proxy: ProxyProcess;
let port: number;
let one: Backend;
let two: Backend;

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mcproxy-api-"));
  pki = createPki(join(dir, "pki"));
  pki.issue("app.test");
  pki.issue("boot.test");
  one = await startTlsBackend("one", join(pki.dir, "app.test.pem"), join(pki.dir, "app.test.key"));
  two = await startTlsBackend("two", join(pki.dir, "app.test.pem"), join(pki.dir, "app.test.key"));
  const boot = await startTlsBackend("boot", join(pki.dir, "boot.test.pem"), join(pki.dir, "boot.test.key"));
  nats = await startNatsServer();
  port = await freePort();
  proxy = await startProxy(join(dir, "proxy"), {
    natsUrl: nats.url,
    bootstrap: `[[listeners]]\naddr = ":${port}"\n\n[[listeners.routes]]\nhostname = "boot.test"\nbackend = "${boot.address}"\n`,
  });
  return () => boot.close();
});

afterAll(async () => {
  await proxy?.stop();
  await one?.close();
  await two?.close();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("RouteService", () => {
  let id = "";

  it("serves bootstrap routes from the old route file before any API call, and protects them", async () => {
    expect((await curlVia(port, "boot.test", pki.rootFile)).json).toMatchObject({ backend: "boot" });
    const { routes } = await proxy.client.listRoutes({});
    expect(routes).toHaveLength(1);
    expect(routes[0]).toMatchObject({ hostname: "boot.test", bootstrap: true, listenerPort: port });
    const err = await codeOf(proxy.client.removeRoute({ id: routes[0]!.id, owner: "bootstrap" }));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toContain("bootstrap file");
  });

  it("adds a route over the socket without a token and serves it at once", async () => {
    expect(statSync(proxy.socket).mode & 0o777).toBe(0o660);
    const { route } = await proxy.client.addRoute({
      route: {
        listenerPort: port,
        hostname: "App.Test",
        mode: RouteMode.L4,
        backends: [{ address: one.address }],
        owner: "app",
      },
    });
    id = route!.id;
    expect(route).toMatchObject({ hostname: "app.test", owner: "app", bootstrap: false });
    expect((await curlVia(port, "app.test", pki.rootFile)).json).toMatchObject({ backend: "one" });
    // A retry of the same call is safe; another owner or other settings are refused.
    const again = await proxy.client.addRoute({
      route: {
        listenerPort: port,
        hostname: "app.test",
        mode: RouteMode.L4,
        backends: [{ address: one.address }],
        owner: "app",
      },
    });
    expect(again.route?.id).toBe(id);
    const taken = await codeOf(
      proxy.client.addRoute({
        route: {
          listenerPort: port,
          hostname: "app.test",
          mode: RouteMode.L4,
          backends: [{ address: one.address }],
          owner: "other",
        },
      }),
    );
    expect(taken.code).toBe(Code.AlreadyExists);
  });

  it("refuses malformed input naming the field", async () => {
    const bad = await codeOf(
      proxy.client.addRoute({
        route: {
          listenerPort: port,
          hostname: "x.test",
          mode: RouteMode.L4,
          backends: [{ address: "nope" }],
          owner: "app",
        },
      }),
    );
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.rawMessage).toContain("backends[0].address");
    const noCert = await codeOf(
      proxy.client.addRoute({
        route: {
          listenerPort: port,
          hostname: "x.test",
          mode: RouteMode.L7,
          backends: [{ address: one.address }],
          owner: "app",
        },
      }),
    );
    expect(noCert.code).toBe(Code.FailedPrecondition);
    expect(noCert.rawMessage).toContain("x.test.pem");
  });

  it("switches the backend at once, for the owner only", async () => {
    const { route } = await proxy.client.setBackend({
      id,
      owner: "app",
      backends: [{ address: two.address }],
      drainTimeout: { seconds: 5n },
    });
    expect(route?.backends.map((b) => b.address)).toEqual([two.address]);
    expect((await curlVia(port, "app.test", pki.rootFile)).json).toMatchObject({ backend: "two" });
    const wrongOwner = await codeOf(
      proxy.client.setBackend({ id, owner: "intruder", backends: [{ address: one.address }] }),
    );
    expect(wrongOwner.code).toBe(Code.FailedPrecondition);
  });

  it("requires a token on TCP, and serves REST with one", async () => {
    const anonymous = await curl("-d", "{}", `${proxy.apiUrl}/v1/routes`);
    expect(anonymous.status).toBe(401);
    const auth = ["-H", `authorization: Bearer ${proxy.token}`];
    const added = await curl(
      ...auth,
      "-d",
      JSON.stringify({
        listenerPort: port,
        hostname: "rest.test",
        mode: "ROUTE_MODE_L4",
        backends: [{ address: one.address }],
      }),
      `${proxy.apiUrl}/v1/routes`,
    );
    expect(added.status).toBe(200);
    // The owner defaults to the token's identity.
    expect(added.json).toMatchObject({ route: { hostname: "rest.test", owner: "deployer" } });
    const listed = await curl(...auth, `${proxy.apiUrl}/v1/routes?hostname=rest.test`);
    expect((listed.json as { routes: unknown[] }).routes).toHaveLength(1);
    const restId = (added.json as { route: { id: string } }).route.id;
    expect((await curl(...auth, "-X", "DELETE", `${proxy.apiUrl}/v1/routes/${restId}`)).status).toBe(200);
    expect((await curl(...auth, `${proxy.apiUrl}/v1/routes/${restId}`)).status).toBe(404);
  });

  it("keeps API routes across a restart, and serves them again", async () => {
    await proxy.restart();
    const { route } = await proxy.client.getRoute({ id });
    expect(route?.backends.map((b) => b.address)).toEqual([two.address]);
    expect((await curlVia(port, "app.test", pki.rootFile)).json).toMatchObject({ backend: "two" });
    expect((await curlVia(port, "boot.test", pki.rootFile)).json).toMatchObject({ backend: "boot" });
  });

  it("removes a route: its listener stays for the others, the name is refused", async () => {
    await proxy.client.removeRoute({ id, owner: "app" });
    await proxy.client.removeRoute({ id, owner: "app", allowMissing: true });
    expect((await codeOf(proxy.client.getRoute({ id }))).code).toBe(Code.NotFound);
    await expect(curlVia(port, "app.test", pki.rootFile)).rejects.toThrow(/unrecognized name/);
    expect((await curlVia(port, "boot.test", pki.rootFile)).json).toMatchObject({ backend: "boot" });
  });

  it("published every change as mcp.route.* with the hostname as subject", async () => {
    const bus = await connectEvents({ servers: [nats.url], name: "test", app: "test", node: "test" });
    const seen = await eventually(async () => {
      const events = [];
      for await (const e of bus.replay({ fromSequence: 1, filter: "mcp.route.>" })) events.push(e);
      return events.length >= 5 && events;
    });
    await bus.close();
    expect(seen.map((e) => `${e.type} ${e.subject}`)).toEqual([
      "mcp.route.added app.test",
      "mcp.route.switched app.test",
      "mcp.route.added rest.test",
      "mcp.route.removed rest.test",
      "mcp.route.removed app.test",
    ]);
    expect(seen[1]!.data).toMatchObject({ routeId: id, from: one.address, to: two.address });
  });

  it("refuses to start on a bad bootstrap file, naming the file, line and problem", async () => {
    const bad = join(dir, "bad-routes.toml");
    writeFileSync(
      bad,
      `[[listeners]]\naddr = ":8443"\n\n[[listeners.routes]]\nhostname = "ok.test"\nbackend = "localhost"\nmod = "l4"\n`,
    );
    const config = join(dir, "bad.toml");
    writeFileSync(
      config,
      readFileSync(proxy.configFile, "utf8").replace(/bootstrap_file = ".*"/, `bootstrap_file = "${bad}"`),
    );
    const app = startApp(MAIN, ["--config", config]);
    expect(await app.exited()).toBe(1);
    expect(app.stderr()).toContain(
      `${bad}:7: [listeners[0].routes[0]] mod: unknown key (did you mean "mode"?)`,
    );
  });
});
