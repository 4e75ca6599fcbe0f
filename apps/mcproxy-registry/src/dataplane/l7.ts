// L7 termination for one listener port: a TLS server that never listens itself; sniffConnection
// hands it sockets whose ClientHello is put back. The SNI callback picks the hostname's current
// certificate, so a renewal is used by the next handshake. ALPN offers h2 and http/1.1.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2SecureServer, Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { createSecureServer } from "node:http2";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import type { ProxyContext } from "./context.js";
import { forwardRequest } from "./http-forward.js";
import { forwardUpgrade } from "./upgrade-forward.js";

export class L7Port {
  readonly #server: Http2SecureServer;

  constructor(
    private readonly ctx: ProxyContext,
    readonly port: number,
  ) {
    this.#server = createSecureServer(
      {
        allowHTTP1: true,
        ALPNProtocols: ["h2", "http/1.1"],
        minVersion: "TLSv1.2",
        // X25519 first, P-256 for clients without it (EC P-256 certificates sign, these agree on keys).
        ecdhCurve: "X25519:P-256",
        honorCipherOrder: true,
        handshakeTimeout: ctx.options.handshakeTimeoutMs,
        SNICallback: (servername, done) => {
          const live = ctx.table.lookup(port, servername.toLowerCase());
          const ref = live?.route.certificate;
          try {
            if (!ref) throw new Error(`no L7 route for ${servername} on port ${port}`);
            done(null, ctx.certs.context(ref));
          } catch (err) {
            ctx.metrics.handshakeFailures.inc({ port, reason: "certificate_unavailable" });
            done(err as Error, undefined);
          }
        },
      },
      (req, res) => this.#onRequest(req, res),
    );
    this.#server.setTimeout(ctx.options.idleTimeoutMs);
    // HTTP/1.1 keep-alive connections wait for their next request as long as HTTP/2 ones (Node's
    // default is 5 s, which makes clients pay a new handshake after any pause).
    // (allowHTTP1 servers have the property; the type does not declare it.)
    (this.#server as unknown as { keepAliveTimeout: number }).keepAliveTimeout = ctx.options.idleTimeoutMs;
    this.#server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#onUpgrade(req, socket, head),
    );
    this.#server.on("tlsClientError", (err, socket) => {
      ctx.metrics.handshakeFailures.inc({ port, reason: "tls_error" });
      ctx.logger.debug({ port, err: err.message }, "TLS handshake failed");
      socket.destroy();
    });
    this.#server.on("sessionError", () => {});
  }

  /** Takes over a client socket whose ClientHello was read; `hello` is put back first. */
  accept(client: Socket, hello: Buffer): void {
    const active = this.ctx.metrics.activeConnections.labels("l7");
    active.inc();
    client.once("close", () => active.dec());
    client.unshift(hello);
    this.#server.emit("connection", client);
  }

  #liveFor(tls: TLSSocket | undefined) {
    const name = tls?.servername;
    return typeof name === "string" ? this.ctx.table.lookup(this.port, name.toLowerCase()) : undefined;
  }

  #onRequest(req: Http2ServerRequest | IncomingMessage, res: Http2ServerResponse | ServerResponse) {
    const tls = ("stream" in req ? req.stream.session?.socket : req.socket) as TLSSocket | undefined;
    const live = this.#liveFor(tls);
    if (live?.route.mode !== "l7") {
      (res as ServerResponse).writeHead(421, { "content-type": "text/plain" });
      res.end("misdirected request: no route for this name\n");
      return;
    }
    forwardRequest(this.ctx, live, req, res as ServerResponse, tls?.remoteAddress);
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    const live = this.#liveFor(socket as TLSSocket);
    if (live?.route.mode !== "l7") {
      socket.end("HTTP/1.1 421 Misdirected Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    forwardUpgrade(this.ctx, live, req, socket, head);
  }

  close(): void {
    this.#server.close();
  }
}
