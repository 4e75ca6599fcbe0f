// One backend of a live route: its address, the connections (L4) or requests (L7) it carries, and
// its keep-alive HTTP/1.1 connections (L7): our own pool for HTTP/1.1 clients, whose framing is
// relayed as it is, and undici's for HTTP/2 clients, whose requests it translates. Draining closes
// what is left at the deadline.
import { Pool } from "undici";
import type { Backend } from "../routes/types.js";
import { parseBackendAddress } from "../routes/validate.js";
import { UpstreamPool } from "./http1/upstream-pool.js";

/** Something open on a backend that a drain or a route removal may have to cut. */
export interface Closable {
  destroy(): void;
}

export class BackendState {
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  readonly #open = new Set<Closable>();
  #pool: Pool | undefined;
  #upstreams: UpstreamPool | undefined;
  #onIdle: (() => void) | undefined;

  constructor(backend: Backend) {
    this.address = backend.address;
    this.weight = backend.weight;
    const { host, port } = parseBackendAddress(backend.address, "backend");
    this.host = host;
    this.port = port;
  }

  /** Keep-alive connections for HTTP/1.1 clients' requests (created on first use). */
  get upstreams(): UpstreamPool {
    this.#upstreams ??= new UpstreamPool(this.host, this.port);
    return this.#upstreams;
  }

  /**
   * The keep-alive pool for HTTP/2 clients' requests (created on first use): undici keeps up to 256 connections
   * to the backend, one request at a time on each (no pipelining: a slow response would hold up
   * the requests queued behind it, and a non-idempotent request could not be retried safely).
   */
  pool(connectTimeoutMs: number): Pool {
    this.#pool ??= new Pool(`http://${this.address}`, {
      connections: 256,
      pipelining: 1,
      connect: { timeout: connectTimeoutMs, noDelay: true },
      // Bodies stream as long as they flow; the response deadline applies to the headers only.
      bodyTimeout: 0,
    });
    return this.#pool;
  }

  get openCount(): number {
    return this.#open.size;
  }

  track(item: Closable): void {
    this.#open.add(item);
  }

  untrack(item: Closable): void {
    this.#open.delete(item);
    if (this.#open.size === 0) this.#onIdle?.();
  }

  /** Calls `onIdle` once nothing is open (at once if nothing is). */
  whenIdle(onIdle: () => void): void {
    this.#onIdle = onIdle;
    if (this.#open.size === 0) onIdle();
  }

  /** Cuts everything still open and drops the pool. */
  close(): void {
    this.#onIdle = undefined;
    for (const item of [...this.#open]) item.destroy();
    this.#open.clear();
    void this.#pool?.destroy().catch(() => {});
    this.#pool = undefined;
    this.#upstreams?.close();
  }
}
