// The access log: one JSON line per L7 request and per L4 connection, on the process's log
// stream, when `[proxy] access_log` is on. Off by default, as in Caddy and Traefik: a line per
// request costs a few microseconds and a write, and /metrics already counts by route and status.
// Its lines carry `log: "access"` and are written whatever the log level is.
import type { Logger } from "@mcp/mcdsl/log";

export interface RequestEntry {
  proto: "http/1.1" | "h2";
  /** The route's hostname (the SNI name for a request refused before any route). */
  route: string;
  client: string;
  method: string;
  target: string;
  /** The status the client got (the backend's, or the proxy's own: 400, 421, 502, 504…); 0 when cut before any. */
  status: number;
  /** Response body bytes sent. */
  bytes: number;
  /** From the request head to the end of the response (to the switch, for an upgrade). */
  ms: number;
  /** The backend that served it; absent when the proxy answered before choosing one. */
  backend?: string;
}

export interface ConnectionEntry {
  route: string;
  client: string;
  backend: string;
  bytes_in: number;
  bytes_out: number;
  ms: number;
}

export class AccessLog {
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger.child({ log: "access" }, { level: "info" });
  }

  request(entry: RequestEntry): void {
    this.#logger.info(entry, "request");
  }

  /** An L4 connection, when it closes. */
  connection(entry: ConnectionEntry): void {
    this.#logger.info(entry, "connection");
  }
}

/** Milliseconds since `start` (a performance.now() reading), to the microsecond. */
export function since(start: number): number {
  return Math.round((performance.now() - start) * 1000) / 1000;
}
