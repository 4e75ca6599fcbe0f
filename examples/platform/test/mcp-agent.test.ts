// The agent's image as a node runs it: on the host's network, driving the host's podman through
// the podman API socket (a `podman system service` the test starts) with the podman client the
// image carries. GetNodeInfo reports the host's podman, and the agent's network exists on the host.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { appendTokenEntry, mintToken } from "@mcp/mcdsl/auth";
import { curl, freePort } from "@mcp/mcdsl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  appImage,
  type Container,
  PREFIX,
  podman,
  podmanStatus,
  runContainer,
  tempDir,
  waitFor,
  waitReady,
} from "./helpers/podman.js";

let dir: string;
let service: ChildProcess;
let container: Container;
let api: string;
let token: string;
const network = `${PREFIX}net-${Math.random().toString(36).slice(2, 8)}`;

beforeAll(async () => {
  dir = tempDir("agent", "etc", "srv", "run");
  const socket = join(dir, "run/podman.sock");
  service = spawn("podman", ["system", "service", "--time=0", `unix://${socket}`], { stdio: "ignore" });
  await waitFor(
    async () => (existsSync(socket) ? true : undefined),
    async () => `podman system service made no socket at ${socket}`,
  );
  const minted = mintToken("admin", ["admin"]);
  token = minted.token;
  appendTokenEntry(join(dir, "etc/tokens.toml"), minted.entry);
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  writeFileSync(
    join(dir, "etc/mcp-agent.toml"),
    `[server]\nlisten = "127.0.0.1:${port}"\n[auth]\ntokens_file = "/etc/mcp-agent/tokens.toml"\n` +
      `[database]\npath = "/srv/mcp-agent/registry.db"\n[node]\nname = "image-test"\n[events]\nservers = []\n` +
      `[podman]\nnetwork = "${network}"\n`,
  );
  container = await runContainer("agent", appImage("mcp-agent"), [
    "--network",
    "host",
    ...["-v", `${socket}:/run/podman/podman.sock`],
    ...["-v", `${dir}/etc:/etc/mcp-agent`, "-v", `${dir}/srv:/srv/mcp-agent`],
  ]);
  await waitReady(api, container);
});

afterAll(async () => {
  await container?.remove();
  rmSync(dir, { recursive: true, force: true });
  await podmanStatus("network", "rm", "-f", network);
  service?.kill("SIGTERM");
});

describe("mcp-agent image", () => {
  it("drives the host's podman through its API socket", async () => {
    const node = await curl("-H", `authorization: Bearer ${token}`, `${api}/v1/node`);
    expect(node.status).toBe(200);
    const hostVersion = JSON.parse(await podman("version", "--format", "json")).Client.Version as string;
    expect(JSON.stringify(node.json)).toContain(hostVersion);
    expect(node.json).toMatchObject({ node: expect.anything() });
    // The default network the agent creates at start-up is the host's.
    expect(await podmanStatus("network", "exists", network)).toBe(0);
  });

  it("passes its image HEALTHCHECK", async () => {
    expect(await podmanStatus("healthcheck", "run", container.name)).toBe(0);
  });
});
