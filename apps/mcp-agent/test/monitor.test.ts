// The agent alone with real podman (no peers: their deploy steps are skipped). The monitor: a
// component whose process dies is restarted by podman's policy; the agent publishes died and
// restarted events, calls the component flapping on the third restart, sees drift when the
// container is stopped by hand, and runs alert_command for each. Adoption: a container made by
// hand is taken into the registry with its spec rebuilt from podman, and a deploy replaces it.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { appendTokenEntry, bearerTokenInterceptor, mintToken } from "@mcp/mcdsl/auth";
import { connectEvents } from "@mcp/mcdsl/events";
import { parseServiceDefinition } from "@mcp/mcdsl/servicedef";
import {
  type AppProcess,
  curl,
  freePort,
  type NatsServer,
  startApp,
  startNatsServer,
} from "@mcp/mcdsl/testing";
import { AgentService } from "@mcp/proto/mcp/agent/v1/service_pb.js";
import { ContainerState } from "@mcp/proto/mcp/agent/v1/status_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_MAIN, removeContainers } from "./helpers/platform.js";
import { ensureTestImage, runPrefix, TEST_IMAGE } from "./helpers/podman-fixture.js";
import { deploy } from "./helpers/saga-client.js";

const prefix = runPrefix();
const service = `${prefix}-flappy`;
const legacy = `${prefix}-legacy`;
let dir: string;
let nats: NatsServer;
let agent: AppProcess;
let client: ReturnType<typeof createClient<typeof AgentService>>;
let alerts: string;

