// The client side of the HTTP/1.1 tests, which speak hand-made bytes so that what they check is
// the proxy's own framing: a TLS client that writes raw bytes to a route, and a reader of the
// responses that does not share the proxy's parser.
import { once } from "node:events";
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from "node:tls";

/** The route most requests go to (the echo backend). */
export const H1 = "h1.test";

export interface Response {
  status: number;
  head: string;
  headers: Record<string, string>;
  body: string;
  trailers: string;
}

/**
 * The complete responses at the start of `data` (1xx included), read independently of the proxy's
 * parser: `methods` are the requests' methods in order (HEAD has no body); a body without length
 * or chunking is complete only once the connection `ended`.
 */
export function parseResponses(data: Buffer, methods: string[], ended: boolean): Response[] {
  const text = data.toString("latin1");
  const out: Response[] = [];
  let at = 0;
  let finals = 0;
  for (;;) {
    const end = text.indexOf("\r\n\r\n", at);
    if (end < 0) return out;
    const head = text.slice(at, end);
    const [line = "", ...lines] = head.split("\r\n");
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(line)?.[1] ?? Number.NaN);
    if (Number.isNaN(status)) throw new Error(`not a status line: ${JSON.stringify(line)}`);
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const name = l.slice(0, l.indexOf(":")).toLowerCase();
      const value = l.slice(l.indexOf(":") + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    let pos = end + 4;
    let body = "";
    let trailers = "";
    if (status >= 200 && methods[finals++] !== "HEAD" && status !== 204 && status !== 304) {
      if (headers["transfer-encoding"] === "chunked") {
        for (;;) {
          const eol = text.indexOf("\r\n", pos);
          if (eol < 0) return out;
          const size = Number.parseInt(text.slice(pos, eol).split(";")[0]!, 16);
          if (size === 0) {
            const close = text.indexOf("\r\n\r\n", eol);
            const bare = text.startsWith("\r\n", eol + 2);
            if (!bare && close < 0) return out;
            trailers = bare ? "" : text.slice(eol + 2, close);
            pos = bare ? eol + 4 : close + 4;
            break;
          }
          if (text.length < eol + 2 + size + 2) return out;
          body += text.slice(eol + 2, eol + 2 + size);
          pos = eol + 2 + size + 2;
        }
      } else if (headers["content-length"] !== undefined) {
        const length = Number(headers["content-length"]);
        if (text.length < pos + length) return out;
        body = text.slice(pos, pos + length);
        pos += length;
      } else {
        if (!ended) return out;
        body = text.slice(pos);
        pos = text.length;
      }
    }
    out.push({ status, head, headers, body, trailers });
    at = pos;
  }
}

/** Where a Client connects: the proxy's listener port, and the root its certificates chain to. */
export interface Target {
  port: number;
  ca: Buffer;
}

/** A TLS client connection to a route, writing raw bytes and reading whatever comes back. */
export class Client {
  data = Buffer.alloc(0);
  /** The connection closed (both ways). */
  ended = false;
  /** The proxy is done sending (it may still be reading). */
  readEnded = false;
  readonly #waiters = new Set<() => void>();

  constructor(readonly socket: TLSSocket) {
    socket.on("data", (c: Buffer) => {
      this.data = Buffer.concat([this.data, c]);
      for (const w of this.#waiters) w();
    });
    socket.on("error", () => {}); // a write into a connection the proxy closed: seen as the close
    socket.on("end", () => {
      this.readEnded = true;
      for (const w of this.#waiters) w();
    });
    socket.on("close", () => {
      this.ended = true;
      for (const w of this.#waiters) w();
    });
  }

  /**
   * Connects to the route `hostname` on `target`'s port, verifying the chain against its root.
   * `halfOpen`: keep sending after the proxy has ended its side (Node's default is to end too).
   */
  static async open(target: Target, hostname = H1, halfOpen = false): Promise<Client> {
    // tls.connect hands allowHalfOpen to the TLSSocket, though ConnectionOptions does not list it.
    const options: ConnectionOptions & { allowHalfOpen: boolean } = {
      port: target.port,
      host: "127.0.0.1",
      servername: hostname,
      ca: target.ca,
      ALPNProtocols: ["http/1.1"],
      allowHalfOpen: halfOpen,
    };
    const socket = tlsConnect(options);
    await once(socket, "secureConnect");
    return new Client(socket);
  }

  send(bytes: string | Buffer): void {
    this.socket.write(typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes);
  }

  /** Resolves with `check`'s first defined value, checked on every read; fails on a close or at `ms`. */
  until<T>(what: string, check: () => T | undefined, ms = 5_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(`no ${what} in ${ms} ms`), ms);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(test);
      };
      const fail = (why: string) => {
        done();
        reject(new Error(`${why}; received: ${JSON.stringify(this.data.toString("latin1").slice(0, 600))}`));
      };
      const test = () => {
        try {
          const value = check();
          if (value !== undefined) {
            done();
            resolve(value);
          } else if (this.ended) fail(`the connection closed before ${what}`);
        } catch (err) {
          fail(String(err));
        }
      };
      this.#waiters.add(test);
      test();
    });
  }

  /** The first `count` final (non-1xx) responses; `methods` as for parseResponses. */
  responses(count: number, methods: string[] = []): Promise<Response[]> {
    return this.until(`${count} responses`, () => {
      const finals = parseResponses(this.data, methods, this.ended).filter((r) => r.status >= 200);
      return finals.length >= count ? finals : undefined;
    });
  }

  async response(method = "GET"): Promise<Response> {
    return (await this.responses(1, [method]))[0]!;
  }

  closed(ms = 3_000): Promise<true> {
    return this.until("the close", () => this.ended || undefined, ms);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A GET request head for `path` on route `host`, with extra `fields` (each ending in CRLF). */
export const get = (path: string, fields = "", host = H1) =>
  `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${fields}\r\n`;
