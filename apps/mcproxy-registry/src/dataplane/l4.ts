// L4 passthrough: connect to a backend, replay the ClientHello (after a PROXY v2 header when the
// route asks for one), then splice both ways with backpressure (splice.ts): a slow reader pauses
// the other side instead of buffering without bound. A backend that refuses the connection (or
// does not accept it in time) has been sent nothing: it is marked down and the connection goes
// once to another backend of the route.
import { connect, type Socket } from "node:net";
import { since } from "./access-log.js";
import type { BackendState } from "./backend.js";
import { alertRecord, TlsAlert } from "./client-hello.js";
import type { ProxyContext } from "./context.js";
import type { LiveRoute } from "./live-route.js";
import { backendFailure } from "./metrics.js";
import { proxyHeaderV2 } from "./proxy-protocol.js";
import { spliceBoth } from "./splice.js";

export function relayL4(ctx: ProxyContext, client: Socket, hello: Buffer, live: LiveRoute): void {
  const { route } = live;
  const active = ctx.metrics.active("l4");
  active.inc();
  client.setKeepAlive(true, 60_000);
  // Read now: a closed socket no longer has its address.
  const access = ctx.access && { client: client.remoteAddress ?? "", startedAt: performance.now() };
  let backend: BackendState;
  let upstream: Socket;
  let connected = false;
  let failedOver = false;
  let clientClosed = false;
  const pair = {
    destroy() {
      client.destroy();
      upstream.destroy();
    },
  };

  const connectTo = (target: BackendState) => {
    backend = target;
    backend.track(pair);
    const socket = connect({
      host: backend.host,
      port: backend.port,
      allowHalfOpen: true,
      noDelay: true,
      // TCP keep-alive finds a peer that vanished (a dead NAT entry) on a long-lived quiet connection.
      keepAlive: true,
      keepAliveInitialDelay: 60_000,
    });
    upstream = socket;
    const connectTimer = setTimeout(() => {
      socket.destroy(Object.assign(new Error("connect timeout"), { code: "ETIMEDOUT" }));
    }, ctx.options.connectTimeoutMs);
    socket.once("connect", () => {
      connected = true;
      clearTimeout(connectTimer);
      if (route.proxyProtocol) {
        const header = proxyHeaderV2(client);
        if (header) socket.write(header);
      }
      socket.write(hello);
      spliceBoth(client, socket);
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      if (connected) return void client.destroy();
      ctx.metrics.backendErrors.inc({ route: route.hostname, reason: backendFailure(err) });
      ctx.logger.warn(
        { route: route.hostname, backend: backend.address, err: err.message },
        "backend failed",
      );
      backend.markDown(ctx.options.backendDownMs);
      const next = failedOver || clientClosed ? backend : live.pick(backend);
      if (next !== backend) {
        failedOver = true;
        backend.untrack(pair);
        return void connectTo(next);
      }
      // The client is waiting for a ServerHello: tell it the handshake cannot go on.
      client.end(alertRecord(TlsAlert.internalError));
      setTimeout(() => client.destroy(), 2_000).unref();
    });
    socket.once("close", () => {
      if (socket !== upstream) return; // an attempt that failed over to another backend
      // (The splice has usually passed the backend's end on already; end() twice builds an Error.)
      if (connected && !client.writableEnded) client.end();
      onClose();
    });
  };

  // Each side's end is passed on by the splice; a side that goes away entirely takes the other along.
  let closed = 0;
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
  client.on("error", () => upstream.destroy());
  client.once("close", () => {
    clientClosed = true;
    upstream.destroy();
    onClose();
  });
  connectTo(live.pick());
}
