// Hostile timing and stored state against a real agent (test/helpers/fx.platform.ts): a stored
// definition that today's rules refuse (an older agent's, or a registry restored from a backup),
// a sync naming one service twice, a stop and a deploy of one service at once, and two services
// whose container names collide. Each is refused with the reason, or both sides end as asked.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { parseServiceDefinition, toServiceSpec } from "@mcp/mcdsl/servicedef";
import { freePort } from "@mcp/mcdsl/testing";
import { describe, expect, it } from "vitest";
import { Registry } from "../src/store/registry.js";
import { goodService, usePlatform } from "./helpers/deploy-abuse.js";
import { ZONE } from "./helpers/platform.js";
import { TEST_IMAGE } from "./helpers/podman-fixture.js";
import { containers, curlThrough, deploy } from "./helpers/saga-client.js";
import { proxyRoutes, registryOf } from "./helpers/world.js";

const fx = usePlatform();

describe("stored definitions are checked again before they run", () => {
  it("StartService refuses a stored definition mounting the host's root, and starts nothing", async () => {
    const service = fx.named("stored");
    expect((await deploy(fx.platform.client, goodService(service, fx.proxyPort))).error).toBeUndefined();
    await fx.platform.client.stopService({ name: service });
    // What an older agent let in, or a restored backup holds: the file as the agent reads it.
    const registry = new Registry(join(fx.platform.dir, "agent", "registry.db"));
    try {
      const stored = registry.services.get(service)!;
      const [web] = stored.definition.components;
      const volume = { spec: "/:/host", source: "/", target: "/host", options: [] };
      registry.services.put(
        { ...stored.definition, components: [{ ...web!, volumes: [volume] }] },
        { desiredState: "stopped" },
      );
    } finally {
      registry.close();
    }
    const deploysBefore = registryOf(fx.platform, service).deploys;
    await expect(fx.platform.client.startService({ name: service })).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: `the stored definition of ${service} (deploy a corrected one): [components[0]] volumes[0]: the host's root directory cannot be mounted, got "/:/host"`,
    });
    expect(containers(service)).toEqual([]);
    expect(registryOf(fx.platform, service)).toMatchObject({
      leases: [],
      routes: [],
      deploys: deploysBefore,
    });

    // A corrected definition deploys as usual.
    expect((await deploy(fx.platform.client, goodService(service, fx.proxyPort))).error).toBeUndefined();
    expect(containers(service)).toHaveLength(1);
    await fx.platform.client.stopService({ name: service });
  }, 60_000);
});

describe("adoption does not launder a hand-made container", () => {
  it("a container mounting the host's root is not taken into the registry (a later deploy would keep the mount)", async () => {
    const service = fx.named("adopt");
    execFileSync("podman", [
      "create",
      "--name",
      `${service}-web`,
      "-v",
      "/:/host",
      TEST_IMAGE,
      "sleep",
      "60",
    ]);
    try {
      await expect(fx.platform.client.adoptContainers({ service })).rejects.toMatchObject({
        code: Code.InvalidArgument,
        rawMessage: expect.stringContaining(
          `adopting ${service}: [components[0]] volumes[0]: the host's root directory cannot be mounted`,
        ),
      });
      const listed = (await fx.platform.client.listServices({})).services.map((s) => s.spec?.name);
      expect(listed).not.toContain(service);
    } finally {
      execFileSync("podman", ["rm", "--force", `${service}-web`]);
    }
  });
});

describe("adoption by name", () => {
  it("a listed container not named <service>-<component> is refused (its component name was made up)", async () => {
    // "<prefix>-xy-web" listed for "<prefix>-ab" was adopted as its component "web".
    const service = fx.named("ab");
    const other = fx.named("xy-web");
    execFileSync("podman", ["create", "--name", other, TEST_IMAGE, "sleep", "60"]);
    try {
      await expect(
        fx.platform.client.adoptContainers({ service, containers: [other] }),
      ).rejects.toMatchObject({
        code: Code.InvalidArgument,
        rawMessage: `${other}: a container adopted into ${service} is named ${service} or ${service}-<component> (podman rename it first)`,
      });
    } finally {
      execFileSync("podman", ["rm", "--force", other]);
    }
  });
});

