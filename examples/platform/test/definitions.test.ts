// The definitions in examples/platform/ and examples/services/: they pass the CLI's and the agent's
// parser, name the images `make images` builds, and work with them when run as the agent runs a
// component (test/helpers/like-agent.ts) — mcns answers dig on its published DNS port, cert-broker
// its API on the $PORT it was handed, hello its page as a non-root user, and stops at once.
import { execFile } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { appendTokenEntry, mintToken } from "@mcp/mcdsl/auth";
import { loadServiceDefinitions, type ServiceDefinition } from "@mcp/mcdsl/servicedef";
import { curl } from "@mcp/mcdsl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningComponent, runLikeAgent, under } from "./helpers/like-agent.js";
import { appImage, type Container, podman, podmanStatus, REPO, tempDir, waitFor } from "./helpers/podman.js";

const exec = promisify(execFile);
const platform = loadServiceDefinitions(`${REPO}/examples/platform`);
const services = loadServiceDefinitions(`${REPO}/examples/services`);
const started: Container[] = [];

function definition(list: ServiceDefinition[], name: string): ServiceDefinition {
  const found = list.find((d) => d.name === name);
  if (!found) throw new Error(`no definition named ${name}`);
  return found;
}

async function start(def: ServiceDefinition, root: string): Promise<RunningComponent> {
  const component = def.components[0];
  if (!component) throw new Error(`${def.name} has no component`);
  const running = await runLikeAgent(def.name, component, under(root));
  started.push(running.container);
  const path = component.health.path ?? "/";
  await waitFor(
    async () =>
      (await curl("-m", "5", `http://127.0.0.1:${running.probePort}${path}`)).status === 200
        ? true
        : undefined,
    async () => `${def.name}'s health check ${path} never passed; logs:\n${await running.container.logs()}`,
  );
  return running;
}

let root: string;

afterAll(async () => {
  for (const container of started) await container.remove();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("examples/platform and examples/services", () => {
  it("are valid definitions of the platform's apps and the demo service", () => {
    expect(platform.map((d) => d.name)).toEqual(["cert-broker", "mcns", "mcproxy-registry"]);
    expect(services.map((d) => d.name)).toEqual(["hello"]);
    expect(definition(services, "hello").components[0]?.routes[0]?.hostnames).toEqual([
      "hello.svc.mcp.metacircular.net",
    ]);
  });

  it("name the images make images builds, at the apps' current versions", async () => {
    for (const def of platform) {
      const image = def.components[0]?.image ?? "";
      expect(image).toBe(appImage(def.name));
      expect(await podmanStatus("image", "exists", image)).toBe(0);
    }
    expect(
      await podmanStatus("image", "exists", definition(services, "hello").components[0]?.image ?? ""),
    ).toBe(0);
  });
});

describe("run as the agent runs them", () => {
  beforeAll(() => {
    root = tempDir("defs");
  });

  it("mcns: the API on its loopback port, DNS on the published port, as the image's user", async () => {
    const etc = under(root)("/etc/mcns");
    const minted = mintToken("agent", ["agent"]);
    appendTokenEntry(join(etc, "tokens.toml"), minted.entry);
    writeFileSync(
      join(etc, "mcns.toml"),
      `[auth]\ntokens_file = "/etc/mcns/tokens.toml"\n[events]\nservers = []\nnode = "image-test"\n` +
        `[[zones]]\nname = "svc.mcp.metacircular.net"\nprimary_ns = "ns1.mcp.metacircular.net"\n` +
        `admin_mailbox = "hostmaster.metacircular.net"\n`,
    );
    const running = await start(definition(platform, "mcns"), root);
    expect(await podman("top", running.container.name, "user")).toContain("mcp");
    const dnsPort = running.published.get("5353/udp");
    const { stdout } = await exec("dig", [
      "@127.0.0.1",
      "-p",
      String(dnsPort),
      "+time=3",
      "svc.mcp.metacircular.net",
      "SOA",
    ]);
    expect(stdout).toContain("status: NOERROR");
    expect(stdout).toContain("ns1.mcp.metacircular.net. hostmaster.metacircular.net.");
  });

  it("cert-broker: the API on the $PORT the agent hands it", async () => {
    const etc = under(root)("/etc/cert-broker");
    appendTokenEntry(join(etc, "tokens.toml"), mintToken("agent", ["agent"]).entry);
    writeFileSync(join(etc, "cert-broker.toml"), `[events]\nservers = []\nnode = "image-test"\n`);
    const running = await start(definition(platform, "cert-broker"), root);
    const bundle = await curl(`http://127.0.0.1:${running.probePort}/v1/trust-bundle`);
    expect(bundle.status).toBe(200);
    expect((bundle.json as { pem: string }).pem).toContain("BEGIN CERTIFICATE");
  });

  it("hello: the page on $PORT as the www user, and a stop that does not wait for SIGKILL", async () => {
    const running = await start(definition(services, "hello"), root);
    const page = await curl(`http://127.0.0.1:${running.probePort}/`);
    expect(page.body).toContain("hello from MCP");
    const name = running.container.name;
    expect((await podman("top", name, "user")).split("\n").slice(1).filter(Boolean)).toEqual(
      expect.arrayContaining(["www"]),
    );
    await podman("stop", "-t", "60", name);
    // 0: the shell's TERM trap ended it; SIGKILL after the timeout would be 137.
    expect(await running.container.inspect<number>(".State.ExitCode")).toBe(0);
  });
});
