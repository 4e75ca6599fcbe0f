// Where an HTTP/1.1 body ends, found while its bytes stream through unchanged: a length counted
// down, or the chunked coding followed chunk by chunk (RFC 9112 section 7.1) up to the last chunk
// and its trailer section. The proxy never re-encodes a body; it only needs to know its end, to
// reuse the connection for the next message and to refuse a body that does not parse.
import type { Framing } from "./message-head.js";

enum Chunk {
  Size,
  Extension,
  SizeLF,
  Data,
  DataCR,
  DataLF,
  Trailer,
  TrailerLF,
  Done,
}

/** A chunk-size line or a trailer line longer than this is refused. */
const MAX_LINE = 4096;
const MAX_TRAILERS = 16 * 1024;

export class BodyFraming {
  /** The body is complete: the next byte belongs to the next message. */
  done: boolean;
  /** Bytes of the body seen so far (for the metrics). */
  seen = 0;
  /**
   * The trailer section's field lines (CRLF between them), kept when `consume` is given a
   * `content` callback: an HTTP/2 client gets them as trailing fields, not in the bytes.
   */
  trailers = "";
  #remaining: number;
  readonly #chunked: boolean;
  readonly #untilClose: boolean;
  #state = Chunk.Size;
  #lineLength = 0;
  #trailerBytes = 0;
  #sizeDigits = 0;

  constructor(framing: Framing) {
    this.#chunked = framing.kind === "chunked";
    this.#untilClose = framing.kind === "close";
    this.#remaining = framing.kind === "length" ? framing.length : 0;
    this.done = framing.kind === "none";
  }

  /** The body runs until the connection closes (a response without length or chunking). */
  get untilClose(): boolean {
    return this.#untilClose;
  }

  /**
   * Consumes body bytes of `buf` from `start`; returns the index just past the body's last byte in
   * `buf` (buf.length when all of it is body). Throws a message for people on malformed chunking.
   * `content`, when given, gets the body's content without the chunked framing (HTTP/2 clients).
   */
  consume(buf: Buffer, start: number, content?: (data: Buffer) => void): number {
    if (this.done) return start;
    if (this.#untilClose) {
      this.seen += buf.length - start;
      if (content && start < buf.length) content(buf.subarray(start));
      return buf.length;
    }
    if (!this.#chunked) {
      const take = Math.min(this.#remaining, buf.length - start);
      this.#remaining -= take;
      this.seen += take;
      if (this.#remaining === 0) this.done = true;
      if (content && take > 0) content(buf.subarray(start, start + take));
      return start + take;
    }
    const end = this.#chunk(buf, start, content);
    this.seen += end - start;
    return end;
  }

  #chunk(buf: Buffer, start: number, content: ((data: Buffer) => void) | undefined): number {
    let i = start;
    while (i < buf.length) {
      switch (this.#state) {
        case Chunk.Data: {
          const take = Math.min(this.#remaining, buf.length - i);
          this.#remaining -= take;
          if (content && take > 0) content(buf.subarray(i, i + take));
          i += take;
          if (this.#remaining === 0) this.#state = Chunk.DataCR;
          continue;
        }
        case Chunk.Size: {
          const c = buf[i]!;
          const digit = hexValue(c);
          if (digit >= 0) {
            if (++this.#sizeDigits > 13) throw new Error("chunk size too large");
            this.#remaining = this.#remaining * 16 + digit;
          } else if (this.#sizeDigits === 0) {
            throw new Error("chunk size missing");
          } else if (c === 0x3b /* ; */ || c === 0x20 || c === 0x09) {
            this.#state = Chunk.Extension;
          } else if (c === 0x0d) {
            this.#state = Chunk.SizeLF;
          } else {
            throw new Error("malformed chunk size line");
          }
          this.#line();
          break;
        }
        case Chunk.Extension: {
          const c = buf[i]!;
          if (c === 0x0d) this.#state = Chunk.SizeLF;
          else if (c === 0x0a || c === 0) throw new Error("malformed chunk extension");
          this.#line();
          break;
        }
        case Chunk.SizeLF:
          if (buf[i] !== 0x0a) throw new Error("chunk size line not ended by CRLF");
          this.#lineLength = 0;
          this.#sizeDigits = 0;
          this.#state = this.#remaining === 0 ? Chunk.Trailer : Chunk.Data;
          break;
        case Chunk.DataCR:
          if (buf[i] !== 0x0d) throw new Error("chunk data not followed by CRLF");
          this.#state = Chunk.DataLF;
          break;
        case Chunk.DataLF:
          if (buf[i] !== 0x0a) throw new Error("chunk data not followed by CRLF");
          this.#state = Chunk.Size;
          break;
        case Chunk.Trailer: {
          // A trailer line, or the empty line that ends the body.
          const c = buf[i]!;
          if (++this.#trailerBytes > MAX_TRAILERS) throw new Error("trailer section too large");
          if (c === 0x0d) {
            this.#state = Chunk.TrailerLF;
          } else if (c === 0x0a) {
            throw new Error("trailer line not ended by CRLF");
          } else {
            // Rare and small (16 KiB at most): byte by byte is fine.
            if (content) this.trailers += String.fromCharCode(c);
            this.#line();
          }
          break;
        }
        case Chunk.TrailerLF:
          if (buf[i] !== 0x0a) throw new Error("trailer line not ended by CRLF");
          if (this.#lineLength === 0) {
            this.#state = Chunk.Done;
            this.done = true;
            if (this.trailers.endsWith("\r\n")) this.trailers = this.trailers.slice(0, -2);
            return i + 1;
          }
          this.#lineLength = 0;
          this.#state = Chunk.Trailer;
          if (content) this.trailers += "\r\n";
          break;
        case Chunk.Done:
          return i;
      }
      i++;
    }
    return i;
  }

  #line(): void {
    if (++this.#lineLength > MAX_LINE) throw new Error("chunk line too long");
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}
