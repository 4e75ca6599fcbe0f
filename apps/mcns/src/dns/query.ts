// Reads an incoming DNS message just far enough to answer it: header, the one question (its name
// lower-cased into a lookup key) and an OPT record (RFC 6891). Every read is bounds-checked: any
// malformed input becomes FORMERR or a silent drop, never an exception escaping to the server.
import { FLAG_QR, TYPE } from "./wire.js";

export interface Query {
  id: number;
  flags: number;
  opcode: number;
  /** The question name in wire form, lower case, as a latin1 string: the index's key. */
  key: string;
  /** Where the question name ends in the message (12 + its wire length). */
  nameEnd: number;
  qtype: number;
  qclass: number;
  /** Present when the query carried an OPT record. */
  edns?: { udpSize: number; version: number; dnssecOk: boolean };
}

export type ParseResult =
  | { ok: true; query: Query }
  /** A reply is owed but the message is unusable: answer FORMERR with this id and opcode. */
  | { ok: false; id: number; flags: number }
  /** Not worth an answer: too short to carry an id, or a response (answering could loop). */
  | undefined;

const scratch = Buffer.allocUnsafe(256);

export function parseQuery(msg: Buffer): ParseResult {
  if (msg.length < 12) return undefined;
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  if (flags & FLAG_QR) return undefined;
  const bad = { ok: false, id, flags } as const;
  if (msg.readUInt16BE(4) !== 1) return bad;
  const ancount = msg.readUInt16BE(6);
  const nscount = msg.readUInt16BE(8);
  const arcount = msg.readUInt16BE(10);

  // The question name: plain labels only (nobody compresses a lone question; pointers are refused).
  let p = 12;
  let n = 0;
  for (;;) {
    if (p >= msg.length) return bad;
    const len = msg[p]!;
    if (len > 63) return bad;
    if (n + len + 1 > 255) return bad;
    scratch[n++] = len;
    p++;
    if (len === 0) break;
    if (p + len > msg.length) return bad;
    for (let i = 0; i < len; i++) {
      const c = msg[p + i]!;
      scratch[n++] = c >= 65 && c <= 90 ? c + 32 : c;
    }
    p += len;
  }
  const nameEnd = p;
  if (p + 4 > msg.length) return bad;
  const qtype = msg.readUInt16BE(p);
  const qclass = msg.readUInt16BE(p + 2);
  p += 4;

  // The other sections: skipped record by record, remembering the OPT record.
  let edns: Query["edns"];
  const total = ancount + nscount + arcount;
  for (let i = 0; i < total; i++) {
    const ownerAt = p;
    p = skipName(msg, p);
    if (p < 0 || p + 10 > msg.length) return bad;
    const type = msg.readUInt16BE(p);
    const rdlength = msg.readUInt16BE(p + 8);
    if (p + 10 + rdlength > msg.length) return bad;
    if (type === TYPE.OPT) {
      // One OPT, in the additional section, owned by the root (RFC 6891 6.1.1).
      if (i < ancount + nscount || edns || msg[ownerAt] !== 0) return bad;
      const ttl = msg.readUInt32BE(p + 4);
      edns = {
        udpSize: msg.readUInt16BE(p + 2),
        version: (ttl >>> 16) & 0xff,
        dnssecOk: (ttl & 0x8000) !== 0,
      };
    }
    p += 10 + rdlength;
  }
  return {
    ok: true,
    query: {
      id,
      flags,
      opcode: (flags >>> 11) & 0xf,
      key: scratch.toString("latin1", 0, n),
      nameEnd,
      qtype,
      qclass,
      edns,
    },
  };
}

/** The offset after a (possibly compressed) name, or -1; pointers are not followed, so no loops. */
function skipName(msg: Buffer, p: number): number {
  for (let n = 0; n < 128; n++) {
    if (p >= msg.length) return -1;
    const len = msg[p]!;
    if (len === 0) return p + 1;
    if ((len & 0xc0) === 0xc0) return p + 2 <= msg.length ? p + 2 : -1;
    if (len > 63) return -1;
    p += len + 1;
  }
  return -1;
}
