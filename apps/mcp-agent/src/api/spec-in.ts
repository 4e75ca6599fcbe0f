// A ServiceSpec from a request (Deploy, Plan) as a validated ServiceDefinition: the message is
// laid out as the TOML file would be and checked by mcdsl's servicedef, so an RPC and a file
// meet the same rules. A bad one is InvalidArgument naming every field that is wrong.
import { type Duration, durationMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { ConfigError } from "@mcp/mcdsl/config";
import { type ServiceDefinition, serviceDefinitionFromObject } from "@mcp/mcdsl/servicedef";
import { type HealthSpec, RouteMode, type ServiceSpec } from "@mcp/proto/mcp/agent/v1/spec_pb.js";

export function toDefinition(spec: ServiceSpec | undefined, source = "service"): ServiceDefinition {
  if (!spec)
    throw new ConnectError(`${source}: the request carries no service definition`, Code.InvalidArgument);
  const data: Record<string, unknown> = {
    name: spec.name,
    active: spec.active,
    ...(spec.node ? { node: spec.node } : {}),
    ...(spec.path ? { path: spec.path } : {}),
    ...(spec.build && (spec.build.usesMcdsl || Object.keys(spec.build.images).length > 0)
      ? { build: { uses_mcdsl: spec.build.usesMcdsl, images: spec.build.images } }
      : {}),
    components: spec.components.map((c) => ({
      name: c.name,
      image: c.image,
      ...(c.volumes.length ? { volumes: c.volumes } : {}),
      ...(c.cmd.length ? { cmd: c.cmd } : {}),
      ...(Object.keys(c.env).length ? { env: c.env } : {}),
      ...(c.network ? { network: c.network } : {}),
      ...(c.user ? { user: c.user } : {}),
      ...(c.restart ? { restart: c.restart } : {}),
      ...(c.ports.length ? { ports: c.ports } : {}),
      ...(c.routes.length
        ? {
            routes: c.routes.map((r) => ({
              name: r.name,
              port: r.port,
              ...(r.mode === RouteMode.L4 ? { mode: "l4" } : r.mode === RouteMode.L7 ? { mode: "l7" } : {}),
              ...(r.hostname ? { hostname: r.hostname } : {}),
            })),
          }
        : {}),
      ...(c.health ? { health: health(c.health) } : {}),
    })),
  };
  try {
    return serviceDefinitionFromObject(data, `${source} ${spec.name || "(unnamed)"}`);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConnectError(err.message, Code.InvalidArgument);
    throw err;
  }
}

function health(spec: HealthSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (spec.probe.case === "http") {
    out.http = spec.probe.value.path || "/";
    if (spec.probe.value.route) out.route = spec.probe.value.route;
  } else if (spec.probe.case === "tcp") {
    out.tcp = true;
    if (spec.probe.value.route) out.route = spec.probe.value.route;
  }
  const ms = (d: Duration | undefined) => (d ? `${durationMs(d)}ms` : undefined);
  if (spec.interval) out.interval = ms(spec.interval);
  if (spec.timeout) out.timeout = ms(spec.timeout);
  if (spec.deadline) out.deadline = ms(spec.deadline);
  return out;
}
