import { describe, expect, it } from "vitest";
import { loadMcnsConfig } from "../src/config.js";

describe("config.example.toml", () => {
  it("loads as documented, so the reference stays true", () => {
    const config = loadMcnsConfig(new URL("../config.example.toml", import.meta.url).pathname);
    expect(config.dns).toMatchObject({ listen: "0.0.0.0:53", max_udp_payload: 1232, forwarders: [] });
    expect(config.zones.length).toBeGreaterThan(0);
  });
});
