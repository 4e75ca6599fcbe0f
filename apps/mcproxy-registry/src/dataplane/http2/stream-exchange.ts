// One HTTP/2 request (a stream of a client's session) forwarded to a backend over the same raw
// keep-alive HTTP/1.1 connections as HTTP/1.1 clients use (http1/upstream-pool.ts). The request
// becomes an HTTP/1.1 head (request-head.ts) and its body is sent as it comes (chunked when its
// length is unknown); the response head is parsed by the same strict parser, its fields become the
// stream's headers and its body's content (framing removed) the stream's data, with backpressure
// both ways. A chunked response's trailer fields become the stream's trailers (gRPC's status).
import {
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import { type RequestEntry, since } from "../access-log.js";
import { BackendExchange } from "../backend-exchange.js";
import type { ProxyContext } from "../context.js";
import { BodyFraming } from "../http1/body-framing.js";
import { HeadError, type ResponseHead } from "../http1/message-head.js";
import { parseTrailers } from "../http1/trailer-fields.js";
import type { LiveRoute } from "../live-route.js";
import { lastChunk, requestHead } from "./request-head.js";

export class StreamExchange extends BackendExchange {
  readonly #head: string;
  readonly #chunked: boolean;
  #requestDone: boolean;
  #responseHead: ResponseHead | undefined;
  #response: BodyFraming | undefined;
  #timer: NodeJS.Timeout | undefined;
  #replied = 0;
  /** The client's trailing fields, if it sends any (relayed in the last chunk of a chunked body). */
  #trailers: IncomingHttpHeaders | undefined;
  /** The request's :path (for the access log). */
  readonly #target: string;
  /** Waiting for the client stream's `drain` (the backend connection is paused meanwhile). */
  #waitingDrain = false;
  /** The response's content, written to the stream (one function per exchange, not per chunk). */
  readonly #content = (data: Buffer) => {
    // One backend read may hold many chunks: pause once, resume once.
    if (!this.stream.write(data) && !this.#waitingDrain) {
      this.#waitingDrain = true;
      this.upstream?.socket.pause();
      this.stream.once("drain", () => {
        this.#waitingDrain = false;
        this.upstream?.socket.resume();
      });
    }
  };

  constructor(
    ctx: ProxyContext,
    live: LiveRoute,
    private readonly stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    private readonly clientAddress: string,
  ) {
    const length = headers["content-length"];
    const hasBody = length !== undefined ? length !== "0" : !stream.endAfterHeaders;
    super(ctx, live, headers[":method"] ?? "GET", hasBody);
    this.#chunked = hasBody && length === undefined;
    this.#requestDone = !hasBody;
    this.#head = requestHead(headers, clientAddress, this.#chunked);
    this.#target = headers[":path"] ?? "";
  }

  start(): void {
    this.backend.track(this);
    this.stream.once("close", () => this.clientClosed());
    this.connect(false);
    if (!this.#requestDone) {
      this.stream.on("data", (chunk: Buffer) => this.#bodyData(chunk));
      // A client that resets its stream with NO_ERROR or CANCEL (or whose connection drops) mid
      // upload gets 'aborted' and then 'end', as if the body were complete: without this the
      // backend would get the last chunk and answer a request the client never finished.
      this.stream.once("aborted", () => this.clientClosed());
      this.stream.once("trailers", (trailers: IncomingHttpHeaders) => {
        this.#trailers = trailers;
      });
      this.stream.once("end", () => this.#bodyEnd());
    }
    this.#arm();
  }

  protected requestHead(): string {
    return this.#head;
  }

  /**
   * While the request body comes in, the client has idle_timeout_ms between pieces; once it is all
   * sent, the backend has response_timeout_ms to answer.
   */
  #arm(): void {
    clearTimeout(this.#timer);
    if (this.answered || this.finished) return;
    const { options } = this.ctx;
    const ms = this.#requestDone ? options.responseTimeoutMs : options.idleTimeoutMs;
    this.#timer = setTimeout(() => this.timedOut(this.#requestDone), ms);
  }

  #bodyData(chunk: Buffer): void {
    const socket = this.upstream?.socket;
    if (this.finished || !socket || chunk.length === 0) return;
    if (this.#chunked) {
      socket.cork();
      socket.write(`${chunk.length.toString(16)}\r\n`, "latin1");
      socket.write(chunk);
      socket.write("\r\n", "latin1");
      socket.uncork();
    } else {
      socket.write(chunk);
    }
    if (socket.writableNeedDrain) {
      this.stream.pause();
      socket.once("drain", () => this.stream.resume());
    }
    this.#timer?.refresh();
  }

  #bodyEnd(): void {
    if (this.finished) return;
    // (With a Content-Length, HTTP/1.1 has no place for trailers: they are dropped.)
    if (this.#chunked) this.upstream?.socket.write(lastChunk(this.#trailers), "latin1");
    this.#requestDone = true;
    this.#arm();
  }

  upstreamData(chunk: Buffer): void {
    if (this.finished) return;
    if (this.#response) return void this.#responseBody(chunk, 0);
    // Interim responses stay between us and the backend (interimResponse is not overridden).
    const read = this.readHead(chunk, false);
    if (read) this.#startResponse(read.head, read.buf, read.bodyStart);
  }

  #startResponse(head: ResponseHead, buf: Buffer, bodyStart: number): void {
    if (head.framing.kind === "close" && head.transferCoded)
      return void this.backendFailed(new HeadError(502, "backend used a transfer coding other than chunked"));
    clearTimeout(this.#timer);
    this.#responseHead = head;
    const response = new BodyFraming(head.framing);
    this.#response = response;
    const headers = head.fields() as OutgoingHttpHeaders;
    // RFC 9110 8.6: no Content-Length in a 204 (HTTP/2 clients refuse one that is not 0).
    if (head.status === 204) delete headers["content-length"];
    headers[":status"] = head.status;
    if (this.stream.destroyed) return void this.#finishWith(buf, bodyStart);
    try {
      this.stream.respond(headers, {
        endStream: response.done,
        // Always: END_STREAM then comes only from #endStream (with trailers, when a chunked body
        // has them), so a cut (stream.close, which ends the writable side first) goes out as
        // RST_STREAM, not as the end of a complete response.
        waitForTrailers: !response.done,
      });
    } catch (err) {
      // Whatever Node's HTTP/2 layer refuses in a head our parser let through: a bad gateway, not a crash.
      return void this.backendFailed(new HeadError(502, (err as Error).message));
    }
    this.countAnswer(head.status);
    if (response.done) this.#afterBody(buf, bodyStart);
    else this.#responseBody(buf, bodyStart);
  }

  #responseBody(buf: Buffer, at: number): void {
    const response = this.#response!;
    let end: number;
    try {
      end = response.consume(buf, at, this.#content);
    } catch (err) {
      return void this.backendFailed(new HeadError(502, (err as Error).message));
    }
    this.#afterBody(buf, end);
  }

  #afterBody(buf: Buffer, end: number): void {
    const response = this.#response;
    if (!response?.done) return;
    if (!this.stream.destroyed && !this.stream.writableEnded) {
      if (this.#responseHead?.framing.kind === "chunked") {
        let trailers: ReturnType<typeof parseTrailers>;
        try {
          trailers = parseTrailers(response.trailers);
        } catch (err) {
          return void this.backendFailed(err as HeadError);
        }
        // Sent when the last DATA frame is queued ({} ends the stream with an empty HEADERS).
        return void this.#endStream(trailers, buf, end);
      }
      this.#endStream({}, buf, end);
      return;
    }
    this.#finishWith(buf, end);
  }

  /** Sent when the last DATA frame is queued ({} ends the stream with an empty DATA frame). */
  #endStream(trailers: OutgoingHttpHeaders, buf: Buffer, end: number): void {
    this.stream.once("wantTrailers", () => {
      try {
        this.stream.sendTrailers(trailers);
      } catch {
        this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      }
    });
    this.stream.end();
    this.#finishWith(buf, end);
  }

  /** The response is over: the backend connection goes back to the pool when it can. */
  #finishWith(buf: Buffer, end: number): void {
    const upstream = this.upstream;
    this.upstream = undefined;
    const reusable = end === buf.length && this.#requestDone && this.#responseHead?.close === false;
    if (upstream) {
      if (reusable) upstream.release(this.#responseHead?.keepAliveTimeout);
      else upstream.discard();
    }
    // An answer before the request body was all in: the rest of the body is read and dropped.
    if (!this.#requestDone) this.stream.resume();
    this.finish();
  }

  upstreamEnd(): void {
    if (this.finished) return;
    if (this.#response?.untilClose) {
      this.discardUpstream();
      if (!this.stream.destroyed && !this.stream.writableEnded) {
        this.stream.once("wantTrailers", () => this.stream.sendTrailers({}));
        this.stream.end();
      }
      return void this.finish();
    }
    this.upstreamError(Object.assign(new Error("backend closed the connection"), { code: "ECONNRESET" }));
  }

  protected reply(status: number, body: string): void {
    this.countAnswer(status);
    this.#replied = body.length;
    this.stream.respond({
      ":status": status,
      "content-type": "text/plain; charset=utf-8",
      "content-length": body.length,
    });
    this.stream.end(body);
    this.finish();
  }

  /** RST_STREAM INTERNAL_ERROR: the client learns that the response is incomplete. */
  protected cutClient(): void {
    if (!this.stream.destroyed) this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  }

  protected accessEntry(): RequestEntry {
    return {
      proto: "h2",
      route: this.meters.route,
      client: this.clientAddress,
      method: this.method,
      target: this.#target,
      status: this.status,
      bytes: this.#response?.seen ?? this.#replied,
      ms: since(this.startedAt),
      backend: this.backend.address,
    };
  }

  protected override finish(): void {
    clearTimeout(this.#timer);
    super.finish();
  }
}
