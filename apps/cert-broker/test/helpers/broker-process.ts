// Starts the real cert-broker binary (dist/main.js) with a config file in a temporary directory.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { appendTokenEntry, bearerTokenInterceptor, mintToken } from "@mcp/mcdsl/auth";
import { type AppProcess, freePort, startApp } from "@mcp/mcdsl/testing";
import { CertService } from "@mcp/proto/certbroker/v1/service_pb.js";

export const MAIN = new URL("../../dist/main.js", import.meta.url).pathname;

export interface BrokerSetup {
  dir: string;
  configFile: string;
  certDir: string;
  keysDir: string;
  caDir: string;
  url: string;
  crlUrl: string;
  tokens: { agent: string; admin: string; reader: string };
  client(token?: string): Client<typeof CertService>;
  start(env?: NodeJS.ProcessEnv): Promise<AppProcess>;
  /** Starts without waiting for readiness (for a process expected to fail). */
  spawn(env?: NodeJS.ProcessEnv): AppProcess;
  cleanup(): void;
}

export interface SetupOptions {
  natsUrl?: string;
  /** Extra lines per config table, e.g. { policy: 'public_hostnames = ["www.example.org"]' }. */
  config?: Record<string, string>;
}

export async function setupBroker(options: SetupOptions = {}): Promise<BrokerSetup> {
  const dir = mkdtempSync(join(tmpdir(), "cert-broker-"));
  const tokensFile = join(dir, "tokens.toml");
  const tokens = { agent: "", admin: "", reader: "" };
  for (const [name, roles] of [
    ["agent", ["agent"]],
    ["admin", ["admin"]],
    ["reader", ["viewer"]],
  ] as const) {
    const minted = mintToken(name, [...roles]);
    tokens[name] = minted.token;
    appendTokenEntry(tokensFile, minted.entry);
  }
  const port = await freePort();
  const crlPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const certDir = join(dir, "certs");
  const keysDir = join(dir, "keys");
  const caDir = join(dir, "ca");
  const configFile = join(dir, "cert-broker.toml");
  const tables: Record<string, string> = {
    server: `listen = "127.0.0.1:${port}"`,
    auth: `tokens_file = "${tokensFile}"`,
    database: `path = "${dir}/cert-broker.db"`,
    certificates: `cert_dir = "${certDir}"\nkeys_dir = "${keysDir}"`,
    local: `ca_dir = "${caDir}"`,
    crl: `listen = "127.0.0.1:${crlPort}"\nurl = "http://127.0.0.1:${crlPort}/crl"`,
    events: `servers = [${options.natsUrl ? JSON.stringify(options.natsUrl) : ""}]\nnode = "test-node"`,
    log: `level = "warn"`,
  };
  for (const [table, lines] of Object.entries(options.config ?? {})) {
    tables[table] = tables[table] ? `${tables[table]}\n${lines}` : lines;
  }
  writeFileSync(
    configFile,
    Object.entries(tables)
      .map(([table, lines]) => `[${table}]\n${lines}\n`)
      .join(""),
  );
  const spawn = (env: NodeJS.ProcessEnv = {}) =>
    startApp(MAIN, ["--config", configFile], { env: { ...process.env, ...env } });
  return {
    dir,
    configFile,
    certDir,
    keysDir,
    caDir,
    url,
    crlUrl: `http://127.0.0.1:${crlPort}`,
    tokens,
    client: (token?: string) =>
      createClient(
        CertService,
        createConnectTransport({
          baseUrl: url,
          httpVersion: "1.1",
          interceptors: token ? [bearerTokenInterceptor(token)] : [],
        }),
      ),
    spawn,
    async start(env = {}) {
      const app = spawn(env);
      await app.waitReady(`${url}/readyz`, 30_000);
      return app;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
