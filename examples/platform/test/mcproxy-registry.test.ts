// The mc-proxy image as the platform runs it: on the host's network (it opens a listener per route),
// its database and the agent's admin socket on the data volume. A route added over the TCP admin
// API (token) is listed over the Unix socket (no token: the agent's way in), and the data plane
// opens the route's listener on the host.

import { existsSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { appendTokenEntry, mintToken } from "@mcp/mcdsl/auth";
import { curl, freePort } from "@mcp/mcdsl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  appImage,
  type Container,
  podmanStatus,
  runContainer,
  tempDir,
  waitFor,
  waitReady,
} from "./helpers/podman.js";

let dir: string;
let container: Container;
let api: string;
let token: string;

beforeAll(async () => {
  dir = tempDir("mcproxy", "etc", "srv");
  const minted = mintToken("agent", ["agent"]);
  token = minted.token;
  appendTokenEntry(join(dir, "etc/tokens.toml"), minted.entry);
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  // Every other path is the image's default: /srv/mc-proxy/{routes.db,admin.sock,certs}.
  writeFileSync(
    join(dir, "etc/mcproxy-registry.toml"),
    `[server]\nlisten = "127.0.0.1:${port}"\n[proxy]\nbind = "127.0.0.1"\n[events]\nservers = []\nnode = "image-test"\n`,
  );
  container = await runContainer("mcproxy", appImage("mcproxy-registry"), [
    "--network",
    "host",
    ...["-v", `${dir}/etc:/etc/mcproxy-registry:U`, "-v", `${dir}/srv:/srv/mc-proxy:U`],
  ]);
  await waitReady(api, container);
});

afterAll(async () => {
  await container?.remove();
  rmSync(dir, { recursive: true, force: true });
});

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

describe("mcproxy-registry image", () => {
  it("adds a route over the admin API, lists it over the agent's socket and listens for it", async () => {
    const listener = await freePort();
    const added = await curl(
      "-H",
      `authorization: Bearer ${token}`,
      "-d",
      JSON.stringify({
        listenerPort: listener,
        hostname: "hello.svc.mcp.metacircular.net",
        mode: "ROUTE_MODE_L4",
        backends: [{ address: "127.0.0.1:1" }],
      }),
      `${api}/v1/routes`,
    );
    expect(added.status).toBe(200);
    expect(added.json).toMatchObject({ route: { listenerPort: listener, owner: "agent" } });

    const socket = join(dir, "srv/admin.sock");
    expect(existsSync(socket)).toBe(true);
    const listed = await curl("--unix-socket", socket, "http://mc-proxy/v1/routes");
    expect(listed.status).toBe(200);
    expect(
      (listed.json as { routes: { listenerPort: number }[] }).routes.map((r) => r.listenerPort),
    ).toContain(listener);
    await waitFor(
      async () => ((await accepts(listener)) ? true : undefined),
      async () => `nothing listens on ${listener}; logs:\n${await container.logs()}`,
    );
  });

  it("passes its image HEALTHCHECK", async () => {
    expect(await podmanStatus("healthcheck", "run", container.name)).toBe(0);
  });
});
