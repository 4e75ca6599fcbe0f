// L4 passthrough: connect to a backend, replay the ClientHello (after a PROXY v2 header when the
// route asks for one), then splice both ways with backpressure (splice.ts): a slow reader pauses
// the other side instead of buffering without bound.
import { connect, type Socket } from "node:net";
import { since } from "./access-log.js";
import { alertRecord, TlsAlert } from "./client-hello.js";
import type { ProxyContext } from "./context.js";
import type { LiveRoute } from "./live-route.js";
import { backendFailure } from "./metrics.js";
import { proxyHeaderV2 } from "./proxy-protocol.js";
import { spliceBoth } from "./splice.js";

export function relayL4(ctx: ProxyContext, client: Socket, hello: Buffer, live: LiveRoute): void {
  const { route } = live;
  const backend = live.pick();
  const active = ctx.metrics.active("l4");
  active.inc();
  const upstream = connect({
    host: backend.host,
    port: backend.port,
    allowHalfOpen: true,
    noDelay: true,
    // TCP keep-alive finds a peer that vanished (a dead NAT entry) on a long-lived quiet connection.
    keepAlive: true,
    keepAliveInitialDelay: 60_000,
  });
  client.setKeepAlive(true, 60_000);
  let connected = false;
  const pair = {
    destroy() {
      client.destroy();
      upstream.destroy();
    },
  };
  backend.track(pair);

  const connectTimer = setTimeout(() => {
    upstream.destroy(Object.assign(new Error("connect timeout"), { code: "ETIMEDOUT" }));
  }, ctx.options.connectTimeoutMs);

  upstream.once("connect", () => {
    connected = true;
    clearTimeout(connectTimer);
    if (route.proxyProtocol) {
      const header = proxyHeaderV2(client);
      if (header) upstream.write(header);
    }
    upstream.write(hello);
    spliceBoth(client, upstream);
  });
  upstream.on("error", (err: NodeJS.ErrnoException) => {
    clearTimeout(connectTimer);
    if (!connected) {
      ctx.metrics.backendErrors.inc({ route: route.hostname, reason: backendFailure(err) });
      ctx.logger.warn(
        { route: route.hostname, backend: backend.address, err: err.message },
        "backend failed",
      );
      // The client is waiting for a ServerHello: tell it the handshake cannot go on.
      client.end(alertRecord(TlsAlert.internalError));
      setTimeout(() => client.destroy(), 2_000).unref();
    } else {
      client.destroy();
    }
  });
  client.on("error", () => upstream.destroy());
  // Each side's end is passed on by the splice; a side that goes away entirely takes the other along.
  let closed = 0;
  // Read now: a closed socket no longer has its address.
  const access = ctx.access && { client: client.remoteAddress ?? "", startedAt: performance.now() };
  const onClose = () => {
    if (++closed < 2) return;
    active.dec();
    backend.untrack(pair);
    ctx.metrics.countBytes(route.hostname, client.bytesRead, client.bytesWritten);
    if (access) {
      ctx.access?.connection({
        route: route.hostname,
        client: access.client,
        backend: backend.address,
        bytes_in: client.bytesRead,
        bytes_out: client.bytesWritten,
        ms: since(access.startedAt),
      });
    }
  };
  client.once("close", () => {
    upstream.destroy();
    onClose();
  });
  upstream.once("close", () => {
    // (The splice has usually passed the backend's end on already; end() twice builds an Error.)
    if (connected && !client.writableEnded) client.end();
    onClose();
  });
}
