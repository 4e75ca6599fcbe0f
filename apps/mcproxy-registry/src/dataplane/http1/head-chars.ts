// Character classes of an HTTP/1.1 head (RFC 9110 section 5.6.2, RFC 9112) and the field names a
// proxy acts on, read from a latin1 string by character code: the head is scanned once, and a
// field the proxy does not act on costs no string at all (no name, no value: its line is copied
// through as a slice of the head). Node's llhttp does the same in C; regular expressions and a
// lower-cased copy of every name cost about 250 ns per field here.

/** token characters (field names, methods): ! # $ % & ' * + - . ^ _ ` | ~ DIGIT ALPHA */
const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1;

export function isToken(c: number): boolean {
  return TOKEN[c] === 1;
}

/** A request target's characters: visible ASCII and obs-text, no space. */
export function isTargetChar(c: number): boolean {
  return (c >= 0x21 && c <= 0x7e) || (c >= 0x80 && c <= 0xff);
}

export function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * True when `text` holds a control character other than HTAB (NUL, DEL…), or a CR or LF that is
 * not part of a CRLF pair: no head may, and a bare CR or LF is read as a line end by some servers
 * and not by others (a smuggling vector).
 */
export function hasBadControls(text: string): boolean {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c !== 0x7f) continue;
    if (c === 0x09) continue;
    if (c === 0x0d && i + 1 < n && text.charCodeAt(i + 1) === 0x0a) {
      i++;
      continue;
    }
    return true;
  }
  return false;
}

/** The fields the proxy interprets or replaces; every other name is Field.Other. */
export enum Field {
  Other,
  ContentLength,
  TransferEncoding,
  Connection,
  Upgrade,
  KeepAlive,
  Host,
  TE,
  XForwardedFor,
  XForwardedProto,
  XForwardedHost,
  /** Hop-by-hop fields the proxy drops without reading: Proxy-Connection, HTTP2-Settings. */
  OtherHopByHop,
}

/** Names by length, lower case, with what they are. */
const NAMES: Record<number, [string, Field][]> = {
  2: [["te", Field.TE]],
  4: [["host", Field.Host]],
  7: [["upgrade", Field.Upgrade]],
  10: [
    ["connection", Field.Connection],
    ["keep-alive", Field.KeepAlive],
  ],
  14: [
    ["content-length", Field.ContentLength],
    ["http2-settings", Field.OtherHopByHop],
  ],
  15: [["x-forwarded-for", Field.XForwardedFor]],
  16: [
    ["proxy-connection", Field.OtherHopByHop],
    ["x-forwarded-host", Field.XForwardedHost],
  ],
  17: [
    ["transfer-encoding", Field.TransferEncoding],
    ["x-forwarded-proto", Field.XForwardedProto],
  ],
};

/**
 * Which field the token `text[start, end)` names, case-insensitively. The name is known to be
 * token characters: among those, `c | 0x20` equals a lower-case letter, a digit or "-" only for
 * that letter (either case), that digit or "-" itself.
 */
export function fieldNamed(text: string, start: number, end: number): Field {
  const candidates = NAMES[end - start];
  if (candidates === undefined) return Field.Other;
  outer: for (const [name, field] of candidates) {
    for (let k = 0; k < name.length; k++) {
      if ((text.charCodeAt(start + k) | 0x20) !== name.charCodeAt(k)) continue outer;
    }
    return field;
  }
  return Field.Other;
}
