// The hostname a request is for, from its Host field or :authority: an L7 request is routed by it,
// not by the connection's SNI, because an HTTP/2 client may send requests for several hostnames
// on one connection (connection coalescing, RFC 9113 section 9.1.1, when one certificate covers
// them all, e.g. a wildcard), and those must reach their own routes.

import { normalizeServerName } from "./client-hello.js";

/** "Web.Test:8443" → "web.test", "[::1]:443" → "::1"; "" for an empty or unparsable authority. */
export function requestHostname(authority: string | undefined): string {
  if (!authority) return "";
  let host = authority;
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    host = end > 0 ? host.slice(1, end) : "";
  } else {
    const colon = host.indexOf(":");
    if (colon >= 0) host = host.slice(0, colon);
  }
  return normalizeServerName(host);
}
