// Deploys that fail (DESIGN.md section 5, issue 7's failure list): an image that does not exist,
// a container that exits at once, cert-broker refusing the name, MCNS down, mc-proxy down. Each
// fails with a clear message and the right code, is rolled back completely, and where a previous
// version ran, it still serves. NATS down is no failure: the deploy goes on, its events wait in the
// agent's registry and reach NATS once it is back.
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { createLogger } from "@mcp/mcdsl/log";
import { parseServiceDefinition } from "@mcp/mcdsl/servicedef";
import { freePort } from "@mcp/mcdsl/testing";
import { DriftKind } from "@mcp/proto/mcp/agent/v1/status_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Registry } from "../src/store/registry.js";
import { oneRoute } from "./helpers/definitions.js";
import { type Platform, removeContainers, startPlatform, ZONE } from "./helpers/platform.js";
import { ensurePageImage, runPrefix, TEST_IMAGE } from "./helpers/podman-fixture.js";
import { containers, curlThrough, deploy, deployEvents, ONE_ROUTE_STEPS } from "./helpers/saga-client.js";
import { expectNothingLeft, proxyRoutes, registryOf } from "./helpers/world.js";

const prefix = runPrefix();
const V2 = "localhost/mcp-agent-test-page:v2";
let platform: Platform;
let proxyPort: number;
const services: string[] = [];

function named(suffix: string): string {
  const service = `${prefix}-${suffix}`;
  services.push(service);
  return service;
}

const definition = (service: string, image: string, extra = "") => {
  const d = oneRoute(service, image, extra);
  d.components[0]!.routes[0]!.port = proxyPort;
  return d;
};

beforeAll(async () => {
  ensurePageImage(V2, "hello v2");
  proxyPort = await freePort();
  platform = await startPlatform(prefix);
}, 60_000);

afterAll(async () => {
  removeContainers(services);
  await platform?.stop();
});

describe("failed deploys roll back", () => {
  it("an image that does not exist", async () => {
    const service = named("noimage");
    const run = await deploy(platform.client, definition(service, "localhost/no-such-image:1"));
    expect(run.error?.code).toBe(Code.FailedPrecondition);
    expect(run.error?.message).toContain("failed at container.started");
    expect(run.error?.message).toContain("localhost/no-such-image:1");
    expect(run.steps.at(-1)).toBe("rolled_back done");
    await expectNothingLeft(platform, service);
  }, 60_000);

  it("a container that exits at once", async () => {
    const service = named("exits");
    const d = parseServiceDefinition(
      `name = "${service}"\n[[components]]\nname = "web"\nimage = "${TEST_IMAGE}"\n` +
        `cmd = ["sh", "-c", "echo cannot start: no config; exit 3"]\nrestart = "no"\n` +
        `[[components.routes]]\nname = "http"\nport = ${proxyPort}\n`,
      "exits.toml",
    );
    const run = await deploy(platform.client, d);
    expect(run.error?.message).toMatch(/stopped during its health gate: (exited|stopped) \(code 3/);
    expect(run.error?.code).toBe(Code.FailedPrecondition);
    expect(run.error?.message).toContain("cannot start: no config");
    await expectNothingLeft(platform, service);
  }, 60_000);

  it("cert-broker refusing the name", async () => {
    const service = named("refused");
    const d = definition(service, TEST_IMAGE);
    const spec = parseServiceDefinition(
      `name = "${service}"\n[[components]]\nname = "web"\nimage = "${TEST_IMAGE}"\n` +
        `cmd = ["httpd", "-f", "-p", "$PORT", "-h", "/www"]\n` +
        `[[components.routes]]\nname = "http"\nport = ${proxyPort}\nhostname = "www.example.net"\n`,
      "refused.toml",
    );
    expect(d.name).toBe(spec.name);
    const run = await deploy(platform.client, spec);
    expect(run.error?.code).toBe(Code.PermissionDenied);
    expect(run.error?.message).toContain("failed at cert.ready");
    expect(run.error?.message).toContain("www.example.net");
    await expectNothingLeft(platform, service);
  }, 60_000);

  it("MCNS down", async () => {
    const service = named("nodns");
    await platform.stopPeer("mcns");
    try {
      const run = await deploy(platform.client, definition(service, TEST_IMAGE));
      expect(run.error?.code).toBe(Code.Unavailable);
      expect(run.error?.message).toContain("failed at dns.published: mcns");
    } finally {
      await platform.startPeer("mcns");
    }
    await expectNothingLeft(platform, service);
  }, 60_000);

  it("mc-proxy down during a redeploy: the previous version serves again once it is back", async () => {
    const service = named("noproxy");
    const first = await deploy(platform.client, definition(service, TEST_IMAGE));
    expect(first.error).toBeUndefined();
    const before = registryOf(platform, service);
    await platform.stopPeer("mcproxy-registry");
    try {
      const run = await deploy(platform.client, definition(service, V2));
      expect(run.error?.message).toContain("failed at route.added: mc-proxy");
      expect(run.error?.code).toBe(Code.Unavailable);
      const status = await platform.client.getServiceStatus({ name: service });
      expect(status.drift.map((d) => [DriftKind[d.kind], d.observed])).toEqual([["ROUTE", "unreachable"]]);
    } finally {
      await platform.startPeer("mcproxy-registry");
    }
    expect(registryOf(platform, service)).toMatchObject({
      leases: before.leases,
      routes: before.routes,
      deploys: ["rolled_back", "completed"],
    });
    expect(containers(service)).toEqual([
      { name: `${service}-web`, state: "running", deploy: first.deployId },
    ]);
    expect(await proxyRoutes(platform, service)).toEqual([`127.0.0.1:${before.leases[0]!.hostPort}`]);
    expect((await curlThrough(proxyPort, `${service}.${ZONE}`, platform.rootCa)).body).toBe(
      "hello from busybox\n",
    );
  }, 60_000);
});

describe("NATS down", () => {
  it("does not fail or hold up a deploy; its events wait in the registry and reach NATS once each when it is back", async () => {
    const service = named("nonats");
    await platform.nats.down();
    let waiting: number;
    let run: Awaited<ReturnType<typeof deploy>>;
    try {
      run = await deploy(platform.client, definition(service, TEST_IMAGE));
      const registry = new Registry(join(platform.dir, "agent", "registry.db"));
      try {
        waiting = registry.outbox({ logger: createLogger({ app: "test", level: "silent" }) }).pending;
      } finally {
        registry.close();
      }
    } finally {
      await platform.nats.up();
    }
    expect(run.error).toBeUndefined();
    expect(run.steps).toEqual(ONE_ROUTE_STEPS.map((s) => `${s.replace(".", "_")} done`));
    // `completed` was the last word: the deploy did not wait on NATS after it (the publish
    // timeout is seconds).
    expect(run.tailMs).toBeLessThan(2_500);
    expect(waiting).toBe(ONE_ROUTE_STEPS.length);

    // Published by the running agent (no restart), once each, in order.
    const deadline = Date.now() + 20_000;
    let events = await deployEvents(platform.nats.url, service);
    while (events.length < ONE_ROUTE_STEPS.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      events = await deployEvents(platform.nats.url, service);
    }
    expect(events.map((e) => e.type.replace(`mcp.deploy.${service}.`, ""))).toEqual(ONE_ROUTE_STEPS);
    expect(new Set(events.map((e) => e.deployId))).toEqual(new Set([run.deployId]));
  }, 60_000);
});
