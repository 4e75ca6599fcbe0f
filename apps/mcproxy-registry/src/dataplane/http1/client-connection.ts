// An HTTP/1.1 client connection on an L7 route, after TLS: request heads are read from the
// decrypted bytes, each request runs as an Http1Exchange, and the next one (pipelined or
// keep-alive) is read when it is done. The proxy's own answers (400, 421, 431, 501, 505) are
// short, say what was wrong, and close the connection.
//
// This replaces Node's http server on this path: the proxy only needs the framing, and reading
// it from the bytes costs a fraction of building request/response objects and streams for each
// request (see the README's benchmark).
import type { TLSSocket } from "node:tls";
import type { ProxyContext } from "../context.js";
import type { LiveRoute } from "../live-route.js";
import { OPEN_SLOT } from "../open-set.js";
import { requestHostname } from "../request-host.js";
import type { Deadlines, HasDeadline } from "./deadlines.js";
import { type ExchangeOwner, Http1Exchange } from "./exchange.js";
import { HeadError, parseRequestHead } from "./message-head.js";

const CRLFCRLF = Buffer.from("\r\n\r\n");
/** The request line and fields together may take this much (Node's and nginx's order of size). */
const MAX_REQUEST_HEAD = 16 * 1024;

const REASONS: Record<number, string> = {
  400: "Bad Request",
  408: "Request Timeout",
  421: "Misdirected Request",
  431: "Request Header Fields Too Large",
  501: "Not Implemented",
  505: "HTTP Version Not Supported",
};

export class Http1Connection implements ExchangeOwner, HasDeadline {
  [OPEN_SLOT]: number | undefined = undefined;
  /**
   * Idle (and reading a head): the connection closes at the deadline, so a client has
   * idle_timeout_ms to start and finish its next request head. Waiting for a response: the
   * exchange answers 504 at it. Relaying a body: none.
   */
  deadline: number;
  /** Received bytes not yet given to an exchange: a partial head, or a pipelined request. */
  #buffered: Buffer | undefined;
  #exchange: Http1Exchange | undefined;
  #closing = false;
  /** No more requests on this connection: what arrives now is discarded. */
  #done = false;
  readonly #clientAddress: string;

  constructor(
    private readonly ctx: ProxyContext,
    readonly socket: TLSSocket,
    /** The current route for a request's hostname ("": the connection's SNI name). */
    private readonly route: (host: string) => LiveRoute | undefined,
    private readonly deadlines: Deadlines<Http1Connection>,
  ) {
    const address = socket.remoteAddress ?? "";
    this.#clientAddress = address.startsWith("::ffff:") ? address.slice(7) : address;
    socket.setNoDelay(true);
    this.deadline = performance.now() + ctx.options.idleTimeoutMs;
    deadlines.add(this);
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("drain", () => this.#exchange?.clientDrain());
    socket.on("end", () => {
      // The client is done sending; an exchange in progress still gets its response out.
      this.#closing = true;
      // (Ended already when the last response said close: end() again would build an Error.)
      if (!this.#exchange && !socket.writableEnded) socket.end();
    });
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      deadlines.delete(this);
      this.#exchange?.clientClosed();
      this.#exchange = undefined;
    });
  }

  #onData(chunk: Buffer): void {
    if (this.#done) return;
    const exchange = this.#exchange;
    if (exchange?.wantsRequestBody) {
      const rest = exchange.requestData(chunk);
      if (rest) this.#hold(rest);
      return;
    }
    this.#hold(chunk);
    if (!exchange) this.#next();
  }

  /** Keeps bytes for later; while an exchange runs, the socket is paused until it is done. */
  #hold(chunk: Buffer): void {
    this.#buffered = this.#buffered ? Buffer.concat([this.#buffered, chunk]) : chunk;
    if (this.#exchange) this.socket.pause();
  }

  /** Reads the next request from the buffered bytes, if a whole head is there. */
  #next(): void {
    const buf = this.#buffered;
    if (!buf) return;
    // A client may send an empty line before a request (RFC 9112 section 2.2).
    let start = 0;
    while (buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 2;
    const end = buf.indexOf(CRLFCRLF, start);
    if (end < 0) {
      if (buf.length - start > MAX_REQUEST_HEAD) return void this.#refuse(431, "request head too large");
      if (start > 0) this.#buffered = buf.subarray(start);
      return;
    }
    if (end - start > MAX_REQUEST_HEAD) return void this.#refuse(431, "request head too large");
    const text = buf.toString("latin1", start, end);
    const rest = end + 4 < buf.length ? buf.subarray(end + 4) : undefined;
    this.#buffered = undefined;
    let head: ReturnType<typeof parseRequestHead>;
    try {
      head = parseRequestHead(text);
    } catch (err) {
      if (err instanceof HeadError) return void this.#refuse(err.status, err.message);
      throw err;
    }
    const live = this.route(requestHostname(head.host));
    if (live?.route.mode !== "l7")
      return void this.#refuse(421, "misdirected request: no route for this name");
    const exchange = new Http1Exchange(this.ctx, this, live, head, this.#clientAddress);
    this.#exchange = exchange;
    const left = exchange.start(rest);
    if (left && this.#exchange === exchange) this.#hold(left);
  }

  /** The response in progress (if any) is the last: it says `connection: close`. */
  get closing(): boolean {
    return this.#closing;
  }

  /** The proxy is stopping: the connection ends now when idle, else after its exchange. */
  shutdown(): void {
    this.#closing = true;
    if (!this.#exchange) this.#end();
  }

  expire(): void {
    if (this.#exchange) this.#exchange.expire();
    else this.socket.destroy();
  }

  exchangeDone(closeClient: boolean): void {
    this.#exchange = undefined;
    this.deadline = performance.now() + this.ctx.options.idleTimeoutMs;
    if (closeClient || this.#closing) return void this.#end();
    if (this.#buffered) this.#next();
    if (!this.#exchange) this.socket.resume();
  }

  exchangeTunnelled(): Buffer | undefined {
    this.#exchange = undefined;
    this.socket.removeAllListeners("data");
    this.socket.removeAllListeners("end");
    this.deadlines.delete(this);
    const rest = this.#buffered;
    this.#buffered = undefined;
    return rest;
  }

  /**
   * Ends the connection: nothing more is read as a request (bytes after a refused or early-answered
   * request could be a body posing as the next request), what the client still sends is drained.
   */
  #end(last?: string): void {
    this.#done = true;
    this.#buffered = undefined;
    if (this.socket.writableEnded) {
      // Ended already (the client's FIN came first): nothing more can be said.
    } else if (last === undefined) this.socket.end();
    else this.socket.end(last, "latin1");
    this.socket.resume();
  }

  /** Answers a request the proxy will not forward, and closes. */
  #refuse(status: number, message: string): void {
    this.ctx.logger.debug({ client: this.#clientAddress, status, err: message }, "request refused");
    const body = `${message}\n`;
    this.ctx.access?.request({
      proto: "http/1.1",
      route: this.route("")?.route.hostname ?? "",
      client: this.#clientAddress,
      method: "",
      target: "",
      status,
      bytes: body.length,
      ms: 0,
    });
    this.#end(
      `HTTP/1.1 ${status} ${REASONS[status] ?? "Error"}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
        `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
}
