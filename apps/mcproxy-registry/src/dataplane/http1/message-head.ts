// HTTP/1.1 message heads (RFC 9112): the request line or status line and the header fields, parsed
// strictly from the bytes a peer sent, and rewritten for the next hop. Only what a proxy needs is
// interpreted (framing, Connection, Host, Upgrade); every other field is copied through as it came.
//
// Strictness is the defence against request smuggling: a head this parser accepts has exactly one
// reading of where its body ends. Anything ambiguous (CL and TE together, differing CLs, a coding
// other than chunked, obs-fold, bare CR/LF, bytes that are not field characters) is refused.

import { fieldObject } from "./field-object.js";
import { Field, fieldNamed, hasBadControls, isBlank, isDigit, isTargetChar, isToken } from "./head-chars.js";

/** What went wrong, as the status the client gets and a line for the log. */
export class HeadError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** How a message's body is delimited (RFC 9112 section 6.3). */
export type Framing =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | { kind: "close" };

const NONE: Framing = { kind: "none" };
const CHUNKED: Framing = { kind: "chunked" };
const CLOSE: Framing = { kind: "close" };

/** A request line of any HTTP version: tells an unsupported version from a malformed line. */
const ANY_VERSION_REQUEST_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [\x21-\x7e\x80-\xff]+ HTTP\/\d+\.\d+$/;
const DIGITS = /^\d{1,15}$/;

/*
 * Hop-by-hop fields (RFC 9110 section 7.6.1) are dropped: Connection, Keep-Alive,
 * Proxy-Connection, TE, Upgrade, HTTP2-Settings (head-chars.ts names them). Transfer-Encoding and
 * Content-Length are kept: the proxy relays the body's framing unchanged. (`Trailer`, which RFC
 * 2616 listed as hop-by-hop by mistake, is end-to-end: the trailers it announces are relayed.)
 * X-Forwarded-For, -Proto and -Host are the proxy's own: a client's values are replaced
 * (X-Forwarded-For is appended to).
 */

/**
 * Fields a `Connection` header cannot make hop-by-hop: the framing the proxy reads the body by, and
 * Host. Dropping them would hand the next hop a different message than the one relayed (a body
 * read as the next request: smuggling), so such a token is ignored.
 */
const NEVER_HOP_BY_HOP = new Set(["content-length", "transfer-encoding", "host"]);

interface Fields {
  /** The kept field lines, each followed by CRLF, ready to be sent on. */
  kept: string;
  /** A field other than `Connection: keep-alive` was left out: the head has to be rebuilt. */
  changed: boolean;
  contentLength: number | undefined;
  chunked: boolean;
  /** Transfer-Encoding present (with chunked or without). */
  transferEncoding: boolean;
  close: boolean;
  keepAlive: boolean;
  upgrade: string | undefined;
  connectionUpgrade: boolean;
  host: string | undefined;
  forwardedFor: string | undefined;
  /** `Keep-Alive: timeout=N` from a backend, in seconds. */
  keepAliveTimeout: number | undefined;
  /** `TE: trailers`: the sender takes trailer fields (passed on, as the proxy relays them). */
  teTrailers: boolean;
  /** Other fields the Connection field names: hop-by-hop too, left out. */
  connectionTokens: string[] | undefined;
}

