import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { eventsFields, logFields, serverFields } from "../../src/app/index.js";
import { connectConfiguredEvents, serveConfigured, tlsFromConfig } from "../../src/app/wiring.js";
import { loadConfig, section, z } from "../../src/config/index.js";
import { startNatsServer } from "../../src/testing/index.js";

/** Polls `check` until it holds (10 s at most). */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in 10 s");
    await new Promise((r) => setTimeout(r, 20));
  }
}

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

  it("takes TLS files in pairs, and refuses one it cannot read at its line", () => {
    const dir = mkdtempSync(join(tmpdir(), "mcdsl-wiring-"));
    try {
      const [cert, key] = [join(dir, "c.pem"), join(dir, "k.pem")];
      writeFileSync(cert, "cert");
      writeFileSync(key, "key");
      expect(tlsFromConfig({})).toBeUndefined();
      expect(tlsFromConfig({ tls_cert_file: cert, tls_key_file: key })).toEqual({
        certFile: cert,
        keyFile: key,
      });
      const config = loadConfig({
        app: "demo",
        schema,
        path: "demo.toml",
        file: `[server]\nlisten = "127.0.0.1:7000"\ntls_cert_file = "${cert}"\ntls_key_file = "${dir}/none.pem"\n`,
      });
      expect(() => tlsFromConfig(config.server)).toThrow(
        `demo.toml:4: [server] tls_key_file: cannot read ${dir}/none.pem: no such file`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => tlsFromConfig({ tls_cert_file: "c.pem" })).toThrow(
      "<config>: [server] tls_key_file: missing: set both tls_cert_file and tls_key_file for TLS, or neither",
    );
  });

  it("names [server] listen, at its line, when the API's port is taken", async () => {
    const holder = createServer().listen(0, "127.0.0.1");
    await once(holder, "listening");
    const taken = `127.0.0.1:${(holder.address() as AddressInfo).port}`;
    try {
      const config = loadConfig({
        app: "demo",
        schema,
        path: "demo.toml",
        file: `\n[server]\nlisten = "${taken}"\n`,
      });
      await expect(
        serveConfigured(config.server, {
          routes: () => {},
          listen: config.server.listen,
          logger: pino({ level: "silent" }),
        }),
      ).rejects.toThrow(`demo.toml:3: [server] listen: cannot listen on ${taken}: address already in use`);
    } finally {
      holder.close();
    }
  });

  it("connects events only when servers are configured, with the stream in place", async () => {
    const logger = pino({ level: "silent" });
    expect(await connectConfiguredEvents("demo", { servers: [], node: "n1" }, logger)).toBeUndefined();
    const nats = await startNatsServer();
    try {
      const bus = await connectConfiguredEvents("demo", { servers: [nats.url], node: "n1" }, logger);
      await until(() => bus!.connected);
      await bus!.ensureStream();
      const published = await bus!.publish("mcp.demo.started", { ok: true });
      expect(published.sequence).toBe(1);
      await bus!.close();
    } finally {
      await nats.stop();
    }
  });

  it("starts without NATS: publishing fails at once until NATS is reached, then works", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
    const nats = await startNatsServer();
    await nats.down();
    try {
      const startedAt = Date.now();
      const bus = (await connectConfiguredEvents("demo", { servers: [nats.url], node: "n1" }, logger))!;
      expect(Date.now() - startedAt).toBeLessThan(2_000);
      expect(bus.connected).toBe(false);
      await expect(bus.publish("mcp.demo.started", { ok: true })).rejects.toMatchObject({
        code: "UNREACHABLE",
      });
      // A consumer asked for now starts once NATS is there.
      const seen: unknown[] = [];
      const sub = await bus.subscribe({
        durable: "demo-late",
        filter: "mcp.demo.>",
        handler: async (e) => void seen.push(e.data),
      });
      await nats.up();
      await until(() => bus.connected);
      await until(() => lines.some((l) => l.includes('"msg":"connected to NATS"')));
      await bus.publish("mcp.demo.started", { ok: true });
      await until(() => seen.length === 1);
      expect(seen).toEqual([{ ok: true }]);
      await sub.stop();
      await bus.close();
    } finally {
      await nats.stop();
    }
  });
});
