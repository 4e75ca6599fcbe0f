// A request body that stops arriving is cut. Over HTTP/2 nothing else bounds it: a client, with or
// without a token (the token is checked once the message is in), could hold a stream open forever
// by sending headers and part of a body, and open many such streams. Node's HTTP/1.1 server
// already bounds a whole request (requestTimeout, 300 s), so this watches HTTP/2 streams only.
import * as http2 from "node:http2";
import type { NodeRequest } from "./http-types.js";

/**
 * Resets `req`'s stream (CANCEL) when `ms` pass with nothing received or sent on it while its
 * body is incomplete, as nginx's client_body_timeout does. A stream whose request is complete
 * (a watch waiting for news) is left alone.
 */
export function cutStalledBody(req: NodeRequest, ms: number): void {
  if (!(req instanceof http2.Http2ServerRequest) || req.complete) return;
  const stream = req.stream;
  stream.setTimeout(ms, () => {
    if (req.complete) return void stream.setTimeout(0);
    stream.close(http2.constants.NGHTTP2_CANCEL);
  });
  req.once("end", () => stream.setTimeout(0));
}
