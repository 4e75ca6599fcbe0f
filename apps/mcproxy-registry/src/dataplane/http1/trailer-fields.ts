// Trailer fields, both ways between HTTP/1.1 backends and HTTP/2 clients: a chunked response's
// trailer section becomes the stream's trailing HEADERS (http2/stream-exchange.ts), a client's
// trailing HEADERS go into a chunked request's last chunk (http2/request-head.ts). Fields no
// trailer may carry are left out both ways.
import { fieldObject } from "./field-object.js";
import { fieldLines } from "./message-head.js";

/**
 * Fields a trailer section may not carry (RFC 9110 section 6.5.1: framing, routing, content
 * metadata), and that an HTTP/2 trailer HEADERS frame must not.
 */
export const NOT_IN_TRAILERS = [
  "content-length",
  "host",
  "content-type",
  "content-encoding",
  "content-range",
];

/**
 * A chunked response's trailer section (its field lines, CRLF between them) as fields for an
 * HTTP/2 client's trailing HEADERS. Throws HeadError(502) when a line is not a field.
 */
export function parseTrailers(text: string): Record<string, string | string[]> {
  if (text === "") return {};
  const out = fieldObject(fieldLines(text, 502, "response trailer"));
  for (const name of NOT_IN_TRAILERS) delete out[name];
  return out;
}
