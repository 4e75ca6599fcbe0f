// The whole platform for end-to-end tests, as real processes: nats-server, mcns (zone
// svc.mcp.metacircular.net, DNS on a free port), cert-broker (local CA), mcproxy-registry (admin
// socket, listeners on 127.0.0.1) and the agent, each from its built dist/main.js with its own
// config and tokens. One platform per test file keeps the suite fast.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { appendTokenEntry, bearerTokenInterceptor, mintToken } from "@mcp/mcdsl/auth";
import { type AppProcess, freePort, type NatsServer, startApp, startNatsServer } from "@mcp/mcdsl/testing";
import { AgentService } from "@mcp/proto/mcp/agent/v1/service_pb.js";
import { ensureTestImage } from "./podman-fixture.js";

const dist = (app: string) => new URL(`../../../${app}/dist/main.js`, import.meta.url).pathname;
export const AGENT_MAIN = new URL("../../dist/main.js", import.meta.url).pathname;
export const ZONE = "svc.mcp.metacircular.net";

export type PeerName = "mcns" | "cert-broker" | "mcproxy-registry";

export interface Platform {
  dir: string;
  nats: NatsServer;
  dnsPort: number;
  /** MCNS's API, and a token of the agent's (a writer of the zone). */
  mcnsUrl: string;
  agentToken: string;
  certDir: string;
  /** The local CA's root, for curl --cacert. */
  rootCa: string;
  proxySocket: string;
  agentUrl: string;
  agentConfig: string;
  network: string;
  agent: AppProcess;
  client: Client<typeof AgentService>;
  /** Stops one of the peers (to test a deploy while it is down) and starts it again. */
  stopPeer(name: PeerName): Promise<void>;
  startPeer(name: PeerName): Promise<void>;
  /** Starts the agent again (after a crash), with extra environment. */
  restartAgent(env?: Record<string, string>): Promise<void>;
  startAgent(env?: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

export async function startPlatform(
  prefix: string,
  agentEnv: Record<string, string> = {},
): Promise<Platform> {
  ensureTestImage();
  const dir = mkdtempSync(join(tmpdir(), "mcp-agent-platform-"));
  const nats = await startNatsServer();
  const agentToken = mintToken("agent", ["agent"]);
  const tokensFile = join(dir, "peer-tokens.toml");
  appendTokenEntry(tokensFile, agentToken.entry);
  writeFileSync(join(dir, "agent.token"), `${agentToken.token}\n`, { mode: 0o600 });
  const events = `[events]\nservers = ["${nats.url}"]\nnode = "test-node"\n[log]\nlevel = "warn"\n`;

  const mcnsPort = await freePort();
  const dnsPort = await freePort();
  writeFileSync(
    join(dir, "mcns.toml"),
    `[server]\nlisten = "127.0.0.1:${mcnsPort}"\n[dns]\nlisten = "127.0.0.1:${dnsPort}"\n` +
      `[auth]\ntokens_file = "${tokensFile}"\n[database]\npath = "${dir}/mcns.db"\n${events}` +
      `[[zones]]\nname = "${ZONE}"\nprimary_ns = "ns1.mcp.metacircular.net"\n` +
      `admin_mailbox = "hostmaster.metacircular.net"\nwriters = ["agent"]\n`,
  );
  const brokerPort = await freePort();
  const certDir = join(dir, "certs");
  writeFileSync(
    join(dir, "cert-broker.toml"),
    `[server]\nlisten = "127.0.0.1:${brokerPort}"\n[auth]\ntokens_file = "${tokensFile}"\n` +
      `[database]\npath = "${dir}/cert-broker.db"\n[certificates]\ncert_dir = "${certDir}"\n` +
      `keys_dir = "${dir}/keys"\n[local]\nca_dir = "${dir}/ca"\n[policy]\npublic_hostnames = [".example.org"]\n${events}`,
  );
  const proxyPort = await freePort();
  const proxySocket = join(dir, "mcproxy.sock");
  writeFileSync(
    join(dir, "mcproxy.toml"),
    `[server]\nlisten = "127.0.0.1:${proxyPort}"\nsocket = "${proxySocket}"\n` +
      `[auth]\ntokens_file = "${tokensFile}"\n[database]\npath = "${dir}/routes.db"\n` +
      `[proxy]\nbind = "127.0.0.1"\ncert_dir = "${certDir}"\nbootstrap_file = "${dir}/none.toml"\n${events}`,
  );
  const peer = (name: PeerName, config: string, port: number) => ({
    name,
    start: () => startApp(dist(name), ["--config", join(dir, config)]),
    app: startApp(dist(name), ["--config", join(dir, config)]),
    url: `http://127.0.0.1:${port}`,
  });
  const processes = [
    peer("mcns", "mcns.toml", mcnsPort),
    peer("cert-broker", "cert-broker.toml", brokerPort),
    peer("mcproxy-registry", "mcproxy.toml", proxyPort),
  ];
  await Promise.all(processes.map((p) => p.app.waitReady(`${p.url}/readyz`)));

  const admin = mintToken("operator", ["admin"]);
  appendTokenEntry(join(dir, "agent-tokens.toml"), admin.entry);
  const agentPort = await freePort();
  const agentUrl = `http://127.0.0.1:${agentPort}`;
  const network = `${prefix}-net`;
  const agentConfig = join(dir, "mcp-agent.toml");
  mkdirSync(join(dir, "agent"));
  writeFileSync(
    agentConfig,
    `[server]\nlisten = "127.0.0.1:${agentPort}"\n[auth]\ntokens_file = "${dir}/agent-tokens.toml"\n` +
      `[database]\npath = "${dir}/agent/registry.db"\n[node]\nname = "test-node"\naddress = "127.0.0.1"\n` +
      `[events]\nservers = ["${nats.url}"]\n[ports]\nmin = 20000\nmax = 29999\n` +
      `[podman]\nnetwork = "${network}"\nstop_timeout = 1\n` +
      `[mcns]\nurl = "http://127.0.0.1:${mcnsPort}"\ntoken_file = "${dir}/agent.token"\n` +
      `[cert_broker]\nurl = "http://127.0.0.1:${brokerPort}"\ntoken_file = "${dir}/agent.token"\n` +
      `ca_file = "${dir}/agent/root-ca.pem"\n` +
      `[mcproxy]\nsocket = "${proxySocket}"\ndrain_timeout_ms = 1000\n[log]\nlevel = "warn"\n`,
  );
  const platform: Platform = {
    dir,
    nats,
    dnsPort,
    mcnsUrl: `http://127.0.0.1:${mcnsPort}`,
    agentToken: agentToken.token,
    certDir,
    rootCa: join(dir, "ca", "root.pem"),
    proxySocket,
    agentUrl,
    agentConfig,
    network,
    agent: undefined as unknown as AppProcess,
    client: createClient(
      AgentService,
      createGrpcTransport({ baseUrl: agentUrl, interceptors: [bearerTokenInterceptor(admin.token)] }),
    ),
    async stopPeer(name) {
      await processes.find((p) => p.name === name)!.app.stop();
    },
    async startPeer(name) {
      const p = processes.find((q) => q.name === name)!;
      p.app = p.start();
      await p.app.waitReady(`${p.url}/readyz`);
    },
    async startAgent(env = {}) {
      platform.agent = startApp(AGENT_MAIN, ["--config", agentConfig], {
        env: { ...process.env, ...agentEnv, ...env },
      });
      await platform.agent.waitReady(`${agentUrl}/readyz`);
    },
    async restartAgent(env = {}) {
      await platform.agent.stop();
      await platform.startAgent(env);
    },
    async stop() {
      if (platform.agent) await platform.agent.stop();
      await Promise.all(processes.map((p) => p.app.stop()));
      await nats.stop();
      try {
        execFileSync("podman", ["network", "rm", "--force", network], { stdio: "ignore" });
      } catch {
        // never created
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await platform.startAgent();
  return platform;
}

/** Removes every container of the given services (whatever the agent left). */
export function removeContainers(services: string[]): void {
  for (const service of services) {
    const ids = execFileSync(
      "podman",
      ["ps", "--all", "--quiet", "--filter", `label=mcp.service=${service}`],
      {
        encoding: "utf8",
      },
    )
      .split("\n")
      .filter(Boolean);
    if (ids.length > 0) execFileSync("podman", ["rm", "--force", "--time", "0", ...ids], { stdio: "ignore" });
  }
}