beforeAll(async () => {
  ensureTestImage();
  dir = mkdtempSync(join(tmpdir(), "mcp-agent-monitor-"));
  nats = await startNatsServer();
  const admin = mintToken("operator", ["admin"]);
  appendTokenEntry(join(dir, "tokens.toml"), admin.entry);
  alerts = join(dir, "alerts.log");
  const port = await freePort();
  const config = join(dir, "mcp-agent.toml");
  writeFileSync(
    config,
    `[server]\nlisten = "127.0.0.1:${port}"\n[auth]\ntokens_file = "${dir}/tokens.toml"\n` +
      `[database]\npath = "${dir}/registry.db"\n[node]\nname = "test-node"\n` +
      `[events]\nservers = ["${nats.url}"]\n[ports]\nmin = 30000\nmax = 32000\n` +
      `[podman]\nnetwork = "${prefix}-net"\nstop_timeout = 1\n[cert_broker]\nca_file = "${dir}/ca.pem"\n` +
      `[monitor]\nalert_command = ["sh", "-c", "echo \\"$MCP_ALERT_KIND $MCP_ALERT_COMPONENT\\" >> ${alerts}"]\n` +
      `flap_restarts = 3\ndrift_interval_ms = 1000\n[log]\nlevel = "warn"\n`,
  );
  agent = startApp(AGENT_MAIN, ["--config", config]);
  await agent.waitReady(`http://127.0.0.1:${port}/readyz`);
  client = createClient(
    AgentService,
    createGrpcTransport({
      baseUrl: `http://127.0.0.1:${port}`,
      interceptors: [bearerTokenInterceptor(admin.token)],
    }),
  );
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  removeContainers([service, legacy]);
  try {
    execFileSync("podman", ["rm", "--force", "--time", "0", `${legacy}-web`], { stdio: "ignore" });
  } catch {
    // already replaced
  }
  try {
    execFileSync("podman", ["network", "rm", "--force", `${prefix}-net`], { stdio: "ignore" });
  } catch {
    // never made
  }
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const podman = (...args: string[]) =>
  execFileSync("podman", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();

async function until<T>(what: string, fn: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const alertLines = () => (existsSync(alerts) ? readFileSync(alerts, "utf8").trim().split("\n") : []);

describe("the agent alone: monitor and adoption", () => {
  it("publishes died/restarted, calls flapping on the third restart, reports drift, runs alert_command", async () => {
    const definition = parseServiceDefinition(
      `name = "${service}"\n[[components]]\nname = "web"\nimage = "${TEST_IMAGE}"\nrestart = "always"\n` +
        `cmd = ["sh", "-c", "httpd -f -p $PORT -h /www; exit 1"]\n[[components.routes]]\nname = "http"\nport = 443\n`,
      "flappy.toml",
    );
    const run = await deploy(client, definition);
    expect(run.error).toBeUndefined();
    expect(run.steps).toContain("dns_published skipped"); // no MCNS configured
    const container = `${service}-web`;
    for (let i = 1; i <= 3; i++) {
      try {
        podman("exec", container, "sh", "-c", "kill -9 $(pidof httpd)");
      } catch {
        // podman may lose track of the exec session when the container dies under it
      }
      await until(
        `restart ${i}`,
        () => Number(podman("inspect", "--format", "{{.RestartCount}}", container)) >= i,
      );
    }
    await until("the flapping alert", () => alertLines().includes("flapping web"));
    expect(alertLines().filter((l) => l === "died web")).toHaveLength(3);

    podman("stop", "--time", "1", container);
    await until("the drift alert", () => alertLines().includes("drift web"));

    const bus = await connectEvents({ servers: nats.url, name: "test", app: "test", node: "test" });
    const events: { type: string; data: Record<string, unknown> }[] = [];
    for await (const e of bus.replay({ filter: `mcp.container.${service}.>` })) {
      events.push({ type: e.type.split(".").slice(4).join("."), data: e.data as Record<string, unknown> });
    }
    await bus.close();
    const restarted = events
      .filter((e) => e.type === "restarted")
      .map((e) => [e.data.restarts, e.data.flapping ?? false]);
    expect(restarted).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    expect(events.filter((e) => e.type === "died").length).toBeGreaterThanOrEqual(3);
    expect(events.find((e) => e.type === "drift")?.data).toMatchObject({
      component: "web",
      expected: "running",
    });

    const status = await client.getServiceStatus({ name: service });
    expect(status.service?.components[0]?.restartCount).toBe(3);
  }, 90_000);

  it("adopts a container made by hand; a deploy of its definition then replaces it", async () => {
    const hostPort = await freePort();
    podman(
      "run",
      "-d",
      "--name",
      `${legacy}-web`,
      "--network",
      `${prefix}-net`,
      "--restart",
      "unless-stopped",
      "-e",
      "GREETING=hi",
      "-p",
      `127.0.0.1:${hostPort}:8080`,
      TEST_IMAGE,
      "httpd",
      "-f",
      "-p",
      "8080",
      "-h",
      "/www",
    );
    const missing = await client.adoptContainers({ service: `${prefix}-nothing` }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: Code.NotFound });
    const res = await client.adoptContainers({ service: legacy });
    expect(res.adopted.map((a) => [a.containerName, a.component])).toEqual([[`${legacy}-web`, "web"]]);
    expect(res.adopted[0]!.spec).toMatchObject({
      image: TEST_IMAGE,
      cmd: ["httpd", "-f", "-p", "8080", "-h", "/www"],
      env: { GREETING: "hi" },
      ports: [`127.0.0.1:${hostPort}:8080`],
      network: `${prefix}-net`,
      restart: "unless-stopped",
    });
    expect(res.service?.components[0]).toMatchObject({ name: "web", observedState: ContainerState.RUNNING });
    const taken = await client
      .adoptContainers({ service: service, containers: [`${legacy}-web`] })
      .catch((e: unknown) => e);
    expect(taken).toMatchObject({ code: Code.AlreadyExists });

    // export → deploy: the adopted container is replaced by one the agent manages, same port
    const exported = (await client.listServices({})).services.find((s) => s.spec?.name === legacy)!.spec!;
    exported.components[0]!.env.GREETING = "hello";
    const run = await (async () => {
      const steps: string[] = [];
      for await (const r of client.deploy({ service: exported })) steps.push(r.message);
      return steps;
    })();
    expect(run.at(-1)).toContain("deployed");
    const page = await curl(`http://127.0.0.1:${hostPort}/`);
    expect(page.body).toBe("hello from busybox\n");
    const names = podman("ps", "--all", "--format", "{{.Names}} {{.Labels}}", "--filter", `name=${legacy}`);
    expect(names.split("\n")).toHaveLength(1);
    expect(names).toContain(`${legacy}-web `);
    expect(names).toContain("mcp.managed:true");
    expect(podman("exec", `${legacy}-web`, "sh", "-c", "echo $GREETING")).toBe("hello");
  }, 60_000);
});
