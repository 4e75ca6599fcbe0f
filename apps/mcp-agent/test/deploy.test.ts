// The deploy saga end to end with the real platform: nats-server, mcns, cert-broker, mc-proxy,
// podman and the agent, each its built process. One service goes through its life: deploy (dig,
// curl through mc-proxy with the chain verified, events in order), a redeploy with a new image
// under load (nothing lost), a redeploy whose health gate fails (rolled back, the old version
// serves), and stop (only the certificate stays).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { toServiceSpec } from "@mcp/mcdsl/servicedef";
import { freePort } from "@mcp/mcdsl/testing";
import { SyncAction } from "@mcp/proto/mcp/agent/v1/service_pb.js";
import { DeployOutcome } from "@mcp/proto/mcp/agent/v1/status_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { oneRoute } from "./helpers/definitions.js";
import { type Platform, removeContainers, startPlatform, ZONE } from "./helpers/platform.js";
import { ensurePageImage, runPrefix, TEST_IMAGE } from "./helpers/podman-fixture.js";
import {
  containers,
  curlThrough,
  deploy,
  deployEvents,
  dig,
  ONE_ROUTE_STEPS,
  requestLoop,
} from "./helpers/saga-client.js";

const prefix = runPrefix();
const services: string[] = [];
const service = `${prefix}-hello`;
const hostname = `${service}.${ZONE}`;
let platform: Platform;
let proxyPort: number;
const V2 = "localhost/mcp-agent-test-page:v2";

const definition = (image: string, extra = "") =>
  oneRoute(service, image, extra.replace("PROXYPORT", String(proxyPort)));
const withPort = (image: string, health = "") => {
  const d = definition(image, health);
  d.components[0]!.routes[0]!.port = proxyPort;
  return d;
};

beforeAll(async () => {
  ensurePageImage(V2, "hello v2");
  proxyPort = await freePort();
  platform = await startPlatform(prefix);
}, 60_000);

afterAll(async () => {
  removeContainers([service, ...services]);
  await platform?.stop();
});

