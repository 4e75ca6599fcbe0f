import type * as http from "node:http";
import type * as http2 from "node:http2";

/** A request from either node:http (HTTP/1.1) or node:http2's compatibility API. */
export type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

// The members both response kinds share, typed once so callers need no casts.
interface PlainResponse {
  headersSent: boolean;
  setHeader(name: string, value: string | number | readonly string[]): unknown;
  end(chunk?: string | Uint8Array): unknown;
  writeHead(status: number, headers?: Record<string, string | number>): unknown;
}

export function plain(res: NodeResponse): PlainResponse {
  return res as unknown as PlainResponse;
}

/** Writes a JSON body with a status, unless a response already started. */
export function sendJson(
  res: NodeResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const r = plain(res);
  if (r.headersSent) return;
  const text = JSON.stringify(body);
  r.writeHead(status, {
    ...headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  r.end(text);
}

export function sendText(res: NodeResponse, status: number, text: string, contentType = "text/plain"): void {
  const r = plain(res);
  if (r.headersSent) return;
  r.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(text) });
  r.end(text);
}

/** The request's headers as a fetch Headers object (HTTP/2 pseudo-headers dropped). */
export function requestHeaders(req: NodeRequest): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return headers;
}
