// Bad input at the operator's edge (config file, environment, bootstrap route file) and the API
// caller's edge (AddRoute/RemoveRoute/SetBackend/GetRoute over the socket and REST), against the
// built process: each is refused with a message naming what and where, and changes nothing.

import { once } from "node:events";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromJson, type JsonObject } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { appendTokenEntry, mintToken } from "@mcp/mcdsl/auth";
import { connectEvents } from "@mcp/mcdsl/events";
import { curl, type NatsServer, startApp, startNatsServer } from "@mcp/mcdsl/testing";
import { RouteSchema } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { RouteService } from "@mcp/proto/mcproxy/v1/service_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { badRoutes, configRefusals, notHostPort, one } from "./bad-input-cases.js";
import {
  badRoute,
  configCase,
  connectJson,
  errorOf,
  plantNonCertificates,
  refused,
  refusedAdd,
  refusesToStart,
  rest,
  restCodes,
  snapshot,
  tokenFile,
  tryStart,
} from "./bad-input-setup.js";
import { freePort, MAIN, type ProxyProcess, startProxy } from "./harness.js";
import { createPki, type Pki } from "./pki.js";

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "mcproxy-bad-input-"));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe.concurrent("config file (--config) and environment", () => {
  configRefusals.forEach(([what, set, message, env], i) => {
    it(`refuses ${what}, naming where`, () => refusesToStart(root, `refusal-${i}`, set, message, env));
  });

  it("refuses a missing config file and a group-writable tokens file", async () => {
    const file = join(root, "missing", "mcproxy.toml");
    const out = await tryStart(file, "http://127.0.0.1:1");
    expect([out.code, out.stderr]).toEqual([
      1,
      `mcproxy-registry: ${file}: cannot read the file: no such file\n`,
    ]);
    const tokens = join(root, "writable-tokens.toml");
    copyFileSync(tokenFile(root), tokens);
    chmodSync(tokens, 0o664);
    const writable = "token file is group- or world-writable (mode 0664); chmod 600 it";
    await refusesToStart(
      root,
      "writable",
      { "auth.tokens_file": JSON.stringify(tokens) },
      `${tokens}: ${writable}`,
    );
  });

  it("creates a database directory that does not exist (the data directory of a first start)", async () => {
    const c = await configCase(root, "db-new-dir", { "database.path": '"{dir}/new/routes.db"' });
    expect((await tryStart(c.file, c.apiUrl)).code).toBe("running");
    expect(existsSync(join(c.dir, "new", "routes.db"))).toBe(true);
  });

  // Was accepted: the start went through, every route "not served" (getaddrinfo ENOTFOUND).
  it('refuses bind = "not-an-ip", naming [proxy] bind', async () => {
    await refusesToStart(root, "bind", { "proxy.bind": '"not-an-ip"' }, "{at}: [proxy] bind:");
  });

  // The API's listeners open first, so these stop the start before any route listener or the
  // socket file exists (it used to bind last and fail with Node's bare errors, naming no key).
  it("refuses [server] listen on a port in use before anything opens, naming the key", async () => {
    const holder = createServer().listen(0, "127.0.0.1");
    await once(holder, "listening");
    const listen = `"127.0.0.1:${(holder.address() as AddressInfo).port}"`;
    await refusesToStart(root, "taken", { "server.listen": listen }, "{at}: [server] listen:").finally(() =>
      holder.close(),
    );
  });
  it("refuses [proxy] http_redirect_port in use before any route listener opens, naming the key", async () => {
    const holder = createServer().listen(0, "127.0.0.1");
    await once(holder, "listening");
    const port = String((holder.address() as AddressInfo).port);
    await refusesToStart(
      root,
      "redirect",
      { "proxy.http_redirect_port": port },
      `{at}: [proxy] http_redirect_port: cannot listen on 127.0.0.1:${port}:`,
    ).finally(() => holder.close());
  });
  it("refuses [server] listen on a host that is no address before anything opens", async () => {
    await refusesToStart(root, "host", { "server.listen": '"999.1.1.1:9093"' }, "{at}: [server] listen:");
  });
  it("refuses a [server] tls_cert_file that does not exist before anything opens", async () => {
    const tls = { "server.tls_cert_file": '"{dir}/no.pem"', "server.tls_key_file": '"{dir}/no.key"' };
    await refusesToStart(root, "tls", tls, "{at}: [server] tls_cert_file:");
  });
});