describe("deploy saga", () => {
  it("deploys a service: ports, certificate, container, health, DNS, route; events in order", async () => {
    const run = await deploy(platform.client, withPort(TEST_IMAGE));
    expect(run.error).toBeUndefined();
    expect(run.steps).toEqual([
      "started done",
      "port_leased done",
      "cert_ready done",
      "container_started done",
      "health_passed done",
      "dns_published done",
      "route_added done",
      "completed done",
    ]);
    expect(dig(platform.dnsPort, hostname)).toBe("127.0.0.1");
    const page = await curlThrough(proxyPort, hostname, platform.rootCa);
    expect(page.status).toBe(200);
    expect(page.body).toBe("hello from busybox\n");

    const status = await platform.client.getServiceStatus({ name: service });
    const port = status.ports[0]!.hostPort;
    expect(status.ports).toHaveLength(1);
    expect(status.routes).toMatchObject([
      { hostname, listenerPort: proxyPort, backend: `127.0.0.1:${port}` },
    ]);
    expect(status.records).toMatchObject([{ name: hostname, type: "A", value: "127.0.0.1" }]);
    expect(status.certificates).toMatchObject([{ hostname }]);
    expect(status.service?.lastDeploy?.outcome).toBe(DeployOutcome.COMPLETED);
    expect(status.drift).toEqual([]);
    expect(containers(service)).toEqual([{ name: `${service}-web`, state: "running", deploy: run.deployId }]);

    const events = await deployEvents(platform.nats.url, service);
    expect(events.map((e) => e.type.replace(`mcp.deploy.${service}.`, ""))).toEqual(ONE_ROUTE_STEPS);
    expect(new Set(events.map((e) => e.deployId))).toEqual(new Set([run.deployId]));

    // the same events through the agent's WatchEvents (what `mcp events` reads)
    const watch = new AbortController();
    const watched: string[] = [];
    for await (const res of platform.client.watchEvents(
      {
        start: { case: "startSequence", value: 1n },
        filterSubject: `mcp.deploy.${service}.>`,
        deployId: run.deployId,
      },
      { signal: watch.signal },
    )) {
      watched.push(res.event!.type);
      if (res.event!.type.endsWith(".completed")) break;
    }
    watch.abort();
    expect(watched).toEqual(events.map((e) => e.type));
  }, 60_000);

  it("plans a redeploy without changing anything", async () => {
    const same = await platform.client.plan({
      service: toServiceSpec(withPort(TEST_IMAGE)),
    });
    expect(same.hasChanges).toBe(false);
    const changed = await platform.client.plan({
      service: toServiceSpec(withPort(V2)),
    });
    expect(changed.hasChanges).toBe(true);
    expect(changed.containers.map((c) => [c.component, c.oldImage, c.newImage, c.reason])).toEqual([
      ["web", TEST_IMAGE, V2, "image changed"],
    ]);
    expect(containers(service)).toHaveLength(1);
  });

  it("redeploys a new image under steady load without losing a request", async () => {
    const before = await platform.client.getServiceStatus({ name: service });
    const load = requestLoop(proxyPort, hostname, platform.rootCa);
    while (load.stats.ok < 20) await new Promise((r) => setTimeout(r, 20));
    const run = await deploy(platform.client, withPort(V2));
    const after = load.stats.ok;
    while (load.stats.ok < after + 20) await new Promise((r) => setTimeout(r, 20));
    const stats = await load.stop();
    expect(run.error).toBeUndefined();
    expect(stats.errors).toEqual([]);
    expect(stats.bodies).toEqual(new Set(["hello from busybox", "hello v2"]));
    expect((await curlThrough(proxyPort, hostname, platform.rootCa)).body).toBe("hello v2\n");

    const status = await platform.client.getServiceStatus({ name: service });
    expect(status.ports).toHaveLength(1);
    expect(status.ports[0]!.hostPort).not.toBe(before.ports[0]!.hostPort); // the old port is released
    expect(status.routes[0]!.routeId).toBe(before.routes[0]!.routeId); // switched, not re-added
    expect(containers(service)).toEqual([{ name: `${service}-web`, state: "running", deploy: run.deployId }]);
  }, 60_000);

  it("rolls a deploy whose health gate fails back completely; the old version keeps serving", async () => {
    const before = await platform.client.getServiceStatus({ name: service });
    const bad = withPort(
      TEST_IMAGE,
      `[components.health]\nhttp = "/missing"\ndeadline = "2s"\ntimeout = "1s"`,
    );
    const run = await deploy(platform.client, bad);
    expect(run.error?.code).toBe(Code.DeadlineExceeded);
    expect(run.error?.message).toContain("was not healthy within 2000 ms");
    expect(run.steps).toEqual([
      "started done",
      "port_leased done",
      "cert_ready skipped",
      "container_started done",
      "failed failed",
      "container_started undone",
      "port_leased undone",
      "rolled_back done",
    ]);
    expect((await curlThrough(proxyPort, hostname, platform.rootCa)).body).toBe("hello v2\n");
    const after = await platform.client.getServiceStatus({ name: service });
    expect(after.ports).toEqual(before.ports);
    expect(after.routes).toEqual(before.routes);
    expect(after.records).toEqual(before.records);
    expect(containers(service).map((c) => c.name)).toEqual([`${service}-web`]);
    expect(after.service?.lastDeploy).toMatchObject({ id: run.deployId, outcome: DeployOutcome.ROLLED_BACK });
    const events = (await deployEvents(platform.nats.url, service)).filter(
      (e) => e.deployId === run.deployId,
    );
    expect(events.map((e) => e.type.split(".").slice(3).join("."))).toEqual([
      "started",
      "port.leased",
      "cert.ready",
      "container.started",
      "failed",
      "rolled_back",
    ]);
  }, 60_000);

  it("refuses a second deploy of the same service while one runs (Aborted)", async () => {
    const slow = withPort(
      TEST_IMAGE,
      `[components.health]\nhttp = "/missing"\ndeadline = "2s"\ntimeout = "1s"`,
    );
    const first = deploy(platform.client, slow);
    await new Promise((r) => setTimeout(r, 300));
    const second = await deploy(platform.client, withPort(V2));
    expect(second.error?.code).toBe(Code.Aborted);
    await first;
  }, 60_000);

  it("stops the service: no container, route, record or lease left; the certificate stays", async () => {
    const res = await platform.client.stopService({ name: service });
    expect(res.service?.spec?.active).toBe(false);
    expect(containers(service)).toEqual([]);
    expect(dig(platform.dnsPort, hostname)).toBe("");
    const status = await platform.client.getServiceStatus({ name: service });
    expect(status.ports).toEqual([]);
    expect(status.routes).toEqual([]);
    expect(status.records).toEqual([]);
    expect(status.certificates).toMatchObject([{ hostname }]);
    expect(existsSync(join(platform.certDir, `${hostname}.pem`))).toBe(true);
    const page = await curlThrough(proxyPort, hostname, platform.rootCa).catch(() => ({ status: 0 }));
    expect(page.status).not.toBe(200);

    // start brings it back with new leases, the same certificate
    const started = await platform.client.startService({ name: service });
    expect(started.deployId).not.toBe("");
    expect((await curlThrough(proxyPort, hostname, platform.rootCa)).body).toBe("hello v2\n");
    expect(dig(platform.dnsPort, hostname)).toBe("127.0.0.1");
    await platform.client.stopService({ name: service });
  }, 60_000);

  it("syncs a set of definitions: deploys the active, stops the inactive, prunes the rest", async () => {
    const other = `${prefix}-sync`;
    services.push(other);
    const spec = (active: boolean) => {
      const d = withPort(TEST_IMAGE);
      return toServiceSpec({
        ...d,
        name: other,
        active,
        components: d.components.map((c) => ({
          ...c,
          routes: c.routes.map((r) => ({ ...r, hostnames: [`${other}.${ZONE}`] })),
        })),
      });
    };
    const actions = (r: { results: { service: string; action: SyncAction; error: string }[] }) =>
      r.results.map(
        (x) =>
          `${x.service === other ? "other" : "hello"} ${SyncAction[x.action]}${x.error ? `: ${x.error}` : ""}`,
      );
    expect(actions(await platform.client.syncServices({ services: [spec(true)] }))).toEqual([
      "other DEPLOYED",
    ]);
    expect((await curlThrough(proxyPort, `${other}.${ZONE}`, platform.rootCa)).body).toBe(
      "hello from busybox\n",
    );
    expect(actions(await platform.client.syncServices({ services: [spec(true)] }))).toEqual([
      "other UNCHANGED",
    ]);
    expect(
      actions(await platform.client.syncServices({ services: [spec(false)], prune: true, dryRun: true })),
    ).toEqual(["other STOPPED", "hello REMOVED"]);
    expect(containers(other)).toHaveLength(1); // a dry run changes nothing
    expect(actions(await platform.client.syncServices({ services: [spec(false)], prune: true }))).toEqual([
      "other STOPPED",
      "hello REMOVED",
    ]);
    expect(containers(other)).toEqual([]);
    expect(
      (await platform.client.listServices({})).services.map((s) => [s.spec?.name, s.spec?.active]),
    ).toEqual([[other, false]]);
  }, 60_000);
});
