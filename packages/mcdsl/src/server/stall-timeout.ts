// An HTTP/2 stream that stops moving is cut. Nothing else bounds one: a client, with or without a
// token (the token is checked once the message is in), could hold streams open forever by sending
// headers and part of a body; and one that stops reading holds what the handler is sending (an
// open file for a download, the queued messages of a watch). Node's HTTP/1.1 server bounds a whole
// request (requestTimeout, 300 s), so this watches HTTP/2 streams only.
import * as http2 from "node:http2";
import type { NodeRequest } from "./http-types.js";

/**
 * Resets `req`'s stream (CANCEL) when `ms` pass with nothing received or sent on it while its body
 * is incomplete or a response waits to be sent, as nginx's client_body_timeout and send_timeout
 * do. A stream that is quiet with nothing pending (a watch between events) is left alone.
 */
export function cutStalledStream(req: NodeRequest, ms: number): void {
  if (!(req instanceof http2.Http2ServerRequest)) return;
  const stream = req.stream;
  // A listener of its own: setTimeout's callback is called once, and a quiet watch may come
  // before the stall.
  stream.setTimeout(ms);
  stream.on("timeout", () => {
    if (req.complete && stream.writableLength === 0) return;
    stream.close(http2.constants.NGHTTP2_CANCEL);
  });
}
