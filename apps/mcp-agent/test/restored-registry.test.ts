// A registry restored from a backup knows record and route ids that MCNS and mc-proxy no longer
// have. Records and routes are deleted behind the agent's back (through MCNS's and mc-proxy's own
// APIs); a redeploy must bring both back, and a rollback must not fail on what is already gone.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { bearerTokenInterceptor } from "@mcp/mcdsl/auth";
import { freePort } from "@mcp/mcdsl/testing";
import { RecordService } from "@mcp/proto/mcns/v1/service_pb.js";
import { DeployOutcome } from "@mcp/proto/mcp/agent/v1/status_pb.js";
import { RouteService } from "@mcp/proto/mcproxy/v1/service_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { oneRoute } from "./helpers/definitions.js";
import { type Platform, removeContainers, startPlatform, ZONE } from "./helpers/platform.js";
import { ensurePageImage, runPrefix, TEST_IMAGE } from "./helpers/podman-fixture.js";
import { curlThrough, deploy, dig } from "./helpers/saga-client.js";
import { proxyRoutes, registryOf } from "./helpers/world.js";

const prefix = runPrefix();
const service = `${prefix}-restored`;
const hostname = `${service}.${ZONE}`;
const V2 = "localhost/mcp-agent-test-page:v2";
let platform: Platform;
let proxyPort: number;

const definition = (image: string) => {
  const d = oneRoute(service, image);
  d.components[0]!.routes[0]!.port = proxyPort;
  return d;
};

/** Deletes the service's records in MCNS and its routes in mc-proxy, as an operator could. */
async function deleteBehindTheAgentsBack(what: { records: boolean; routes: boolean }) {
  if (what.records) {
    const mcns = createClient(
      RecordService,
      createConnectTransport({
        baseUrl: platform.mcnsUrl,
        httpVersion: "1.1",
        interceptors: [bearerTokenInterceptor(platform.agentToken)],
      }),
    );
    const { records } = await mcns.listRecords({ name: hostname, owner: service });
    expect(records).toHaveLength(1);
    for (const r of records) await mcns.deleteRecord({ id: r.id, owner: service });
    expect(dig(platform.dnsPort, hostname)).toBe("");
  }
  if (what.routes) {
    const proxy = createClient(
      RouteService,
      createConnectTransport({
        baseUrl: "http://localhost",
        httpVersion: "1.1",
        nodeOptions: { socketPath: platform.proxySocket },
      }),
    );
    const { routes } = await proxy.listRoutes({ owner: service });
    expect(routes).toHaveLength(1);
    for (const r of routes) await proxy.removeRoute({ id: r.id, owner: service });
    expect(await proxyRoutes(platform, service)).toEqual([]);
  }
}

beforeAll(async () => {
  ensurePageImage(V2, "hello v2");
  proxyPort = await freePort();
  platform = await startPlatform(prefix);
}, 60_000);

afterAll(async () => {
  removeContainers([service]);
  await platform?.stop();
});

describe("a registry that knows more than its peers", () => {
  it("redeploys a service whose record and route were deleted: both come back", async () => {
    expect((await deploy(platform.client, definition(TEST_IMAGE))).error).toBeUndefined();
    const before = registryOf(platform, service);
    await deleteBehindTheAgentsBack({ records: true, routes: true });

    const run = await deploy(platform.client, definition(TEST_IMAGE), ["web"]);
    expect(run.error).toBeUndefined();
    expect(run.steps).toContain("dns_published done");
    expect(run.steps).toContain("route_added done");
    expect(dig(platform.dnsPort, hostname)).toBe("127.0.0.1");
    const page = await curlThrough(proxyPort, hostname, platform.rootCa);
    expect(page.body).toBe("hello from busybox\n");

    // the registry holds the new ids, not the lost ones
    const after = registryOf(platform, service);
    expect(after.records).toHaveLength(1);
    expect(after.records[0]!.recordId).not.toBe(before.records[0]!.recordId);
    expect(after.routes).toHaveLength(1);
    expect(after.routes[0]!.routeId).not.toBe(before.routes[0]!.routeId);
    const status = await platform.client.getServiceStatus({ name: service });
    expect(status.drift).toEqual([]);
  }, 90_000);

  it("rolls back a redeploy whose switched route was then deleted (nothing to switch back)", async () => {
    await platform.agent.stop();
    await platform.startAgent({ MCP_AGENT_FAILPOINT: "after:route.added" });
    const run = await deploy(platform.client, definition(V2));
    expect(run.error).toBeDefined(); // the agent died after switching the route
    await platform.agent.exited();
    await deleteBehindTheAgentsBack({ records: false, routes: true });
    await platform.startAgent(); // recovery rolls the deploy back

    const status = await platform.client.getServiceStatus({ name: service });
    expect(status.service?.lastDeploy).toMatchObject({
      id: run.deployId,
      outcome: DeployOutcome.ROLLED_BACK,
    });
    expect(registryOf(platform, service).routes).toEqual([]);

    // and the next deploy adds the route again
    expect((await deploy(platform.client, definition(TEST_IMAGE), ["web"])).error).toBeUndefined();
    expect((await curlThrough(proxyPort, hostname, platform.rootCa)).body).toBe("hello from busybox\n");
  }, 90_000);
});