describe("an adopted service", () => {
  it("stops: its container (no labels, bound by name) goes; it kept running, and a start ran a second copy", async () => {
    const service = fx.named("adopted");
    const container = `${service}-web`;
    execFileSync("podman", ["run", "-d", "--name", container, TEST_IMAGE, "sleep", "300"]);
    const named = () =>
      execFileSync("podman", ["ps", "--all", "--format", "{{.Names}}", "--filter", `name=${service}`], {
        encoding: "utf8",
      })
        .split("\n")
        .filter(Boolean);
    try {
      await fx.platform.client.adoptContainers({ service });
      await fx.platform.client.stopService({ name: service });
      expect(named()).toEqual([]);
      await fx.platform.client.startService({ name: service });
      expect(named()).toEqual([container]);
      await fx.platform.client.stopService({ name: service });
      expect(named()).toEqual([]);
    } finally {
      const left = named();
      if (left.length > 0) execFileSync("podman", ["rm", "--force", "--time", "0", ...left]);
    }
  }, 60_000);
});

describe("a sync that is not what it seems", () => {
  it("prune with no definitions is refused (it removed every service on the node); its dry run says what it would do", async () => {
    const service = fx.named("kept");
    expect((await deploy(fx.platform.client, goodService(service, fx.proxyPort))).error).toBeUndefined();
    await expect(fx.platform.client.syncServices({ services: [], prune: true })).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: expect.stringContaining("prune with no definitions would stop and forget every service"),
    });
    const dry = await fx.platform.client.syncServices({ services: [], prune: true, dryRun: true });
    expect(dry.results.map((r) => r.service)).toContain(service);
    expect(containers(service).map((c) => c.state)).toEqual(["running"]);
    await fx.platform.client.stopService({ name: service });
  }, 60_000);

  it("naming a service twice is refused whole before anything is deployed (the last would silently win)", async () => {
    const a = fx.named("sync-a");
    const twice = fx.named("sync-twice");
    const spec = (name: string, extra = "") => toServiceSpec(goodService(name, fx.proxyPort, extra));
    await expect(
      fx.platform.client.syncServices({
        services: [spec(a), spec(twice), spec(twice, 'env = { MODE = "other" }')],
      }),
    ).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: `services[2]: ${twice} is defined twice (first at services[1])`,
    });
    expect([...containers(a), ...containers(twice)]).toEqual([]);
    const listed = (await fx.platform.client.listServices({})).services.map((s) => s.spec?.name);
    expect(listed).not.toContain(a);
    expect(listed).not.toContain(twice);
  }, 30_000);
});

describe("one service, two sagas at once", () => {
  it("a stop during a deploy, and a deploy during a stop, are Aborted; the running saga ends as asked", async () => {
    const service = fx.named("busy");
    const slow = goodService(service, fx.proxyPort, 'env = { V = "1" }');
    const deploying = deploy(fx.platform.client, slow);
    await waitFor(() => containers(service).length > 0);
    await expect(fx.platform.client.stopService({ name: service })).rejects.toMatchObject({
      code: Code.Aborted,
    });
    expect((await deploying).error).toBeUndefined();
    expect((await curlThrough(fx.proxyPort, `${service}.${ZONE}`, fx.platform.rootCa)).status).toBe(200);

    const sagas = registryOf(fx.platform, service).deploys.length;
    const stopping = fx.platform.client.stopService({ name: service });
    await waitFor(() => registryOf(fx.platform, service).deploys.length > sagas); // the stop is journalled
    const redeploy = await deploy(
      fx.platform.client,
      goodService(service, fx.proxyPort, 'env = { V = "2" }'),
    );
    expect(redeploy.error?.code).toBe(Code.Aborted);
    expect(redeploy.steps).toEqual([]);
    await stopping;
    expect(containers(service)).toEqual([]);
    expect(registryOf(fx.platform, service).leases).toEqual([]);
  }, 60_000);
});

