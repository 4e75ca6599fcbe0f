// One backend of a live route: its address, the connections (L4) or requests (L7) it carries, and
// its keep-alive HTTP/1.1 connections (L7, for HTTP/1.1 and HTTP/2 clients alike). Draining closes
// what is left at the deadline.
import type { Backend } from "../routes/types.js";
import { parseBackendAddress } from "../routes/validate.js";
import { UpstreamPool } from "./http1/upstream-pool.js";
import { OpenSet, type OpenSetMember } from "./open-set.js";

/** Something open on a backend that a drain or a route removal may have to cut. */
export interface Closable extends OpenSetMember {
  destroy(): void;
}

export class BackendState {
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  readonly #open = new OpenSet<Closable>();
  #upstreams: UpstreamPool | undefined;
  /** Until when (Date.now()) new connections avoid it: it refused one, or did not accept it in time. */
  #downUntil = 0;
  #onIdle: (() => void) | undefined;

  constructor(backend: Backend) {
    this.address = backend.address;
    this.weight = backend.weight;
    const { host, port } = parseBackendAddress(backend.address, "backend");
    this.host = host;
    this.port = port;
  }

  /** Keep-alive connections for L7 requests (created on first use). */
  get upstreams(): UpstreamPool {
    this.#upstreams ??= new UpstreamPool(this.host, this.port);
    return this.#upstreams;
  }

  /** Takes no new connections for `ms` while its route has others (a passive health check). */
  markDown(ms: number): void {
    this.#downUntil = Date.now() + ms;
  }

  isUp(now: number): boolean {
    return this.#downUntil <= now;
  }

  get openCount(): number {
    return this.#open.size;
  }

  track(item: Closable): void {
    this.#open.add(item);
  }

  untrack(item: Closable): void {
    if (this.#open.delete(item) && this.#open.size === 0) this.#onIdle?.();
  }

  /** Calls `onIdle` once nothing is open (at once if nothing is). */
  whenIdle(onIdle: () => void): void {
    this.#onIdle = onIdle;
    if (this.#open.size === 0) onIdle();
  }

  /** Cuts everything still open and drops the pool. */
  close(): void {
    this.#onIdle = undefined;
    for (const item of this.#open.toArray()) item.destroy();
    this.#open.clear();
    this.#upstreams?.close();
  }
}
