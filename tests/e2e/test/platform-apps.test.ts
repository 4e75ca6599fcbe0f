// The platform on itself: examples/platform/{mcns,cert-broker,mcproxy-registry}.toml deployed with
// `mcp deploy` by the real agent, as containers of the images `make images` builds, then reached
// the way a user reaches them: dig on MCNS's published DNS port, curl through mc-proxy on
// cert-broker's route, and a route on the containerized mc-proxy carrying hello's TLS.
//
// The definitions are used as written except for what would touch the node: their host folders
// (/etc/<app>, /srv/<app>) become folders of this test, and fixed host ports (MCNS's 53 and
// 28053, cert-broker's route port 9443) become free ones. The running platform (up.sh) plays the
// bootstrap role the operator's guide describes: its cert-broker issues the containerized
// cert-broker's certificate, its mc-proxy carries the route, its MCNS the record.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { appendTokenEntry, mintToken } from "@mcp/mcdsl/auth";
import { loadServiceDefinition } from "@mcp/mcdsl/servicedef";
import { freePort } from "@mcp/mcdsl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HELLO_HOST, Platform, PROXY_PORT } from "./helpers/platform.js";
import { run, runOk, waitFor } from "./helpers/run.js";
import { REPO } from "./helpers/view.js";

let platform: Platform;
let root: string;
const token = mintToken("agent", ["agent"]);
const port = { mcnsApi: 0, mcnsDns: 0, certBrokerRoute: 0, mcproxyApi: 0, mcproxyRoute: 0 };

/** examples/platform/<name>.toml with host folders under `root` and the given text replacements. */
function definition(name: string, replacements: [string, string][] = []): string {
  let text = readFileSync(join(REPO, "examples/platform", `${name}.toml`), "utf8");
  // Volume sources: "/etc/x:…" and "/srv/x:…" (the targets, after the colon, stay).
  text = text.replace(/"(\/(?:etc|srv)\/[^:"]+):/g, (_, source: string) => {
    mkdirSync(join(root, source), { recursive: true });
    return `"${join(root, source)}:`;
  });
  for (const [from, to] of replacements) {
    if (!text.includes(from)) throw new Error(`examples/platform/${name}.toml no longer contains ${from}`);
    text = text.replaceAll(from, to);
  }
  const file = join(root, `${name}.toml`);
  writeFileSync(file, text);
  loadServiceDefinition(file); // still a valid definition
  return file;
}

beforeAll(async () => {
  // The app images (cached by images/build.sh: seconds when they are up to date).
  await runOk(join(REPO, "images/build.sh"), ["mcns", "cert-broker", "mcproxy-registry"], {
    timeoutMs: 280_000,
  });
  platform = await Platform.start("platform-apps");
  root = join(platform.dir, ".node");
  for (const key of Object.keys(port) as (keyof typeof port)[]) port[key] = await freePort();

  // What the definitions' comments say to put in /etc/<app> before the first deploy. Events stay
  // off: the containers cannot reach this platform's nats-server, which listens on 127.0.0.1 only.
  mkdirSync(join(root, "etc/mcns"), { recursive: true });
  appendTokenEntry(join(root, "etc/mcns/tokens.toml"), token.entry);
  writeFileSync(join(root, "agent-token"), token.token, { mode: 0o600 });
  writeFileSync(
    join(root, "etc/mcns/mcns.toml"),
    '[auth]\ntokens_file = "/etc/mcns/tokens.toml"\n[events]\nservers = []\nnode = "e2e"\n' +
      '[[zones]]\nname = "node.test"\nprimary_ns = "ns1.node.test"\nadmin_mailbox = "hostmaster.node.test"\nwriters = ["agent"]\n',
  );
  mkdirSync(join(root, "etc/cert-broker"), { recursive: true });
  appendTokenEntry(join(root, "etc/cert-broker/tokens.toml"), token.entry);
  writeFileSync(join(root, "etc/cert-broker/cert-broker.toml"), '[events]\nservers = []\nnode = "e2e"\n');
  mkdirSync(join(root, "etc/mcproxy-registry"), { recursive: true });
  const admin = mintToken("ops", ["admin"]);
  appendTokenEntry(join(root, "etc/mcproxy-registry/tokens.toml"), admin.entry);
  writeFileSync(join(root, "admin-token"), admin.token, { mode: 0o600 });
  writeFileSync(
    join(root, "etc/mcproxy-registry/mcproxy-registry.toml"),
    `[server]\nlisten = "127.0.0.1:${port.mcproxyApi}"\n[proxy]\nbind = "127.0.0.1"\n[events]\nservers = []\nnode = "e2e"\n`,
  );
});

afterAll(async () => {
  // Stop them through the agent while it runs; Platform.stop removes whatever is left.
  for (const name of ["mcproxy-registry", "cert-broker", "mcns"]) await platform?.mcp("stop", name);
  await platform?.stop();
});

