// The agent as an operator runs it: the built binary with a config file, a registry holding a
// service whose container runs in real podman, called over gRPC (Connect client) and REST (curl).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { appendTokenEntry, bearerTokenInterceptor, mintToken } from "@mcp/mcdsl/auth";
import { curl, freePort, type NatsServer, startApp, startNatsServer } from "@mcp/mcdsl/testing";
import { AgentService } from "@mcp/proto/mcp/agent/v1/service_pb.js";
import { ContainerState, DeployOutcome, DriftKind } from "@mcp/proto/mcp/agent/v1/status_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PortAllocator } from "../src/ports/allocator.js";
import { buildContainerSpec, DEFAULT_CONTAINER_DEFAULTS } from "../src/runtime/container-spec.js";
import { Podman } from "../src/runtime/podman.js";
import { Registry } from "../src/store/registry.js";
import { oneRoute } from "./helpers/definitions.js";
import { cleanUp, ensureTestImage, RUN_LABEL, runPrefix } from "./helpers/podman-fixture.js";

const MAIN = new URL("../dist/main.js", import.meta.url).pathname;
const prefix = runPrefix();
const network = `${prefix}-net`;
const service = `${prefix}-hello`;

let dir: string;
let nats: NatsServer;
let token: string;
/** A valid token without the admin role: it may read, not change. */
let viewerToken: string;
let configFile: string;
let url: string;
let podman: Podman;
let leasedPort: number;
let orphanPort: number;

beforeAll(async () => {
  const image = ensureTestImage();
  dir = mkdtempSync(join(tmpdir(), "mcp-agent-app-"));
  nats = await startNatsServer();
  podman = new Podman();
  const minted = mintToken("operator", ["admin"]);
  token = minted.token;
  appendTokenEntry(join(dir, "tokens.toml"), minted.entry);
  const reader = mintToken("dashboard", []);
  viewerToken = reader.token;
  appendTokenEntry(join(dir, "tokens.toml"), reader.entry);
  const apiPort = await freePort();
  url = `http://127.0.0.1:${apiPort}`;
  configFile = join(dir, "mcp-agent.toml");
  writeFileSync(
    configFile,
    `[server]\nlisten = "127.0.0.1:${apiPort}"\n[auth]\ntokens_file = "${dir}/tokens.toml"\n` +
      `[database]\npath = "${dir}/registry.db"\n[node]\nname = "test-node"\n` +
      `[events]\nservers = ["${nats.url}"]\n[ports]\nmin = 20000\nmax = 29999\n` +
      `[podman]\nnetwork = "${network}"\nstop_timeout = 1\n`,
  );

  // A service the agent deployed before this start: committed deploy, lease, running container.
  // Plus an orphan lease from a rolled-back deploy, which start-up must reclaim.
  const registry = new Registry(join(dir, "registry.db"));
  // An environment value is where a definition keeps a secret.
  const definition = oneRoute(service, image, 'env = { DB_PASSWORD = "s3cret" }');
  registry.services.put(definition);
  const deploy = registry.journal.begin({ service, definition });
  const failed = registry.journal.begin({ service, definition });
  registry.journal.finish(failed.id, "rolled_back", "health gate");
  const allocator = new PortAllocator(registry.leases, { range: { min: 20000, max: 29999 } });
  leasedPort = (await allocator.lease({ service, component: "web", route: "http", deployId: deploy.id }))
    .hostPort;
  orphanPort = (await allocator.lease({ service, component: "web", route: "http", deployId: failed.id }))
    .hostPort;
  const spec = buildContainerSpec({
    service,
    component: definition.components[0]!,
    deployId: deploy.id,
    hostPorts: { http: leasedPort },
    defaults: { ...DEFAULT_CONTAINER_DEFAULTS, network },
  });
  spec.labels[RUN_LABEL] = prefix;
  await podman.ensureNetwork(network);
  const containerId = await podman.run(spec);
  registry.components.bindContainer(service, "web", {
    containerName: spec.name,
    containerId,
    deployId: deploy.id,
  });
  registry.components.setRouteHostPort(service, "web", "http", leasedPort, deploy.id);
  registry.journal.finish(deploy.id, "completed");
  registry.services.setCurrentDeploy(service, deploy.id);
  registry.close();
});

