// The routes the data plane serves, looked up per connection by (listener port, SNI hostname).
import type { DrainingBackend, Route } from "../routes/types.js";
import { LiveRoute } from "./live-route.js";

export class RouteTable {
  readonly #byPort = new Map<number, Map<string, LiveRoute>>();
  readonly #byId = new Map<string, LiveRoute>();

  lookup(port: number, hostname: string): LiveRoute | undefined {
    return this.#byPort.get(port)?.get(hostname);
  }

  /**
   * The port to send a plain-HTTP request for `hostname` to: 443 when it has a route there, else
   * the lowest port with an L7 route for it, else the lowest with any route; undefined without one.
   */
  httpsPort(hostname: string): number | undefined {
    let l7: number | undefined;
    let any: number | undefined;
    for (const [port, hosts] of this.#byPort) {
      const live = hosts.get(hostname);
      if (!live) continue;
      if (port === 443) return port;
      if (live.route.mode === "l7" && (l7 === undefined || port < l7)) l7 = port;
      if (any === undefined || port < any) any = port;
    }
    return l7 ?? any;
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