describe("the admin API: one process, the socket and REST", () => {
  let nats: NatsServer;
  let proxy: ProxyProcess;
  let pki: Pki;
  let bootId: string;
  let reader: string;
  /** Hostnames of refused changes: no event may carry one. */
  const refusedHosts = new Set(["bad.test"]);

  beforeAll(async () => {
    const dir = join(root, "api");
    pki = createPki(join(dir, "pki"));
    for (const host of ["good.test", "other.test"]) pki.issue(host);
    plantNonCertificates(pki.dir);
    const viewer = mintToken("viewer", []);
    reader = viewer.token;
    appendTokenEntry(join(dir, "tokens.toml"), viewer.entry);
    nats = await startNatsServer();
    const port = await freePort();
    const bootstrap = `[[listeners]]\naddr = ":${port}"\n[[listeners.routes]]\nhostname = "boot.test"\nbackend = "127.0.0.1:9"\n`;
    proxy = await startProxy(dir, { natsUrl: nats.url, certDir: pki.dir, bootstrap });
    bootId = (await proxy.client.listRoutes({})).routes[0]!.id;
  });

  afterAll(async () => {
    await proxy?.stop();
    await nats?.stop();
  });

  const [IA, FP] = [Code.InvalidArgument, Code.FailedPrecondition];
  for (const [what, more, code, message, restMessage] of badRoutes) {
    it(`AddRoute refuses ${what}`, async () => {
      const at = (m?: string) => m?.replaceAll("{certs}", pki.dir);
      await refusedAdd(proxy, await badRoute(more, pki.dir), code, at(message)!, at(restMessage));
    });
  }

  /** Adds `more` over a valid route (owner "app" over the socket); returns the stored route. */
  const add = async (more: JsonObject) =>
    (
      await proxy.client.addRoute({
        route: { ...fromJson(RouteSchema, await badRoute(more, "")), owner: "app" },
      })
    ).route!;
  /** Removes what a bug let in, so the other tests see the routes they expect. */
  const cleanUp = async (hostname: string) => {
    for (const r of (await proxy.client.listRoutes({ hostname })).routes)
      await proxy.client.removeRoute({ id: r.id, owner: r.owner });
  };

  it("AddRoute normalizes upper case and a trailing dot, and [::1]:80 is a backend", async () => {
    const added = await add({ hostname: "Mixed.Case.TEST.", ...one("[::1]:80") });
    expect([added.hostname, added.backends[0]?.address]).toEqual(["mixed.case.test", "[::1]:80"]);
    const again = await badRoute({ listenerPort: added.listenerPort, hostname: "mixed.case.test" }, "");
    await refusedAdd(
      proxy,
      again,
      Code.AlreadyExists,
      `mixed.case.test on port ${added.listenerPort} is taken by owner "app"`,
    );
    await proxy.client.removeRoute({ id: added.id, owner: "app" });
  });

  it("AddRoute on the admin API's own port is FailedPrecondition naming it, and the API goes on", async () => {
    const apiPort = Number(new URL(proxy.apiUrl).port);
    await refusedAdd(
      proxy,
      await badRoute({ listenerPort: apiPort }, ""),
      FP,
      `cannot listen on port ${apiPort}: listen EADDRINUSE`,
    );
    expect((await curl(`${proxy.apiUrl}/readyz`)).status).toBe(200);
  });

  // SNI never carries an IP address (RFC 6066 section 3): such a route could never match.
  it("AddRoute refuses an IPv4 address as hostname", async () => {
    await refusedAdd(proxy, await badRoute({ hostname: "127.0.0.1" }, ""), IA, "hostname:").finally(() =>
      cleanUp("127.0.0.1"),
    );
  });

  // A backend host must be an IP address or a DNS name (it could never be dialed otherwise).
  it("AddRoute refuses a backend host with spaces", async () => {
    const route = await badRoute({ hostname: "spaces.test", ...one("not a host:80") }, "");
    await refusedAdd(proxy, route, IA, "backends[0].address:").finally(() => cleanUp("spaces.test"));
  });

  // Connect JSON refuses unknown fields, as REST does: a misspelt `proxyProtocl: true` must not
  // add a route without the PROXY protocol.
  it("AddRoute over Connect JSON refuses an unknown field", async () => {
    const route = { ...(await badRoute({ hostname: "typo.test" }, "")), proxyProtocl: true };
    const res = await connectJson(proxy.socket, "AddRoute", { route }).finally(() => cleanUp("typo.test"));
    expect(res.json).toEqual({ code: "invalid_argument", message: expect.stringContaining("proxyProtocl") });
  });

  it("REST: bad bodies and missing rights get a status, a code and a message; nothing changes", async () => {
    const big = join(root, "big.json");
    writeFileSync(big, `{"hostname":"${"a".repeat(10 << 20)}"}`);
    const valid = JSON.stringify(await badRoute({}, ""));
    const [T, json, codes] = [proxy.token, (b: string) => ["-d", b], restCodes];
    // [what, token, curl arguments, status, message]
    const cases: [string, string | undefined, string[], number, string][] = [
      ["malformed JSON", T, json('{"hostname":'), 400, "request body is not valid JSON: Unexpected end"],
      [
        "a string for the route",
        T,
        json('"x"'),
        400,
        'route: expected an object (mcproxy.v1.Route), got "x"',
      ],
      [
        "an unknown field",
        T,
        json(valid.replace("{", '{"colour":1,')),
        400,
        "route.colour: no such field in mcproxy.v1.Route",
      ],
      [
        "a wrong type",
        T,
        ["-H", "content-type: text/plain", ...json(valid)],
        415,
        "body must be application/json",
      ],
      ["a 10 MB body", T, ["--data-binary", `@${big}`], 413, "larger than the limit of 4194304 bytes"],
      ["no token", undefined, json(valid), 401, "missing bearer token"],
      ["a wrong token", "mcp_nope", json(valid), 401, "unknown or expired token"],
      ["a reader's token", reader, json(valid), 403, "identity 'viewer' lacks any of roles 'admin', 'agent'"],
    ];
    const before = await snapshot(proxy);
    for (const [what, token, args, status, message] of cases) {
      const res = await rest(proxy.apiUrl, token, "POST", "/v1/routes", undefined, ...args);
      const error = { code: codes[status], message: expect.stringContaining(message) };
      expect([what, res.status, res.json]).toEqual([what, status, error]);
    }
    const removal = await rest(proxy.apiUrl, reader, "DELETE", `/v1/routes/${bootId}`);
    expect([removal.status, (removal.json as { code: string }).code]).toEqual([403, "permission_denied"]);
    expect((await rest(proxy.apiUrl, reader, "GET", `/v1/routes/${bootId}`)).status).toBe(200);
    expect(await snapshot(proxy)).toEqual(before);
  });

  it("Connect on TCP: Unauthenticated without a token, PermissionDenied without the role", async () => {
    const tcp = createClient(
      RouteService,
      createConnectTransport({ baseUrl: proxy.apiUrl, httpVersion: "1.1" }),
    );
    expect((await errorOf(tcp.listRoutes({}))).code).toBe(Code.Unauthenticated);
    const route = fromJson(RouteSchema, await badRoute({}, ""));
    const headers = { authorization: `Bearer ${reader}` };
    expect((await errorOf(tcp.addRoute({ route }, { headers }))).code).toBe(Code.PermissionDenied);
    expect((await tcp.listRoutes({}, { headers })).routes.length).toBeGreaterThan(0);
  });

  it("a route that does not exist: NotFound (404) for Get, Remove and SetBackend; an empty id", async () => {
    const notFound = 'route "nope" not found';
    const b9 = one("127.0.0.1:9");
    const { getRoute, removeRoute, setBackend } = proxy.client;
    for (const call of [
      () => getRoute({ id: "nope" }),
      () => removeRoute({ id: "nope" }),
      () => setBackend({ id: "nope", ...b9 }),
    ]) {
      const err = await errorOf(call());
      expect([err.code, err.rawMessage]).toEqual([Code.NotFound, notFound]);
    }
    for (const [method, path, body] of [
      ["GET", ""],
      ["DELETE", ""],
      ["POST", ":setBackend", b9],
    ] as const) {
      const res = await rest(proxy.apiUrl, proxy.token, method, `/v1/routes/nope${path}`, body);
      expect([res.status, res.json]).toEqual([404, { code: "not_found", message: notFound }]);
    }
    await removeRoute({ id: "nope", allowMissing: true });
    const empty = await errorOf(getRoute({ id: "" }));
    expect([empty.code, empty.rawMessage]).toEqual([IA, "id: must not be empty"]);
  });

  it("a bootstrap route: Remove and SetBackend FailedPrecondition, AddRoute of its name AlreadyExists", async () => {
    const before = await snapshot(proxy);
    const fromFile = `route ${bootId} comes from the bootstrap file; edit the file instead`;
    const { removeRoute, setBackend } = proxy.client;
    for (const call of [
      () => removeRoute({ id: bootId, owner: "bootstrap" }),
      () => setBackend({ id: bootId, owner: "bootstrap", ...one("127.0.0.1:10") }),
    ]) {
      const err = await errorOf(call());
      expect([err.code, err.rawMessage]).toEqual([FP, fromFile]);
    }
    const res = await rest(proxy.apiUrl, proxy.token, "DELETE", `/v1/routes/${bootId}`);
    expect([res.status, res.json]).toEqual([400, { code: "failed_precondition", message: fromFile }]);
    const port = (await proxy.client.getRoute({ id: bootId })).route!.listenerPort;
    const same = await badRoute({ listenerPort: port, hostname: "boot.test" }, "");
    await refusedAdd(
      proxy,
      same,
      Code.AlreadyExists,
      `boot.test on port ${port} is taken by a bootstrap route`,
    );
    expect(await snapshot(proxy)).toEqual(before);
  });

  it("another owner's route: FailedPrecondition naming both; bad backends and drains from the owner", async () => {
    const route = await add({ hostname: "owned.test" });
    const before = await snapshot(proxy);
    const [id, to10] = [route.id, one("127.0.0.1:10")];
    const notYours = (who: string) => `route ${id} belongs to owner "app", not "${who}"`;
    const switched = await errorOf(proxy.client.setBackend({ id, owner: "intruder", ...to10 }));
    expect([switched.code, switched.rawMessage]).toEqual([FP, notYours("intruder")]);
    const removed = await rest(proxy.apiUrl, proxy.token, "DELETE", `/v1/routes/${id}`);
    expect([removed.status, removed.json]).toEqual([
      400,
      { code: "failed_precondition", message: notYours("deployer") },
    ]);
    const bad = await errorOf(proxy.client.setBackend({ id, owner: "app", ...one("nope") }));
    expect([bad.code, bad.rawMessage]).toEqual([IA, expect.stringContaining(notHostPort("nope"))]);
    const body = { owner: "app", ...to10, drainTimeout: "-5s" };
    const drain = await rest(proxy.apiUrl, proxy.token, "POST", `/v1/routes/${id}:setBackend`, body);
    expect(drain.json).toEqual({ code: "invalid_argument", message: "drain_timeout: must not be negative" });
    expect(await snapshot(proxy)).toEqual(before);
    await proxy.client.removeRoute({ id, owner: "app" });
  });

  // By design (README, "Owner"): the owner guards one service's routes against another's
  // deploys; the agent role is the boundary, and the agent acts for every service, so an agent
  // token names the owner it acts for.
  it("an agent token acts for the owner it names", async () => {
    const route = await add({ hostname: "spoof.test" });
    const path = `/v1/routes/${route.id}?owner=app`;
    const res = await rest(proxy.apiUrl, proxy.token, "DELETE", path).finally(() => cleanUp("spoof.test"));
    expect(res.status).toBe(200);
  });

  it("published events for the accepted changes only", async () => {
    const bus = await connectEvents({ servers: [nats.url], name: "test", app: "test", node: "test" });
    const seen: string[] = [];
    for await (const e of bus.replay({ fromSequence: 1, filter: "mcp.route.>" }))
      seen.push(`${e.type} ${e.subject}`);
    await bus.close();
    expect(seen.filter((e) => refusedHosts.has(e.split(" ")[1]!))).toEqual([]);
    const changes = [
      "added mixed.case.test",
      "removed mixed.case.test",
      "added owned.test",
      "removed owned.test",
    ];
    expect(seen.filter((e) => /mixed|owned/.test(e))).toEqual(changes.map((c) => `mcp.route.${c}`));
  });
});

