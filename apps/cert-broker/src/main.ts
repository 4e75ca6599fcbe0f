#!/usr/bin/env node
// cert-broker: certificate issuance, policy and renewal. This file only wires the parts together.
import { parseArgs } from "node:util";
import { connectConfiguredEvents, runMain, serveConfigured, tlsFromConfig } from "@mcp/mcdsl/app";
import { loadStaticAuthenticator } from "@mcp/mcdsl/auth";
import { createLogger } from "@mcp/mcdsl/log";
import { closeOnSignals } from "@mcp/mcdsl/server";
import { certServicePolicy, certServiceRoutes } from "./api/cert-service.js";
import { Broker } from "./broker/broker.js";
import { systemClock } from "./broker/clock.js";
import { APP, loadCertBrokerConfig, ms } from "./config.js";
import { serveCrl } from "./crl/crl-server.js";
import { CertEvents } from "./events/cert-events.js";
import { createIssuer } from "./issuer/create-issuer.js";
import { Policy } from "./policy/policy.js";
import { RenewalScheduler } from "./renewal/scheduler.js";
import { CertFiles } from "./store/cert-files.js";
import { CertificateStore } from "./store/certificates.js";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: "string", short: "c" } } });
  const config = loadCertBrokerConfig(values.config);
  const logger = createLogger({ app: APP, level: config.log.level, node: config.events.node });
  const clock = systemClock;

  const policy = new Policy({
    serviceDomain: config.policy.service_domain,
    publicHostnames: config.policy.public_hostnames,
  });
  const authenticator = loadStaticAuthenticator(config.auth.tokens_file);
  const store = new CertificateStore(config.database.path);
  const files = new CertFiles(config.certificates.keys_dir, config.certificates.cert_dir);
  const issuer = await createIssuer(config, logger);

  const bus = await connectConfiguredEvents(APP, config.events, logger);
  const outbox = store.outbox({ bus, logger });
  const events = new CertEvents(outbox);

  const broker = new Broker({
    store,
    files,
    issuer,
    policy,
    events,
    clock,
    logger,
    lifetimeMs: ms(config.certificates.lifetime),
    renewJitter: config.certificates.renew_jitter,
  });
  broker.recover();
  // Events an earlier run stored and NATS never acknowledged (an outage, a crash) go out now, after
  // recover() has rewritten the files they announce.
  void events.flush();

  const scheduler = new RenewalScheduler({
    broker,
    store,
    events,
    clock,
    logger,
    intervalMs: ms(config.renewal.interval),
    retryBaseMs: ms(config.renewal.retry_base),
    retryMaxMs: ms(config.renewal.retry_max),
    expiringFraction: config.renewal.expiring_fraction,
  });

  const tls = tlsFromConfig(config.server);
  const server = await serveConfigured(config.server, {
    routes: certServiceRoutes(broker, files, clock),
    listen: config.server.listen,
    socket: config.server.socket ? { path: config.server.socket } : undefined,
    tls,
    auth: { authenticator, policy: certServicePolicy },
    logger,
  });
  const crl = config.crl.listen ? await serveCrl(broker, config.crl.listen, logger) : undefined;
  scheduler.start();
  // A first pass at once: certificates that came due while the broker was down are renewed now.
  void scheduler.tick().catch((err: unknown) => logger.error({ err }, "renewal pass failed"));
  logger.info({ url: server.url, crl: crl?.url, issuer: issuer.kind }, "serving");

  closeOnSignals(logger, [
    () => scheduler.stop(),
    () => server.close(),
    () => crl?.close(),
    () => outbox.close(),
    () => bus?.close(),
    () => store.close(),
  ]);
}

runMain(APP, main);
