// config.example.toml is a working configuration: every key it shows is one the schema knows.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

describe("[policy] names", () => {
  it.each([
    ['public_hostnames = ["www.example.org", "*.example.org"]', "[policy] public_hostnames", "wildcard"],
    ['public_hostnames = [".a..b"]', "[policy] public_hostnames", '"a..b" is not a DNS name'],
    ['service_domain = "x"', "[policy] service_domain", '"x" is not a DNS name'],
    ['service_domain = ".svc.example.org"', "[policy] service_domain", "is not a DNS name"],
  ])("refuses %s naming the file, line and key", (line, key, words) => {
    const dir = mkdtempSync(join(tmpdir(), "cert-broker-config-"));
    try {
      const path = join(dir, "cert-broker.toml");
      writeFileSync(path, `[policy]\n${line}\n`);
      const load = () => loadConfig({ app: APP, schema: configSchema, path, env: {} });
      expect(load).toThrow(`${path}:2: ${key}`);
      expect(load).toThrow(words);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