/** Takes in a field the proxy acts on; true when it is left out of the head sent on. */
function readField(f: Fields, field: Field, value: string, status: number, who: string): boolean {
  switch (field) {
    case Field.ContentLength: {
      // A repeated Content-Length is allowed only with the same value (RFC 9110 section 8.6).
      if (!DIGITS.test(value)) throw new HeadError(status, `${who} has an invalid Content-Length "${value}"`);
      const length = Number(value);
      if (f.contentLength !== undefined && f.contentLength !== length) {
        throw new HeadError(status, `${who} has two different Content-Length fields`);
      }
      const repeated = f.contentLength !== undefined;
      f.contentLength = length;
      return repeated;
    }
    case Field.TransferEncoding:
      if (f.transferEncoding) throw new HeadError(status, `${who} has more than one Transfer-Encoding field`);
      f.transferEncoding = true;
      // chunked must be the last (here: the only) coding; compression belongs in
      // Content-Encoding, not in a transfer coding the proxy would have to remove.
      f.chunked = value.toLowerCase() === "chunked";
      if (!f.chunked && status === 400) {
        throw new HeadError(501, `${who} uses Transfer-Encoding "${value}" (only chunked is supported)`);
      }
      return false;
    case Field.Connection: {
      const lower = value.toLowerCase();
      if (lower === "keep-alive") {
        f.keepAlive = true;
        return true; // the one hop-by-hop field that is as true of the next hop: no rebuild for it
      }
      f.changed = true;
      for (const token of lower.split(",")) {
        const t = token.trim();
        if (t === "close") f.close = true;
        else if (t === "keep-alive") f.keepAlive = true;
        else if (t === "upgrade") f.connectionUpgrade = true;
        else if (t !== "" && !NEVER_HOP_BY_HOP.has(t)) {
          f.connectionTokens ??= [];
          f.connectionTokens.push(t);
        }
      }
      return true;
    }
    case Field.Upgrade:
      f.upgrade = value;
      return true;
    case Field.KeepAlive: {
      const t = /timeout=(\d+)/i.exec(value);
      if (t) f.keepAliveTimeout = Number(t[1]);
      return true;
    }
    case Field.Host:
      if (f.host !== undefined) throw new HeadError(status, `${who} has more than one Host field`);
      f.host = value;
      return false;
    case Field.TE:
      f.teTrailers ||= value
        .toLowerCase()
        .split(",")
        .some((t) => t.trim() === "trailers");
      return true;
    case Field.XForwardedFor:
      f.forwardedFor = f.forwardedFor === undefined ? value : `${f.forwardedFor}, ${value}`;
      return true;
    default:
      // X-Forwarded-Proto and -Host (the proxy's own), Proxy-Connection, HTTP2-Settings.
      return true;
  }
}

/**
 * Reads the field lines of `text` from `from` on (just past the start line's CRLF). `status` is
 * what a bad head earns: 400 for a request (the client's fault), 502 for a response (the
 * backend's); `who` names it in the message. The common case (nothing to leave out but
 * `Connection: keep-alive`) costs no copy: the kept lines are a slice of `text`, and a field the
 * proxy does not act on is never made a string of its own.
 */
function readFields(text: string, from: number, status: number, who: string, linesBefore = 1): Fields {
  const f: Fields = {
    kept: "",
    changed: false,
    contentLength: undefined,
    chunked: false,
    transferEncoding: false,
    close: false,
    keepAlive: false,
    upgrade: undefined,
    connectionUpgrade: false,
    host: undefined,
    forwardedFor: undefined,
    keepAliveTimeout: undefined,
    teTrailers: false,
    connectionTokens: undefined,
  };
  /** Kept lines before `keptFrom`, when something was left out. */
  let kept: string | undefined;
  let keptFrom = from;
  let line = linesBefore;
  const length = text.length;
  for (let pos = from; pos < length; ) {
    line++;
    let eol = text.indexOf("\r\n", pos);
    if (eol < 0) eol = length;
    // The name: one or more token characters, then the colon.
    let colon = pos;
    while (colon < eol && isToken(text.charCodeAt(colon))) colon++;
    if (colon === pos || text.charCodeAt(colon) !== 0x3a) {
      const what = isBlank(text.charCodeAt(pos)) ? "a folded line" : "a malformed field line";
      throw new HeadError(status, `${who} head has ${what} (line ${line})`);
    }
    const field = fieldNamed(text, pos, colon);
    let drop = false;
    if (field !== Field.Other) {
      let vs = colon + 1;
      let ve = eol;
      while (vs < ve && isBlank(text.charCodeAt(vs))) vs++;
      while (ve > vs && isBlank(text.charCodeAt(ve - 1))) ve--;
      drop = readField(f, field, text.slice(vs, ve), status, who);
    }
    if (drop) {
      if (field !== Field.Connection) f.changed = true;
      kept = (kept ?? "") + text.slice(keptFrom, pos);
      keptFrom = eol + 2;
    }
    pos = eol + 2;
  }
  const tail = keptFrom < text.length ? `${text.slice(keptFrom)}\r\n` : "";
  f.kept = kept === undefined ? tail : kept + tail;
  const bothLengths = f.contentLength !== undefined && f.transferEncoding;
  if (bothLengths && status === 400)
    throw new HeadError(400, `${who} has both Content-Length and Transfer-Encoding`);
  const connectionTokens = f.connectionTokens;
  if (bothLengths || connectionTokens) {
    // Rare: a response with both (Transfer-Encoding wins, RFC 9112 section 6.3) loses its length;
    // fields the Connection header names are hop-by-hop too.
    const named = new Set(connectionTokens);
    if (bothLengths) named.add("content-length");
    f.kept = f.kept
      .split("\r\n")
      .filter((l) => l !== "" && !named.has(l.slice(0, l.indexOf(":")).toLowerCase()))
      .map((l) => `${l}\r\n`)
      .join("");
    if (bothLengths) f.contentLength = undefined;
    f.changed = true;
  }
  return f;
}

