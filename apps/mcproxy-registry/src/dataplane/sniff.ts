// A new client connection: read its ClientHello (however it is split), find the route by listener
// port and SNI, then hand the untouched bytes to the L4 relay or the L7 terminator. Anything that
// cannot be routed is answered with a TLS alert and closed, counted by reason.
import type { Socket } from "node:net";
import { alertRecord, MAX_HELLO_BYTES, parseClientHello, TlsAlert } from "./client-hello.js";
import type { ProxyContext } from "./context.js";
import type { LiveRoute } from "./live-route.js";
import type { HandshakeFailure } from "./metrics.js";

export type RouteHandler = (client: Socket, hello: Buffer, live: LiveRoute) => void;

/** Bytes an unfinished hello may make us hold: the largest hello, in up to 64 records. */
const MAX_BUFFERED = MAX_HELLO_BYTES + 64 * 5 + 4;

export function sniffConnection(
  ctx: ProxyContext,
  port: number,
  client: Socket,
  handlers: { l4: RouteHandler; l7: RouteHandler },
): void {
  const active = ctx.metrics.active("sniffing");
  active.inc();
  // Bytes so far, in a buffer that doubles as needed: a client dribbling one byte per segment
  // costs linear copying, not quadratic.
  let store: Buffer = Buffer.allocUnsafe(0);
  let size = 0;
  let done = false;

  const finish = () => {
    done = true;
    active.dec();
    clearTimeout(timer);
    client.off("data", onData);
    client.off("error", onError);
    client.off("end", onEnd);
  };
  const fail = (reason: HandshakeFailure, alert?: number) => {
    finish();
    ctx.metrics.handshakeFailures.inc({ port, reason });
    ctx.logger.debug({ port, reason, client: client.remoteAddress }, "connection refused before routing");
    client.on("error", () => {}); // the client may reset first; nothing to do about it
    client.resume(); // discard what else it sends while the alert goes out
    if (alert === undefined) client.end();
    else client.end(alertRecord(alert));
    setTimeout(() => client.destroy(), 2_000).unref();
  };
  const onError = () => {
    if (!done) {
      finish();
      client.destroy();
    }
  };
  // Connected and left without a hello (a port probe): nothing to answer.
  const onEnd = () => {
    if (!done) fail("client_closed");
  };
  const onData = (chunk: Buffer) => {
    if (size === 0) {
      store = chunk;
    } else {
      if (store.length < size + chunk.length) {
        const grown = Buffer.allocUnsafe(Math.max(2 * store.length, size + chunk.length, 4096));
        store.copy(grown, 0, 0, size);
        store = grown;
      }
      chunk.copy(store, size);
    }
    size += chunk.length;
    const buffered = store.subarray(0, size);
    const hello = parseClientHello(buffered);
    // Checked once parsed: a complete hello may come with more behind it in the same read.
    if (hello.status === "incomplete") {
      if (size > MAX_BUFFERED) fail("malformed", TlsAlert.decodeError);
      return;
    }
    if (hello.status === "malformed") return fail("malformed", TlsAlert.decodeError);
    if (hello.serverName === undefined) return fail("no_sni", TlsAlert.handshakeFailure);
    const live = ctx.table.lookup(port, hello.serverName);
    if (!live) return fail("unknown_sni", TlsAlert.unrecognizedName);
    finish();
    client.pause();
    const { route } = live;
    ctx.metrics.connected(port, route.hostname, route.mode);
    (route.mode === "l4" ? handlers.l4 : handlers.l7)(client, buffered, live);
  };
  const timer = setTimeout(() => fail("timeout"), ctx.options.handshakeTimeoutMs);
  client.on("data", onData);
  client.on("error", onError);
  client.on("end", onEnd);
}
