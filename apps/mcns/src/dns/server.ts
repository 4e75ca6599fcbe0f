// The DNS listeners: UDP and TCP on one address and port. UDP answers each datagram as it arrives;
// TCP reads length-prefixed messages (RFC 1035 4.2.2), answers pipelined queries in order, closes
// idle connections (RFC 7766) and bounds what it buffers. Above `maxInflight` unsent answers,
// queries are dropped rather than queued: a client retries, memory stays bounded.
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { once } from "node:events";
import { createServer, isIPv6, type Socket, type Server as TcpServer } from "node:net";
import type { Logger } from "@mcp/mcdsl/log";
import type { Forwarder } from "./forwarder.js";
import { FORWARD, type Responder } from "./responder.js";
import type { QueryStats } from "./stats.js";

export interface DnsServerOptions {
  host: string;
  port: number;
  responder: Responder;
  /** Set when `[dns] forwarders` is: names outside our zones go upstream. */
  forwarder?: Forwarder;
  stats: QueryStats;
  logger: Logger;
  tcpIdleTimeoutMs: number;
  maxTcpConnections: number;
  maxInflight: number;
}

/** A TCP query longer than this is not a query: the connection is closed. */
const MAX_TCP_MESSAGE = 16 * 1024;
/** A client that does not read its answers gets this much buffered before we stop reading from it. */
const MAX_TCP_WRITE_BUFFER = 256 * 1024;

export class DnsServer {
  #udp?: UdpSocket;
  #tcp?: TcpServer;
  readonly #connections = new Set<Socket>();

  constructor(private readonly options: DnsServerOptions) {}

  get address(): { host: string; port: number } {
    const a = this.#udp!.address();
    return { host: a.address, port: a.port };
  }

  async start(): Promise<void> {
    const { host, port, logger } = this.options;
    const bindHost = host === "" ? "0.0.0.0" : host;
    const udp = createSocket({ type: isIPv6(bindHost) ? "udp6" : "udp4" });
    udp.on("message", (msg, rinfo) => this.#onDatagram(udp, msg, rinfo.port, rinfo.address));
    udp.on("error", (err) => logger.error({ err }, "DNS UDP socket error"));
    udp.bind(port, bindHost);
    await once(udp, "listening");
    try {
      udp.setRecvBufferSize(4 << 20); // absorb bursts; the kernel caps it at net.core.rmem_max
    } catch {}
    this.#udp = udp;

    const tcp = createServer({ noDelay: true }, (socket) => this.#onConnection(socket));
    tcp.on("error", (err) => logger.error({ err }, "DNS TCP listener error"));
    tcp.listen(udp.address().port, bindHost);
    await once(tcp, "listening");
    this.#tcp = tcp;
  }

  async close(): Promise<void> {
    this.#udp?.close();
    const closed = this.#tcp ? new Promise((resolve) => this.#tcp!.close(resolve)) : undefined;
    for (const socket of this.#connections) socket.destroy();
    await closed;
  }

  #onDatagram(udp: UdpSocket, msg: Buffer, port: number, address: string): void {
    // Datagrams libuv could not send at once wait in its queue; past the limit, shed instead.
    if (udp.getSendQueueCount() >= this.options.maxInflight) {
      this.options.stats.shed++;
      return;
    }
    this.#answer(msg, true, (reply) => udp.send(reply, port, address));
  }

  /**
   * Answers `msg` through `send`: at once from our zones, or later when it is forwarded upstream.
   * The responder never throws by design; should a bug make it, the query is dropped, not the process.
   */
  #answer(msg: Buffer, udp: boolean, send: (reply: Buffer) => void): void {
    let reply: ReturnType<Responder["respond"]>;
    try {
      reply = this.options.responder.respond(msg, udp);
    } catch (err) {
      this.#failed(err, msg);
      return;
    }
    if (reply === FORWARD) {
      const started = performance.now();
      const query = Buffer.from(msg); // the TCP buffer it points into is reused
      this.options
        .forwarder!.forward(query, !udp)
        .then((upstream) => this.options.responder.forwarded(query, upstream, started))
        .then(
          (answer) => answer && send(answer),
          (err) => this.#failed(err, query),
        );
    } else if (reply) {
      send(reply);
    }
  }

  #failed(err: unknown, msg: Buffer): void {
    this.options.stats.dropped++;
    this.options.logger.error({ err, query: msg.toString("base64") }, "could not answer a DNS query");
  }

  #onConnection(socket: Socket): void {
    if (this.#connections.size >= this.options.maxTcpConnections) {
      this.options.stats.shed++;
      socket.destroy();
      return;
    }
    this.#connections.add(socket);
    socket.setTimeout(this.options.tcpIdleTimeoutMs, () => socket.destroy());
    socket.on("close", () => this.#connections.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.on("drain", () => socket.resume());

    let pending: Buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let p = 0;
      while (pending.length - p >= 2) {
        const length = pending.readUInt16BE(p);
        if (length < 12 || length > MAX_TCP_MESSAGE) {
          // Not a DNS query; the stream cannot be resynchronized.
          this.options.stats.dropped++;
          socket.destroy();
          return;
        }
        if (pending.length - p - 2 < length) break;
        // Forwarded answers may come back after later ones: RFC 7766 lets TCP answers arrive out of order.
        this.#answer(pending.subarray(p + 2, p + 2 + length), false, (reply) => {
          if (socket.destroyed) return;
          const framed = Buffer.allocUnsafe(reply.length + 2);
          framed.writeUInt16BE(reply.length, 0);
          reply.copy(framed, 2);
          socket.write(framed);
        });
        p += 2 + length;
      }
      pending = p === pending.length ? Buffer.alloc(0) : Buffer.from(pending.subarray(p));
      if (socket.writableLength > MAX_TCP_WRITE_BUFFER) socket.pause();
    });
  }
}
