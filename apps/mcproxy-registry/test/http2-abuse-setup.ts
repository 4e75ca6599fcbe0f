// The HTTP/2 abuse tests' tools. A raw HTTP/2 client: frames written by hand over TLS with ALPN
// h2, so a test can send what no client library would (bad HPACK, frames on the wrong stream,
// oversized frames, forbidden header fields); header blocks use HPACK literals without indexing
// (RFC 7541 6.2.2), and the server's answers are read only as far as a test needs (frame type,
// stream, error codes, :status). Connections (raw or Node's client) kept for cleaning up after a
// case. And a backend that counts what becomes of its requests.
import { EventEmitter, once } from "node:events";
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  type SecureClientSessionOptions,
} from "node:http2";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { type Backend, startHttpBackend } from "./harness.js";

export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export const T = {
  DATA: 0,
  HEADERS: 1,
  PRIORITY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
} as const;
export const END_STREAM = 0x1;
export const ACK = 0x1;
export const END_HEADERS = 0x4;

export interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

export function frame(
  type: number,
  flags: number,
  stream: number,
  payload: Buffer = Buffer.alloc(0),
): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

const u32 = (...values: number[]) => {
  const b = Buffer.alloc(values.length * 4);
  for (const [i, v] of values.entries()) b.writeUInt32BE(v, i * 4);
  return b;
};

export const settings = (pairs: [number, number][] = []) =>
  frame(
    T.SETTINGS,
    0,
    0,
    Buffer.concat(
      pairs.map(([id, value]) => {
        const b = Buffer.alloc(6);
        b.writeUInt16BE(id, 0);
        b.writeUInt32BE(value, 2);
        return b;
      }),
    ),
  );
export const rst = (stream: number, code: number) => frame(T.RST_STREAM, 0, stream, u32(code));
export const windowUpdate = (stream: number, increment: number) =>
  frame(T.WINDOW_UPDATE, 0, stream, u32(increment));
export const priority = (stream: number, dependsOn: number) =>
  frame(T.PRIORITY, 0, stream, Buffer.concat([u32(dependsOn), Buffer.from([15])]));

/** An HPACK integer with an `n`-bit prefix (RFC 7541 5.1). */
function hpackInt(value: number, n: number, first: number): number[] {
  const max = (1 << n) - 1;
  if (value < max) return [first | value];
  const out = [first | max];
  for (value -= max; value >= 128; value >>= 7) out.push((value & 127) | 128);
  out.push(value);
  return out;
}

const literal = (s: string) => {
  const bytes = Buffer.from(s, "latin1");
  return Buffer.concat([Buffer.from(hpackInt(bytes.length, 7, 0)), bytes]);
};

/** A header block of literal fields without indexing, names given as they are (case included). */
export function hpack(fields: [string, string][]): Buffer {
  return Buffer.concat(fields.flatMap(([name, value]) => [Buffer.from([0]), literal(name), literal(value)]));
}

/** A HEADERS frame (END_HEADERS set) with the request `fields`. */
export const headers = (stream: number, fields: [string, string][], endStream = true) =>
  frame(T.HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), stream, hpack(fields));

/** The usual request fields for `authority`, then `extra`. */
export const request = (
  authority: string,
  path = "/",
  extra: [string, string][] = [],
  method = "GET",
): [string, string][] => [
  [":method", method],
  [":scheme", "https"],
  [":authority", authority],
  [":path", path],
  ...extra,
];

// Huffman codes of the digits (RFC 7541 appendix B), all a status needs.
const DIGIT_CODES = ["00000", "00001", "00010", "011001", "011010", "011011", "011100", "011101", "011110"];
DIGIT_CODES.push("011111");
const STATIC_STATUS: Record<number, number> = { 8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500 };

