// The seeds' metacrypt shape end to end: two components, three routes. `api` terminates TLS
// itself on two L4 routes (openssl s_server with the mounted certificate, key and CA), `web` is an
// L7 route with a public hostname as well. Checked as an operator would: the leased ports in the
// containers' environment, dig, curl through mc-proxy to each route with the chain verified
// against the root, every id in the registry, the events in order; stop leaves nothing but the
// certificate.
import { execFileSync } from "node:child_process";
import { parseServiceDefinition } from "@mcp/mcdsl/servicedef";
import { curl, freePort } from "@mcp/mcdsl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Platform, removeContainers, startPlatform, ZONE } from "./helpers/platform.js";
import { ensureOpensslImage, runPrefix, TEST_IMAGE } from "./helpers/podman-fixture.js";
import { containers, curlThrough, deploy, deployEvents, dig } from "./helpers/saga-client.js";
import { proxyRoutes, registryOf } from "./helpers/world.js";

const prefix = runPrefix();
const service = `${prefix}-metacrypt`;
const name = `${service}.${ZONE}`;
const publicName = `${service}.example.org`;
let platform: Platform;
let ports: { https: number; grpc: number; web: number };
let image: string;

beforeAll(async () => {
  image = ensureOpensslImage();
  ports = { https: await freePort(), grpc: await freePort(), web: await freePort() };
  platform = await startPlatform(prefix);
}, 90_000);

afterAll(async () => {
  removeContainers([service]);
  await platform?.stop();
});

const server = (variable: string) =>
  `openssl s_server -quiet -www -accept $${variable} -cert $TLS_CERT_FILE -cert_chain $TLS_CERT_FILE -key $TLS_KEY_FILE`;

describe("a two-component, three-route service (metacrypt)", () => {
  it("deploys, serves every route with a verified chain, and stops leaving only the certificate", async () => {
    const definition = parseServiceDefinition(
      `name = "${service}"
[[components]]
name = "api"
image = "${image}"
cmd = ["sh", "-c", "${server("PORT_HTTPS")} & ${server("PORT_GRPC")} & wait"]
[[components.routes]]
name = "https"
port = ${ports.https}
mode = "l4"
[[components.routes]]
name = "grpc"
port = ${ports.grpc}
mode = "l4"
[[components]]
name = "web"
image = "${TEST_IMAGE}"
cmd = ["httpd", "-f", "-p", "$PORT", "-h", "/www"]
[[components.routes]]
name = "web"
port = ${ports.web}
hostname = "${publicName}"
`,
      "metacrypt.toml",
    );
    const run = await deploy(platform.client, definition);
    expect(run.error).toBeUndefined();
    const dns = run.responses.filter(
      (r) => r.message.includes("example.org") && r.message.includes("outside"),
    );
    expect(dns).toHaveLength(1); // the public name is outside MCNS's zones: skipped with a warning

    const status = await platform.client.getServiceStatus({ name: service });
    const lease = (component: string, route: string) =>
      status.ports.find((p) => p.component === component && p.route === route)!.hostPort;
    expect(status.ports).toHaveLength(3);
    const env = JSON.parse(
      execFileSync("podman", ["inspect", "--format", "{{json .Config.Env}}", `${service}-api`], {
        encoding: "utf8",
      }),
    ) as string[];
    expect(env).toEqual(
      expect.arrayContaining([
        `PORT_HTTPS=${lease("api", "https")}`,
        `PORT_GRPC=${lease("api", "grpc")}`,
        "TLS_CERT_FILE=/run/mcp/tls/cert.pem",
        "TLS_KEY_FILE=/run/mcp/tls/key.pem",
        "TLS_CA_FILE=/run/mcp/tls/ca.pem",
      ]),
    );
    const caInside = execFileSync("podman", ["exec", `${service}-api`, "cat", "/run/mcp/tls/ca.pem"], {
      encoding: "utf8",
    });
    expect(caInside).toContain("BEGIN CERTIFICATE");

    expect(dig(platform.dnsPort, name)).toBe("127.0.0.1");
    for (const port of [ports.https, ports.grpc]) {
      const page = await curlThrough(port, name, platform.rootCa); // TLS from openssl in the container
      expect(page.status).toBe(200);
      expect(page.body).toContain("s_server");
    }
    expect((await curlThrough(ports.web, name, platform.rootCa)).body).toBe("hello from busybox\n");
    expect((await curlThrough(ports.web, publicName, platform.rootCa)).body).toBe("hello from busybox\n");

    // the registry holds every id: leases, the certificate, 4 proxy routes, the record
    expect(status.routes.map((r) => `${r.component}/${r.route} ${r.hostname}`).sort()).toEqual(
      [`api/grpc ${name}`, `api/https ${name}`, `web/web ${name}`, `web/web ${publicName}`].sort(),
    );
    expect(status.routes.every((r) => r.routeId !== "")).toBe(true);
    expect(status.records).toMatchObject([{ name, value: "127.0.0.1" }]);
    expect(status.records[0]!.recordId).not.toBe("");
    expect(status.certificates.map((c) => c.hostname).sort()).toEqual([name, publicName].sort());
    expect(status.service?.components.map((c) => [c.name, c.containerId !== ""])).toEqual([
      ["api", true],
      ["web", true],
    ]);

    const events = (await deployEvents(platform.nats.url, service)).map((e) =>
      e.type.split(".").slice(3).join("."),
    );
    expect(events).toEqual([
      "started",
      "port.leased",
      "port.leased",
      "port.leased",
      "cert.ready",
      "cert.ready",
      "container.started",
      "container.started",
      "health.passed",
      "health.passed",
      "dns.published",
      "dns.published",
      "route.added",
      "route.added",
      "route.added",
      "route.added",
      "completed",
    ]);

    await platform.client.stopService({ name: service });
    expect(containers(service)).toEqual([]);
    expect(await proxyRoutes(platform, service)).toEqual([]);
    expect(dig(platform.dnsPort, name)).toBe("");
    expect(registryOf(platform, service)).toMatchObject({ leases: [], routes: [], records: [] });
    expect((await platform.client.getServiceStatus({ name: service })).certificates).toHaveLength(2);
    expect(
      await curl("--max-time", "3", `http://127.0.0.1:${status.ports[0]!.hostPort}/`).catch(() => "refused"),
    ).toBe("refused");
  }, 90_000);
});