/** Splits off the start line; throws when the head holds bytes no head may. */
function startLine(text: string, status: number, who: string): [string, number] {
  if (hasBadControls(text))
    throw new HeadError(status, `${who} head has a control character or a bare CR/LF`);
  const eol = text.indexOf("\r\n");
  return eol < 0 ? [text, text.length] : [text.slice(0, eol), eol + 2];
}

/**
 * `method SP request-target SP HTTP/1.x` (RFC 9112 section 3): where the method and the target
 * end, and the minor version; undefined when the line is not that.
 */
function requestLine(line: string): [methodEnd: number, targetEnd: number, minor: number] | undefined {
  let i = 0;
  while (i < line.length && isToken(line.charCodeAt(i))) i++;
  if (i === 0 || line.charCodeAt(i) !== 0x20) return undefined;
  const methodEnd = i++;
  while (i < line.length && isTargetChar(line.charCodeAt(i))) i++;
  if (i === methodEnd + 1 || line.charCodeAt(i) !== 0x20) return undefined;
  const targetEnd = i++;
  const minor = line.charCodeAt(i + 7) - 0x30;
  if (line.length !== i + 8 || !line.startsWith("HTTP/1.", i) || (minor !== 0 && minor !== 1))
    return undefined;
  return [methodEnd, targetEnd, minor];
}

export interface RequestHead {
  method: string;
  target: string;
  /** 1 for HTTP/1.1, 0 for HTTP/1.0. */
  minor: number;
  host: string;
  framing: Framing;
  /** The client wants the connection closed after this exchange. */
  close: boolean;
  /** The protocol asked for by `Connection: upgrade` + `Upgrade` (WebSocket), if any. */
  upgrade: string | undefined;
  /** The head to send to the backend, CRLF CRLF included. */
  forward(clientAddress: string): string;
}

/** Parses a request head (`text`: the bytes before CRLF CRLF, as latin1). Throws HeadError. */
export function parseRequestHead(text: string): RequestHead {
  const [first, from] = startLine(text, 400, "request");
  const parts = requestLine(first);
  if (!parts) {
    if (ANY_VERSION_REQUEST_LINE.test(first)) throw new HeadError(505, "HTTP version not supported");
    throw new HeadError(400, "malformed request line");
  }
  const [methodEnd, targetEnd, minor] = parts;
  const method = first.slice(0, methodEnd);
  const target = first.slice(methodEnd + 1, targetEnd);
  const f = readFields(text, from, 400, "request");
  if (minor === 1 && f.host === undefined) throw new HeadError(400, "HTTP/1.1 request without a Host field");
  if (minor === 0 && f.transferEncoding) throw new HeadError(400, "HTTP/1.0 request with Transfer-Encoding");
  const framing: Framing = f.chunked
    ? CHUNKED
    : f.contentLength
      ? { kind: "length", length: f.contentLength }
      : NONE;
  const upgrade = minor === 1 && f.connectionUpgrade && f.upgrade !== undefined ? f.upgrade : undefined;
  // HTTP/1.0 clients get one exchange per connection (the backend is asked in 1.0 too).
  const close = minor === 0 || f.close;
  const host = f.host ?? "";
  return {
    method,
    target,
    minor,
    host,
    framing,
    close,
    upgrade,
    forward(clientAddress: string): string {
      const xff = f.forwardedFor === undefined ? clientAddress : `${f.forwardedFor}, ${clientAddress}`;
      // HTTP/1.0 clients cannot read chunked responses: ask the backend in 1.0 as well.
      const version = minor === 1 ? "HTTP/1.1" : "HTTP/1.0";
      const connection =
        upgrade !== undefined
          ? `connection: upgrade\r\nupgrade: ${upgrade}\r\n`
          : minor === 0
            ? "connection: close\r\n"
            : f.teTrailers
              ? "connection: te\r\nte: trailers\r\n"
              : "";
      // The start line as it came when it can be (a slice, not a new string).
      const line = minor === 1 ? first : `${method} ${target} ${version}`;
      return (
        `${line}\r\n${f.kept}${connection}` +
        `x-forwarded-for: ${xff}\r\nx-forwarded-proto: https\r\nx-forwarded-host: ${host}\r\n\r\n`
      );
    },
  };
}

