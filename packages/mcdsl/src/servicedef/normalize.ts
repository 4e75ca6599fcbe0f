import { parseDuration } from "./duration.js";
import { environmentOf } from "./env-checks.js";
import { parsePortMapping } from "./port-mapping.js";
import { portVariable } from "./port-variables.js";
import type { RawComponent, RawService } from "./schema.js";
import {
  type ComponentSpec,
  DEFAULT_HEALTH,
  type HealthCheck,
  type PortMapping,
  type RouteSpec,
  type ServiceDefinition,
  type VolumeMount,
} from "./types.js";
import { parseVolume } from "./volume.js";

/** A validated definition with its derived values filled in (only called when it has no issues). */
export function normalize(raw: RawService, domain: string): ServiceDefinition {
  const defaultHostname = `${raw.name}.${domain}`;
  return {
    name: raw.name,
    ...(raw.node === undefined ? {} : { node: raw.node }),
    active: raw.active,
    ...(raw.path === undefined ? {} : { path: raw.path }),
    ...(raw.build === undefined
      ? {}
      : {
          build: {
            ...(raw.build.context === undefined ? {} : { context: raw.build.context }),
            ...(raw.build.containerfile === undefined ? {} : { containerfile: raw.build.containerfile }),
            ...(raw.build.image === undefined ? {} : { image: raw.build.image }),
            images: raw.build.images,
            usesMcdsl: raw.build.uses_mcdsl,
          },
        }),
    components: raw.components.map((component) => normalizeComponent(component, defaultHostname)),
  };
}

function normalizeComponent(raw: RawComponent, defaultHostname: string): ComponentSpec {
  const routes: RouteSpec[] = raw.routes.map((route) => ({
    name: route.name,
    port: route.port,
    mode: route.mode,
    ...(route.hostname === undefined ? {} : { hostname: route.hostname }),
    hostnames: [...new Set([defaultHostname, ...(route.hostname ? [route.hostname] : [])])],
    portVariable: portVariable(route.name, raw.routes.length),
  }));
  const ports = raw.ports.map((spec) => parsePortMapping(spec) as PortMapping);
  return {
    name: raw.name,
    image: raw.image,
    volumes: raw.volumes.map((spec) => parseVolume(spec) as VolumeMount),
    cmd: raw.cmd,
    env: environmentOf(raw.env),
    ...(raw.network === undefined ? {} : { network: raw.network }),
    ...(raw.user === undefined ? {} : { user: raw.user }),
    ...(raw.restart === undefined ? {} : { restart: raw.restart }),
    ports,
    routes,
    health: normalizeHealth(raw.health, routes, ports),
  };
}

/** Default: TCP connect to the first route's port (or the first mapped host port); none without either. */
function normalizeHealth(
  raw: RawComponent["health"],
  routes: RouteSpec[],
  ports: PortMapping[],
): HealthCheck {
  const timing = {
    intervalMs: duration(raw?.interval) ?? DEFAULT_HEALTH.intervalMs,
    timeoutMs: duration(raw?.timeout) ?? DEFAULT_HEALTH.timeoutMs,
    deadlineMs: duration(raw?.deadline) ?? DEFAULT_HEALTH.deadlineMs,
  };
  const route = raw?.route ?? routes[0]?.name;
  const hostPort = ports.find((port) => port.hostPort !== undefined)?.hostPort;
  const target = route !== undefined ? { route } : hostPort !== undefined ? { hostPort } : undefined;
  if (!target) return { kind: "none", ...timing };
  if (raw?.http !== undefined) return { kind: "http", path: raw.http, ...target, ...timing };
  return { kind: "tcp", ...target, ...timing };
}

function duration(value: string | undefined): number | undefined {
  return value === undefined ? undefined : (parseDuration(value) as number);
}
