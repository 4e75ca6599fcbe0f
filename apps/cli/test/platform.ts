// The platform's real apps for the CLI's tests: each built app (apps/*/dist/main.js) started with
// a config in a temporary directory and an admin token, as an operator would run it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { appendTokenEntry, mintToken } from "@mcp/mcdsl/auth";
import { type AppProcess, freePort, startApp } from "@mcp/mcdsl/testing";
import { afterAll } from "vitest";
import { tempHome } from "./run-mcp.js";

const APPS = new URL("../../", import.meta.url).pathname;
export const ZONE = "svc.mcp.test";

export interface RunningApp {
  name: string;
  dir: string;
  url: string;
  /** The admin token (role admin), and a token with no role. */
  token: string;
  readerToken: string;
  process: AppProcess;
  /** Extra facts: the DNS port of mcns, the cert dir of cert-broker. */
  ports: Record<string, number>;
}

/** One operator token (role admin) and one without roles, known to every app a test starts. */
const ADMIN = mintToken("operator", ["admin"]);
const READER = mintToken("reader", []);

const started: RunningApp[] = [];
afterAll(async () => {
  for (const app of started.splice(0)) {
    await app.process.stop();
    rmSync(app.dir, { recursive: true, force: true });
  }
});

/** Starts apps/<name>/dist/main.js with the config `config(dir, apiPort, ports)` returns. */
async function startPlatformApp(
  name: string,
  extraPorts: string[],
  config: (dir: string, api: number, ports: Record<string, number>) => string,
  server = "",
): Promise<RunningApp> {
  const dir = mkdtempSync(join(tmpdir(), `mcp-cli-${name}-`));
  appendTokenEntry(join(dir, "tokens.toml"), ADMIN.entry);
  appendTokenEntry(join(dir, "tokens.toml"), READER.entry);
  const api = await freePort();
  const ports: Record<string, number> = {};
  for (const port of extraPorts) ports[port] = await freePort();
  const file = join(dir, `${name}.toml`);
  writeFileSync(
    file,
    `[server]\nlisten = "127.0.0.1:${api}"\n${server.replaceAll("DIR", dir)}\n[auth]\ntokens_file = "${dir}/tokens.toml"\n` +
      `[log]\nlevel = "warn"\n${config(dir, api, ports)}`,
  );
  const url = `http://127.0.0.1:${api}`;
  const process_ = startApp(join(APPS, name, "dist", "main.js"), ["--config", file], {
    env: process.env,
  });
  const app = { name, dir, url, token: ADMIN.token, readerToken: READER.token, process: process_, ports };
  started.push(app);
  await process_.waitReady(`${url}/readyz`, 30_000);
  return app;
}

export function startMcns(natsUrl?: string, zone = ZONE): Promise<RunningApp> {
  return startPlatformApp("mcns", ["dns"], (dir, _api, ports) => {
    return (
      `[database]\npath = "${dir}/mcns.db"\n[dns]\nlisten = "127.0.0.1:${ports.dns}"\n` +
      events(natsUrl) +
      `[[zones]]\nname = "${zone}"\nprimary_ns = "ns1.mcp.test"\nadmin_mailbox = "hostmaster.mcp.test"\n`
    );
  });
}

/** mc-proxy; `bootstrap` is the text of its bootstrap route file, if it should have one. */
export function startMcproxy(bootstrap?: string): Promise<RunningApp> {
  return startPlatformApp(
    "mcproxy-registry",
    [],
    (dir) => {
      mkdirSync(join(dir, "certs"));
      if (bootstrap !== undefined) writeFileSync(join(dir, "bootstrap.toml"), bootstrap);
      return (
        `[database]\npath = "${dir}/routes.db"\n` +
        `[proxy]\nbind = "127.0.0.1"\ncert_dir = "${dir}/certs"\nbootstrap_file = "${dir}/bootstrap.toml"\n`
      );
    },
    'socket = "DIR/admin.sock"',
  );
}

export function startCertBroker(): Promise<RunningApp> {
  return startPlatformApp("cert-broker", [], (dir) => {
    return (
      `[database]\npath = "${dir}/cert-broker.db"\n` +
      `[certificates]\ncert_dir = "${dir}/certs"\nkeys_dir = "${dir}/keys"\n` +
      `[policy]\nservice_domain = "${ZONE}"\npublic_hostnames = ["www.example.org"]\n` +
      `[local]\nca_dir = "${dir}/ca"\n[events]\nservers = []\n`
    );
  });
}

export interface AgentOptions {
  natsUrl?: string;
  /** MCNS for the agent's records (called with the operator token). */
  mcns?: RunningApp;
  /** The podman network (default: the agent's mcpnet). */
  network?: string;
  /** Largest file PushFile takes (the agent's [files] max_bytes). */
  maxFileBytes?: number;
}

/** The agent, with podman (CONTAINERS_CONF comes from the environment, as in the agent's tests). */
export function startAgent(options: AgentOptions = {}): Promise<RunningApp> {
  return startPlatformApp("mcp-agent", [], (dir) => {
    writeFileSync(join(dir, "peer.token"), ADMIN.token, { mode: 0o600 });
    return (
      `[database]\npath = "${dir}/registry.db"\n[node]\nname = "test-node"\n` +
      `[ports]\nmin = 20000\nmax = 29999\n[files]\nroot = "${dir}/srv"\n` +
      (options.maxFileBytes ? `max_bytes = ${options.maxFileBytes}\n` : "") +
      `[podman]\nstop_timeout = 1\n` +
      (options.network ? `network = "${options.network}"\n` : "") +
      (options.natsUrl ? `[events]\nservers = ["${options.natsUrl}"]\n` : "") +
      (options.mcns ? `[mcns]\nurl = "${options.mcns.url}"\ntoken_file = "${dir}/peer.token"\n` : "")
    );
  });
}

function events(natsUrl: string | undefined): string {
  return natsUrl ? `[events]\nservers = ["${natsUrl}"]\nnode = "test-node"\n` : "";
}

/** A config file for `mcp` pointing at the running apps, and the admin token as its token file. */
export function cliConfig(
  home: string,
  apps: Partial<Record<"mcns" | "certbroker" | "mcproxy" | "agent", RunningApp>>,
  extra = "",
): string {
  const dir = join(home, ".config", "mcp");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "token"), `${ADMIN.token}\n`, { mode: 0o600 });
  const tables = Object.entries(apps)
    .map(([api, app]) => `[${api}]\naddress = "${app!.url}"\n`)
    .join("");
  const file = join(dir, "mcp.toml");
  writeFileSync(file, `${extra}\n${tables}`);
  return file;
}

/**
 * An operator's home (removed after the test) whose config points at `agent`, a work folder in
 * it, and where the agent keeps a service's files (`[files] root` is `<agent dir>/srv`).
 */
export function operatorAt(agent: RunningApp): {
  env: NodeJS.ProcessEnv;
  work: string;
  onNode: (...parts: string[]) => string;
} {
  const { home, env } = tempHome();
  cliConfig(home, { agent });
  const work = join(home, "work");
  mkdirSync(work);
  return { env, work, onNode: (...parts) => join(agent.dir, "srv", ...parts) };
}
