import { unlinkSync } from "node:fs";
import type * as net from "node:net";
import { type ConnectRouter, createConnectRouter, type Interceptor } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { type AuthOptions, createAuthInterceptor } from "../auth/interceptor.js";
import { validatePolicy } from "../auth/policy.js";
import { parseListenAddress } from "../config/listen.js";
import { ConnectionTracker } from "./connections.js";
import {
  createCleartextListener,
  createCleartextServers,
  createTlsListener,
  listen,
  removeStaleSocket,
  setSocketMode,
  type TlsFiles,
} from "./listeners.js";
import { createRpcMetrics, type MetricsOptions } from "./metrics.js";
import { createRequestHandler } from "./request-handler.js";
import { createRestHandler } from "./rest/handler.js";
import { collectRoutes } from "./rest/routes.js";

export interface ServeOptions {
  /** Registers the Connect services: `(router) => router.service(NoteService, impl)`. */
  routes: (router: ConnectRouter) => void;
  /** TCP address, "host:port" ("127.0.0.1:0" picks a free port; ":8080" is every interface). */
  listen?: string;
  /** A Unix socket, served in cleartext (HTTP/1.1 and h2c); mode defaults to 0660. */
  socket?: { path: string; mode?: number };
  /** TLS for the TCP listener (ALPN h2 and http/1.1). */
  tls?: TlsFiles;
  /** Bearer-token authentication and per-procedure roles. */
  auth?: AuthOptions;
  /** More interceptors, run after metrics and auth. */
  interceptors?: Interceptor[];
  logger: Logger;
  limits?: { maxRequestBytes?: number };
  /** Whether dependencies are up; /readyz answers 503 while this is false (and while draining). */
  readiness?: () => boolean | Promise<boolean>;
  metrics?: MetricsOptions;
  /** How long close() lets in-flight calls run before cutting them off; default 10 s. */
  shutdownTimeoutMs?: number;
  /** An HTTP/2 connection with no call open for this long is closed (GOAWAY); default 2 min. */
  idleTimeoutMs?: number;
  /**
   * A call whose HTTP/2 request body stops arriving, or whose client stops reading the response
   * (either protocol), for this long is cut; default 2 min.
   */
  stallTimeoutMs?: number;
}

export interface Server {
  /** The addresses actually bound (the real port when 0 was asked for). */
  addresses: { tcp?: { host: string; port: number }; socket?: string };
  /** A base URL for the TCP listener, e.g. "http://127.0.0.1:41234", for clients and tests. */
  url?: string;
  registry: Registry;
  /**
   * Stops accepting, lets in-flight calls finish for up to shutdownTimeoutMs, then destroys what is left.
   * Resolves true when everything finished in time.
   */
  close(): Promise<boolean>;
}

const defaultMaxRequestBytes = 4 * 1024 * 1024;

function urlHost(host: string): string {
  if (host === "" || host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

/** Serves Connect, gRPC, gRPC-Web and REST, with probes and metrics, on TCP (± TLS) and/or a Unix socket. */
export async function serve(options: ServeOptions): Promise<Server> {
  if (options.listen === undefined && options.socket === undefined) {
    throw new Error("serve() needs a `listen` address, a `socket`, or both");
  }
  const maxRequestBytes = options.limits?.maxRequestBytes ?? defaultMaxRequestBytes;
  const shutdown = new AbortController();
  const metrics = createRpcMetrics(options.metrics);
  const interceptors = [
    metrics.interceptor,
    ...(options.auth ? [createAuthInterceptor(options.auth)] : []),
    ...(options.interceptors ?? []),
  ];
  const router = createConnectRouter({
    interceptors,
    readMaxBytes: maxRequestBytes,
    shutdownSignal: shutdown.signal,
    acceptCompression: [compressionGzip, compressionBrotli],
    // A misspelt field is refused, as REST does, not dropped: `proxyProtocl: true` must not add a
    // route without the PROXY protocol. (The binary format cannot tell; JSON can.)
    jsonOptions: { ignoreUnknownFields: false },
  });
  options.routes(router);
  if (options.auth?.policy)
    validatePolicy(
      options.auth.policy,
      router.handlers.map((h) => h.method),
    );

  const tracker = new ConnectionTracker(options.idleTimeoutMs);
  const handler = createRequestHandler({
    connectHandlers: router.handlers,
    rest: createRestHandler({ routes: collectRoutes(router.handlers), maxRequestBytes }),
    registry: metrics.registry,
    logger: options.logger,
    ready: async () => !tracker.isClosing && (options.readiness ? await options.readiness() : true),
    stallTimeoutMs: options.stallTimeoutMs ?? 120_000,
    maxRequestBytes,
  });

  const listeners: net.Server[] = [];
  const addresses: Server["addresses"] = {};
  let url: string | undefined;
  const cleartext = createCleartextServers(handler, tracker, maxRequestBytes);
  const sniffTimeoutMs = 30_000;
  try {
    if (options.listen !== undefined) {
      const { host, port } = parseListenAddress(options.listen);
      const server = options.tls
        ? createTlsListener(options.tls, handler, tracker, maxRequestBytes)
        : createCleartextListener(cleartext, tracker, sniffTimeoutMs);
      await listen(server, { host: host === "" ? "::" : host, port });
      listeners.push(server);
      const bound = server.address() as net.AddressInfo;
      addresses.tcp = { host: bound.address, port: bound.port };
      url = `${options.tls ? "https" : "http"}://${urlHost(bound.address)}:${bound.port}`;
    }
    if (options.socket !== undefined) {
      await removeStaleSocket(options.socket.path);
      const server = createCleartextListener(cleartext, tracker, sniffTimeoutMs);
      await listen(server, { path: options.socket.path });
      listeners.push(server);
      setSocketMode(options.socket.path, options.socket.mode ?? 0o660);
      addresses.socket = options.socket.path;
    }
  } catch (err) {
    for (const server of listeners) server.close();
    throw err;
  }
  options.logger.info({ ...addresses, tls: options.tls !== undefined }, "serving");

  let closing: Promise<boolean> | undefined;
  const close = () => {
    closing ??= (async () => {
      const stopped = Promise.all(listeners.map((s) => new Promise((resolve) => s.close(resolve))));
      const graceful = await tracker.drain(options.shutdownTimeoutMs ?? 10_000, () =>
        shutdown.abort(new Error("server shutting down")),
      );
      await stopped;
      if (options.socket) {
        try {
          unlinkSync(options.socket.path);
        } catch {
          // already gone: net.Server removes its socket file on close
        }
      }
      options.logger.info({ graceful }, "stopped");
      return graceful;
    })();
    return closing;
  };
  return { addresses, url, registry: metrics.registry, close };
}
