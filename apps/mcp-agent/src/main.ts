#!/usr/bin/env node
// mcp-agent: the node agent. This file only wires the parts together.
import { parseArgs } from "node:util";
import { connectConfiguredEvents, runMain, tlsFromConfig } from "@mcp/mcdsl/app";
import { loadStaticAuthenticator } from "@mcp/mcdsl/auth";
import { createLogger } from "@mcp/mcdsl/log";
import { closeOnSignals, serve } from "@mcp/mcdsl/server";
import { agentRoutes } from "./api/agent-service.js";
import { APP, loadAgentConfig } from "./config.js";
import { PortAllocator } from "./ports/allocator.js";
import { leaseOwnerAlive } from "./ports/reclaim.js";
import { Podman } from "./runtime/podman.js";
import { PrivateDir } from "./runtime/private-dir.js";
import { RegistryAuth } from "./runtime/registry-auth.js";
import { StatusReader } from "./status/observe.js";
import { Registry } from "./store/registry.js";

async function main(): Promise<void> {
  const startTime = new Date();
  const { values } = parseArgs({ options: { config: { type: "string", short: "c" } } });
  const config = loadAgentConfig(values.config);
  const logger = createLogger({ app: APP, level: config.log.level, node: config.node.name });

  const registry = new Registry(config.database.path);
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

  // Leases whose owner is gone (a crash between lease and commit, a retired version) go back to
  // the pool. Crashed deploys keep theirs: their recovery decides (the saga, issue 7).
  for (const lease of allocator.reclaim(leaseOwnerAlive(registry))) {
    logger.info(
      { port: lease.hostPort, service: lease.service, deployId: lease.deployId },
      "reclaimed port lease",
    );
  }
  try {
    await podman.ensureNetwork(config.podman.network);
  } catch (err) {
    logger.error({ err: (err as Error).message }, "cannot create the default network; deploys will fail");
  }

  const bus = await connectConfiguredEvents(APP, { servers: config.events.servers, node: config.node.name });

  const status = new StatusReader(registry, podman);
  const tls = tlsFromConfig(config.server);
  const server = await serve({
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
        eventsConnected: () => bus !== undefined,
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
    () => server.close(),
    () => bus?.close(),
    () => podman.close(),
    () => authDir.close(),
    () => registry.close(),
  ]);
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