describe("examples/platform deployed with mcp deploy", () => {
  it("mcns: deploys as a container; dig answers on its DNS port, the record API on its own", async () => {
    const file = definition("mcns", [
      ["127.0.0.1:28053:8053", `127.0.0.1:${port.mcnsApi}:8053`],
      ["0.0.0.0:53:5353/udp", `127.0.0.1:${port.mcnsDns}:5353/udp`],
      ["0.0.0.0:53:5353/tcp", `127.0.0.1:${port.mcnsDns}:5353/tcp`],
    ]);
    const out = await platform.mcpOk("deploy", file);
    expect(out).toMatch(/health\.passed\s+done\s+mcns-mcns is healthy \(http \/readyz\)/);
    // A record through its API (the mcp command pointed at it), then dig over UDP and TCP.
    const viaContainer = {
      MCP_MCNS_ADDRESS: `http://127.0.0.1:${port.mcnsApi}`,
      MCP_TOKEN_FILE: join(root, "agent-token"),
    };
    const add = await platform.mcpEnv(
      viaContainer,
      "dns",
      "add",
      "www.node.test",
      "A",
      "192.0.2.10",
      "--owner",
      "e2e",
    );
    expect(add.code, add.stderr).toBe(0);
    for (const proto of ["+notcp", "+tcp"]) {
      const dig = await runOk("dig", [
        "@127.0.0.1",
        "-p",
        String(port.mcnsDns),
        proto,
        "+short",
        "www.node.test",
        "A",
      ]);
      expect(dig.trim()).toBe("192.0.2.10");
    }
    expect(await platform.mcpOk("ps")).toMatch(
      /^mcns\s+mcns\s+mcns-mcns\s+\w+\s+localhost\/mcp\/mcns:0\.1\.0\s+running/m,
    );
  });

  it("mcns: a redeploy on fixed host ports stops the old container first; the new one serves the same data", async () => {
    const before = await platform.mcpJson<{ service: { components: { containerId: string }[] } }>(
      "status",
      "mcns",
    );
    const file = join(root, "mcns.toml");
    const changed = readFileSync(file, "utf8").replace(
      'MCNS_DNS_LISTEN = "0.0.0.0:5353"',
      'MCNS_DNS_LISTEN = "0.0.0.0:5353", MCNS_LOG_LEVEL = "debug"',
    );
    expect(changed).toContain("MCNS_LOG_LEVEL");
    writeFileSync(file, changed);
    const redeploy = await platform.mcp("deploy", file);
    expect(redeploy.code, `${redeploy.stdout}\n${redeploy.stderr}`).toBe(0);
    const after = await platform.mcpJson<{ service: { components: { containerId: string }[] } }>(
      "status",
      "mcns",
    );
    expect(after.service.components[0]?.containerId).not.toBe(before.service.components[0]?.containerId);
    // The record lives in the database on the data volume: the new container answers it.
    const dig = await runOk("dig", [
      "@127.0.0.1",
      "-p",
      String(port.mcnsDns),
      "+short",
      "www.node.test",
      "A",
    ]);
    expect(dig.trim()).toBe("192.0.2.10");
  });

  it("cert-broker: deploys with its route; dig and curl reach it through MCNS and mc-proxy", async () => {
    const file = definition("cert-broker", [["port = 9443", `port = ${port.certBrokerRoute}`]]);
    const out = await platform.mcpOk("deploy", file);
    const host = "cert-broker.svc.mcp.metacircular.net";
    expect(out).toMatch(
      new RegExp(`route\\.added\\s+done\\s+${host.replaceAll(".", "\\.")}:${port.certBrokerRoute} \\(l7\\)`),
    );
    expect(await platform.dig(host)).toEqual({ status: "NOERROR", answers: ["127.0.0.1"] });
    const bundle = await platform.https(host, port.certBrokerRoute, "/v1/trust-bundle");
    expect(bundle.stderr).toBe("");
    // The containerized broker's own root (a CA of its own, on its data volume).
    expect(JSON.parse(bundle.stdout).pem).toBe(
      readFileSync(join(root, "srv/cert-broker/ca/root.pem"), "utf8"),
    );
  });

  it("mcproxy-registry: deploys on the host network; a route on it carries hello's TLS through to hello", async () => {
    const out = await platform.mcpOk("deploy", definition("mcproxy-registry"));
    expect(out).toMatch(/completed\s+done\s+mcproxy-registry deployed/);
    expect(await platform.mcpOk("status")).toMatch(
      /^mcproxy-registry\s+mc-proxy\s+running\s+running\s+healthy/m,
    );
    // The agent counts a component with nothing to probe healthy once it runs (no routes, no
    // ports: it is the proxy), so its API may still be starting: wait for it.
    const api = `http://127.0.0.1:${port.mcproxyApi}`;
    await waitFor(
      async () => ((await run("curl", ["-sf", `${api}/readyz`])).code === 0 ? true : undefined),
      async () =>
        `the containerized mc-proxy never became ready: ${(await run("podman", ["logs", "mcproxy-registry-mc-proxy"])).stderr}`,
    );
    // An L4 route on the containerized mc-proxy to the platform's mc-proxy: TLS passes through, so
    // curl still verifies hello's certificate against the platform's root.
    const viaContainer = { MCP_MCPROXY_ADDRESS: api, MCP_TOKEN_FILE: join(root, "admin-token") };
    const add = await platform.mcpEnv(
      viaContainer,
      "route",
      "add",
      HELLO_HOST,
      `127.0.0.1:${PROXY_PORT}`,
      "--port",
      String(port.mcproxyRoute),
      "--mode",
      "l4",
    );
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain(`${HELLO_HOST}:${port.mcproxyRoute} (l4) -> 127.0.0.1:${PROXY_PORT}`);
    const page = await platform.https(HELLO_HOST, port.mcproxyRoute);
    expect(page.stderr).toBe("");
    expect(page.stdout).toContain("hello from MCP");
    // Its routes live in the database on its data volume.
    expect(readFileSync(join(root, "srv/mc-proxy/routes.db")).length).toBeGreaterThan(0);
  });
});
