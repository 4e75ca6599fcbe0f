// A call that stops moving is cut. Over HTTP/2 nothing else bounds one: a client, with or without
// a token (the token is checked once the message is in), could hold streams open forever by
// sending headers and part of a body. Over either protocol, a client that stops reading holds what
// the handler is sending (an open file for a download, the queued messages of a watch). Node's
// HTTP/1.1 server already bounds receiving a whole request (requestTimeout, 300 s).
import * as http2 from "node:http2";
import type { Socket } from "node:net";
import type { NodeRequest, NodeResponse } from "./http-types.js";

/** Resets a stalled HTTP/2 stream, or closes the connection of a stalled HTTP/1.1 response. */
export function cutStalled(req: NodeRequest, res: NodeResponse, ms: number): void {
  if (req instanceof http2.Http2ServerRequest) cutStalledStream(req, ms);
  else cutStalledResponse(req.socket as Socket, res, ms);
}

/**
 * Closes an HTTP/1.1 connection whose response has waited to be sent (Node's buffer full, no
 * drain) for a whole `ms` without a byte more accepted, as nginx's send_timeout does. Checked
 * every `ms`, so a reader that stopped is cut after one to two periods.
 */
function cutStalledResponse(socket: Socket, res: NodeResponse, ms: number): void {
  let written = -1;
  const check = setInterval(() => {
    const now = socket.bytesWritten;
    if (res.writableNeedDrain && now === written) socket.destroy();
    written = now;
  }, ms);
  check.unref();
  res.once("close", () => clearInterval(check));
}

/**
 * Resets `req`'s stream (CANCEL) when `ms` pass with nothing received or sent on it while its body
 * is incomplete or a response waits to be sent, as nginx's client_body_timeout and send_timeout
 * do. A stream that is quiet with nothing pending (a watch between events) is left alone.
 */
function cutStalledStream(req: http2.Http2ServerRequest, ms: number): void {
  const stream = req.stream;
  // A listener of its own: setTimeout's callback is called once, and a quiet watch may come
  // before the stall.
  stream.setTimeout(ms);
  stream.on("timeout", () => {
    if (req.complete && stream.writableLength === 0) return;
    stream.close(http2.constants.NGHTTP2_CANCEL);
  });
}
