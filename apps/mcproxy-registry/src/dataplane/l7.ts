// L7 termination for one listener port: a TLS server that never listens itself; sniffConnection
// hands it sockets whose ClientHello is put back. The SNI callback picks the hostname's current
// certificate, so a renewal is used by the next handshake. ALPN offers h2 and http/1.1: HTTP/1.1
// connections are read by our own Http1Connection, HTTP/2 ones get a session of Node's http2
// server whose streams are StreamExchanges; both reach backends over the same raw keep-alive pool.

import { constants } from "node:crypto";
import type { Http2Server, Http2Session, IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { createServer as createHttp2Server } from "node:http2";
import type { Socket } from "node:net";
import { type TLSSocket, Server as TlsServer } from "node:tls";
import { normalizeServerName } from "./client-hello.js";
import type { ProxyContext } from "./context.js";
import { putBackHello } from "./hello-put-back.js";
import { Http1Connection } from "./http1/client-connection.js";
import { Deadlines } from "./http1/deadlines.js";
import { StreamExchange } from "./http2/stream-exchange.js";
import { OpenSet, type OpenSetMember } from "./open-set.js";
import { requestHostname } from "./request-host.js";
import type { SessionTickets } from "./session-tickets.js";

const CLIENT = Symbol("client");
const CERTIFICATE_UNAVAILABLE = "MCP_CERTIFICATE_UNAVAILABLE";
const noop = () => {};
interface ClientInfo {
  /** The SNI name, lower-cased: the route of requests without an authority. */
  name: string;
  address: string;
}

const CIPHERS = [
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

export class L7Port {
  readonly #tls: TlsServer;
  readonly #h2: Http2Server;
  readonly #deadlines = new Deadlines<Http1Connection>();
  /** Open HTTP/2 sessions, for a shutdown's GOAWAY (an OpenSet: one joins and leaves per connection). */
  readonly #sessions = new OpenSet<Http2Session & OpenSetMember>();
  #stopping = false;

  constructor(
    private readonly ctx: ProxyContext,
    readonly port: number,
    tickets: SessionTickets,
  ) {
    this.#tls = new TlsServer(
      {
        ALPNProtocols: ["h2", "http/1.1"],
        minVersion: "TLSv1.2",
        // Default X25519 then P-256 (EC P-256 certificates sign, these agree on keys); [proxy] tls_groups.
        ecdhCurve: ctx.options.tlsGroups.join(":"),
        // Mozilla's "intermediate" suites, AES-128-GCM first (as Go and Caddy prefer): as strong
        // in practice, and cheaper per handshake (SHA-256 key schedule) and per byte than AES-256.
        ciphers: CIPHERS,
        honorCipherOrder: true,
        handshakeTimeout: ctx.options.handshakeTimeoutMs,
        // Client-initiated TLS 1.2 renegotiation is refused (no_renegotiation), as nginx does: it
        // buys a client a full handshake's work from us per request and serves no purpose here.
        secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
        SNICallback: (servername, done) => {
          const live = ctx.table.lookup(port, normalizeServerName(servername));
          const ref = live?.route.certificate;
          try {
            if (!ref) throw new Error(`no L7 route for ${servername} on port ${port}`);
            const context = ctx.certs.context(ref);
            tickets.attachContext(context);
            done(null, context);
          } catch (err) {
            // Counted once, by tlsClientError (the socket is destroyed with this error).
            done(Object.assign(err as Error, { code: CERTIFICATE_UNAVAILABLE }), undefined);
          }
        },
      },
      (socket: TLSSocket) => this.#onSecure(socket),
    );
    tickets.attach(this.#tls);
    // The core API (a stream and its headers), not the compatibility request/response objects.
    this.#h2 = createHttp2Server({});
    this.#h2.on("stream", (stream, headers) => this.#onStream(stream, headers));
    this.#h2.on("session", (session) => {
      // A session set up while stopping gets its GOAWAY at once.
      if (this.#stopping) return void session.close();
      this.#sessions.add(session);
      session.once("close", () => this.#sessions.delete(session));
    });
    this.#h2.setTimeout(ctx.options.idleTimeoutMs);
    this.#h2.on("sessionError", () => {});
    this.#tls.on("tlsClientError", (err, socket) => {
      const unavailable = (err as NodeJS.ErrnoException).code === CERTIFICATE_UNAVAILABLE;
      ctx.metrics.handshakeFailures.inc({
        port,
        reason: unavailable ? "certificate_unavailable" : "tls_error",
      });
      ctx.logger.debug({ port, err: err.message }, "TLS handshake failed");
      socket.destroy();
    });
  }

  /** Takes over a client socket whose ClientHello was read for `route`; `hello` is put back first. */
  accept(client: Socket, hello: Buffer, route: string): void {
    const { metrics } = this.ctx;
    const active = metrics.active("l7");
    active.inc();
    client.once("close", () => {
      active.dec();
      metrics.countBytes(route, client.bytesRead, client.bytesWritten);
    });
    putBackHello(client, hello);
    // The TLS socket takes the raw socket's half-open setting: off during the handshake, so that a
    // client leaving mid-handshake is closed at once, not at the handshake timeout.
    client.allowHalfOpen = false;
    this.#tls.emit("connection", client);
  }

  #onSecure(socket: TLSSocket): void {
    if (socket.alpnProtocol === "h2") {
      this.#h2.emit("connection", socket);
      return;
    }
    // An HTTP/1.1 client may send its request and then its FIN, and still read the response.
    socket.allowHalfOpen = true;
    // Requests are routed by their Host (see request-host.ts); one without goes by the handshake's name.
    const name = typeof socket.servername === "string" ? normalizeServerName(socket.servername) : "";
    const { table } = this.ctx;
    const port = this.port;
    const connection = new Http1Connection(
      this.ctx,
      socket,
      (host) => table.lookup(port, host || name),
      this.#deadlines,
    );
    if (this.#stopping) connection.shutdown();
  }

  #onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    // A stream reset with an error code (by the client, or by us cutting a failed response) emits
    // 'error'; unheard, it would end the process. Its 'close' follows and is what the exchange uses.
    stream.on("error", noop);
    const session = stream.session as (Http2Session & { [CLIENT]?: ClientInfo }) | undefined;
    if (!session) return;
    let client = session[CLIENT];
    if (!client) {
      // Once per connection: the session's socket is a proxy object, slow to read per request.
      const socket = session.socket as TLSSocket;
      const name = typeof socket.servername === "string" ? normalizeServerName(socket.servername) : "";
      const address = socket.remoteAddress ?? "";
      client = { name, address: address.startsWith("::ffff:") ? address.slice(7) : address };
      session[CLIENT] = client;
    }
    const host = requestHostname(headers[":authority"] ?? headers.host) || client.name;
    const live = this.ctx.table.lookup(this.port, host);
    if (live?.route.mode !== "l7") {
      const body = "misdirected request: no route for this name\n";
      stream.respond({ ":status": 421, "content-type": "text/plain" });
      stream.end(body);
      this.ctx.access?.request({
        proto: "h2",
        route: host,
        client: client.address,
        method: headers[":method"] ?? "",
        target: headers[":path"] ?? "",
        status: 421,
        bytes: body.length,
        ms: 0,
      });
      return;
    }
    new StreamExchange(this.ctx, live, stream, headers, client.address).start();
  }

  /**
   * Stopping gracefully: HTTP/1.1 connections end when idle or after the response in progress,
   * HTTP/2 sessions get a GOAWAY (their streams in progress finish). The caller cuts what is left.
   */
  shutdown(): void {
    this.#stopping = true;
    for (const connection of this.#deadlines.items()) connection.shutdown();
    for (const session of this.#sessions.toArray()) session.close();
  }

  close(): void {
    this.#tls.close();
    this.#h2.close();
    this.#deadlines.close();
  }
}
