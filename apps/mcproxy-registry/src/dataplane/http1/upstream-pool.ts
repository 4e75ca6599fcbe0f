// Keep-alive HTTP/1.1 connections to one backend. A request takes an idle connection or opens a
// new one (writes are queued by the socket until it connects); a finished exchange gives it back
// unless the backend said it would close. No pipelining: one exchange per connection at a time, so
// a slow response holds up nobody and a request that failed on a stale connection can be retried.
//
// Backend bytes are read into one buffer shared by all connections (`onread`) and copied out at
// once, instead of through the socket's readable stream: no buffer allocated by Node per read and
// no stream machinery (push, 'data' events) for each response; 1.5-2.5 µs less CPU per request in
// a bare relay. A connection for an upgrade (WebSocket) is read as a stream: it may become a
// tunnel, which splices the socket as a stream.
import { connect, type Socket } from "node:net";

/** The exchange a connection is serving: it gets the connection's events. */
export interface UpstreamUser {
  upstreamData(chunk: Buffer): void;
  upstreamEnd(): void;
  upstreamError(err: NodeJS.ErrnoException): void;
}

/** Idle connections kept per backend; more are closed when they come back. */
const MAX_IDLE = 256;
/** How long an idle connection is kept when the backend does not say (`Keep-Alive: timeout=N`). */
const DEFAULT_KEEP_IDLE_MS = 4_000;
/** Where every buffered backend connection reads; each read is copied out before the next. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

export class Upstream {
  readonly socket: Socket;
  /** This connection carried an exchange before (a failure on it may be a stale keep-alive). */
  reused = false;
  connected = false;
  user: UpstreamUser | undefined;
  idleUntil = 0;
  #connectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: UpstreamPool,
    host: string,
    port: number,
    connectTimeoutMs: number,
    /** Read as a stream, so that it can become a tunnel (an upgrade request's connection). */
    streamed: boolean,
  ) {
    const deliver = (chunk: Buffer) => {
      if (this.user) this.user.upstreamData(chunk);
      else socket.destroy(); // bytes on an idle connection: the backend is confused, drop it
    };
    const socket = streamed
      ? connect({ host, port, noDelay: true })
      : connect({
          host,
          port,
          noDelay: true,
          onread: {
            buffer: READ_BUFFER,
            callback: (length: number, buffer: Uint8Array) => {
              const chunk = Buffer.allocUnsafe(length);
              chunk.set(buffer.subarray(0, length));
              deliver(chunk);
              return true; // backpressure pauses the socket itself (pause() stops reading)
            },
          },
        });
    if (streamed) socket.on("data", deliver);
    this.socket = socket;
    this.#connectTimer = setTimeout(() => {
      socket.destroy(Object.assign(new Error("connect timeout"), { code: "ETIMEDOUT" }));
    }, connectTimeoutMs);
    socket.once("connect", () => {
      this.connected = true;
      clearTimeout(this.#connectTimer);
    });
    socket.on("end", () => this.user?.upstreamEnd());
    socket.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(this.#connectTimer);
      this.user?.upstreamError(err);
    });
    socket.on("close", () => {
      clearTimeout(this.#connectTimer);
      this.pool.forget(this);
      // A close without an error or an end still leaves the exchange without its response.
      this.user?.upstreamError(
        Object.assign(new Error("backend closed the connection"), { code: "ECONNRESET" }),
      );
    });
  }

  /** The exchange is done with it and it can carry another; `keepSeconds` from the backend's hint. */
  release(keepSeconds: number | undefined): void {
    this.user = undefined;
    // Backpressure from the last response may have paused it; an idle connection must read (to
    // see the backend close it, and to answer the next request).
    this.socket.resume();
    this.reused = true;
    this.pool.giveBack(this, keepSeconds);
  }

  /** The exchange is done with it and it cannot be reused. */
  discard(): void {
    this.user = undefined;
    this.socket.destroy();
  }
}

/** How often idle connections past their keep-alive time are closed (while there are any). */
const PRUNE_MS = 1_000;

export class UpstreamPool {
  /** Idle connections, the most recently used last (taken first: the oldest expire unused). */
  readonly #idle: Upstream[] = [];
  #pruner: NodeJS.Timeout | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  /**
   * An idle connection still within its keep-alive time, or a new one: always new when `fresh`,
   * and new and read as a stream when `forTunnel` (an upgrade request).
   */
  acquire(user: UpstreamUser, connectTimeoutMs: number, fresh = false, forTunnel = false): Upstream {
    const now = Date.now();
    let upstream: Upstream | undefined;
    while (!fresh && !forTunnel && upstream === undefined && this.#idle.length > 0) {
      const idle = this.#idle.pop()!;
      if (!idle.socket.destroyed && idle.idleUntil > now) upstream = idle;
      else idle.socket.destroy();
    }
    upstream ??= new Upstream(this, this.host, this.port, connectTimeoutMs, forTunnel);
    upstream.user = user;
    return upstream;
  }

  giveBack(upstream: Upstream, keepSeconds: number | undefined): void {
    if (upstream.socket.destroyed || this.#idle.length >= MAX_IDLE) return void upstream.socket.destroy();
    // Give it back a second before the backend's own deadline, so that it never closes under us.
    upstream.idleUntil =
      Date.now() + (keepSeconds !== undefined ? Math.max(0, keepSeconds - 1) * 1000 : DEFAULT_KEEP_IDLE_MS);
    this.#idle.push(upstream);
    this.#pruner ??= setInterval(() => this.#prune(), PRUNE_MS).unref();
  }

  /** Closes the idle connections past their time, so that they do not wait for the backend to. */
  #prune(): void {
    const now = Date.now();
    let expired = 0;
    while (expired < this.#idle.length && this.#idle[expired]!.idleUntil <= now) expired++;
    for (const upstream of this.#idle.splice(0, expired)) upstream.socket.destroy();
    if (this.#idle.length === 0) this.#stopPruning();
  }

  #stopPruning(): void {
    clearInterval(this.#pruner);
    this.#pruner = undefined;
  }

  forget(upstream: Upstream): void {
    const i = this.#idle.indexOf(upstream);
    if (i >= 0) this.#idle.splice(i, 1);
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  close(): void {
    this.#stopPruning();
    for (const upstream of this.#idle.splice(0)) upstream.socket.destroy();
  }
}
