import { stringify } from "smol-toml";
import type { ComponentSpec, HealthCheck, ServiceDefinition } from "./types.js";
import { DEFAULT_HEALTH } from "./types.js";

/**
 * A definition as TOML (`mcp service export`): the fields as written, without derived values
 * (hostnames, port variables) or defaults, so that parsing the text gives the same definition.
 */
export function formatServiceDefinition(definition: ServiceDefinition): string {
  const build = definition.build;
  return stringify({
    name: definition.name,
    ...(definition.node === undefined ? {} : { node: definition.node }),
    ...(definition.active ? {} : { active: false }),
    ...(definition.path === undefined ? {} : { path: definition.path }),
    ...(build === undefined
      ? {}
      : {
          build: {
            ...(build.context === undefined ? {} : { context: build.context }),
            ...(build.containerfile === undefined ? {} : { containerfile: build.containerfile }),
            ...(build.image === undefined ? {} : { image: build.image }),
            ...(build.usesMcdsl ? { uses_mcdsl: true } : {}),
            ...(Object.keys(build.images).length === 0 ? {} : { images: build.images }),
          },
        }),
    components: definition.components.map(formatComponent),
  });
}

function formatComponent(component: ComponentSpec): Record<string, unknown> {
  const health = formatHealth(component);
  return {
    name: component.name,
    image: component.image,
    ...(component.volumes.length === 0 ? {} : { volumes: component.volumes.map((v) => v.spec) }),
    ...(component.cmd.length === 0 ? {} : { cmd: component.cmd }),
    ...(component.network === undefined ? {} : { network: component.network }),
    ...(component.user === undefined ? {} : { user: component.user }),
    ...(component.restart === undefined ? {} : { restart: component.restart }),
    ...(component.ports.length === 0 ? {} : { ports: component.ports.map((p) => p.spec) }),
    ...(Object.keys(component.env).length === 0 ? {} : { env: component.env }),
    ...(health === undefined ? {} : { health }),
    ...(component.routes.length === 0
      ? {}
      : {
          routes: component.routes.map((route) => ({
            name: route.name,
            port: route.port,
            mode: route.mode,
            ...(route.hostname === undefined ? {} : { hostname: route.hostname }),
          })),
        }),
  };
}

/** Only what differs from the default check (TCP to the first route or mapped port, default timings). */
function formatHealth(component: ComponentSpec): Record<string, unknown> | undefined {
  const health: HealthCheck = component.health;
  const out: Record<string, unknown> = {};
  if (health.kind === "http") out.http = health.path;
  const defaultRoute = component.routes[0]?.name;
  if (health.route !== undefined && health.route !== defaultRoute) out.route = health.route;
  if (health.intervalMs !== DEFAULT_HEALTH.intervalMs) out.interval = formatDuration(health.intervalMs);
  if (health.timeoutMs !== DEFAULT_HEALTH.timeoutMs) out.timeout = formatDuration(health.timeoutMs);
  if (health.deadlineMs !== DEFAULT_HEALTH.deadlineMs) out.deadline = formatDuration(health.deadlineMs);
  return Object.keys(out).length === 0 ? undefined : out;
}

function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
