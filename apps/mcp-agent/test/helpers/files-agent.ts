// The agent as the file-transfer tests need it: its own folder, `[files] root` under it, no
// podman work (monitor off, host network), and a gRPC client with an admin token (PushFile is a
// client stream: HTTP/2).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { appendTokenEntry, bearerTokenInterceptor, mintToken } from "@mcp/mcdsl/auth";
import { type AppProcess, freePort, startApp } from "@mcp/mcdsl/testing";
import { AgentService } from "@mcp/proto/mcp/agent/v1/service_pb.js";
import { AGENT_MAIN } from "./platform.js";

export interface FilesAgent {
  /** The agent's folder (config, tokens, database); the files root is `<dir>/srv`. */
  dir: string;
  srv: string;
  agent: AppProcess;
  client: ReturnType<typeof createClient<typeof AgentService>>;
}

export async function startFilesAgent(
  name: string,
  maxBytes: number,
  idleTimeoutMs = 60_000,
): Promise<FilesAgent> {
  const dir = mkdtempSync(join(tmpdir(), `mcp-agent-${name}-`));
  const srv = join(dir, "srv");
  const admin = mintToken("operator", ["admin"]);
  appendTokenEntry(join(dir, "tokens.toml"), admin.entry);
  const port = await freePort();
  writeFileSync(
    join(dir, "mcp-agent.toml"),
    `[server]\nlisten = "127.0.0.1:${port}"\n[auth]\ntokens_file = "${dir}/tokens.toml"\n` +
      `[database]\npath = "${dir}/registry.db"\n[cert_broker]\nca_file = "${dir}/ca.pem"\n[podman]\nnetwork = "host"\n` +
      `[files]\nroot = "${srv}"\nmax_bytes = ${maxBytes}\nidle_timeout_ms = ${idleTimeoutMs}\n[monitor]\nenabled = false\n[log]\nlevel = "warn"\n`,
  );
  const agent = startApp(AGENT_MAIN, ["--config", join(dir, "mcp-agent.toml")]);
  await agent.waitReady(`http://127.0.0.1:${port}/readyz`);
  const client = createClient(
    AgentService,
    createGrpcTransport({
      baseUrl: `http://127.0.0.1:${port}`,
      interceptors: [bearerTokenInterceptor(admin.token)],
    }),
  );
  return { dir, srv, agent, client };
}