describe.concurrent("bootstrap routes file", () => {
  const route = (hostname: string, more = "") =>
    `[[listeners.routes]]\nhostname = "${hostname}"\nbackend = "127.0.0.1:9"\n${more}`;

  it("refuses a hostname twice on one listener (whatever its case), at its file and line", async () => {
    const twice = join(root, "twice.toml");
    writeFileSync(twice, `[[listeners]]\naddr = ":9"\n${route("a.test")}${route("A.test")}`);
    const set = { "proxy.bootstrap_file": JSON.stringify(twice) };
    await refusesToStart(root, "twice", set, `${twice}:6: [listeners[0]] routes[1]: a.test on port 9 twice`);
  });

  // The start goes on without the route (logged "route not served", naming the file but not the
  // bootstrap file's line); ListRoutes shows it like a served one. The README's "a bad one stops
  // the start" covers only the file's form; it does not say what happens to missing certificates.
  it("an L7 route whose certificate files are missing: the rest is served, it is logged naming the file", async () => {
    const [l4, l7] = [await freePort(), await freePort()];
    const routes = `[[listeners]]\naddr = ":${l4}"\n${route("l4.test")}[[listeners]]\naddr = ":${l7}"\n${route("web.test", 'mode = "l7"\n')}`;
    writeFileSync(join(root, "l7.toml"), routes);
    const c = await configCase(root, "l7-missing", {
      "proxy.bootstrap_file": JSON.stringify(join(root, "l7.toml")),
    });
    const app = startApp(MAIN, ["--config", c.file]);
    try {
      await app.waitReady(`${c.apiUrl}/readyz`);
      expect([await refused(l4), await refused(l7)]).toEqual([false, true]);
      expect(app.stdout()).toContain(
        `certificate file ${c.dir}/certs/web.test.pem cannot be read: no such file`,
      );
      expect(app.stdout()).toContain('"msg":"route not served"');
      const listed = (await connectJson(c.socket, "ListRoutes", {})).json as {
        routes: { hostname: string }[];
      };
      expect(listed.routes.map((r) => r.hostname).sort()).toEqual(["l4.test", "web.test"]);
    } finally {
      await app.stop();
    }
  });
});
