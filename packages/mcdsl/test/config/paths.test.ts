import { describe, expect, it } from "vitest";
import { defaultConfigFile, defaultPaths } from "../../src/config/index.js";

describe("defaultPaths", () => {
  it("uses /etc and /srv for root", () => {
    const paths = defaultPaths("mcns", { uid: 0, env: { XDG_CONFIG_HOME: "/home/x/.cfg" } });
    expect(paths).toEqual({ configDir: "/etc/mcns", dataDir: "/srv/mcns" });
    expect(defaultConfigFile("mcns", { uid: 0 })).toBe("/etc/mcns/mcns.toml");
    // Per-user tools ask for the user paths even as root.
    expect(defaultPaths("mcp", { uid: 0, user: true, env: { HOME: "/root" } }).configDir).toBe(
      "/root/.config/mcp",
    );
  });

  it("uses the XDG variables for other users", () => {
    const env = { XDG_CONFIG_HOME: "/home/kyle/.cfg", XDG_DATA_HOME: "/home/kyle/.data", HOME: "/home/kyle" };
    expect(defaultPaths("mcp", { uid: 1000, env })).toEqual({
      configDir: "/home/kyle/.cfg/mcp",
      dataDir: "/home/kyle/.data/mcp",
    });
    expect(defaultConfigFile("mcp", { uid: 1000, env })).toBe("/home/kyle/.cfg/mcp/mcp.toml");
  });

  it("falls back to ~/.config and ~/.local/share, ignoring relative XDG values", () => {
    const env = { HOME: "/home/kyle", XDG_CONFIG_HOME: "relative/dir", XDG_DATA_HOME: "" };
    expect(defaultPaths("mcp", { uid: 1000, env })).toEqual({
      configDir: "/home/kyle/.config/mcp",
      dataDir: "/home/kyle/.local/share/mcp",
    });
    expect(defaultPaths("mcp", { uid: 1000, env: {}, home: "/home/other" }).configDir).toBe(
      "/home/other/.config/mcp",
    );
  });
});
