// mc-proxy's RouteService (over its Unix socket) as the agent uses it: routes owned by a service,
// added, switched to a new backend with a drain, removed. Plain types in and out.
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { type Client, createClient, type Transport } from "@connectrpc/connect";
import { type Route as RouteMessage, RouteMode, RouteSchema } from "@mcp/proto/mcproxy/v1/route_pb.js";
import { RouteService } from "@mcp/proto/mcproxy/v1/service_pb.js";
import { callPeer } from "./peer-error.js";

export interface ProxyRoute {
  id: string;
  listenerPort: number;
  hostname: string;
  mode: "l4" | "l7";
  /** "127.0.0.1:10423" */
  backends: string[];
  draining: string[];
  owner: string;
}

export interface NewRoute {
  listenerPort: number;
  hostname: string;
  mode: "l4" | "l7";
  backend: string;
  owner: string;
  /** L7: the files mc-proxy terminates TLS with (leaf + chain, key). */
  certificate?: { certFile: string; keyFile: string; serial: string };
}

export class McproxyClient {
  readonly #client: Client<typeof RouteService>;

  constructor(transport: Transport) {
    this.#client = createClient(RouteService, transport);
  }

  /** Adds a route (idempotent for the same route of the same owner). */
  async add(route: NewRoute): Promise<ProxyRoute> {
    const res = await callPeer("mc-proxy", `add route ${route.hostname}:${route.listenerPort}`, () =>
      this.#client.addRoute({
        route: create(RouteSchema, {
          listenerPort: route.listenerPort,
          hostname: route.hostname,
          mode: route.mode === "l4" ? RouteMode.L4 : RouteMode.L7,
          backends: [{ address: route.backend, weight: 1 }],
          owner: route.owner,
          certificate: route.certificate,
        }),
      }),
    );
    return toRoute(res.route);
  }

  /** Moves new connections to `backend` at once; the old backends drain for drainMs. */
  async setBackend(id: string, backend: string, owner: string, drainMs: number): Promise<ProxyRoute> {
    const res = await callPeer("mc-proxy", `switch route ${id} to ${backend}`, () =>
      this.#client.setBackend({
        id,
        backends: [{ address: backend, weight: 1 }],
        owner,
        drainTimeout: durationFromMs(drainMs),
      }),
    );
    return toRoute(res.route);
  }

  /** Removes a route; one already gone is fine. */
  async remove(id: string, owner: string): Promise<void> {
    await callPeer("mc-proxy", `remove route ${id}`, () =>
      this.#client.removeRoute({ id, owner, allowMissing: true }),
    );
  }

  async get(id: string): Promise<ProxyRoute | undefined> {
    const routes = await this.list({});
    return routes.find((r) => r.id === id);
  }

  async list(filter: { hostname?: string; listenerPort?: number; owner?: string }): Promise<ProxyRoute[]> {
    const res = await callPeer("mc-proxy", "list routes", () =>
      this.#client.listRoutes({
        hostname: filter.hostname ?? "",
        listenerPort: filter.listenerPort ?? 0,
        owner: filter.owner ?? "",
      }),
    );
    return res.routes.map(toRoute);
  }
}

function toRoute(route: RouteMessage | undefined): ProxyRoute {
  if (!route) throw new Error("mc-proxy answered without a route");
  return {
    id: route.id,
    listenerPort: route.listenerPort,
    hostname: route.hostname,
    mode: route.mode === RouteMode.L4 ? "l4" : "l7",
    backends: route.backends.map((b) => b.address),
    draining: route.draining.map((b) => b.address),
    owner: route.owner,
  };
}
