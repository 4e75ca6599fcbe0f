#!/usr/bin/env -S node --max-semi-space-size=8 --single-threaded-gc
// mcproxy-registry (mc-proxy): the route store with its admin API, and the SNI data plane. This
// file only wires the parts together.
import { parseArgs } from "node:util";
import { connectConfiguredEvents, runMain, serveConfigured, tlsFromConfig } from "@mcp/mcdsl/app";
import { loadStaticAuthenticator } from "@mcp/mcdsl/auth";
import { ConfigError, configIssue } from "@mcp/mcdsl/config";
import { createLogger } from "@mcp/mcdsl/log";
import { closeOnSignals, ListenError } from "@mcp/mcdsl/server";
import { Registry } from "prom-client";
import { routeServiceRoutes } from "./api/route-service.js";
import { CertStore } from "./certs/cert-store.js";
import { registerExpiryMetric } from "./certs/expiry-metric.js";
import { followRenewals } from "./certs/renewals.js";
import { APP, loadMcproxyConfig } from "./config.js";
import { AccessLog } from "./dataplane/access-log.js";
import { defaultMaxConnections, defaultPerClient, openFileLimit } from "./dataplane/connection-gate.js";
import { DataPlane } from "./dataplane/data-plane.js";
import { ProxyMetrics } from "./dataplane/metrics.js";
import { RouteTable } from "./dataplane/route-table.js";
import { RouteRegistry } from "./routes/registry.js";
import { RouteEvents } from "./routes/route-events.js";
import { loadBootstrapRoutes } from "./store/bootstrap-file.js";
import { RouteStore } from "./store/route-store.js";

const MUTATIONS = ["AddRoute", "RemoveRoute", "SetBackend"].map((m) => `mcproxy.v1.RouteService/${m}`);

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: "string", short: "c" } } });
  const config = loadMcproxyConfig(values.config);
  const logger = createLogger({ app: APP, level: config.log.level, node: config.events.node });
  const bootstrap = loadBootstrapRoutes(config.proxy.bootstrap_file, config.proxy.cert_dir);
  const authenticator = loadStaticAuthenticator(config.auth.tokens_file);

  const store = new RouteStore(config.database.path);
  const bus = await connectConfiguredEvents(APP, config.events, logger);
  const outbox = store.outbox({ bus, logger });
  const registry = new Registry();
  const metrics = new ProxyMetrics(registry);
  const table = new RouteTable();
  const certs = new CertStore();
  registerExpiryMetric(registry, table, certs);
  const p = config.proxy;
  const maxConnections = p.max_connections || defaultMaxConnections(openFileLimit());
  const dataPlane = new DataPlane({
    table,
    certs,
    metrics,
    logger,
    access: p.access_log ? new AccessLog(logger) : undefined,
    options: {
      bind: p.bind,
      handshakeTimeoutMs: p.handshake_timeout_ms,
      connectTimeoutMs: p.connect_timeout_ms,
      backendDownMs: p.backend_down_ms,
      responseTimeoutMs: p.response_timeout_ms,
      idleTimeoutMs: p.idle_timeout_ms,
      maxConnections,
      maxConnectionsPerClient: p.max_connections_per_client || defaultPerClient(maxConnections),
      tlsGroups: p.tls_groups,
    },
  });
  const routes = new RouteRegistry({
    store,
    table,
    dataPlane,
    certs,
    metrics,
    logger,
    events: new RouteEvents(outbox),
    certDir: p.cert_dir,
    certDirs: [p.cert_dir, ...p.extra_cert_dirs],
    defaultDrainMs: p.drain_timeout_ms,
  });
  // The API's listeners first: a taken port or a missing TLS file stops the start before any
  // route listener opens. Ready (and changes served) once the stored routes are.
  const tls = tlsFromConfig(config.server);
  let started = false;
  const shared = {
    routes: routeServiceRoutes(routes),
    logger,
    metrics: { registry },
    readiness: () => started && store.open,
  };
  const tcpServer = await serveConfigured(config.server, {
    ...shared,
    listen: config.server.listen,
    tls,
    auth: {
      authenticator,
      policy: { roles: Object.fromEntries(MUTATIONS.map((m) => [m, ["admin", "agent"]])) },
    },
  });
  // Two servers for one API: the socket has no auth (its file mode is the control), TCP does.
  const socketServer = await serveConfigured(config.server, {
    ...shared,
    socket: { path: config.server.socket, mode: config.server.socket_mode },
  }).catch(async (err: unknown) => {
    await tcpServer.close();
    throw err;
  });
  if (p.http_redirect_port > 0) {
    await dataPlane
      .openRedirect(p.http_redirect_port, () => started)
      .catch(async (err: NodeJS.ErrnoException) => {
        await Promise.all([tcpServer.close(), socketServer.close()]);
        const address = `${p.bind}:${p.http_redirect_port}`;
        throw new ConfigError([
          configIssue(config.proxy, "http_redirect_port", ListenError.from("tcp", address, err).message),
        ]);
      });
  }
  await routes.start(bootstrap);
  started = true;
  const renewals = bus ? await followRenewals(bus, routes, logger) : undefined;
  // Events an earlier run recorded and NATS never acknowledged (an outage, a crash) go out now.
  void outbox.flush();
  logger.info(
    { api: tcpServer.url, socket: config.server.socket, ports: dataPlane.ports },
    "mc-proxy serving",
  );

  // SIGHUP (systemctl reload, podman kill -s HUP): the bootstrap file again, without a restart.
  process.on("SIGHUP", () => {
    void (async () => {
      try {
        const changes = await routes.reloadBootstrap(loadBootstrapRoutes(p.bootstrap_file, p.cert_dir));
        logger.info({ file: p.bootstrap_file, ...changes }, "bootstrap file reloaded");
      } catch (err) {
        logger.error(
          { file: p.bootstrap_file, err: (err as Error).message },
          "bootstrap file not reloaded: the routes stay as they were",
        );
      }
    })();
  });

  closeOnSignals(logger, [
    // The data plane first: its requests in progress finish while the API still answers.
    () => dataPlane.shutdown(p.shutdown_timeout_ms),
    () => tcpServer.close(),
    () => socketServer.close(),
    () => renewals?.stop(),
    () => outbox.close(),
    () => bus?.close(),
    () => store.close(),
  ]);
}

runMain(APP, main);
