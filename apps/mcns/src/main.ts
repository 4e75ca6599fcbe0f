#!/usr/bin/env -S node --max-semi-space-size=8
// mcns: authoritative DNS over a SQLite record store, with a record API. This file only wires the
// parts together; `mcns import <zonefile>` loads an RFC 1035 master file into the store offline
// (a running server imports through the ImportZone RPC).
import { parseArgs } from "node:util";
import { connectConfiguredEvents, runMain, serveConfigured, tlsFromConfig } from "@mcp/mcdsl/app";
import { loadStaticAuthenticator } from "@mcp/mcdsl/auth";
import { parseListenAddress } from "@mcp/mcdsl/config";
import { createLogger } from "@mcp/mcdsl/log";
import { closeOnSignals } from "@mcp/mcdsl/server";
import { LOCK_WAIT_MS } from "./api/errors.js";
import { RecordEvents } from "./api/events.js";
import { MAX_IMPORT_BYTES } from "./api/import-zone.js";
import { recordPolicy, recordRoutes } from "./api/record-service.js";
import { APP, loadMcnsConfig } from "./config.js";
import { AnswerCache } from "./dns/answers.js";
import { Forwarder } from "./dns/forwarder.js";
import { Responder } from "./dns/responder.js";
import { DnsServer } from "./dns/server.js";
import { QueryStats } from "./dns/stats.js";
import { ZoneIndex } from "./dns/zone-index.js";
import { RecordManager } from "./records/manager.js";
import { RecordStore } from "./store/records.js";
import { runImport } from "./zonefile/import-command.js";
import { ImportThreads } from "./zonefile/import-thread.js";

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      config: { type: "string", short: "c" },
      owner: { type: "string" },
      zone: { type: "string" },
      "dry-run": { type: "boolean" },
    },
    allowPositionals: true,
  });
  const config = loadMcnsConfig(values.config);
  if (positionals[0] === "import") {
    process.exitCode = runImport(config, positionals.slice(1), {
      owner: values.owner,
      zone: values.zone,
      dryRun: values["dry-run"],
    });
    return;
  }
  if (positionals.length > 0) throw new Error(`unknown command "${positionals[0]}" (commands: import)`);

  const logger = createLogger({ app: APP, level: config.log.level, node: config.events.node });
  const started = performance.now();
  // Only an offline `mcns import` run beside the server takes the database's write lock. SQLite would
  // wait for it synchronously, DNS included: a change here meets it at once and waits between tries
  // (runWhenUnlocked), 1 s at most, then is Unavailable. The start waits up to 1 s the plain way.
  const store = new RecordStore(config.database.path, config.zones, {
    busyTimeoutMs: 1000,
    failFastWhenLocked: true,
  });
  const index = new ZoneIndex(store.zones(), store.forIndex());
  store.onChange = (change) => index.apply(change);
  logger.info(
    {
      zones: store.zones().length,
      records: [...index.recordCounts().values()].reduce((a, b) => a + b, 0),
      ms: Math.round(performance.now() - started),
    },
    "records loaded",
  );

  const stats = new QueryStats();
  const dnsAddress = parseListenAddress(config.dns.listen);
  const forwarder =
    config.dns.forwarders.length > 0
      ? new Forwarder({
          upstreams: config.dns.forwarders.map(parseListenAddress),
          timeoutMs: config.dns.forward_timeout_ms,
          maxInflight: config.dns.max_inflight,
        })
      : undefined;
  const dns = new DnsServer({
    host: dnsAddress.host,
    port: dnsAddress.port,
    responder: new Responder(
      new AnswerCache(index),
      stats,
      config.dns.max_udp_payload,
      forwarder !== undefined,
    ),
    forwarder,
    stats,
    logger,
    tcpIdleTimeoutMs: config.dns.tcp_idle_timeout_ms,
    maxTcpConnections: config.dns.max_tcp_connections,
    maxInflight: config.dns.max_inflight,
  });
  await dns.start();

  const bus = await connectConfiguredEvents(APP, config.events, logger);
  const outbox = store.outbox({ bus, logger });
  const events = new RecordEvents(outbox);

  const tls = tlsFromConfig(config.server);
  const server = await serveConfigured(config.server, {
    routes: recordRoutes(
      store,
      new RecordManager(store, { hasNamesBelow: (n) => index.hasNamesBelow(n) }),
      events,
      new ImportThreads({
        path: config.database.path,
        zones: config.zones,
        busyTimeoutMs: LOCK_WAIT_MS,
        recordEvents: bus !== undefined,
      }),
    ),
    listen: config.server.listen,
    socket: config.server.socket ? { path: config.server.socket } : undefined,
    tls,
    auth: { authenticator: loadStaticAuthenticator(config.auth.tokens_file), policy: recordPolicy },
    logger,
    readiness: () => store.open,
    // ImportZone takes up to 4 MiB of zone file, which JSON escaping can grow.
    limits: { maxRequestBytes: 2 * MAX_IMPORT_BYTES },
  });
  stats.register(
    server.registry,
    () => new Map(store.zones().map((z) => [z.name, index.recordCounts().get(z.name) ?? 0])),
  );
  // Events an earlier run recorded and NATS never acknowledged (an outage, a crash) go out now.
  void events.flush();
  logger.info({ url: server.url, dns: dns.address }, "serving");

  closeOnSignals(logger, [
    () => dns.close(),
    () => server.close(),
    () => outbox.close(),
    () => bus?.close(),
    () => store.close(),
  ]);
}

runMain(APP, main);
