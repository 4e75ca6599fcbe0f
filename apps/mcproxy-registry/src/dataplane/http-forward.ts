// L7 forwarding of one request (HTTP/1.1 or HTTP/2 from the client) to a backend over pooled
// keep-alive HTTP/1.1, bodies streamed both ways; and of WebSocket (Upgrade) requests.
import {
  type ClientRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from "node:http";
import type { Http2ServerRequest } from "node:http2";
import type { Duplex } from "node:stream";
import type { ProxyContext } from "./context.js";
import type { LiveRoute } from "./live-route.js";
import { backendFailure } from "./metrics.js";

type ClientRequestIn = Http2ServerRequest | IncomingMessage;
// The HTTP/2 compatibility response has ServerResponse's shape (writeHead, end, pipe target).
type ClientResponse = ServerResponse;

/** Headers that describe one connection, not the message (RFC 9110 section 7.6.1). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "http2-settings",
]);
const RETRIABLE = new Set(["GET", "HEAD", "OPTIONS", "DELETE", "PUT"]);

function endToEnd(headers: IncomingHttpHeaders, keep?: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const listed = headers.connection;
  const extra = listed ? listed.toLowerCase().split(/\s*,\s*/) : [];
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* ":" */ || HOP_BY_HOP.has(name) || extra.includes(name)) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  if (keep) Object.assign(out, { connection: "upgrade", upgrade: keep });
  return out;
}

/** The request's headers for the backend: end-to-end ones, Host, and X-Forwarded-*. */
function backendHeaders(req: ClientRequestIn, clientAddress: string | undefined, upgrade?: string) {
  const headers = endToEnd(req.headers, upgrade);
  const host = (req.headers[":authority"] as string | undefined) ?? req.headers.host ?? "";
  headers.host = host;
  const prior = req.headers["x-forwarded-for"];
  const client = clientAddress?.startsWith("::ffff:") ? clientAddress.slice(7) : (clientAddress ?? "");
  headers["x-forwarded-for"] = prior ? `${prior}, ${client}` : client;
  headers["x-forwarded-proto"] = "https";
  headers["x-forwarded-host"] = host;
  return headers;
}

function hasBody(req: ClientRequestIn): boolean {
  const length = req.headers["content-length"];
  if (length !== undefined) return length !== "0";
  if ("stream" in req) return !req.stream.endAfterHeaders; // HTTP/2: END_STREAM on the HEADERS frame
  return req.headers["transfer-encoding"] !== undefined;
}

export function forwardRequest(
  ctx: ProxyContext,
  live: LiveRoute,
  req: ClientRequestIn,
  res: ClientResponse,
  clientAddress: string | undefined,
): void {
  const route = live.route.hostname;
  const backend = live.pick();
  const headers = backendHeaders(req, clientAddress);
  const stopTimer = ctx.metrics.requestDuration.startTimer({ route });
  let upstream: ClientRequest | undefined;
  let answered = false;
  const inflight = {
    destroy() {
      upstream?.destroy();
      res.destroy();
    },
  };
  backend.track(inflight);
  res.once("close", () => {
    backend.untrack(inflight);
    if (!answered || !res.writableFinished) upstream?.destroy();
  });

  const reply = (status: number, body: string) => {
    answered = true;
    stopTimer();
    ctx.metrics.requests.inc({ route, code: status });
    if (res.headersSent) return void res.destroy();
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": body.length });
    res.end(body);
  };

  const send = (retry: boolean) => {
    const up = request({
      host: backend.host,
      port: backend.port,
      method: req.method,
      path: req.url,
      headers,
      agent: backend.agent,
    });
    upstream = up;
    const timer = setTimeout(() => {
      up.destroy(Object.assign(new Error("backend response timeout"), { code: "ETIMEDOUT" }));
    }, ctx.options.responseTimeoutMs);
    up.on("response", (upRes) => {
      clearTimeout(timer);
      answered = true;
      stopTimer();
      const status = upRes.statusCode ?? 502;
      ctx.metrics.requests.inc({ route, code: status });
      res.writeHead(status, endToEnd(upRes.headers));
      upRes.pipe(res as NodeJS.WritableStream);
      upRes.on("error", () => res.destroy());
    });
    up.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (answered) return void res.destroy();
      // A pooled connection the backend closed while idle: try once more on a fresh one.
      if (retry && up.reusedSocket && RETRIABLE.has(req.method ?? "") && !hasBody(req)) return send(false);
      const reason = backendFailure(err);
      ctx.metrics.backendErrors.inc({ route, reason });
      ctx.logger.warn({ route, backend: backend.address, err: err.message }, "backend request failed");
      if (reason === "timeout") reply(504, "gateway timeout: the backend did not answer in time\n");
      else reply(502, "bad gateway: the backend is unreachable\n");
    });
    if (hasBody(req)) req.pipe(up);
    else up.end();
  };
  send(true);
}

/** An HTTP/1.1 Upgrade (WebSocket): relay the handshake, then splice the two sockets. */
export function forwardUpgrade(
  ctx: ProxyContext,
  live: LiveRoute,
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
): void {
  const route = live.route.hostname;
  const backend = live.pick();
  const protocol = String(req.headers.upgrade ?? "websocket");
  const clientAddress = (client as { remoteAddress?: string }).remoteAddress;
  const up = request({
    host: backend.host,
    port: backend.port,
    method: req.method,
    path: req.url,
    headers: backendHeaders(req, clientAddress, protocol),
    timeout: ctx.options.responseTimeoutMs,
  });
  const pair = {
    destroy() {
      up.destroy();
      client.destroy();
    },
  };
  backend.track(pair);
  client.once("close", () => backend.untrack(pair));
  client.on("error", () => up.destroy());
  const head1 = (status: number | undefined, message: string | undefined, raw: string[]) => {
    let text = `HTTP/1.1 ${status ?? 502} ${message ?? ""}\r\n`;
    for (let i = 0; i < raw.length; i += 2) text += `${raw[i]}: ${raw[i + 1]}\r\n`;
    return `${text}\r\n`;
  };
  up.on("upgrade", (upRes, upSocket, upHead) => {
    ctx.metrics.requests.inc({ route, code: 101 });
    client.write(head1(upRes.statusCode, upRes.statusMessage, upRes.rawHeaders));
    if (upHead.length > 0) client.write(upHead);
    if (head.length > 0) upSocket.write(head);
    upSocket.setTimeout(0); // the response timeout was for the handshake, not the session
    upSocket.pipe(client);
    client.pipe(upSocket);
    upSocket.on("error", () => client.destroy());
    upSocket.once("close", () => client.destroy());
    client.once("close", () => upSocket.destroy());
  });
  up.on("response", (upRes) => {
    // The backend declined the upgrade: pass its answer on and close.
    ctx.metrics.requests.inc({ route, code: upRes.statusCode ?? 502 });
    client.write(head1(upRes.statusCode, upRes.statusMessage, upRes.rawHeaders));
    upRes.pipe(client);
  });
  up.on("timeout", () => up.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
  up.on("error", (err: NodeJS.ErrnoException) => {
    const reason = backendFailure(err);
    ctx.metrics.backendErrors.inc({ route, reason });
    const status = reason === "timeout" ? "504 Gateway Timeout" : "502 Bad Gateway";
    client.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });
  up.end();
}
