// mcp.route.{added,removed,switched} on NATS (when an event bus is configured). The change is
// committed before it is published, so a NATS outage is logged and does not fail the call.
import type { EventBus } from "@mcp/mcdsl/events";
import type { Logger } from "@mcp/mcdsl/log";
import { type Backend, backendKey, type Route } from "./types.js";

export class RouteEvents {
  constructor(
    private readonly logger: Logger,
    private readonly bus?: EventBus,
  ) {}

  added(route: Route): Promise<void> {
    return this.#publish("mcp.route.added", route, {
      routeId: route.id,
      hostname: route.hostname,
      port: route.listenerPort,
      mode: route.mode,
      backend: backendKey(route.backends),
    });
  }

  removed(route: Route): Promise<void> {
    return this.#publish("mcp.route.removed", route, {
      routeId: route.id,
      hostname: route.hostname,
      port: route.listenerPort,
    });
  }

  switched(route: Route, from: Backend[]): Promise<void> {
    return this.#publish("mcp.route.switched", route, {
      routeId: route.id,
      hostname: route.hostname,
      from: backendKey(from),
      to: backendKey(route.backends),
    });
  }

  async #publish<T extends "mcp.route.added" | "mcp.route.removed" | "mcp.route.switched">(
    type: T,
    route: Route,
    data: Parameters<EventBus["publish"]>[1] & object,
  ): Promise<void> {
    try {
      await this.bus?.publish(type, data as never, { subject: route.hostname });
    } catch (err) {
      this.logger.warn({ err, route: route.id, type }, "could not publish the route event");
    }
  }
}