/** The :status of a response header block (the server sends it first), 0 when not understood. */
export function statusOf(block: Buffer): number {
  const first = block[0] ?? 0;
  if (first & 0x80) return STATIC_STATUS[first & 0x7f] ?? 0;
  // A literal whose name is static entry 8 (:status): with indexing, without, or never indexed.
  if (first !== 0x48 && first !== 0x08 && first !== 0x18) return 0;
  const huffman = (block[1] ?? 0) & 0x80;
  const raw = block.subarray(2, 2 + ((block[1] ?? 0) & 0x7f));
  if (!huffman) return Number(raw.toString("latin1"));
  let bits = [...raw].map((b) => b.toString(2).padStart(8, "0")).join("");
  let digits = "";
  for (let found = true; found; ) {
    found = false;
    for (const [digit, code] of DIGIT_CODES.entries())
      if (bits.startsWith(code)) {
        digits += digit;
        bits = bits.slice(code.length);
        found = true;
        break;
      }
  }
  return Number(digits);
}

/** One TLS connection speaking hand-made HTTP/2 frames; it ACKs the server's SETTINGS. */
export class RawH2 {
  readonly frames: Frame[] = [];
  closed = false;
  #buf = Buffer.alloc(0);
  #waiters: (() => void)[] = [];

  private constructor(readonly socket: TLSSocket) {
    socket.on("data", (chunk: Buffer) => this.#read(chunk));
    socket.on("error", () => {});
    socket.once("close", () => {
      this.closed = true;
      this.#wake();
    });
  }

  /** Connects with ALPN h2 and, unless `preface` is false, sends the preface and SETTINGS. */
  static async open(port: number, servername: string, ca: Buffer, preface = true): Promise<RawH2> {
    const socket = tlsConnect({ host: "127.0.0.1", port, servername, ca, ALPNProtocols: ["h2"] });
    await once(socket, "secureConnect");
    if (socket.alpnProtocol !== "h2") throw new Error(`ALPN chose ${socket.alpnProtocol}`);
    const raw = new RawH2(socket);
    if (preface) raw.write(PREFACE, settings());
    return raw;
  }

  write(...bufs: Buffer[]): void {
    if (!this.socket.destroyed) this.socket.write(Buffer.concat(bufs));
  }

  #read(chunk: Buffer): void {
    this.#buf = Buffer.concat([this.#buf, chunk]);
    while (this.#buf.length >= 9) {
      const length = this.#buf.readUIntBE(0, 3);
      if (this.#buf.length < 9 + length) break;
      const f: Frame = {
        type: this.#buf[3]!,
        flags: this.#buf[4]!,
        stream: this.#buf.readUInt32BE(5) & 0x7fffffff,
        payload: this.#buf.subarray(9, 9 + length),
      };
      this.#buf = this.#buf.subarray(9 + length);
      if (f.type === T.SETTINGS && !(f.flags & ACK)) this.write(frame(T.SETTINGS, ACK, 0));
      this.frames.push(f);
    }
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** The first frame matching `match` (waiting for it), or undefined once the connection is closed. */
  async until(match: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(match);
      if (found || this.closed) return found;
      if (Date.now() > deadline) throw new Error(`no such frame in ${timeoutMs} ms: ${this.describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The frames received so far, for failure messages. */
  describe(): string {
    return this.frames.map((f) => `type ${f.type} stream ${f.stream} flags ${f.flags}`).join(", ") || "none";
  }

  /** The connection's end: its GOAWAY error code, or "closed" when it closed without one. */
  async ending(timeoutMs = 5000): Promise<number | "closed"> {
    const goaway = await this.until((f) => f.type === T.GOAWAY, timeoutMs);
    return goaway ? goaway.payload.readUInt32BE(4) : "closed";
  }

  /** What became of `stream`: a response status, or RST_STREAM / GOAWAY with its error code. */
  async outcome(
    stream: number,
  ): Promise<{ status: number } | { rst: number } | { goaway: number | "closed" }> {
    const f = await this.until(
      (f) =>
        (f.stream === stream && (f.type === T.HEADERS || f.type === T.RST_STREAM)) || f.type === T.GOAWAY,
    );
    if (f?.type === T.HEADERS) return { status: statusOf(f.payload) };
    if (f?.type === T.RST_STREAM) return { rst: f.payload.readUInt32BE(0) };
    return { goaway: f ? f.payload.readUInt32BE(4) : "closed" };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.socket.destroy();
    await once(this.socket, "close");
  }
}

/** Connections to one L7 route, with Node's http2 client or raw; destroyAll() ends them all. */
export class Clients {
  readonly #opened: { destroy(): void }[] = [];

  constructor(
    readonly port: number,
    readonly host: string,
    readonly ca: Buffer,
  ) {}

  async session(options: SecureClientSessionOptions = {}): Promise<ClientHttp2Session> {
    const s = connect(`https://127.0.0.1:${this.port}`, { ca: this.ca, servername: this.host, ...options });
    this.#opened.push(s);
    s.on("error", () => {});
    await once(s, "connect");
    return s;
  }

  async raw(preface = true): Promise<RawH2> {
    const raw = await RawH2.open(this.port, this.host, this.ca, preface);
    this.#opened.push(raw.socket);
    return raw;
  }

  destroyAll(): void {
    for (const o of this.#opened.splice(0)) o.destroy();
  }
}

/** A GET, or a POST whose body the caller writes. */
export function open(s: ClientHttp2Session, path: string, body = false): ClientHttp2Stream {
  const stream = s.request({ ":path": path, ":method": body ? "POST" : "GET" }, { endStream: !body });
  stream.on("error", () => {});
  return stream;
}

/** Resets a Node client stream with `code`. (Node sends END_STREAM first when the body is open.) */
export function reset(stream: ClientHttp2Stream, code: number): Promise<unknown> {
  // Not once(): a stream closed with an error code emits 'error' before 'close'.
  const closed = new Promise((r) => stream.once("close", r));
  stream.close(code);
  return closed;
}

/** A backend that keeps count of what becomes of its requests. */
export interface CountingBackend extends Backend {
  /** Requests not closed yet. */
  inflight: number;
  /**
   * How each request (by URL) ended: "cut" when its body did not come in whole or its response did
   * not go out whole, "completed" otherwise.
   */
  closed: Map<string, "cut" | "completed">;
  requests: number;
  /** Every field name a request carried. */
  fieldNames: Set<string>;
  /** Emits each request's URL when it arrives, and `data <url>` for each piece of its body. */
  arrivals: EventEmitter;
}

/**
 * Answers `/slow…` after 200 ms, `/big…` with 16 MiB at once, `/stream…` with 16 KiB every 10 ms for
 * 2 s (a response a test can cut in the middle), anything else with "ok" once its body is in.
 */
export async function startCountingBackend(): Promise<CountingBackend> {
  const piece = Buffer.alloc(16 << 10, "s");
  const counts = {
    inflight: 0,
    closed: new Map<string, "cut" | "completed">(),
    requests: 0,
    fieldNames: new Set<string>(),
    arrivals: new EventEmitter(),
  };
  const server = await startHttpBackend("abuse", (req, res) => {
    const url = req.url ?? "";
    counts.inflight++;
    counts.requests++;
    for (const name of Object.keys(req.headers)) counts.fieldNames.add(name);
    res.once("close", () => {
      counts.inflight--;
      counts.closed.set(url, req.complete && res.writableFinished ? "completed" : "cut");
    });
    req.on("data", () => counts.arrivals.emit(`data ${url}`));
    counts.arrivals.emit(url);
    if (url.startsWith("/slow")) return void setTimeout(() => res.end("slow"), 200);
    if (url.startsWith("/big")) return void res.end(Buffer.alloc(16 << 20));
    if (url.startsWith("/stream")) {
      let left = 200;
      const timer = setInterval(() => (--left > 0 ? res.write(piece) : res.end()), 10);
      return void res.once("close", () => clearInterval(timer));
    }
    req.resume();
    req.once("end", () => res.end("ok"));
  });
  return Object.assign(counts, server);
}

/**
 * Reset codes a client may send: NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR,
 * REFUSED_STREAM, CANCEL, ENHANCE_YOUR_CALM, and one that no RFC defines.
 */
export const RESET_CODES = [0, 1, 2, 3, 7, 8, 11, 0xdead];

/** On `s`, a response being streamed and a request body being uploaded: their URLs, once under way. */
export async function midStream(
  s: ClientHttp2Session,
  backend: CountingBackend,
  tag: string,
): Promise<string[]> {
  const streaming = open(s, `/stream?${tag}`);
  const uploaded = once(backend.arrivals, `data /upload?${tag}`);
  open(s, `/upload?${tag}`, true).write("part");
  await Promise.all([once(streaming, "data"), uploaded]);
  return [`/stream?${tag}`, `/upload?${tag}`];
}
