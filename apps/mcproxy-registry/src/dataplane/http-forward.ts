// L7 forwarding of one request (HTTP/1.1 or HTTP/2 from the client) to a backend over its pool of
// keep-alive HTTP/1.1 connections (undici), bodies streamed both ways with backpressure.
//
// This is the hot path: one Exchange object per request is undici's handler, the backend's record
// of what is open, and (through a symbol on the response) the target of the response's events, so
// a request allocates no closures and no label objects.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import type { Dispatcher } from "undici";
import type { BackendState, Closable } from "./backend.js";
import type { ProxyContext } from "./context.js";
import { backendHeaders, endToEnd } from "./headers.js";
import type { LiveRoute } from "./live-route.js";
import { backendFailure, type RouteMeters } from "./metrics.js";

type ClientRequestIn = Http2ServerRequest | IncomingMessage;
// The HTTP/2 compatibility response has ServerResponse's shape (writeHead, write, end, events).
type ClientResponse = ServerResponse & { [EXCHANGE]?: Exchange };

const EXCHANGE = Symbol("exchange");
/** Safe to send twice: a request that failed on a pooled connection the backend had closed. */
const RETRIABLE = new Set(["GET", "HEAD", "OPTIONS", "DELETE", "PUT"]);
const STALE_CONNECTION = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE"]);

function hasBody(req: ClientRequestIn): boolean {
  const length = req.headers["content-length"];
  if (length !== undefined) return length !== "0";
  if ("stream" in req) return !req.stream.endAfterHeaders; // HTTP/2: END_STREAM on the HEADERS frame
  return req.headers["transfer-encoding"] !== undefined;
}

// Module-level listeners: `this` is the response, its exchange hangs off it.
function onClientClose(this: ClientResponse): void {
  this[EXCHANGE]?.clientClosed();
}
function onClientDrain(this: ClientResponse): void {
  this[EXCHANGE]?.drained();
}

class Exchange implements Dispatcher.DispatchHandler, Closable {
  readonly #startedAt = performance.now();
  #controller: Dispatcher.DispatchController | undefined;
  /** Response headers went to the client (the backend's, or our 502/504). */
  #answered = false;
  /** The client's response is complete or gone. */
  #finished = false;
  #retried = false;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly meters: RouteMeters,
    private readonly backend: BackendState,
    private readonly options: Dispatcher.DispatchOptions,
    private readonly res: ClientResponse,
  ) {}

  start(): void {
    this.backend.track(this);
    this.res[EXCHANGE] = this;
    this.res.once("close", onClientClose);
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
    this.#answered = true;
    this.meters.answered(status, this.#startedAt);
    this.res.writeHead(status, endToEnd(headers));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once("drain", onClientDrain);
    }
  }

  onResponseEnd(): void {
    this.res.end();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (this.#finished) return; // we aborted it: the client is gone
    if (this.#answered) return void this.res.destroy();
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
    this.res[EXCHANGE] = undefined;
    this.backend.untrack(this);
    if (!this.res.writableFinished) this.#controller?.abort(new Error("client went away"));
  }

  /** Cut by a drain deadline or a route removal. */
  destroy(): void {
    this.#controller?.abort(new Error("route closed"));
    this.res.destroy();
  }

  #reply(status: number, body: string): void {
    this.#answered = true;
    this.meters.answered(status, this.#startedAt);
    if (this.res.headersSent) return void this.res.destroy();
    this.res.writeHead(status, {
      "content-type": "text/plain; charset=utf-8",
      "content-length": body.length,
    });
    this.res.end(body);
  }
}

export function forwardRequest(
  ctx: ProxyContext,
  live: LiveRoute,
  req: ClientRequestIn,
  res: ClientResponse,
  clientAddress: string | undefined,
): void {
  const options: Dispatcher.DispatchOptions = {
    path: req.url ?? "/",
    method: req.method as Dispatcher.HttpMethod,
    headers: backendHeaders(req.headers, clientAddress),
    body: hasBody(req) ? req : null,
    headersTimeout: ctx.options.responseTimeoutMs,
    bodyTimeout: 0,
  };
  new Exchange(ctx, ctx.metrics.forRoute(live.route.hostname), live.pick(), options, res).start();
}
