// One HTTP/1.1 request and its response between a client connection and a backend connection.
// The request head is rewritten (hop-by-hop fields out, X-Forwarded-* in), bodies stream through
// unchanged in both directions with backpressure, and their framing is followed so that the
// backend connection can carry the next request. Interim 1xx responses are passed on; a 101
// turns both connections into a tunnel (WebSocket).
import type { TLSSocket } from "node:tls";
import { type RequestEntry, since } from "../access-log.js";
import type { Closable } from "../backend.js";
import { BackendExchange } from "../backend-exchange.js";
import type { ProxyContext } from "../context.js";
import type { LiveRoute } from "../live-route.js";
import { spliceBoth } from "../splice.js";
import { BodyFraming } from "./body-framing.js";
import { HeadError, type RequestHead, type ResponseHead } from "./message-head.js";

/** What the exchange needs from the client connection that started it. */
export interface ExchangeOwner {
  readonly socket: TLSSocket;
  /** No request follows this one on the connection (the client ended, or the proxy is stopping). */
  readonly closing: boolean;
  /** When the exchange times out (performance.now()); the connection's sweep calls `expire`. */
  deadline: number;
  /** The exchange is over; `closeClient` when the connection cannot carry another request. */
  exchangeDone(closeClient: boolean): void;
  /**
   * The exchange became a tunnel: the connection stops reading the socket as HTTP and returns
   * the bytes it had received past the request (the first frames from the client), if any.
   */
  exchangeTunnelled(): Buffer | undefined;
}

export class Http1Exchange extends BackendExchange {
  readonly #request: BodyFraming;
  #responseHead: ResponseHead | undefined;
  #response: BodyFraming | undefined;
  /** The response should close the client connection (decided with its head). */
  #closeClient = false;
  /** The body length of the proxy's own answer (502, 504, 400), for the access log. */
  #replied = 0;

  constructor(
    ctx: ProxyContext,
    private readonly owner: ExchangeOwner,
    live: LiveRoute,
    private readonly head: RequestHead,
    private readonly clientAddress: string,
  ) {
    super(ctx, live, head.method, head.framing.kind !== "none");
    this.#request = new BodyFraming(head.framing);
  }

  /** True while the request body is still coming from the client. */
  get wantsRequestBody(): boolean {
    return !this.#request.done && !this.finished;
  }

  /**
   * Sends the request head and the body bytes of `rest` (what followed the head in the client's
   * data); returns what is left of `rest` after the body (the next pipelined request), if any.
   */
  start(rest: Buffer | undefined): Buffer | undefined {
    this.backend.track(this);
    this.#armDeadline();
    this.connect(false);
    return rest && rest.length > 0 ? this.requestData(rest) : undefined;
  }

  protected override get tunnelAsked(): boolean {
    return this.head.upgrade !== undefined;
  }

  protected requestHead(): string {
    return this.head.forward(this.clientAddress);
  }

  /**
   * While the request body comes in, the client has idle_timeout_ms between pieces; once it is all
   * sent, the backend has response_timeout_ms to answer (an upload may take longer than that).
   */
  #armDeadline(): void {
    if (this.answered) return;
    const { options } = this.ctx;
    this.owner.deadline =
      performance.now() + (this.#request.done ? options.responseTimeoutMs : options.idleTimeoutMs);
  }