export interface ResponseHead {
  status: number;
  framing: Framing;
  /** The backend will close the connection after this response (it cannot be reused). */
  close: boolean;
  /** Seconds the backend keeps an idle connection open, when it says (`Keep-Alive: timeout=N`). */
  keepAliveTimeout: number | undefined;
  /** Transfer-Encoding other than chunked (its body runs to the close, still coded). */
  transferCoded: boolean;
  /**
   * The backend's head can go to the client byte for byte (HTTP/1.1, nothing to leave out but
   * `Connection: keep-alive`), unless the client connection is to be closed.
   */
  unchanged: boolean;
  /** The head for the client, CRLF CRLF included; `close` adds `connection: close`. */
  forward(close: boolean): string;
  /**
   * The end-to-end fields as an object for an HTTP/2 response: names lower-cased, repeated fields
   * joined with ", " (Set-Cookie kept as a list), Transfer-Encoding left out (HTTP/2 frames bodies
   * itself).
   */
  fields(): Record<string, string | string[]>;
}

/**
 * Parses a response head for a request with `method`. Throws HeadError(502): a backend that speaks
 * malformed HTTP is a bad gateway.
 */
export function parseResponseHead(text: string, method: string): ResponseHead {
  const [first, from] = startLine(text, 502, "response");
  // HTTP/1.x SP 3DIGIT [SP reason-phrase] (RFC 9112 section 4; the reason's characters were
  // checked with the head's, and an empty reason may lose its space, as some servers send it).
  const minor = first.charCodeAt(7) - 0x30;
  const c0 = first.charCodeAt(9);
  const statusLine =
    first.startsWith("HTTP/1.") &&
    (minor === 0 || minor === 1) &&
    first.charCodeAt(8) === 0x20 &&
    c0 >= 0x31 &&
    c0 <= 0x35 &&
    isDigit(first.charCodeAt(10)) &&
    isDigit(first.charCodeAt(11)) &&
    (first.length === 12 || first.charCodeAt(12) === 0x20);
  if (!statusLine) throw new HeadError(502, "backend sent a malformed status line");
  const status = (c0 - 0x30) * 100 + (first.charCodeAt(10) - 0x30) * 10 + (first.charCodeAt(11) - 0x30);
  const f = readFields(text, from, 502, "response");
  let framing: Framing;
  if (status < 200 || status === 204 || status === 304 || method === "HEAD") framing = NONE;
  else if (f.chunked) framing = CHUNKED;
  else if (f.transferEncoding) framing = CLOSE;
  else if (f.contentLength !== undefined)
    framing = f.contentLength === 0 ? NONE : { kind: "length", length: f.contentLength };
  else framing = CLOSE;
  const close = f.close || framing.kind === "close" || (minor === 0 && !f.keepAlive);
  const upgraded = status === 101 && f.upgrade !== undefined;
  return {
    status,
    framing,
    close,
    keepAliveTimeout: f.keepAliveTimeout,
    transferCoded: f.transferEncoding && !f.chunked,
    unchanged: minor === 1 && !f.changed && !upgraded,
    forward(closeClient: boolean): string {
      const connection = upgraded
        ? `connection: upgrade\r\nupgrade: ${f.upgrade}\r\n`
        : closeClient
          ? "connection: close\r\n"
          : "";
      return `HTTP/1.1 ${status} ${first.slice(13)}\r\n${f.kept}${connection}\r\n`;
    },
    fields: () => fieldObject(f.kept),
  };
}

/**
 * The kept field lines of `text` (field lines only, CRLF between them, no start line), checked as
 * a head's are: a chunked body's trailer section (trailer-fields.ts). Throws HeadError(status).
 */
export function fieldLines(text: string, status: number, who: string): string {
  if (hasBadControls(text)) throw new HeadError(status, `${who} has a control character or a bare CR/LF`);
  return readFields(text, 0, status, who, 0).kept;
}
