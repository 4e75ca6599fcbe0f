// Header handling shared by request and Upgrade forwarding: drop what describes one connection,
// keep what describes the message, and say who the client was.
import type { IncomingHttpHeaders } from "node:http";

/**
 * Headers that describe one connection, not the message (RFC 9110 section 7.6.1), plus `expect`:
 * Node's server already answered `100-continue`, and the backend gets the body without waiting.
 */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "http2-settings",
  "expect",
]);

export type HeaderMap = Record<string, string | string[]>;

/** The end-to-end headers of a message. */
export function endToEnd(headers: IncomingHttpHeaders): HeaderMap {
  const out: HeaderMap = {};
  // `Connection` may name more hop-by-hop headers; usually it is just "keep-alive" or absent.
  const listed = headers.connection?.toLowerCase();
  const extra = listed?.includes(",") ? listed.split(/\s*,\s*/) : undefined;
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* ":" HTTP/2 pseudo-header */ || HOP_BY_HOP.has(name)) continue;
    if (name === listed || extra?.includes(name)) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** The request's headers for the backend: end-to-end ones, Host, and X-Forwarded-*. */
export function backendHeaders(headers: IncomingHttpHeaders, clientAddress: string | undefined): HeaderMap {
  const out = endToEnd(headers);
  const host = (headers[":authority"] as string | undefined) ?? headers.host ?? "";
  out.host = host;
  const prior = headers["x-forwarded-for"];
  const client = clientAddress?.startsWith("::ffff:") ? clientAddress.slice(7) : (clientAddress ?? "");
  out["x-forwarded-for"] = prior ? `${prior}, ${client}` : client;
  out["x-forwarded-proto"] = "https";
  out["x-forwarded-host"] = host;
  return out;
}
