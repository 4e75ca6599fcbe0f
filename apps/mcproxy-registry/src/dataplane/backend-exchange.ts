// What an L7 request to a backend is, whatever the client speaks (HTTP/1.1: http1/exchange.ts,
// HTTP/2: http2/stream-exchange.ts): a backend picked from the route, a connection from its pool,
// a record in its open set (for drains and route removals), the response read by the shared
// reader, and the same rules when the backend fails (count, log, resend once, 502/504) or the
// client goes. Subclasses do the client's side.
import type { RequestEntry } from "./access-log.js";
import type { BackendState, Closable } from "./backend.js";
import { mayResend, recordFailure } from "./backend-failure.js";
import type { ProxyContext } from "./context.js";
import { HeadError, type ResponseHead } from "./http1/message-head.js";
import { type HeadRead, ResponseReader } from "./http1/response-reader.js";
import type { Upstream, UpstreamUser } from "./http1/upstream-pool.js";
import type { LiveRoute } from "./live-route.js";
import type { RouteMeters } from "./metrics.js";
import { OPEN_SLOT } from "./open-set.js";

export abstract class BackendExchange implements UpstreamUser, Closable {
  [OPEN_SLOT]: number | undefined = undefined;
  protected readonly startedAt = performance.now();
  protected backend: BackendState;
  readonly #live: LiveRoute;
  #failedOver = false;
  protected readonly meters: RouteMeters;
  protected upstream: Upstream | undefined;
  protected readonly reader = new ResponseReader();
  /** The client was answered: the final response's head went out (the backend's, or ours). */
  protected answered = false;
  /** The status the client got (0 until it got one). */
  protected status = 0;
  protected finished = false;
  #retried = false;

  constructor(
    protected readonly ctx: ProxyContext,
    live: LiveRoute,
    /** The request's method (its response is read for it: HEAD has no body). */
    protected readonly method: string,
    /** The request has a body (then it is never sent twice). */
    private readonly hasBody: boolean,
  ) {
    this.#live = live;
    this.backend = live.pick();
    this.meters = ctx.metrics.forRoute(live.route.hostname);
  }

  abstract upstreamData(chunk: Buffer): void;
  abstract upstreamEnd(): void;
  /** The request head for the backend, CRLF CRLF included. */
  protected abstract requestHead(): string;
  /** Answers the client ourselves (502, 504, 400) and ends the exchange. */
  protected abstract reply(status: number, body: string): void;
  /** Cuts the client's connection or stream: its response cannot be completed. */
  protected abstract cutClient(): void;
  /** The access log's line for this request (asked only when the log is on). */
  protected abstract accessEntry(): RequestEntry;

  /** An interim (1xx) response head came: HTTP/1.1 clients get it, HTTP/2 ones do not. */
  protected interimResponse(_head: ResponseHead): void {}

  /**
   * The final response head in the backend's bytes (`chunk` after what was kept), or a 101 when
   * `upgradeAsked`; interim heads go to interimResponse. Undefined while the head is not all in,
   * or when the exchange failed (a malformed head, or a 101 nobody asked for: what follows is not
   * HTTP/1.1, RFC 9110 section 7.8).
   */
  protected readHead(chunk: Buffer, upgradeAsked: boolean): HeadRead | undefined {
    let rest = chunk;
    for (;;) {
      let read: HeadRead | undefined;
      try {
        read = this.reader.next(rest, this.method);
      } catch (err) {
        this.backendFailed(err as HeadError);
        return undefined;
      }
      if (!read) return undefined;
      const { status } = read.head;
      if (status >= 200 || (status === 101 && upgradeAsked)) return read;
      if (status === 101) {
        this.backendFailed(new HeadError(502, "backend switched protocols unasked"));
        return undefined;
      }
      this.interimResponse(read.head);
      rest = read.buf.subarray(read.bodyStart);
    }
  }

  /** The request asks for an upgrade: its connection may become a tunnel (HTTP/1.1 clients). */
  protected get tunnelAsked(): boolean {
    return false;
  }

  /** Takes a pooled connection (or a new one when `fresh`) and sends the request head. */
  protected connect(fresh: boolean): void {
    const { connectTimeoutMs } = this.ctx.options;
    const upstream = this.backend.upstreams.acquire(this, connectTimeoutMs, fresh, this.tunnelAsked);
    this.upstream = upstream;
    upstream.socket.write(this.requestHead(), "latin1");
  }

  upstreamError(err: NodeJS.ErrnoException): void {
    if (this.finished) return;
    const upstream = this.upstream;
    if (upstream && !upstream.connected && this.#failOver(err)) return;
    const started = this.answered || this.reader.started;
    if (upstream && !this.#retried && mayResend(this.method, this.hasBody, upstream.reused, started)) {
      this.#retried = true;
      upstream.discard();
      this.connect(true);
      return;
    }
    this.backendFailed(err);
  }

  /**
   * The backend refused the connection or did not accept it in time: nothing reached it. It is
   * marked down, and a request without a body goes once to another backend of the route (the
   * bytes of a body already sent into the failed connection are not kept). True when it went.
   */
  #failOver(err: NodeJS.ErrnoException): boolean {
    this.backend.markDown(this.ctx.options.backendDownMs);
    if (this.#failedOver || this.hasBody) return false;
    const next = this.#live.pick(this.backend);
    if (next === this.backend) return false;
    this.#failedOver = true;
    recordFailure(this.ctx, this.meters.route, this.backend.address, err);
    this.discardUpstream();
    this.backend.untrack(this);
    next.track(this);
    this.backend = next;
    this.connect(true);
    return true;
  }

  protected backendFailed(err: NodeJS.ErrnoException | HeadError): void {
    if (this.finished) return;
    const answer = recordFailure(this.ctx, this.meters.route, this.backend.address, err);
    this.discardUpstream();
    if (this.answered) {
      // Part of the response went out: the client can only learn of the failure by the cut.
      this.finish();
      this.cutClient();
      return;
    }
    this.reply(answer.status, answer.body);
  }

  /**
   * A deadline passed: the client stalled sending its body (it is cut), or the backend did not
   * answer in time (504).
   */
  protected timedOut(requestDone: boolean): void {
    if (this.finished || this.answered) return;
    if (!requestDone) {
      this.ctx.logger.debug({ route: this.meters.route }, "client stalled sending a request body");
      this.discardUpstream();
      this.finish();
      this.cutClient();
      return;
    }
    this.backendFailed(Object.assign(new Error("no response headers in time"), { code: "ETIMEDOUT" }));
  }

  /** Counts the answer the client gets. */
  protected countAnswer(status: number): void {
    this.answered = true;
    this.status = status;
    this.meters.answered(status, this.startedAt);
  }

  protected discardUpstream(): void {
    this.upstream?.discard();
    this.upstream = undefined;
  }

  protected finish(): void {
    this.finished = true;
    this.backend.untrack(this);
    this.logAccess();
  }

  protected logAccess(): void {
    this.ctx.access?.request(this.accessEntry());
  }

  /** The client went away. */
  clientClosed(): void {
    if (this.finished) return;
    this.discardUpstream();
    this.finish();
  }

  /** Cut by a drain deadline or a route removal. */
  destroy(): void {
    this.discardUpstream();
    this.finish();
    this.cutClient();
  }
}
