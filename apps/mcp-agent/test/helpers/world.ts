// What an operator checks after a deploy, a failure or a crash: the agent's registry file, the
// routes mc-proxy holds for the service, DNS, podman, and the last event.
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { RouteService } from "@mcp/proto/mcproxy/v1/service_pb.js";
import { expect } from "vitest";
import { Registry } from "../../src/store/registry.js";
import { type Platform, ZONE } from "./platform.js";
import { containers, deployEvents, dig } from "./saga-client.js";

export function registryOf(platform: Platform, service: string) {
  const registry = new Registry(join(platform.dir, "agent", "registry.db"));
  try {
    return {
      leases: registry.leases.list(service),
      routes: registry.bindings.proxyRoutes(service),
      records: registry.bindings.records(service),
      deploys: registry.journal.history(service).map((d) => d.outcome),
    };
  } finally {
    registry.close();
  }
}

/** The backends of the service's routes in mc-proxy ("127.0.0.1:20001"), one string per route. */
export async function proxyRoutes(platform: Platform, service: string): Promise<string[]> {
  const proxy = createClient(
    RouteService,
    createConnectTransport({
      baseUrl: "http://localhost",
      httpVersion: "1.1",
      nodeOptions: { socketPath: platform.proxySocket },
    }),
  );
  return (await proxy.listRoutes({ owner: service })).routes.map((r) =>
    r.backends.map((b) => b.address).join(","),
  );
}

/** A first deploy that was undone: no container, route, record or lease; rolled_back said last. */
export async function expectNothingLeft(platform: Platform, service: string): Promise<void> {
  expect(containers(service)).toEqual([]);
  expect(await proxyRoutes(platform, service)).toEqual([]);
  expect(dig(platform.dnsPort, `${service}.${ZONE}`)).toBe("");
  expect(registryOf(platform, service)).toMatchObject({
    leases: [],
    routes: [],
    records: [],
    deploys: ["rolled_back"],
  });
  const events = await deployEvents(platform.nats.url, service);
  expect(events.at(-1)?.type).toBe(`mcp.deploy.${service}.rolled_back`);
}