  /** Body bytes from the client; returns the bytes past the body's end, if any. */
  requestData(chunk: Buffer): Buffer | undefined {
    let end: number;
    try {
      end = this.#request.consume(chunk, 0);
    } catch (err) {
      this.#clientProtocolError((err as Error).message);
      return undefined;
    }
    this.#armDeadline();
    const upstream = this.upstream;
    if (end > 0 && upstream && !this.finished) {
      const body = end === chunk.length ? chunk : chunk.subarray(0, end);
      if (!upstream.socket.write(body)) {
        this.owner.socket.pause();
        upstream.socket.once("drain", () => this.owner.socket.resume());
      }
    }
    if (this.#request.done && this.#response?.done) this.#complete();
    return end < chunk.length ? chunk.subarray(end) : undefined;
  }

  /** The client's socket drained: the backend may send more. */
  clientDrain(): void {
    this.upstream?.socket.resume();
  }

  upstreamData(chunk: Buffer): void {
    if (this.finished) return;
    if (this.#response) return void this.#responseBody(chunk, 0);
    const read = this.readHead(chunk, this.head.upgrade !== undefined);
    if (!read) return;
    const { head, buf, bodyStart } = read;
    if (head.status === 101) this.#tunnel(head, buf.subarray(bodyStart));
    else this.#startResponse(head, buf, bodyStart);
  }

  /** Interim responses go to the client as they come (100 Continue, 103 Early Hints). */
  protected override interimResponse(head: ResponseHead): void {
    this.owner.socket.write(head.forward(false), "latin1");
  }

  /** The final head: `buf` holds it from 0 and the body's first bytes from `bodyStart`. */
  #startResponse(head: ResponseHead, buf: Buffer, bodyStart: number): void {
    // Bodies have no deadline: they take as long as they flow (a download, a stream of events).
    this.owner.deadline = Number.POSITIVE_INFINITY;
    this.#responseHead = head;
    const response = new BodyFraming(head.framing);
    this.#response = response;
    this.countAnswer(head.status);
    // The client connection ends with this response when the client asked, when the body runs
    // until the backend closes, or when the backend answers before the request body is all in
    // (413…): the rest of that body cannot be told from a next request.
    this.#closeClient = this.head.close || response.untilClose || !this.#request.done || this.owner.closing;
    let end: number;
    try {
      end = response.consume(buf, bodyStart);
    } catch (err) {
      return void this.backendFailed(new HeadError(502, (err as Error).message));
    }
    const client = this.owner.socket;
    let ok: boolean;
    if (head.unchanged && !this.#closeClient) {
      // The common case: head and body go out as the backend sent them, in one write.
      ok = client.write(end === buf.length ? buf : buf.subarray(0, end));
    } else if (end > bodyStart) {
      client.cork();
      client.write(head.forward(this.#closeClient), "latin1");
      ok = client.write(buf.subarray(bodyStart, end));
      client.uncork();
    } else {
      ok = client.write(head.forward(this.#closeClient), "latin1");
    }
    if (!ok) this.upstream?.socket.pause();
    this.#afterBody(buf, end);
  }

  #responseBody(buf: Buffer, at: number): void {
    const response = this.#response!;
    let end: number;
    try {
      end = response.consume(buf, at);
    } catch (err) {
      return void this.backendFailed(new HeadError(502, (err as Error).message));
    }
    if (end > at) {
      const ok = this.owner.socket.write(at === 0 && end === buf.length ? buf : buf.subarray(at, end));
      if (!ok) this.upstream?.socket.pause();
    }
    this.#afterBody(buf, end);
  }

  #afterBody(buf: Buffer, end: number): void {
    const response = this.#response!;
    if (!response.done) return;
    if (end < buf.length) {
      // Bytes after the response: the backend broke framing; this connection is not reused.
      this.discardUpstream();
    }
    if (!this.#request.done) {
      // The backend answered before the request body was all sent (413, early error): the body's
      // rest cannot be told from a next request, so both connections end with this exchange.
      this.#closeClient = true;
    }
    this.#complete();
  }

  upstreamEnd(): void {
    if (this.finished) return;
    const response = this.#response;
    if (response?.untilClose) {
      // A body delimited by the close: this is its end.
      this.discardUpstream();
      this.#closeClient = true;
      return void this.#complete();
    }
    this.upstreamError(Object.assign(new Error("backend closed the connection"), { code: "ECONNRESET" }));
  }

  /** A deadline passed (called by the connection's sweep). */
  expire(): void {
    this.timedOut(this.#request.done);
  }

  #clientProtocolError(message: string): void {
    this.ctx.logger.debug({ route: this.meters.route, err: message }, "malformed request body");
    this.discardUpstream();
    if (this.answered) {
      this.finish();
      this.cutClient();
      return;
    }
    this.reply(400, "bad request: malformed chunked body\n");
  }

  /** Answers the client ourselves (502/504/400) and ends the connection. */
  protected reply(status: number, body: string): void {
    this.countAnswer(status);
    this.#replied = body.length;
    const text = status === 504 ? "Gateway Timeout" : status === 400 ? "Bad Request" : "Bad Gateway";
    this.owner.socket.write(
      `HTTP/1.1 ${status} ${text}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
      "latin1",
    );
    this.finish();
    this.owner.exchangeDone(true);
  }

  #complete(): void {
    const upstream = this.upstream;
    this.upstream = undefined;
    const head = this.#responseHead;
    if (upstream) {
      if (head && !head.close && this.#request.done) upstream.release(head.keepAliveTimeout);
      else upstream.discard();
    }
    this.finish();
    this.owner.exchangeDone(this.#closeClient);
  }

  #tunnel(head: ResponseHead, upstreamRest: Buffer): void {
    const upstream = this.upstream!;
    this.upstream = undefined;
    this.countAnswer(101);
    const client = this.owner.socket;
    const socket = upstream.socket;
    upstream.user = undefined;
    socket.removeAllListeners("data");
    socket.removeAllListeners("end");
    socket.removeAllListeners("close");
    // A backend's FIN is a half-close, as the client's is: the client may still send (as on L4).
    socket.allowHalfOpen = true;
    socket.on("error", () => client.destroy());
    client.write(head.forward(false), "latin1");
    if (upstreamRest.length > 0) client.write(upstreamRest);
    const clientRest = this.owner.exchangeTunnelled();
    if (clientRest) socket.write(clientRest);
    // Until both sides close, a drain or a route removal may have to cut the tunnel.
    const pair: Closable = {
      destroy() {
        client.destroy();
        socket.destroy();
      },
    };
    this.backend.untrack(this);
    this.finished = true;
    this.logAccess();
    this.backend.track(pair);
    let closed = 0;
    const onClose = () => {
      if (++closed === 2) this.backend.untrack(pair);
    };
    client.once("close", () => {
      socket.destroy();
      onClose();
    });
    socket.once("close", () => {
      client.destroy();
      onClose();
    });
    spliceBoth(client, socket);
  }

  protected cutClient(): void {
    this.owner.socket.destroy();
  }

  protected accessEntry(): RequestEntry {
    return {
      proto: "http/1.1",
      route: this.meters.route,
      client: this.clientAddress,
      method: this.head.method,
      target: this.head.target,
      status: this.status,
      bytes: this.#response?.seen ?? this.#replied,
      ms: since(this.startedAt),
      backend: this.backend.address,
    };
  }
}
