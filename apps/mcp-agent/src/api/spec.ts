// A normalized service definition (mcdsl/servicedef, plain TS) as mcp.agent.v1.ServiceSpec, so
// ListServices returns every ComponentSpec field and `mcp service export` can round-trip it.
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import type { HealthCheck, ServiceDefinition } from "@mcp/mcdsl/servicedef";
import {
  ComponentSpecSchema,
  type HealthSpec,
  HealthSpecSchema,
  RouteMode,
  type ServiceSpec,
  ServiceSpecSchema,
} from "@mcp/proto/mcp/agent/v1/spec_pb.js";

export function toServiceSpec(definition: ServiceDefinition): ServiceSpec {
  return create(ServiceSpecSchema, {
    name: definition.name,
    node: definition.node ?? "",
    active: definition.active,
    path: definition.path ?? "",
    build: definition.build
      ? { usesMcdsl: definition.build.usesMcdsl, images: definition.build.images }
      : undefined,
    components: definition.components.map((c) =>
      create(ComponentSpecSchema, {
        name: c.name,
        image: c.image,
        volumes: c.volumes.map((v) => v.spec),
        cmd: c.cmd,
        env: c.env,
        routes: c.routes.map((r) => ({
          name: r.name,
          port: r.port,
          mode: r.mode === "l4" ? RouteMode.L4 : RouteMode.L7,
          hostname: r.hostname ?? "",
        })),
        health: toHealthSpec(c.health),
        network: c.network ?? "",
        user: c.user ?? "",
        restart: c.restart ?? "",
        ports: c.ports.map((p) => p.spec),
      }),
    ),
  });
}

function toHealthSpec(health: HealthCheck): HealthSpec {
  const timings = {
    interval: durationFromMs(health.intervalMs),
    timeout: durationFromMs(health.timeoutMs),
    deadline: durationFromMs(health.deadlineMs),
  };
  if (health.kind === "http") {
    return create(HealthSpecSchema, {
      probe: { case: "http", value: { path: health.path ?? "/", route: health.route ?? "" } },
      ...timings,
    });
  }
  if (health.kind === "tcp" && health.route) {
    return create(HealthSpecSchema, { probe: { case: "tcp", value: { route: health.route } }, ...timings });
  }
  return create(HealthSpecSchema, timings);
}
