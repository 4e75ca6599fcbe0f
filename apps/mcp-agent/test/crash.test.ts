// Crash recovery with real kill -9: the agent SIGKILLs itself at a saga step
// (MCP_AGENT_FAILPOINT), is started again, and must leave the world consistent: a deploy that
// had not reached `retire` is fully undone (no lease, route, record or container), one that had
// is fully applied, an interrupted stop is finished; the deploy's events all reach NATS once.
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@mcp/mcdsl/testing";
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
} from "./helpers/saga-client.js";
import { expectNothingLeft, proxyRoutes, registryOf } from "./helpers/world.js";

const prefix = runPrefix();
const V2 = "localhost/mcp-agent-test-page:v2";
let platform: Platform;
let proxyPort: number;
const services: string[] = [];

const definition = (service: string, image: string) => {
  const d = oneRoute(service, image);
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

/** Deploys with the agent set to die at `failpoint`, then starts it again normally. */
async function crashDuring(service: string, image: string, failpoint: string) {
  await platform.agent.stop();
  await platform.startAgent({ MCP_AGENT_FAILPOINT: failpoint });
  const run = await deploy(platform.client, definition(service, image));
  expect(run.error).toBeDefined(); // the stream broke: the agent died
  await platform.agent.exited();
  expect(platform.agent.stderr()).toContain(`failpoint ${failpoint}`);
  const killed = platform.agent.child.pid!;
  await platform.startAgent();
  expect(privateDirsOf(killed)).toEqual([]); // its credential and env directories were swept
  return run;
}

/** /tmp/mcp-agent-* directories still owned by a process id. */
function privateDirsOf(pid: number): string[] {
  return readdirSync(tmpdir())
    .filter((n) => n.startsWith("mcp-agent-"))
    .filter((n) => {
      try {
        return readFileSync(join(tmpdir(), n, ".owner-pid"), "utf8") === String(pid);
      } catch {
        return false;
      }
    });
}

describe("crash recovery (kill -9 at each step)", () => {
  for (const failpoint of [
    "after:port.leased",
    "after:container.started",
    "after:dns.published",
    "after:route.added",
  ]) {
    it(`undoes a first deploy killed ${failpoint.replace(":", " ")}`, async () => {
      const service = `${prefix}-${failpoint.replace(/[^a-z]/g, "").slice(0, 20)}`;
      services.push(service);
      await crashDuring(service, TEST_IMAGE, failpoint);
      await expectNothingLeft(platform, service);
      // every event of the deploy is on NATS once, in order, the crashed step's too (from the
      // outbox at the restart), then recovery's failed and rolled_back
      const steps = ONE_ROUTE_STEPS.slice(0, ONE_ROUTE_STEPS.indexOf(failpoint.slice(6)) + 1);
      // (the service's only deploy: the stream may have died before it told the caller its id)
      const events = await deployEvents(platform.nats.url, service);
      expect(new Set(events.map((e) => e.deployId)).size).toBe(1);
      expect(events.map((e) => e.type.replace(`mcp.deploy.${service}.`, ""))).toEqual([
        ...steps,
        "failed",
        "rolled_back",
      ]);
    }, 60_000);
  }

  it("finishes a deploy killed after retire was journalled (rolled forward)", async () => {
    const service = `${prefix}-forward`;
    services.push(service);
    const run = await crashDuring(service, TEST_IMAGE, "after:retire-journalled");
    const status = await platform.client.getServiceStatus({ name: service });
    expect(status.service?.lastDeploy).toMatchObject({ id: run.deployId, outcome: DeployOutcome.COMPLETED });
    expect(status.ports).toHaveLength(1);
    expect((await curlThrough(proxyPort, `${service}.${ZONE}`, platform.rootCa)).body).toBe(
      "hello from busybox\n",
    );
    expect(dig(platform.dnsPort, `${service}.${ZONE}`)).toBe("127.0.0.1");
    expect(status.drift).toEqual([]);
  }, 60_000);

  it("undoes a redeploy killed after the route switched: the old version serves again", async () => {
    const service = `${prefix}-redeploy`;
    services.push(service);
    const first = await deploy(platform.client, definition(service, TEST_IMAGE));
    expect(first.error).toBeUndefined();
    const before = registryOf(platform, service);
    await crashDuring(service, V2, "after:route.added");
    expect((await curlThrough(proxyPort, `${service}.${ZONE}`, platform.rootCa)).body).toBe(
      "hello from busybox\n",
    );
    const after = registryOf(platform, service);
    expect(after.leases).toEqual(before.leases);
    expect(after.routes).toEqual(before.routes);
    expect(after.records).toEqual(before.records);
    expect(after.deploys).toEqual(["rolled_back", "completed"]);
    expect(containers(service)).toEqual([
      { name: `${service}-web`, state: "running", deploy: first.deployId },
    ]);
    expect(await proxyRoutes(platform, service)).toEqual([`127.0.0.1:${before.leases[0]!.hostPort}`]);

    // and a stop killed half way is finished at the next start
    await platform.agent.stop();
    await platform.startAgent({ MCP_AGENT_FAILPOINT: "after:stop-journalled" });
    await platform.client.stopService({ name: service }).catch(() => undefined);
    await platform.agent.exited();
    await platform.startAgent();
    expect(containers(service)).toEqual([]);
    expect(await proxyRoutes(platform, service)).toEqual([]);
    expect(registryOf(platform, service)).toMatchObject({ leases: [], routes: [], records: [] });
  }, 90_000);
});