describe("a saga whose rollback could not finish", () => {
  it("is finished before the next deploy, so its retry cannot undo the new deploy's route", async () => {
    const { platform } = fx;
    const service = fx.named("unfinished");
    // A first deploy dies after adding its route; the agent comes back while mc-proxy is down,
    // so its rollback cannot remove the route and stays in progress (retried every 10 s).
    await platform.agent.stop();
    await platform.startAgent({ MCP_AGENT_FAILPOINT: "after:route.added" });
    expect((await deploy(platform.client, goodService(service, fx.proxyPort))).error).toBeDefined();
    await platform.agent.exited();
    await platform.stopPeer("mcproxy-registry");
    try {
      await platform.startAgent();
      // While it cannot finish, a new deploy does not start (it would build on a half-undone one).
      const refused = await deploy(platform.client, goodService(service, fx.proxyPort));
      expect(refused.steps).toEqual([]);
      expect(refused.error?.code).toBe(Code.FailedPrecondition);
      expect(refused.error?.message).toMatch(
        new RegExp(`${service}: deploy \\w+ is not rolled back yet \\(undo route.added web: mc-proxy`),
      );
    } finally {
      await platform.startPeer("mcproxy-registry");
    }
    expect(registryOf(platform, service).deploys).toEqual(["in_progress"]);

    // The operator deploys again at once: it takes over the route the old rollback would remove.
    const run = await deploy(platform.client, goodService(service, fx.proxyPort));
    expect(run.error).toBeUndefined();
    expect(registryOf(platform, service).deploys).toEqual(["completed", "rolled_back"]);
    const port = registryOf(platform, service).leases[0]?.hostPort;
    expect(await proxyRoutes(platform, service)).toEqual([`127.0.0.1:${port}`]);
    expect((await curlThrough(fx.proxyPort, `${service}.${ZONE}`, platform.rootCa)).status).toBe(200);
    await platform.client.stopService({ name: service });
  }, 60_000);
});

describe("services that clash", () => {
  it("a fixed host port another service holds: the second fails naming its own container and the port, nothing left", async () => {
    const port = await freePort();
    const legacy = (service: string) =>
      parseServiceDefinition(
        `name = "${service}"\n[[components]]\nname = "web"\nimage = "${TEST_IMAGE}"\n` +
          `cmd = ["httpd", "-f", "-p", "8080", "-h", "/www"]\nports = ["127.0.0.1:${port}:8080"]\n`,
        `${service}.toml`,
      );
    const first = fx.named("fixed-a");
    const second = fx.named("fixed-b");
    expect((await deploy(fx.platform.client, legacy(first))).error).toBeUndefined();
    const run = await deploy(fx.platform.client, legacy(second));
    expect(run.error?.code).toBe(Code.FailedPrecondition);
    // Its own container's name: the port's "address already in use" is no name clash to dodge.
    expect(run.error?.message).toContain(
      `failed at container.started: podman run ${second}-web: cannot listen on the TCP port: listen tcp4 127.0.0.1:${port}: bind: address already in use`,
    );
    expect(containers(second)).toEqual([]);
    expect(registryOf(fx.platform, second)).toMatchObject({ leases: [], deploys: ["rolled_back"] });
    expect(containers(first).map((c) => c.state)).toEqual(["running"]);
    await fx.platform.client.stopService({ name: first });
  }, 60_000);

  it("container names: x-y's z and x's y-z (both x-y-z) deploy at once, and stopping one leaves the other", async () => {
    const xy = fx.named("x-y");
    const x = fx.named("x");
    const def = (service: string, component: string) => {
      const d = goodService(service, fx.proxyPort);
      return { ...d, components: [{ ...d.components[0]!, name: component }] };
    };
    const [one, two] = await Promise.all([
      deploy(fx.platform.client, def(xy, "z")),
      deploy(fx.platform.client, def(x, "y-z")),
    ]);
    expect([one.error, two.error]).toEqual([undefined, undefined]);
    expect(containers(xy).map((c) => c.state)).toEqual(["running"]);
    expect(containers(x).map((c) => c.state)).toEqual(["running"]);
    expect(new Set([...containers(xy), ...containers(x)].map((c) => c.name)).size).toBe(2);

    await fx.platform.client.stopService({ name: x });
    expect(containers(x)).toEqual([]);
    expect(containers(xy).map((c) => c.state)).toEqual(["running"]);
    expect((await curlThrough(fx.proxyPort, `${xy}.${ZONE}`, fx.platform.rootCa)).status).toBe(200);
    await fx.platform.client.stopService({ name: xy });
  }, 60_000);
});

async function waitFor(condition: () => boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
