// The documented example config is a valid config, and the defaults are DESIGN.md's.
import { ConfigError, loadConfig } from "@mcp/mcdsl/config";
import { describe, expect, it } from "vitest";
import { configSchema, loadAgentConfig } from "../src/config.js";

describe("config", () => {
  it("loads config.example.toml as documented", () => {
    const config = loadAgentConfig(new URL("../config.example.toml", import.meta.url).pathname);
    expect(config).toMatchObject({
      server: { listen: "127.0.0.1:9444" },
      node: { name: "node1" },
      ports: { min: 10000, max: 60000 },
      podman: {
        binary: "podman",
        network: "mcpnet",
        user: "0:0",
        restart: "unless-stopped",
        stop_timeout: 10,
      },
      registries: [],
    });
  });

  it("defaults to mcpnet, 0:0, unless-stopped and ports 10000-60000 with no file", () => {
    const config = configSchema.parse({});
    expect(config.podman).toMatchObject({ network: "mcpnet", user: "0:0", restart: "unless-stopped" });
    expect(config.ports).toEqual({ min: 10000, max: 60000 });
  });

  it("reads [[registries]] and refuses an unknown key in one with its line", () => {
    const file = `[[registries]]\nhost = "mcr.example.org"\nusername = "mcp"\npasword_file = "/x"\n`;
    expect(() => loadConfig({ app: "mcp-agent", schema: configSchema, file, env: {} })).toThrow(ConfigError);
    expect(() => loadConfig({ app: "mcp-agent", schema: configSchema, file, env: {} })).toThrow(
      /:4: .*pasword_file/,
    );
  });
});
