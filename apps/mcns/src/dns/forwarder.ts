// Split horizon: names outside MCNS's zones are forwarded to upstream resolvers (config
// `[dns] forwarders`) instead of REFUSED. Each forwarded query leaves from its own socket (a random
// source port) with a fresh random id, and a reply is taken only if it matches the id and question:
// the defences against off-path spoofing a resolver needs (RFC 5452). Upstreams are tried in order;
// when none answers in time the client gets SERVFAIL. A truncated UDP reply is retried over TCP
// when the client asked over TCP; a UDP client gets the TC bit and retries over TCP itself.
import { randomInt } from "node:crypto";
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { FLAG_TC } from "./wire.js";

export interface Upstream {
  host: string;
  port: number;
}

export interface ForwarderOptions {
  upstreams: Upstream[];
  /** How long one upstream may take before the next is tried. */
  timeoutMs: number;
  /** Forwarded queries in flight at most; beyond it, queries are shed (SERVFAIL). */
  maxInflight: number;
}

const MAX_REPLY = 65535;

export class Forwarder {
  #inflight = 0;

  constructor(private readonly options: ForwarderOptions) {}

  /**
   * The upstream's reply to `query` with the client's id restored, or undefined when no upstream
   * answered (or too many forwards are in flight): the caller answers SERVFAIL.
   */
  async forward(query: Buffer, overTcp: boolean): Promise<Buffer | undefined> {
    if (this.#inflight >= this.options.maxInflight) return undefined;
    this.#inflight++;
    try {
      const clientId = query.readUInt16BE(0);
      const outgoing = Buffer.from(query);
      for (const upstream of this.options.upstreams) {
        const id = randomInt(0, 0x10000);
        outgoing.writeUInt16BE(id, 0);
        let reply = await this.#udp(upstream, outgoing).catch(() => undefined);
        if (reply && overTcp && reply.readUInt16BE(2) & FLAG_TC) {
          reply = await this.#tcp(upstream, outgoing).catch(() => undefined);
        }
        if (reply && matches(reply, outgoing)) {
          reply.writeUInt16BE(clientId, 0);
          return reply;
        }
      }
      return undefined;
    } finally {
      this.#inflight--;
    }
  }

  #udp(upstream: Upstream, query: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const socket = createSocket(upstream.host.includes(":") ? "udp6" : "udp4");
      const done = (err?: Error, reply?: Buffer) => {
        clearTimeout(timer);
        socket.close();
        if (reply) resolve(reply);
        else reject(err ?? new Error("no reply"));
      };
      const timer = setTimeout(() => done(new Error("timeout")), this.options.timeoutMs);
      socket.on("error", (err) => done(err));
      socket.on("message", (msg, rinfo) => {
        // Only the upstream we asked, and only a reply to this query; anything else is ignored.
        if (
          rinfo.port === upstream.port &&
          msg.length >= 12 &&
          msg.readUInt16BE(0) === query.readUInt16BE(0)
        ) {
          done(undefined, msg);
        }
      });
      socket.send(query, upstream.port, upstream.host, (err) => err && done(err));
    });
  }

  #tcp(upstream: Upstream, query: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: upstream.host, port: upstream.port, noDelay: true });
      let received = Buffer.alloc(0);
      const done = (err?: Error, reply?: Buffer) => {
        clearTimeout(timer);
        socket.destroy();
        if (reply) resolve(reply);
        else reject(err ?? new Error("no reply"));
      };
      const timer = setTimeout(() => done(new Error("timeout")), this.options.timeoutMs);
      socket.on("error", (err) => done(err));
      socket.on("connect", () => {
        const framed = Buffer.allocUnsafe(query.length + 2);
        framed.writeUInt16BE(query.length, 0);
        query.copy(framed, 2);
        socket.write(framed);
      });
      socket.on("data", (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (received.length > MAX_REPLY + 2) return done(new Error("reply too long"));
        if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
          done(undefined, Buffer.from(received.subarray(2, 2 + received.readUInt16BE(0))));
        }
      });
      socket.on("end", () => done(new Error("connection closed before the reply")));
    });
  }
}

/** Same id, a response, and the same question section (compared case-insensitively). */
function matches(reply: Buffer, query: Buffer): boolean {
  if (reply.length < 12 || reply.readUInt16BE(0) !== query.readUInt16BE(0)) return false;
  if (!(reply[2]! & 0x80) || reply.readUInt16BE(4) !== 1) return false;
  const questionEnd = questionLength(query);
  if (questionEnd === undefined || reply.length < questionEnd) return false;
  for (let i = 12; i < questionEnd; i++) {
    if (lower(query[i]!) !== lower(reply[i]!)) return false;
  }
  return true;
}

const lower = (c: number) => (c >= 65 && c <= 90 ? c + 32 : c);

/** The end of the (uncompressed) question of a query we already parsed. */
function questionLength(query: Buffer): number | undefined {
  let p = 12;
  while (p < query.length && query[p]! !== 0) p += query[p]! + 1;
  return p + 5 <= query.length ? p + 5 : undefined;
}
