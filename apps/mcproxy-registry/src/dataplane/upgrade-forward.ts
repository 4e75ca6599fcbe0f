// An HTTP/1.1 Upgrade (WebSocket) through an L7 route: relay the handshake to the backend over a
// connection of its own (not the pool: it becomes a tunnel), then splice the two sockets.
import { type IncomingMessage, request } from "node:http";
import type { Duplex } from "node:stream";
import type { ProxyContext } from "./context.js";
import { backendHeaders } from "./headers.js";
import type { LiveRoute } from "./live-route.js";
import { backendFailure } from "./metrics.js";

function statusHead(status: number | undefined, message: string | undefined, raw: string[]): string {
  let text = `HTTP/1.1 ${status ?? 502} ${message ?? ""}\r\n`;
  for (let i = 0; i < raw.length; i += 2) text += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return `${text}\r\n`;
}

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
    headers: backendHeaders(req.headers, clientAddress, protocol),
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
  up.on("upgrade", (upRes, upSocket, upHead) => {
    ctx.metrics.requests.inc({ route, code: 101 });
    client.write(statusHead(upRes.statusCode, upRes.statusMessage, upRes.rawHeaders));
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
    client.write(statusHead(upRes.statusCode, upRes.statusMessage, upRes.rawHeaders));
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
