// An HTTP/2 request's headers as the HTTP/1.1 request head the backend gets: pseudo-headers become
// the request line and Host, what describes one connection is left out, X-Forwarded-* is set.
// (nghttp2 has already refused field values with CR, LF or NUL, so values go out as they are.)
import type { IncomingHttpHeaders } from "node:http2";
import { NOT_IN_TRAILERS } from "../http1/trailer-fields.js";

/** Connection-specific fields (HTTP/2 forbids most anyway), Host (from :authority) and ours. */
const LEAVE_OUT = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "http2-settings",
  // The HTTP/2 client is not waiting for a 100 Continue from us: the body follows anyway.
  "expect",
  "host",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
]);

/**
 * The head, CRLF CRLF included. `chunked`: the request has a body of unknown length, sent in the
 * chunked coding.
 */
export function requestHead(headers: IncomingHttpHeaders, clientAddress: string, chunked: boolean): string {
  const method = headers[":method"] ?? "GET";
  const path = headers[":path"] ?? "/";
  const authority = headers[":authority"] ?? headers.host ?? "";
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${authority}\r\n`;
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* ":" pseudo-header */ || LEAVE_OUT.has(name)) continue;
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) head += `${name}: ${v}\r\n`;
    else head += `${name}: ${value}\r\n`;
  }
  if (chunked) head += "transfer-encoding: chunked\r\n";
  // The only TE an HTTP/2 client may send; passed on, since the response's trailers are relayed.
  if (headers.te === "trailers") head += "connection: te\r\nte: trailers\r\n";
  const prior = headers["x-forwarded-for"];
  const forwardedFor = prior ? `${prior}, ${clientAddress}` : clientAddress;
  return `${head}x-forwarded-for: ${forwardedFor}\r\nx-forwarded-proto: https\r\nx-forwarded-host: ${authority}\r\n\r\n`;
}

/**
 * The chunked body's last chunk, carrying the client's trailer fields (an HTTP/2 client's
 * trailing HEADERS) when it sent any: pseudo-headers, connection-specific fields and those no
 * trailer may carry are left out.
 */
export function lastChunk(trailers: IncomingHttpHeaders | undefined): string {
  let lines = "";
  for (const name in trailers) {
    if (name.charCodeAt(0) === 58 || LEAVE_OUT.has(name) || NOT_IN_TRAILERS.includes(name)) continue;
    const value = trailers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) lines += `${name}: ${v}\r\n`;
    else lines += `${name}: ${value}\r\n`;
  }
  return `0\r\n${lines}\r\n`;
}
