// The data plane's Prometheus metrics, on the same registry as the admin API's /metrics.
import { Counter, Gauge, type Registry } from "prom-client";
import { RouteMeters, registerRequestMetrics } from "./request-metrics.js";

export { RouteMeters };

/** The value for `key`, made once. */
function kept<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

export type HandshakeFailure =
  | "unknown_sni"
  | "no_sni"
  | "malformed"
  | "timeout"
  | "client_closed"
  | "tls_error"
  | "certificate_unavailable"
  | "over_capacity"
  | "client_over_capacity";
export type BackendFailure = "refused" | "timeout" | "reset" | "unreachable";

/** A number a connection adds to or takes from (plain: prom-client reads it at scrape time). */
export class Tally {
  value = 0;

  inc(by = 1): void {
    this.value += by;
  }

  dec(): void {
    this.value--;
  }
}

type Mode = "sniffing" | "l4" | "l7";

/**
 * The data plane's metrics. What changes per connection or request is kept in plain numbers and
 * read by prom-client when /metrics is scraped (through `collect` hooks): updating a prom-client
 * metric hashes its labels into a string and looks that up on every call, a measurable share of
 * the proxy's CPU when done per request (see request-metrics.ts). Failures and rarer events go to
 * prom-client directly.
 */
export class ProxyMetrics {
  readonly handshakeFailures: Counter<"port" | "reason">;
  readonly backendErrors: Counter<"route" | "reason">;
  readonly routes: Gauge;
  readonly redirects: Counter<"result">;

  constructor(registry: Registry) {
    const registers = [registry];
    const connections = this.#connections;
    new Counter({
      name: "mcproxy_connections_total",
      help: "Client connections routed, by listener port, route hostname and mode",
      labelNames: ["port", "route", "mode"] as const,
      registers,
      collect() {
        this.reset();
        for (const { labels, tally } of connections.values()) this.inc(labels, tally.value);
      },
    });
    const active = this.#active;
    new Gauge({
      name: "mcproxy_active_connections",
      help: "Client connections open now, by mode (sniffing: ClientHello not read yet)",
      labelNames: ["mode"] as const,
      registers,
      collect() {
        for (const [mode, tally] of active) this.set({ mode }, tally.value);
      },
    });
    registerRequestMetrics(registry, () => this.#meters.values());
    const bytes = this.#bytes;
    new Counter({
      name: "mcproxy_bytes_total",
      help: "Bytes on the wire with clients (TLS included), by route hostname and direction (in: from clients, out: to clients)",
      labelNames: ["route", "direction"] as const,
      registers,
      collect() {
        this.reset();
        for (const [route, [inward, outward]] of bytes) {
          this.inc({ route, direction: "in" }, inward.value);
          this.inc({ route, direction: "out" }, outward.value);
        }
      },
    });
    this.handshakeFailures = new Counter({
      name: "mcproxy_handshake_failures_total",
      help: "Connections closed before routing: unknown or missing SNI, malformed hello, timeout, TLS errors, over max_connections (or the per-client cap)",
      labelNames: ["port", "reason"] as const,
      registers,
    });
    this.backendErrors = new Counter({
      name: "mcproxy_backend_errors_total",
      help: "Backend connections or requests that failed, by route hostname and reason",
      labelNames: ["route", "reason"] as const,
      registers,
    });
    this.routes = new Gauge({ name: "mcproxy_routes", help: "Routes loaded", registers });
    this.redirects = new Counter({
      name: "mcproxy_http_redirects_total",
      help: "Plain-HTTP requests on http_redirect_port, by result (redirected, no_route, bad_request, starting)",
      labelNames: ["result"] as const,
      registers,
    });
  }

  readonly #meters = new Map<string, RouteMeters>();
  readonly #connections = new Map<string, { labels: Record<string, string>; tally: Tally }>();
  readonly #active = new Map<Mode, Tally>();
  readonly #bytes = new Map<string, [Tally, Tally]>();

  /** The open-connections count for `mode`. */
  active(mode: Mode): Tally {
    return kept(this.#active, mode, () => new Tally());
  }

  /** Counts a closed connection's bytes on the wire (in: from the client, out: to it). */
  countBytes(route: string, received: number, sent: number): void {
    const [inward, outward] = kept(this.#bytes, route, () => [new Tally(), new Tally()]);
    inward.inc(received);
    outward.inc(sent);
  }

  /** Counts a routed connection. */
  connected(port: number, route: string, mode: string): void {
    const key = `${port} ${route} ${mode}`;
    kept(this.#connections, key, () => ({
      labels: { port: String(port), route, mode },
      tally: new Tally(),
    })).tally.inc();
  }

  /** The request counters of the route `hostname` (kept: a handful of objects per route). */
  forRoute(hostname: string): RouteMeters {
    return kept(this.#meters, hostname, () => new RouteMeters(hostname));
  }
}

/** Maps a socket error to a metric reason. */
export function backendFailure(err: NodeJS.ErrnoException): BackendFailure {
  switch (err.code) {
    case "ECONNREFUSED":
      return "refused";
    case "ETIMEDOUT":
      return "timeout";
    case "ECONNRESET":
    case "EPIPE":
      return "reset";
    default:
      return "unreachable";
  }
}
