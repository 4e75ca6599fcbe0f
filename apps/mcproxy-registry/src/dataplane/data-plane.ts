// The data plane: one TCP listener per port that has routes, opened and closed as routes come and
// go. Every connection is sniffed for its SNI and relayed (L4) or terminated (L7).
import { createServer, type Server, type Socket } from "node:net";
import { ConnectionGate, type Refusal } from "./connection-gate.js";
import type { ProxyContext } from "./context.js";
import { HttpRedirect } from "./http-redirect.js";
import { relayL4 } from "./l4.js";
import { L7Port } from "./l7.js";
import { SessionTickets } from "./session-tickets.js";
import { sniffConnection } from "./sniff.js";

interface Listener {
  server: Server;
  l7: L7Port;
}

export class DataPlane {
  readonly #listeners = new Map<number, Listener>();
  readonly #tickets: SessionTickets;
  readonly #gate: ConnectionGate;
  /** When the last "at capacity" warning was logged (one per 10 s at most). */
  #warnedAt = 0;
  #redirect: HttpRedirect | undefined;

  constructor(private readonly ctx: ProxyContext) {
    this.#tickets = new SessionTickets(ctx.logger);
    const { maxConnections, maxConnectionsPerClient } = ctx.options;
    this.#gate = new ConnectionGate(maxConnections, maxConnectionsPerClient);
    ctx.logger.info(
      { max_connections: maxConnections, max_connections_per_client: maxConnectionsPerClient },
      "client connection caps",
    );
  }

  /** Ports with an open listener. */
  get ports(): number[] {
    return [...this.#listeners.keys()];
  }

  /** Opens a listener for `port` unless one is open; a bind failure is thrown (EADDRINUSE…). */
  async open(port: number): Promise<void> {
    if (this.#listeners.has(port)) return;
    const l7 = new L7Port(this.ctx, port, this.#tickets);
    // Half-open sockets: a client that is done sending may still be owed the backend's reply.
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: false, noDelay: true }, (client) => {
      const refusal = this.#gate.admit(client);
      if (refusal) return this.#refuse(port, client, refusal);
      sniffConnection(this.ctx, port, client, {
        l4: (socket, hello, live) => relayL4(this.ctx, socket, hello, live),
        l7: (socket, hello, live) => l7.accept(socket, hello, live.route.hostname),
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: this.ctx.options.bind, port, backlog: 4096 }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    // After the bind: a bind failure is the caller's to report (once), later errors are logged here.
    server.on("error", (err) => this.ctx.logger.error({ port, err: err.message }, "listener failed"));
    this.#listeners.set(port, { server, l7 });
    this.ctx.logger.info({ port, bind: this.ctx.options.bind }, "listener opened");
  }

  /** Opens the plain-HTTP port that redirects to https:// (`[proxy] http_redirect_port`). */
  async openRedirect(port: number, ready: () => boolean): Promise<void> {
    const redirect = new HttpRedirect(
      this.ctx,
      this.#gate,
      (client, reason) => this.#refuse(port, client, reason),
      ready,
    );
    await redirect.listen(port);
    this.#redirect = redirect;
  }

  /** Over a cap: closed at once (a reset, so no descriptor lingers in TIME_WAIT here). */
  #refuse(port: number, client: Socket, reason: Refusal): void {
    this.ctx.metrics.handshakeFailures.inc({ port, reason });
    const address = client.remoteAddress;
    client.on("error", () => {});
    client.resetAndDestroy();
    const now = Date.now();
    if (now - this.#warnedAt < 10_000) return;
    this.#warnedAt = now;
    if (reason === "over_capacity") {
      this.ctx.logger.warn(
        { port, max_connections: this.#gate.max },
        'connection refused: max_connections reached (see mcproxy_handshake_failures_total{reason="over_capacity"})',
      );
    } else {
      this.ctx.logger.warn(
        { port, client: address, max_connections_per_client: this.#gate.perClient },
        'connection refused: this client has max_connections_per_client open (see mcproxy_handshake_failures_total{reason="client_over_capacity"})',
      );
    }
  }

  /** Closes the listeners of ports that no longer have a route (their connections were closed with the routes). */
  sync(): void {
    const wanted = new Set(this.ctx.table.ports());
    for (const [port, listener] of this.#listeners) {
      if (wanted.has(port)) continue;
      listener.server.close();
      listener.l7.close();
      this.#listeners.delete(port);
      this.ctx.logger.info({ port }, "listener closed");
    }
  }

  /**
   * Stops gracefully: the listeners close (no new connections), HTTP/1.1 connections end after
   * the response in progress, HTTP/2 sessions get a GOAWAY; after `graceMs` whatever is still
   * open (L4 connections, WebSockets, long responses) is cut.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.#redirect?.close();
    for (const { server, l7 } of this.#listeners.values()) {
      server.close();
      l7.shutdown();
    }
    const open = this.#gate.open;
    if (open > 0)
      this.ctx.logger.info({ connections: open, grace_ms: graceMs }, "draining client connections");
    const drained = await this.#gate.drained(graceMs);
    if (!drained) {
      this.ctx.logger.warn(
        { connections: this.#gate.open },
        "shutdown deadline: cutting the connections left",
      );
    }
    this.close();
  }

  close(): void {
    this.#redirect?.close();
    for (const live of this.ctx.table.all()) live.close();
    for (const { server, l7 } of this.#listeners.values()) {
      server.close();
      l7.close();
    }
    this.#listeners.clear();
    this.#tickets.close();
  }
}
