// What every part of the data plane shares: the route table, certificates, metrics and timeouts.
import type { Logger } from "@mcp/mcdsl/log";
import type { CertStore } from "../certs/cert-store.js";
import type { AccessLog } from "./access-log.js";
import type { ProxyMetrics } from "./metrics.js";
import type { RouteTable } from "./route-table.js";

export interface ProxyOptions {
  /** The address listeners bind ("0.0.0.0", "::", "127.0.0.1"). */
  bind: string;
  /** How long a client has to send its ClientHello (and finish the TLS handshake on L7). */
  handshakeTimeoutMs: number;
  /** How long connecting to a backend may take. */
  connectTimeoutMs: number;
  /** How long an L7 backend may take to send response headers (then 504). */
  responseTimeoutMs: number;
  /** Idle L7 client connections (keep-alive, HTTP/2) are closed after this. */
  idleTimeoutMs: number;
  /** How long a backend that refused a connection gets no new ones while its route has others. */
  backendDownMs: number;
  /** Client connections open at once, all listeners together; more are closed on arrival. */
  maxConnections: number;
  /** Of those, how many one client address may have open. */
  maxConnectionsPerClient: number;
  /** L7 key exchange groups (OpenSSL names), in order of preference. */
  tlsGroups: readonly string[];
}

export interface ProxyContext {
  table: RouteTable;
  certs: CertStore;
  metrics: ProxyMetrics;
  options: ProxyOptions;
  logger: Logger;
  /** Present when `[proxy] access_log` is on. */
  access?: AccessLog;
}