afterAll(async () => {
  cleanUp(prefix, [network]);
  podman?.close();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("mcp-agent", () => {
  it("serves its registry and podman's view: list, status with drift, node info; reclaims orphan leases", async () => {
    const agent = startApp(MAIN, ["--config", configFile]);
    try {
      await agent.waitReady(`${url}/readyz`);
      const client = createClient(
        AgentService,
        createGrpcTransport({ baseUrl: url, interceptors: [bearerTokenInterceptor(token)] }),
      );

      const { services } = await client.listServices({});
      expect(services).toHaveLength(1);
      const [info] = services;
      expect(info!.spec).toMatchObject({ name: service, active: true });
      expect(info!.spec!.components[0]).toMatchObject({
        name: "web",
        image: "localhost/mcp-agent-test-busybox:1",
        cmd: ["sh", "-c", "echo listening on $PORT; exec httpd -f -p $PORT -h /www"],
        routes: [{ name: "http", port: 443, hostname: "" }],
      });
      expect(info!.components[0]).toMatchObject({
        name: "web",
        desiredState: ContainerState.RUNNING,
        observedState: ContainerState.RUNNING,
        containerName: `${service}-web`,
        version: "1",
      });
      expect(info!.lastDeploy?.outcome).toBe(DeployOutcome.ROLLED_BACK); // the newest deploy

      const status = await curl(
        "-H",
        `authorization: Bearer ${token}`,
        `${url}/v1/services/${service}/status`,
      );
      expect(status.status).toBe(200);
      expect(status.json).toMatchObject({
        ports: [{ hostPort: leasedPort, service, component: "web", route: "http" }],
        drift: [],
      });
      expect((status.json as { ports: unknown[] }).ports).toHaveLength(1); // the orphan was reclaimed
      expect(agent.stdout()).toContain(`"port":${orphanPort}`);

      await podman.stop(`${service}-web`, 1);
      const drifted = await client.getServiceStatus({ name: service });
      expect(drifted.drift.map((d) => [d.kind, d.component, d.expected, d.observed])).toEqual([
        [DriftKind.CONTAINER_STATE, "web", "running", "exited (code 137)"],
      ]);
      expect(drifted.service?.components[0]?.observedState).toBe(ContainerState.STOPPED);

      const node = await curl("-H", `authorization: Bearer ${token}`, `${url}/v1/node`);
      expect(node.json).toMatchObject({
        node: {
          name: "test-node",
          portRangeMin: 20000,
          portRangeMax: 29999,
          leasedPortCount: 1,
          serviceCount: 1,
          eventsConnected: true,
          podmanVersion: expect.stringMatching(/^\d+\.\d+/),
        },
      });

      // Environment values only to the admin role; a reader sees the names.
      expect(info!.spec!.components[0]!.env).toEqual({ DB_PASSWORD: "s3cret" });
      const asViewer = createClient(
        AgentService,
        createGrpcTransport({ baseUrl: url, interceptors: [bearerTokenInterceptor(viewerToken)] }),
      );
      const hidden = { DB_PASSWORD: "(hidden: needs the admin role)" };
      expect((await asViewer.listServices({})).services[0]!.spec!.components[0]!.env).toEqual(hidden);
      expect((await asViewer.getServiceStatus({ name: service })).service!.spec!.components[0]!.env).toEqual(
        hidden,
      );
      const overRest = await curl("-H", `authorization: Bearer ${viewerToken}`, `${url}/v1/services`);
      expect([overRest.status, overRest.body.includes("s3cret")]).toEqual([200, false]);

      expect((await curl(`${url}/v1/services`)).status).toBe(401);
      const missing = await client.getServiceStatus({ name: "no-such-service" }).catch((e: unknown) => e);
      expect(missing).toMatchObject({ code: Code.NotFound });
      const bad = await client.getServiceStatus({ name: "Bad_Name" }).catch((e: unknown) => e);
      expect(bad).toMatchObject({ code: Code.InvalidArgument });

      const deploy = await (async () => {
        for await (const _ of client.deploy({
          service: { name: "Bad_Name", components: [{ name: "web" }] },
        })) {
          // a refused definition sends no progress
        }
      })().catch((e: unknown) => e);
      expect(deploy).toBeInstanceOf(ConnectError);
      expect(deploy).toMatchObject({ code: Code.InvalidArgument });
      expect((deploy as Error).message).toContain("service Bad_Name: name: expected a name");
      expect((deploy as Error).message).toContain("[components[0]] image");
    } finally {
      expect(await agent.stop()).toBe(0);
    }
  });

  it("refuses a bad config file and a readable credential file, naming them", async () => {
    const bad = join(dir, "bad.toml");
    writeFileSync(bad, `[ports]\nmin = 20000\nmxa = 100\n`);
    const badAgent = startApp(MAIN, ["--config", bad]);
    expect(await badAgent.exited()).toBe(1);
    expect(badAgent.stderr()).toContain(`${bad}:3: [ports] mxa: unknown key (did you mean "max"?)`);

    const secret = join(dir, "password");
    writeFileSync(secret, "pw\n", { mode: 0o644 });
    const leaky = join(dir, "leaky.toml");
    writeFileSync(
      leaky,
      `[database]\npath = "${dir}/other.db"\n[auth]\ntokens_file = "${dir}/tokens.toml"\n` +
        `[[registries]]\nhost = "mcr.example.org"\nusername = "mcp"\npassword_file = "${secret}"\n`,
    );
    const leakyAgent = startApp(MAIN, ["--config", leaky]);
    expect(await leakyAgent.exited()).toBe(1);
    expect(leakyAgent.stderr()).toContain(
      `mcp-agent: registry mcr.example.org: ${secret} has mode 644; a credential file must be readable by its owner only (chmod 600)`,
    );
  });
});
