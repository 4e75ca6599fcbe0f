// The MCNS image as an operator runs it: non-root, config and data on host folders, the API and DNS
// (UDP and TCP) published on loopback ports. A record created over REST is answered by `dig`.
import { execFile } from "node:child_process";
import { existsSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { appendTokenEntry, mintToken } from "@mcp/mcdsl/auth";
import { curl, freePort } from "@mcp/mcdsl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  appImage,
  type Container,
  podmanStatus,
  runContainer,
  tempDir,
  waitReady,
} from "./helpers/podman.js";

const exec = promisify(execFile);
const ZONE = "svc.mcp.metacircular.net";

let dir: string;
let container: Container;
let api: string;
let dnsPort: number;
let token: string;

beforeAll(async () => {
  dir = tempDir("mcns", "etc", "srv");
  const minted = mintToken("agent", ["agent"]);
  token = minted.token;
  appendTokenEntry(join(dir, "etc/tokens.toml"), minted.entry);
  // No [database] path: the image's XDG_DATA_HOME=/srv makes the default /srv/mcns/mcns.db.
  writeFileSync(
    join(dir, "etc/mcns.toml"),
    `[server]\nlisten = "0.0.0.0:8053"\n[dns]\nlisten = "0.0.0.0:5353"\n[auth]\ntokens_file = "/etc/mcns/tokens.toml"\n` +
      `[events]\nservers = []\nnode = "image-test"\n` +
      `[[zones]]\nname = "${ZONE}"\nprimary_ns = "ns1.mcp.metacircular.net"\nadmin_mailbox = "hostmaster.metacircular.net"\nwriters = ["agent"]\n`,
  );
  const apiPort = await freePort();
  dnsPort = await freePort();
  api = `http://127.0.0.1:${apiPort}`;
  container = await runContainer("mcns", appImage("mcns"), [
    ...["-v", `${dir}/etc:/etc/mcns:U`, "-v", `${dir}/srv:/srv/mcns:U`],
    ...[
      "-p",
      `127.0.0.1:${apiPort}:8053`,
      "-p",
      `127.0.0.1:${dnsPort}:5353/udp`,
      "-p",
      `127.0.0.1:${dnsPort}:5353/tcp`,
    ],
  ]);
  await waitReady(api, container);
});

afterAll(async () => {
  await container?.remove();
  rmSync(dir, { recursive: true, force: true });
});

async function dig(name: string, ...options: string[]): Promise<string> {
  const { stdout } = await exec("dig", [
    "@127.0.0.1",
    "-p",
    String(dnsPort),
    "+short",
    "+time=3",
    ...options,
    name,
    "A",
  ]);
  return stdout.trim();
}

describe("mcns image", () => {
  it("runs as the unprivileged mcp user with its database on the data volume", async () => {
    expect(await container.inspect<string>(".Config.User")).toBe("mcp");
    const db = join(dir, "srv/mcns.db");
    expect(existsSync(db)).toBe(true);
    expect(statSync(db).uid).toBe(10001);
  });

  it("serves a record created over REST to dig, over UDP and TCP", async () => {
    const created = await curl(
      "-H",
      `authorization: Bearer ${token}`,
      "-d",
      JSON.stringify({ name: `hello.${ZONE}`, type: "RECORD_TYPE_A", address: "192.0.2.80", owner: "hello" }),
      `${api}/v1/records`,
    );
    expect(created.status).toBe(200);
    expect(await dig(`hello.${ZONE}`)).toBe("192.0.2.80");
    expect(await dig(`hello.${ZONE}`, "+tcp")).toBe("192.0.2.80");
    expect(await dig(`nothing.${ZONE}`)).toBe("");
  });

  it("passes its image HEALTHCHECK, which finds the port from the app's own config", async () => {
    expect(await container.inspect<string[]>(".Config.Healthcheck.Test")).toEqual([
      "CMD",
      "node",
      "/app/healthcheck.mjs",
    ]);
    expect(await podmanStatus("healthcheck", "run", container.name)).toBe(0);
    // The same check, told the API is on another port ($PORT, as the agent would set it), fails.
    expect(await podmanStatus("exec", "-e", "PORT=1", container.name, "node", "/app/healthcheck.mjs")).toBe(
      1,
    );
  });
});
