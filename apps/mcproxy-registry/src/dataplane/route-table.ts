// The routes the data plane serves, looked up per connection by (listener port, SNI hostname).
import type { DrainingBackend, Route } from "../routes/types.js";
import { LiveRoute } from "./live-route.js";

export class RouteTable {
  readonly #byPort = new Map<number, Map<string, LiveRoute>>();
  readonly #byId = new Map<string, LiveRoute>();

  lookup(port: number, hostname: string): LiveRoute | undefined {
    return this.#byPort.get(port)?.get(hostname);
  }

  get(id: string): LiveRoute | undefined {
    return this.#byId.get(id);
  }

  /** The ports that have at least one route: the listeners that must be open. */
  ports(): number[] {
    return [...this.#byPort.keys()];
  }

  get size(): number {
    return this.#byId.size;
  }

  all(): LiveRoute[] {
    return [...this.#byId.values()];
  }

  /** Adds a route, or replaces the one with the same id or the same port and hostname. */
  put(route: Route): LiveRoute {
    this.remove(route.id);
    const clash = this.lookup(route.listenerPort, route.hostname);
    if (clash) this.remove(clash.route.id);
    const live = new LiveRoute(route);
    let hosts = this.#byPort.get(route.listenerPort);
    if (!hosts) {
      hosts = new Map();
      this.#byPort.set(route.listenerPort, hosts);
    }
    hosts.set(route.hostname, live);
    this.#byId.set(route.id, live);
    return live;
  }

  /** Removes a route and closes its connections. */
  remove(id: string): boolean {
    const live = this.#byId.get(id);
    if (!live) return false;
    this.#byId.delete(id);
    const hosts = this.#byPort.get(live.route.listenerPort);
    hosts?.delete(live.route.hostname);
    if (hosts?.size === 0) this.#byPort.delete(live.route.listenerPort);
    live.close();
    return true;
  }

  draining(id: string): DrainingBackend[] {
    return this.#byId.get(id)?.draining() ?? [];
  }
}
