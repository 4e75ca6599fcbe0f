// L7 forwarding of one HTTP/2 request to a backend over its pool of keep-alive HTTP/1.1
// connections (undici), bodies streamed both ways with backpressure. HTTP/1.1 clients take the
// faster path in http1/ (their framing is relayed as it is); HTTP/2 needs translating, which is
// undici's job on the backend side and Node's http2 core API (streams, not the compatibility
// request/response objects) on the client side.
//
// One Exchange object per request is undici's handler, the backend's record of what is open, and
// (through a symbol on the stream) the target of the stream's events: a request allocates no
// closures and no label objects.
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import type { BackendState, Closable } from "./backend.js";
import type { ProxyContext } from "./context.js";
import { backendHeaders, endToEnd } from "./headers.js";
import type { LiveRoute } from "./live-route.js";
import { backendFailure, type RouteMeters } from "./metrics.js";

type ClientStream = ServerHttp2Stream & { [EXCHANGE]?: Exchange };

const EXCHANGE = Symbol("exchange");
/** Safe to send twice: a request that failed on a pooled connection the backend had closed. */
const RETRIABLE = new Set(["GET", "HEAD", "OPTIONS", "DELETE", "PUT"]);
const STALE_CONNECTION = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE"]);

// Module-level listeners: `this` is the stream, its exchange hangs off it.
function onClientClose(this: ClientStream): void {
  this[EXCHANGE]?.clientClosed();
}
function onClientDrain(this: ClientStream): void {
  this[EXCHANGE]?.drained();
}

class Exchange implements Dispatcher.DispatchHandler, Closable {
  readonly #startedAt = performance.now();
  #controller: Dispatcher.DispatchController | undefined;
  /** Response headers went to the client (the backend's, or our 502/504). */
  #answered = false;
  /** The client's stream is complete or gone. */
  #finished = false;
  #retried = false;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly meters: RouteMeters,
    private readonly backend: BackendState,
    private readonly options: Dispatcher.DispatchOptions,
    private readonly stream: ClientStream,
  ) {}

  start(): void {
    this.backend.track(this);
    this.stream[EXCHANGE] = this;
    this.stream.once("close", onClientClose);
    this.backend.pool(this.ctx.options.connectTimeoutMs).dispatch(this.options, this);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#finished) controller.abort(new Error("client went away"));
  }

  onResponseStart(
    _c: Dispatcher.DispatchController,
    status: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (this.#finished) return;
    this.#answered = true;
    this.meters.answered(status, this.#startedAt);
    const out = endToEnd(headers) as OutgoingHttpHeaders;
    out[":status"] = status;
    const bodyless = this.options.method === "HEAD" || status === 204 || status === 304;
    this.stream.respond(out, bodyless ? { endStream: true } : undefined);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#finished || this.stream.destroyed) return;
    if (!this.stream.write(chunk)) {
      controller.pause();
      this.stream.once("drain", onClientDrain);
    }
  }

  onResponseEnd(): void {
    if (!this.stream.destroyed && !this.stream.writableEnded) this.stream.end();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (this.#finished) return; // we aborted it: the client is gone
    if (this.#answered) return void this.stream.destroy();
    const code = (err as NodeJS.ErrnoException).code ?? "";
    const { method, body } = this.options;
    if (!this.#retried && STALE_CONNECTION.has(code) && body == null && RETRIABLE.has(method)) {
      this.#retried = true;
      this.backend.pool(this.ctx.options.connectTimeoutMs).dispatch(this.options, this);
      return;
    }
    const reason = backendFailure(err as NodeJS.ErrnoException);
    const route = this.meters.route;
    this.ctx.metrics.backendErrors.inc({ route, reason });
    this.ctx.logger.warn(
      { route, backend: this.backend.address, err: err.message },
      "backend request failed",
    );
    if (reason === "timeout") this.#reply(504, "gateway timeout: the backend did not answer in time\n");
    else this.#reply(502, "bad gateway: the backend is unreachable\n");
  }

  drained(): void {
    this.#controller?.resume();
  }

  clientClosed(): void {
    this.#finished = true;
    this.stream[EXCHANGE] = undefined;
    this.backend.untrack(this);
    if (!this.stream.writableFinished) this.#controller?.abort(new Error("client went away"));
  }

  /** Cut by a drain deadline or a route removal. */
  destroy(): void {
    this.#controller?.abort(new Error("route closed"));
    this.stream.destroy();
  }

  #reply(status: number, body: string): void {
    this.#answered = true;
    this.meters.answered(status, this.#startedAt);
    if (this.stream.headersSent || this.stream.destroyed) return void this.stream.destroy();
    this.stream.respond({
      ":status": status,
      "content-type": "text/plain; charset=utf-8",
      "content-length": body.length,
    });
    this.stream.end(body);
  }
}

/** Forwards the request on `stream` (its `headers`, body streaming in) to one of the route's backends. */
export function forwardStream(
  ctx: ProxyContext,
  live: LiveRoute,
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  clientAddress: string | undefined,
): void {
  const length = headers["content-length"];
  const hasBody = length !== undefined ? length !== "0" : !stream.endAfterHeaders;
  const options: Dispatcher.DispatchOptions = {
    path: headers[":path"] ?? "/",
    method: (headers[":method"] ?? "GET") as Dispatcher.HttpMethod,
    headers: backendHeaders(headers, clientAddress),
    // An iterator, not the stream itself: undici destroys a stream body when it is done with it,
    // which for an HTTP/2 stream (a Duplex) would cut the response too. (undici's dispatch takes
    // async iterables, as its documentation says; its type declaration lists streams only.)
    body: hasBody ? (stream.iterator({ destroyOnReturn: false }) as unknown as Readable) : null,
    headersTimeout: ctx.options.responseTimeoutMs,
    bodyTimeout: 0,
  };
  new Exchange(ctx, ctx.metrics.forRoute(live.route.hostname), live.pick(), options, stream).start();
}
