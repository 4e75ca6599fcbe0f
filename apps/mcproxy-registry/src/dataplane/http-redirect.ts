// The plain-HTTP door (`[proxy] http_redirect_port`, usually 80): a browser that is given a bare
// name tries http:// first, and a front door that refuses it looks down. Every request for a
// hostname with a route is sent to its https:// address with 308 (method and body kept, as Caddy
// and Traefik do); a name without a route gets 404, so this is never an open redirector. Nothing is
// proxied in clear text. Node's http server parses here: a redirect is not a hot path.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { since } from "./access-log.js";
import type { ConnectionGate, Refusal } from "./connection-gate.js";
import type { ProxyContext } from "./context.js";
import { requestHostname } from "./request-host.js";

/** Request heads are small here: a redirect needs the Host and the target, nothing else. */
const MAX_HEAD_BYTES = 16 * 1024;

export class HttpRedirect {
  readonly #server: Server;

  constructor(
    private readonly ctx: ProxyContext,
    gate: ConnectionGate,
    onRefused: (client: Socket, reason: Refusal) => void,
    /** False while the stored routes are still loading: a 404 then would be a lie. */
    private readonly ready: () => boolean,
  ) {
    const { options } = ctx;
    this.#server = createServer(
      {
        maxHeaderSize: MAX_HEAD_BYTES,
        // A client has the handshake timeout to send its head, as on the TLS ports.
        headersTimeout: options.handshakeTimeoutMs,
        requestTimeout: options.handshakeTimeoutMs,
        keepAliveTimeout: 5_000,
        noDelay: true,
      },
      (req, res) => this.#answer(req, res),
    );
    // Counted against max_connections like every client connection (a flood here must not take
    // the descriptors the TLS ports need).
    this.#server.on("connection", (socket) => {
      const refusal = gate.admit(socket);
      if (refusal) onRefused(socket, refusal);
    });
    // A malformed request (Node's parser refused it): 400 when the socket can still say it.
    this.#server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
      ctx.metrics.redirects.inc({ result: "bad_request" });
      if (socket.writable && err.code !== "ECONNRESET") {
        const status =
          err.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
        socket.end(`HTTP/1.1 ${status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
      }
      socket.destroy();
    });
  }

  /** Opens the port on `[proxy] bind`; a bind failure is thrown (EADDRINUSE, EACCES below 1024). */
  listen(port: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen({ host: this.ctx.options.bind, port, backlog: 1024 }, () => {
        this.#server.off("error", reject);
        this.#server.on("error", (err) =>
          this.ctx.logger.error({ port, err: err.message }, "HTTP redirect listener failed"),
        );
        this.ctx.logger.info({ port, bind: this.ctx.options.bind }, "HTTP redirect listener opened");
        resolve();
      });
    });
  }

  #answer(req: IncomingMessage, res: ServerResponse): void {
    const target = req.url ?? "";
    const host = requestHostname(req.headers.host);
    const started = performance.now();
    let status: number;
    let body: string;
    let location: string | undefined;
    // Origin form only ("/path?query"): an absolute URL or "*" is not something a browser sends here.
    if (!this.ready()) {
      status = 503;
      body = "starting: try again in a moment\n";
      this.ctx.metrics.redirects.inc({ result: "starting" });
    } else if (!host || !target.startsWith("/")) {
      status = 400;
      body = host ? "bad request: the target must be a path\n" : "bad request: no Host\n";
      this.ctx.metrics.redirects.inc({ result: "bad_request" });
    } else {
      const port = this.ctx.table.httpsPort(host);
      if (port === undefined) {
        status = 404;
        body = "no route for this name\n";
        this.ctx.metrics.redirects.inc({ result: "no_route" });
      } else {
        status = 308;
        location = `https://${host}${port === 443 ? "" : `:${port}`}${target}`;
        body = `redirecting to ${location}\n`;
        this.ctx.metrics.redirects.inc({ result: "redirected" });
      }
    }
    res.writeHead(status, {
      "content-type": "text/plain; charset=utf-8",
      "content-length": Buffer.byteLength(body),
      ...(location ? { location } : {}),
      ...(status === 503 ? { "retry-after": "1" } : {}),
      // A request body is not read: the connection cannot carry another request after one.
      ...(req.headers["content-length"] || req.headers["transfer-encoding"] ? { connection: "close" } : {}),
    });
    res.end(req.method === "HEAD" ? undefined : body);
    const address = req.socket.remoteAddress ?? "";
    this.ctx.access?.request({
      proto: "http/1.1",
      route: host,
      client: address.startsWith("::ffff:") ? address.slice(7) : address,
      method: req.method ?? "",
      target,
      status,
      bytes: req.method === "HEAD" ? 0 : Buffer.byteLength(body),
      ms: since(started),
    });
  }

  /** Stops taking connections; `closeAllConnections` when stopping for good. */
  close(): void {
    this.#server.close();
    this.#server.closeAllConnections();
  }
}
