// A definition as mcp.agent.v1.ServiceSpec and back, so the CLI sends what the agent stores and
// `mcp service export` turns what the agent returns into the TOML the operator wrote. Both sides
// use these two functions, so a field cannot be carried one way and dropped the other.
import { create } from "@bufbuild/protobuf";
import { type Duration, durationFromMs } from "@bufbuild/protobuf/wkt";
import {
  ComponentSpecSchema,
  type HealthSpec,
  HealthSpecSchema,
  RouteMode,
  type ServiceSpec,
  ServiceSpecSchema,
} from "@mcp/proto/mcp/agent/v1/spec_pb.js";
import { stringify } from "smol-toml";
import { parseServiceDefinition, type ServiceDefinitionOptions } from "./parse.js";
import type { HealthCheck, ServiceDefinition } from "./types.js";

/** A normalized definition as the ServiceSpec message (what Deploy, Plan and Sync carry). */
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

/**
 * A ServiceSpec message as a normalized definition, checked by the same parser as a file: the
 * message is written as definition TOML and parsed, so a spec the file format could not express
 * is refused with the reason (a ConfigError naming `source`), never half-read.
 */
export function fromServiceSpec(
  spec: ServiceSpec,
  options: ServiceDefinitionOptions & { source?: string } = {},
): ServiceDefinition {
  const text = serviceSpecToml(spec);
  return parseServiceDefinition(text, options.source ?? `${spec.name || "service"} (ServiceSpec)`, options);
}

/** The definition TOML a ServiceSpec stands for (defaults left out, as an operator writes it). */
export function serviceSpecToml(spec: ServiceSpec): string {
  return stringify(serviceSpecObject(spec));
}

/**
 * A ServiceSpec laid out as the definition file's tables (defaults left out), for
 * `serviceDefinitionFromObject`: what an API checks a spec with, so its errors name fields
 * (`[components[0]] image`) rather than lines of a TOML text the caller never saw.
 */
export function serviceSpecObject(spec: ServiceSpec): Record<string, unknown> {
  const images = spec.build?.images ?? {};
  return {
    name: spec.name,
    ...(spec.node ? { node: spec.node } : {}),
    ...(spec.active ? {} : { active: false }),
    ...(spec.path ? { path: spec.path } : {}),
    ...(spec.build
      ? {
          build: {
            ...(spec.build.usesMcdsl ? { uses_mcdsl: true } : {}),
            ...(Object.keys(images).length > 0 ? { images } : {}),
          },
        }
      : {}),
    components: spec.components.map((c) => {
      const health = healthTable(c.health);
      return {
        name: c.name,
        image: c.image,
        ...(c.volumes.length > 0 ? { volumes: c.volumes } : {}),
        ...(c.cmd.length > 0 ? { cmd: c.cmd } : {}),
        ...(Object.keys(c.env).length > 0 ? { env: c.env } : {}),
        ...(c.network ? { network: c.network } : {}),
        ...(c.user ? { user: c.user } : {}),
        ...(c.restart ? { restart: c.restart } : {}),
        ...(c.ports.length > 0 ? { ports: c.ports } : {}),
        ...(health ? { health } : {}),
        ...(c.routes.length > 0
          ? {
              routes: c.routes.map((r) => ({
                name: r.name,
                port: r.port,
                mode: routeMode(r.mode),
                ...(r.hostname ? { hostname: r.hostname } : {}),
              })),
            }
          : {}),
      };
    }),
  };
}

/** Unset is the file's default (l7); a number the enum does not know is left for the schema to refuse. */
function routeMode(mode: RouteMode): string | number {
  if (mode === RouteMode.L4) return "l4";
  return mode === RouteMode.L7 || mode === RouteMode.UNSPECIFIED ? "l7" : mode;
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

function healthTable(health: HealthSpec | undefined): Record<string, unknown> | undefined {
  if (!health) return undefined;
  const table: Record<string, unknown> = {};
  if (health.probe.case === "http") {
    table.http = health.probe.value.path || "/";
    if (health.probe.value.route) table.route = health.probe.value.route;
  } else if (health.probe.case === "tcp") {
    table.tcp = true;
    if (health.probe.value.route) table.route = health.probe.value.route;
  }
  for (const key of ["interval", "timeout", "deadline"] as const) {
    const value = health[key];
    if (value) table[key] = durationText(value);
  }
  return Object.keys(table).length > 0 ? table : undefined;
}

function durationText(duration: Duration): string {
  const ms = Number(duration.seconds) * 1000 + Math.round(duration.nanos / 1e6);
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
