import { describe, expect, it } from "vitest";
import { eventsFields, logFields, serverFields } from "../../src/app/index.js";
import { connectConfiguredEvents, tlsFromConfig } from "../../src/app/wiring.js";
import { loadConfig, section, z } from "../../src/config/index.js";
import { startNatsServer } from "../../src/testing/index.js";

const schema = z.object({
  server: section(serverFields("127.0.0.1:7000")),
  events: section(eventsFields()),
  log: section(logFields()),
});

describe("mcdsl/app", () => {
  it("gives every app the same [server], [events] and [log] tables, with $PORT on the API", () => {
    const config = loadConfig({
      app: "demo",
      schema,
      file: '[log]\nlevel = "debug"\n',
      path: "demo.toml",
      env: { PORT: "7100" },
    });
    expect(config).toEqual({
      server: { listen: "127.0.0.1:7100" },
      events: { servers: [], node: "local" },
      log: { level: "debug" },
    });
  });

  it("takes TLS files in pairs", () => {
    expect(tlsFromConfig({})).toBeUndefined();
    expect(tlsFromConfig({ tls_cert_file: "c.pem", tls_key_file: "k.pem" })).toEqual({
      certFile: "c.pem",
      keyFile: "k.pem",
    });
    expect(() => tlsFromConfig({ tls_cert_file: "c.pem" })).toThrow(
      "<config>: [server] tls_key_file: missing: set both tls_cert_file and tls_key_file for TLS, or neither",
    );
  });

  it("connects events only when servers are configured, with the stream in place", async () => {
    expect(await connectConfiguredEvents("demo", { servers: [], node: "n1" })).toBeUndefined();
    const nats = await startNatsServer();
    try {
      const bus = await connectConfiguredEvents("demo", { servers: [nats.url], node: "n1" });
      const published = await bus!.publish("mcp.demo.started", { ok: true });
      expect(published.sequence).toBe(1);
      await bus!.close();
    } finally {
      await nats.stop();
    }
  });
});
