// config.example.toml is a working configuration: every key it shows is one the schema knows.
import { loadConfig } from "@mcp/mcdsl/config";
import { describe, expect, it } from "vitest";
import { APP, configSchema } from "../src/config.js";

describe("config.example.toml", () => {
  it("loads with the schema, with the documented defaults", () => {
    const path = new URL("../config.example.toml", import.meta.url).pathname;
    const config = loadConfig({ app: APP, schema: configSchema, path, env: {} });
    expect(config.issuer.type).toBe("local");
    expect(config.certificates).toMatchObject({ lifetime: "720h", cert_dir: "/srv/mc-proxy/certs" });
    expect(config.policy.service_domain).toBe("svc.mcp.metacircular.net");
  });
});
