#!/usr/bin/env node
// mcp-agent: the node agent. This file only wires the parts together.
import { parseArgs } from "node:util";
import { connectConfiguredEvents, runMain, serveConfigured, tlsFromConfig } from "@mcp/mcdsl/app";
import { loadStaticAuthenticator } from "@mcp/mcdsl/auth";
import { createLogger } from "@mcp/mcdsl/log";
import { closeOnSignals } from "@mcp/mcdsl/server";
import { agentRoutes } from "./api/agent-service.js";
import { peersFromConfig } from "./clients/peers.js";
import { APP, loadAgentConfig } from "./config.js";
import { Monitor } from "./monitor/monitor.js";
import { PortAllocator } from "./ports/allocator.js";
import { leaseOwnerAlive } from "./ports/reclaim.js";
import { Podman } from "./runtime/podman.js";
import { PrivateDir } from "./runtime/private-dir.js";
import { RegistryAuth } from "./runtime/registry-auth.js";
import type { SagaDeps } from "./saga/context.js";
import { Operations } from "./saga/operations.js";
import { recoverSagas } from "./saga/recovery.js";
import { StatusReader } from "./status/observe.js";
import { Registry } from "./store/registry.js";

async function main(): Promise<void> {
  const startTime = new Date();
  const { values } = parseArgs({ options: { config: { type: "string", short: "c" } } });
  const config = loadAgentConfig(values.config);
  const logger = createLogger({ app: APP, level: config.log.level, node: config.node.name });

  const registry = new Registry(config.database.path);
  // A crashed agent's private directories (credentials, env files) go before new ones are made.
  for (const dir of PrivateDir.sweepStale(APP))
    logger.info({ dir }, "removed a crashed agent's private directory");
  const authDir = new PrivateDir(APP);
  const registryAuth = withCleanup(
    () =>
      new RegistryAuth(
        config.registries.map((r) => ({
          host: r.host,
          username: r.username,
          passwordFile: r.password_file,
          tokenFile: r.token_file,
          caFile: r.ca_file,
          insecure: r.insecure,
        })),
        authDir,
      ),
    () => authDir.close(),
  );
  const podman = new Podman({ binary: config.podman.binary, registryAuth });
  const portRange = { min: config.ports.min, max: config.ports.max };
  const allocator = new PortAllocator(registry.leases, { range: portRange });

  try {
    await podman.ensureNetwork(config.podman.network);
  } catch (err) {
    logger.error({ err: (err as Error).message }, "cannot create the default network; deploys will fail");
  }

  const bus = await connectConfiguredEvents(
    APP,
    { servers: config.events.servers, node: config.node.name },
    logger,
  );
  const outbox = registry.outbox({ bus, logger });
  const deps: SagaDeps = {
    registry,
    podman,
    allocator,
    peers: peersFromConfig(config),
    outbox,
    logger,
    node: { name: config.node.name, address: config.node.address },
    containerDefaults: {
      network: config.podman.network,
      user: config.podman.user,
      restart: config.podman.restart,
      stopTimeoutS: config.podman.stop_timeout,
    },
    stopTimeoutS: config.podman.stop_timeout,
    recordTtl: config.mcns.ttl,
    drainMs: config.mcproxy.drain_timeout_ms,
    caFile: config.cert_broker.ca_file,
  };
  const operations = new Operations(deps);

  // Deploy events a crash or an outage kept from NATS go out now; the outbox publishes in the
  // order they were recorded, so recovery's failed/rolled_back still come after them.
  if (outbox.pending > 0) logger.info({ events: outbox.pending }, "publishing deploy events held back");
  void outbox.flush();
  // Sagas a crash interrupted are finished first (rolled back, or forward past `retire`); then
  // leases whose owner is gone (a retired version, a stopped service) go back to the pool.
  const unrecovered = await recover(deps, operations);
  for (const lease of allocator.reclaim(leaseOwnerAlive(registry))) {
    logger.info(
      { port: lease.hostPort, service: lease.service, deployId: lease.deployId },
      "reclaimed port lease",
    );
  }

  const status = new StatusReader(registry, podman);
  const monitor = new Monitor(
    { registry, podman, status, locks: operations.locks, outbox, logger },
    {
      flapRestarts: config.monitor.flap_restarts,
      flapWindowMs: config.monitor.flap_window_ms,
      driftIntervalMs: config.monitor.drift_interval_ms,
      alertCommand: config.monitor.alert_command,
    },
  );
  if (config.monitor.enabled) monitor.start();
  const tls = tlsFromConfig(config.server);
  const server = await serveConfigured(config.server, {
    routes: agentRoutes({
      registry,
      status,
      node: {
        name: config.node.name,
        startTime,
        portRange,
        registry,
        podman,
        status,
        eventsConnected: () => bus?.connected ?? false,
      },
      operations,
      bus,
      files: {
        root: config.files.root,
        maxBytes: config.files.max_bytes,
        idleTimeoutMs: config.files.idle_timeout_ms,
      },
    }),
    listen: config.server.listen,
    socket: config.server.socket ? { path: config.server.socket } : undefined,
    tls,
    auth: { authenticator: loadStaticAuthenticator(config.auth.tokens_file), policy: {} },
    logger,
    readiness: () => registry.open,
  });
  logger.info(
    { url: server.url, socket: server.addresses.socket, registries: registryAuth.hosts, ports: portRange },
    "serving",
  );

  closeOnSignals(logger, [
    () => clearInterval(unrecovered),
    () => server.close(),
    () => monitor.close(),
    () => outbox.close(),
    () => bus?.close(),
    () => podman.close(),
    () => authDir.close(),
    () => registry.close(),
  ]);
}

/**
 * Recovers interrupted sagas; those that cannot be finished now (a peer is down) are retried
 * every 10 s, each under its service's lock. Returns the retry timer.
 */
async function recover(deps: SagaDeps, operations: Operations): Promise<NodeJS.Timeout | undefined> {
  for (const r of await recoverSagas(deps)) {
    deps.logger.info(
      { deployId: r.deployId, service: r.service, outcome: r.outcome, err: r.error },
      "recovered saga",
    );
  }
  const timer = setInterval(async () => {
    for (const deploy of deps.registry.journal.inProgress()) {
      let release: (() => void) | undefined;
      try {
        release = operations.locks.acquire(deploy.service, "recovery");
      } catch {
        continue; // a live saga of this service
      }
      try {
        await recoverSagas(deps, new Set([deploy.id]));
      } finally {
        release();
      }
    }
  }, 10_000);
  timer.unref();
  return timer;
}

/** Runs fn; on a throw runs cleanup first (so a refused config leaves no private directory). */
function withCleanup<T>(fn: () => T, cleanup: () => void): T {
  try {
    return fn();
  } catch (err) {
    cleanup();
    throw err;
  }
}

runMain(APP, main);
