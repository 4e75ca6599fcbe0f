// Response heads out of a backend's bytes, however they arrive: a head split over several reads is
// kept until its end is in, and one read may carry interim (1xx) heads, the final head and the
// start of the body. Both the HTTP/1.1 and the HTTP/2 exchanges read their backend through it.
import { HeadError, parseResponseHead, type ResponseHead } from "./message-head.js";

const CRLFCRLF = Buffer.from("\r\n\r\n");
/** A response head larger than this is a bad gateway. */
const MAX_RESPONSE_HEAD = 64 * 1024;

export interface HeadRead {
  head: ResponseHead;
  /** The bytes the head was read from: the head at 0, what follows it from `bodyStart`. */
  buf: Buffer;
  bodyStart: number;
}

export class ResponseReader {
  #pending: Buffer | undefined;

  /** Part of a head has arrived (a failure now is not a clean "nothing sent yet"). */
  get started(): boolean {
    return this.#pending !== undefined;
  }

  /**
   * The next head in what was kept plus `chunk`, or undefined when its end is not in yet (the
   * bytes are kept). For the bytes after a head, call again with them. Throws HeadError (502).
   */
  next(chunk: Buffer, method: string): HeadRead | undefined {
    let buf = chunk;
    if (this.#pending) {
      buf = Buffer.concat([this.#pending, chunk]);
      this.#pending = undefined;
    }
    if (buf.length === 0) return undefined;
    const end = buf.indexOf(CRLFCRLF);
    if (end < 0) {
      if (buf.length > MAX_RESPONSE_HEAD) throw new HeadError(502, "backend response head too large");
      this.#pending = buf;
      return undefined;
    }
    return { head: parseResponseHead(buf.toString("latin1", 0, end), method), buf, bodyStart: end + 4 };
  }
}
