// mcp.route.{added,removed,switched}: recorded in the outbox inside the transaction that makes the
// change, and published after the commit (flush). A NATS outage does not fail or hold up the call;
// the event is kept in the database and published once NATS is back, or at the next start.
import type { EventOutbox } from "@mcp/mcdsl/events";
import { type Backend, backendKey, type Route } from "./types.js";

export class RouteEvents {
  constructor(private readonly outbox: EventOutbox) {}

  added(route: Route): void {
    this.outbox.record(
      "mcp.route.added",
      {
        routeId: route.id,
        hostname: route.hostname,
        port: route.listenerPort,
        mode: route.mode,
        backend: backendKey(route.backends),
      },
      { subject: route.hostname },
    );
  }

  removed(route: Route): void {
    this.outbox.record(
      "mcp.route.removed",
      { routeId: route.id, hostname: route.hostname, port: route.listenerPort },
      { subject: route.hostname },
    );
  }

  switched(route: Route, from: Backend[]): void {
    this.outbox.record(
      "mcp.route.switched",
      { routeId: route.id, hostname: route.hostname, from: backendKey(from), to: backendKey(route.backends) },
      { subject: route.hostname },
    );
  }

  /** Publishes what was recorded (see EventOutbox.flush). */
  flush(): Promise<void> {
    return this.outbox.flush();
  }
}
