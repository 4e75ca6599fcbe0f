// The agent commands against the real mcp-agent process (podman underneath), and the checks the
// CLI makes before it calls the agent at all.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cliConfig, type RunningApp, startAgent } from "./platform.js";
import { runMcp, tempHome } from "./run-mcp.js";

const HELLO = `name = "hello"
[[components]]
name = "web"
image = "localhost/hello:1"
cmd = ["httpd", "-f", "-p", "$PORT"]
[[components.routes]]
name = "http"
port = 443
`;

let agent: RunningApp;

beforeAll(async () => {
  agent = await startAgent();
});

/** A home with the config pointing at `agentUrl` and hello.toml in ~/.config/mcp/services/. */
function operatorHome(agentUrl: string, definition = HELLO) {
  const { home, env } = tempHome();
  const config = cliConfig(home, {});
  writeFileSync(config, `[agent]\naddress = "${agentUrl}"\n`);
  const services = join(home, ".config", "mcp", "services");
  mkdirSync(services, { recursive: true });
  writeFileSync(join(services, "hello.toml"), definition);
  return { home, env, services };
}

describe("agent commands, client side", () => {
  it("a bad definition is refused with file:line before the agent is called", async () => {
    // Nothing listens at this agent address: reaching it would say "cannot reach".
    const { env, services } = operatorHome(
      "http://127.0.0.1:9",
      HELLO.replace('image = "localhost/hello:1"', 'image = "Bad Image"').replace(
        "port = 443",
        "port = 70000",
      ),
    );
    const file = join(services, "hello.toml");
    for (const args of [
      ["deploy", "hello"],
      ["deploy", "--plan", "hello"],
      ["plan", "--file", file],
    ]) {
      const result = await runMcp(args, { env });
      expect(result.code).toBe(1);
      expect(result.stderr.split("\n")).toEqual([
        expect.stringMatching(
          new RegExp(`^mcp: ${file}:4: \\[components\\[0\\]\\] image: expected an image reference`),
        ),
        `mcp: ${file}:8: [components[0].routes[0]] port: expected an integer from 1 to 65535, got 70000`,
        "",
      ]);
    }
  });

  it("names what is missing: the definition, the node", async () => {
    const { env, services } = operatorHome("http://127.0.0.1:9");
    expect(await runMcp(["deploy", "other"], { env })).toMatchObject({
      code: 1,
      stderr: `mcp: no definition for "other": ${join(services, "other.toml")} does not exist (give a path or --file)\n`,
    });
    expect((await runMcp(["deploy", "other", "--file", join(services, "hello.toml")], { env })).stderr).toBe(
      `mcp: ${join(services, "hello.toml")} defines service "hello", not "other"\n`,
    );
    const { home, env: env2 } = tempHome();
    writeFileSync(
      cliConfig(home, {}),
      `node = "rift"\n[agent]\naddress = "http://127.0.0.1:9"\n[[nodes]]\nname = "vade"\nagent = "http://127.0.0.1:9"\n`,
    );
    expect((await runMcp(["--node", "nowhere", "status"], { env: env2 })).stderr).toBe(
      'mcp: unknown node "nowhere" (known: rift, vade); add a [[nodes]] entry to the config\n',
    );
  });
});

describe("agent commands against the agent", () => {
  it("list, ps and status show an empty node; an unknown service is not found", async () => {
    const { env } = operatorHome(agent.url);
    expect((await runMcp(["list"], { env })).stdout).toMatch(
      /^SERVICE\s+NODE\s+ACTIVE\s+COMPONENTS\s+RUNNING\s+LAST DEPLOY\n$/,
    );
    expect((await runMcp(["ps"], { env })).stdout).toMatch(/^SERVICE\s+COMPONENT\s+CONTAINER\s+ID\s+IMAGE/);
    expect(JSON.parse((await runMcp(["--json", "status"], { env })).stdout)).toEqual({ services: [] });
    expect(await runMcp(["status", "nosuch"], { env })).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^mcp: not found: .*nosuch/),
    });
    expect((await runMcp(["service", "export", "nosuch"], { env })).stderr).toBe(
      'mcp: not found: service "nosuch" is not in the agent\'s registry\n',
    );
  });

  it("a read without a token is refused with a hint", async () => {
    const { home, env } = operatorHome(agent.url);
    const empty = join(home, "no-token");
    writeFileSync(empty, "\n");
    expect((await runMcp(["--token-file", empty, "list"], { env })).stderr).toBe(
      "mcp: unauthenticated: missing bearer token (store a token with `mcp login`, or set token_file)\n",
    );
  });
});
