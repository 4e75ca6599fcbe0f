// Reads the TLS ClientHello's server_name from the first bytes of a connection, without consuming
// them: the hello may arrive over several TCP segments and span several TLS records.

export type HelloResult =
  | { status: "incomplete" }
  | { status: "malformed"; reason: string }
  | { status: "ok"; serverName: string | undefined };

const RECORD_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
/**
 * Larger than any real ClientHello (post-quantum key shares included: 2-4 KiB), and the size of
 * nginx's ssl_preread buffer and HAProxy's: what a connection may make us hold before it is routed.
 */
export const MAX_HELLO_BYTES = 16 * 1024;
const MAX_RECORD_BYTES = 16384 + 2048;
const MAX_RECORDS = 64;

class Malformed extends Error {}

/**
 * Parses what has arrived so far; "incomplete" means: wait for more bytes. Work is linear in the
 * bytes given: fragments are joined once, and a hello in more than MAX_RECORDS records is refused
 * (real clients use one or two; thousands of 1-byte records would only cost us CPU).
 */
export function parseClientHello(data: Buffer): HelloResult {
  const fragments: Buffer[] = [];
  let collected = 0;
  let offset = 0;
  let helloLength = -1;
  for (;;) {
    if (data.length < offset + 5) return { status: "incomplete" };
    if (data[offset] !== RECORD_HANDSHAKE) {
      return { status: "malformed", reason: offset === 0 ? "not a TLS handshake" : "hello interrupted" };
    }
    if (data[offset + 1] !== 3) return { status: "malformed", reason: "unknown TLS record version" };
    const length = data.readUInt16BE(offset + 3);
    if (length === 0 || length > MAX_RECORD_BYTES)
      return { status: "malformed", reason: "bad record length" };
    if (data.length < offset + 5 + length) return { status: "incomplete" };
    if (fragments.length === MAX_RECORDS)
      return { status: "malformed", reason: "hello split into too many records" };
    fragments.push(data.subarray(offset + 5, offset + 5 + length));
    collected += length;
    offset += 5 + length;
    if (helloLength < 0 && collected >= 4) {
      const header = Buffer.concat(fragments, 4);
      if (header[0] !== HANDSHAKE_CLIENT_HELLO) return { status: "malformed", reason: "not a ClientHello" };
      helloLength = header.readUIntBE(1, 3);
      if (helloLength > MAX_HELLO_BYTES) return { status: "malformed", reason: "ClientHello too large" };
    }
    if (helloLength < 0 || collected < 4 + helloLength) continue;
    const handshake = fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments, collected);
    try {
      return { status: "ok", serverName: serverName(handshake.subarray(4, 4 + helloLength)) };
    } catch (err) {
      if (err instanceof Malformed) return { status: "malformed", reason: err.message };
      throw err;
    }
  }
}

/** A bounds-checked reader: running off the end is a malformed hello, never an exception. */
class Reader {
  constructor(
    private readonly buf: Buffer,
    private pos = 0,
    private readonly end = buf.length,
  ) {}
  need(n: number, what: string): void {
    if (this.pos + n > this.end) throw new Malformed(`truncated ${what}`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  skip(n: number, what: string): void {
    this.need(n, what);
    this.pos += n;
  }
  sub(n: number, what: string): Reader {
    this.need(n, what);
    const r = new Reader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  get left(): number {
    return this.end - this.pos;
  }
}

function serverName(body: Buffer): string | undefined {
  const r = new Reader(body);
  r.skip(2 + 32, "version and random");
  r.skip(r.u8("session id"), "session id");
  const suites = r.u16("cipher suites");
  if (suites === 0 || suites % 2 !== 0) throw new Malformed("bad cipher suite list");
  r.skip(suites, "cipher suites");
  r.skip(r.u8("compression methods"), "compression methods");
  if (r.left === 0) return undefined; // no extensions at all
  const extensions = r.sub(r.u16("extensions"), "extensions");
  let name: string | undefined;
  while (extensions.left > 0) {
    const type = extensions.u16("extension type");
    const ext = extensions.sub(extensions.u16("extension length"), "extension");
    if (type !== EXT_SERVER_NAME) continue;
    if (name !== undefined) throw new Malformed("server_name sent twice");
    const list = ext.sub(ext.u16("server name list"), "server name list");
    while (list.left > 0) {
      const kind = list.u8("server name type");
      const value = list.bytes(list.u16("server name"), "server name");
      if (kind === 0 && name === undefined) name = value.toString("latin1");
    }
    if (name === undefined || !/^[A-Za-z0-9._-]{1,253}$/.test(name)) throw new Malformed("bad server_name");
  }
  return name === undefined ? undefined : normalizeServerName(name);
}

/** A name as routes are stored: lower case, without the trailing dot of a fully qualified name. */
export function normalizeServerName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

/** A fatal TLS alert record, so the client learns why (RFC 8446 section 6). */
export const TlsAlert = {
  handshakeFailure: 40,
  decodeError: 50,
  internalError: 80,
  unrecognizedName: 112,
} as const;

export function alertRecord(description: number): Buffer {
  return Buffer.from([21, 3, 3, 0, 2, 2, description]);
}
