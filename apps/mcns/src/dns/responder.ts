// One query in, one answer out (or nothing): the hot path shared by the UDP and TCP servers. A
// prepared answer is copied and patched (id, RD, the question's case, an OPT record) rather than
// built, and anything malformed becomes FORMERR or a drop (RFC 1035, 6891, 7766).
import type { AnswerCache } from "./answers.js";
import { parseQuery, type Query } from "./query.js";
import type { QueryStats } from "./stats.js";
import {
  BADVERS_HIGH,
  CLASS_IN,
  FLAG_QR,
  FLAG_RD,
  FLAG_TC,
  RCODE,
  TYPE,
  TYPE_AXFR,
  TYPE_IXFR,
} from "./wire.js";

const OPT_LENGTH = 11;

/** respond()'s answer for a name outside our zones when forwarding is on: the server forwards it. */
export const FORWARD = Symbol("forward");

export class Responder {
  constructor(
    private readonly answers: AnswerCache,
    private readonly stats: QueryStats,
    /** The UDP payload size we advertise and never exceed (config dns.max_udp_payload). */
    private readonly maxUdpPayload: number,
    /** Names outside our zones are forwarded upstream (config dns.forwarders) instead of REFUSED. */
    private readonly forwarding = false,
  ) {}

  /**
   * The reply to `msg`, or undefined to stay silent. `udp` limits the size (512 bytes, or the
   * client's EDNS size up to our maximum) and sets TC when the answer does not fit.
   */
  respond(msg: Buffer, udp: boolean): Buffer | undefined | typeof FORWARD {
    const started = performance.now();
    const parsed = parseQuery(msg);
    if (!parsed) {
      this.stats.dropped++;
      return undefined;
    }
    if (!parsed.ok)
      return this.#finish(started, 0, bare(parsed.id, parsed.flags, RCODE.FORMERR), RCODE.FORMERR);
    const q = parsed.query;
    if (q.opcode !== 0)
      return this.#finish(started, q.qtype, this.#reply(msg, q, RCODE.NOTIMP), RCODE.NOTIMP);
    if (q.edns && q.edns.version > 0) {
      // BADVERS (16) is split: 0 in the header, 1 in the OPT record's extended RCODE.
      return this.#finish(started, q.qtype, this.#reply(msg, q, 0, 0, BADVERS_HIGH), 16);
    }
    if (q.qclass !== CLASS_IN || q.qtype === TYPE_AXFR || q.qtype === TYPE_IXFR || q.qtype === TYPE.OPT) {
      return this.#finish(started, q.qtype, this.#reply(msg, q, RCODE.REFUSED), RCODE.REFUSED);
    }
    const answer = this.answers.get(q.key, q.qtype);
    if (!answer) {
      if (this.forwarding) return FORWARD;
      return this.#finish(started, q.qtype, this.#reply(msg, q, RCODE.REFUSED), RCODE.REFUSED);
    }

    const limit = !udp ? 65535 : q.edns ? Math.max(512, Math.min(q.edns.udpSize, this.maxUdpPayload)) : 512;
    const optLength = q.edns ? OPT_LENGTH : 0;
    if (answer.bytes.length + optLength > limit) {
      // Too big for UDP: header and question only, with TC, so the client retries over TCP.
      const flags = answer.bytes.readUInt16BE(2) | FLAG_TC;
      return this.#finish(started, q.qtype, this.#reply(msg, q, flags & 0xf, flags), answer.rcode);
    }
    const out = Buffer.allocUnsafe(answer.bytes.length + optLength);
    answer.bytes.copy(out);
    out.writeUInt16BE(q.id, 0);
    out[2]! |= (q.flags & FLAG_RD) >>> 8;
    msg.copy(out, 12, 12, q.nameEnd); // the question as asked: its case echoed (RFC 4343)
    if (q.edns) {
      writeOpt(out, answer.bytes.length, this.maxUdpPayload, 0, q.edns.dnssecOk);
      out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
    }
    return this.#finish(started, q.qtype, out, answer.rcode);
  }

  /** Counts a forwarded query's outcome: the upstream's reply, or SERVFAIL when none came. */
  forwarded(msg: Buffer, reply: Buffer | undefined, started: number): Buffer | undefined {
    const parsed = parseQuery(msg);
    if (!parsed?.ok) return undefined;
    if (reply) return this.#finish(started, parsed.query.qtype, reply, reply[3]! & 0xf);
    return this.#finish(
      started,
      parsed.query.qtype,
      this.#reply(msg, parsed.query, RCODE.SERVFAIL),
      RCODE.SERVFAIL,
    );
  }

  /** Header and question only: errors, REFUSED and truncated answers. */
  #reply(msg: Buffer, q: Query, rcode: number, flags = FLAG_QR | rcode, extendedRcode = 0): Buffer {
    const questionEnd = q.nameEnd + 4;
    const optLength = q.edns ? OPT_LENGTH : 0;
    const out = Buffer.allocUnsafe(questionEnd + optLength);
    msg.copy(out, 0, 0, questionEnd);
    out.writeUInt16BE((flags | FLAG_QR | (q.flags & FLAG_RD) | (q.opcode << 11)) & ~0x0080, 2);
    out.writeUInt16BE(1, 4);
    out.writeUInt32BE(0, 6);
    out.writeUInt16BE(q.edns ? 1 : 0, 10);
    if (q.edns) writeOpt(out, questionEnd, this.maxUdpPayload, extendedRcode, q.edns.dnssecOk);
    return out;
  }

  #finish(started: number, qtype: number, out: Buffer, rcode: number): Buffer {
    this.stats.record(qtype, rcode, performance.now() - started);
    return out;
  }
}

/** A header-only reply (FORMERR when even the question is unreadable). */
function bare(id: number, queryFlags: number, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(FLAG_QR | (queryFlags & 0x7800) | (queryFlags & FLAG_RD) | rcode, 2);
  return out;
}

/** Our OPT record (RFC 6891 6.1.2): root owner, our UDP size, extended RCODE, version 0, DO echoed. */
function writeOpt(out: Buffer, at: number, udpSize: number, extendedRcode: number, dnssecOk: boolean): void {
  out[at] = 0;
  out.writeUInt16BE(TYPE.OPT, at + 1);
  out.writeUInt16BE(udpSize, at + 3);
  out.writeUInt32BE(((extendedRcode << 24) | (dnssecOk ? 0x8000 : 0)) >>> 0, at + 5);
  out.writeUInt16BE(0, at + 9);
}
