// DNS wire format (RFC 1035 section 4) for what MCNS writes: names with compression, resource records
// of the types it stores, SOA. Answers are encoded once and reused (see answers.ts), so clarity wins
// over speed here.
import { isIPv4, isIPv6 } from "node:net";
import { fullIpv6, type RecordData } from "../store/record.js";

export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, CAA: 257 };
export const TYPE_ANY = 255;
export const TYPE_AXFR = 252;
export const TYPE_IXFR = 251;
export const CLASS_IN = 1;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };
/** Extended RCODE 16 (RFC 6891): the upper 8 bits (1) go in the OPT record, the lower 4 (0) in the header. */
export const BADVERS_HIGH = 1;

export const FLAG_QR = 0x8000;
export const FLAG_AA = 0x0400;
export const FLAG_TC = 0x0200;
export const FLAG_RD = 0x0100;

/** A name's labels in wire form, lower case: "www.example.net" → 3www7example3net0. */
export function nameToWire(name: string): Buffer {
  // Names MCNS stores are validated ASCII (letters, digits, '-', '_'), so lower-casing is safe.
  if (name === "" || name === ".") return Buffer.from([0]);
  const parts = name.replace(/\.$/, "").split(".");
  const out: number[] = [];
  for (const label of parts) {
    const bytes = Buffer.from(label.toLowerCase(), "latin1");
    out.push(bytes.length, ...bytes);
  }
  out.push(0);
  return Buffer.from(out);
}

/**
 * Builds a message, remembering where each name suffix was written so later names can point at it
 * (RFC 1035 4.1.4). Only names in the question, owners and the rdata of RFC 1035 types are
 * compressed (RFC 3597 section 4).
 */
export class MessageWriter {
  readonly #chunks: Buffer[] = [];
  #length = 0;
  readonly #offsets = new Map<string, number>();

  get length(): number {
    return this.#length;
  }

  bytes(b: Buffer | number[]): void {
    const buf = Buffer.isBuffer(b) ? b : Buffer.from(b);
    this.#chunks.push(buf);
    this.#length += buf.length;
  }

  u16(n: number): void {
    const b = Buffer.allocUnsafe(2);
    b.writeUInt16BE(n & 0xffff);
    this.bytes(b);
  }

  u32(n: number): void {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(n >>> 0);
    this.bytes(b);
  }

  /** Writes a name ("www.example.net"), compressed against names written before. */
  name(name: string, compress = true): void {
    this.wireName(nameToWire(name).toString("latin1"), compress);
  }

  /**
   * Writes a name given in wire form as a latin1 string (a lookup key), pointing at an earlier copy
   * of its longest known suffix when `compress`. Keys keep labels byte-exact, dots inside included.
   */
  wireName(key: string, compress = true): void {
    let p = 0;
    for (;;) {
      const len = key.charCodeAt(p);
      if (!(len > 0)) break;
      const at = this.#offsets.get(key.slice(p));
      if (compress && at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      if (this.#length < 0x3fff) this.#offsets.set(key.slice(p), this.#length);
      this.bytes(Buffer.from(key.slice(p, p + len + 1), "latin1"));
      p += len + 1;
    }
    this.bytes([0]);
  }

  /** Record data, preceded by its length (RDLENGTH) once written. */
  rdata(write: (w: MessageWriter) => void): void {
    const lengthAt = this.#chunks.length;
    this.u16(0);
    const start = this.#length;
    write(this);
    this.#chunks[lengthAt]!.writeUInt16BE(this.#length - start);
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.#chunks, this.#length);
  }
}

export function typeNumber(data: RecordData): number {
  return TYPE[data.type];
}

/** Writes a record's rdata. */
export function writeRdata(w: MessageWriter, data: RecordData): void {
  switch (data.type) {
    case "A":
      w.bytes(data.address.split(".").map(Number));
      return;
    case "AAAA":
      w.bytes(ipv6Bytes(data.address));
      return;
    case "CNAME":
    case "NS":
      w.name(data.target);
      return;
    case "MX":
      w.u16(data.preference);
      w.name(data.exchange === "." ? "" : data.exchange);
      return;
    case "SRV":
      w.u16(data.priority);
      w.u16(data.weight);
      w.u16(data.port);
      w.name(data.target === "." ? "" : data.target, false);
      return;
    case "TXT":
      for (const s of data.strings) {
        const b = Buffer.from(s, "utf8");
        w.bytes([b.length]);
        w.bytes(b);
      }
      if (data.strings.length === 0) w.bytes([0]);
      return;
    case "CAA": {
      const tag = Buffer.from(data.tag, "latin1");
      w.bytes([data.flags, tag.length]);
      w.bytes(tag);
      w.bytes(Buffer.from(data.value, "utf8"));
      return;
    }
  }
}

/** What a record takes in an answer at most: a compressed owner (2), type, class, TTL, RDLENGTH (10), its rdata. */
export function answerBytes(data: RecordData): number {
  const w = new MessageWriter();
  writeRdata(w, data);
  return 12 + w.length;
}

export function ipv6Bytes(address: string): Buffer {
  return Buffer.from(fullIpv6(address).replaceAll(":", ""), "hex");
}

export function isAddress(type: "A" | "AAAA", address: string): boolean {
  return type === "A" ? isIPv4(address) : isIPv6(address) && !address.includes("%");
}

/** The lookup key of a name: its wire form, lower case, as a latin1 string. */
export function nameKey(name: string): string {
  return nameToWire(name).toString("latin1");
}

/** A key back to a dotted name ("" for the root); only for names MCNS stores (no dots in labels). */
export function keyToName(key: string): string {
  const labels: string[] = [];
  for (let p = 0; key.charCodeAt(p) > 0; p += key.charCodeAt(p) + 1) {
    labels.push(key.slice(p + 1, p + 1 + key.charCodeAt(p)));
  }
  return labels.join(".");
}

/** The key of the parent name ("" past the root). */
export function parentKey(key: string): string {
  const len = key.charCodeAt(0);
  return len > 0 ? key.slice(len + 1) : "";
}
