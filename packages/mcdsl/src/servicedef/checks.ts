import type { KeyPath } from "../config/errors.js";
import { parseDuration } from "./duration.js";
import { checkComponentEnvironment } from "./env-checks.js";
import { parsePortMapping } from "./port-mapping.js";
import { portVariable } from "./port-variables.js";
import { int, list, str, type Table, table } from "./raw.js";
import { DEFAULT_HEALTH } from "./types.js";
import { parseVolume } from "./volume.js";

/** What the rules need: the service domain and a way to report a problem at a key. */
export interface CheckContext {
  domain: string;
  report(path: KeyPath, message: string): void;
  lineOf(path: KeyPath): number | undefined;
}

/**
 * The rules that span fields: unique component and route names, one route per proxy port and
 * hostname, distinct port variables, routes or legacy ports, no host port mapped twice, env and
 * cmd consistent with the routes, health checks that have something to probe. They read the raw
 * data so they still run, and report, when single fields are wrong.
 */
export function checkService(raw: Table, context: CheckContext): void {
  const components = list(raw.components);
  if (components.length === 0) {
    context.report(["components"], "a service needs at least one [[components]] table");
  }
  const defaultHostname = `${str(raw.name) ?? ""}.${context.domain}`;
  const componentNames = new Map<string, KeyPath>();
  const routeNames = new Map<string, KeyPath>();
  const served = new Map<string, { route: string; path: KeyPath }>();
  const hostPorts = new Map<string, KeyPath>();

  components.forEach((value, index) => {
    const component = table(value);
    if (!component) return;
    const base = ["components", index];
    const name = str(component.name);
    if (name !== undefined) unique(componentNames, name, [...base, "name"], "component", context);

    const routes = list(component.routes);
    const ports = list(component.ports);
    if (routes.length > 0 && ports.length > 0) {
      context.report(
        [...base, "ports"],
        "a component has routes or ports, not both (ports is the legacy form: move them to [[components.routes]])",
      );
    }
    if (component.network === "host" && ports.length > 0) {
      // podman publishes nothing there: the health probe would wait on a host port nobody opens.
      context.report(
        [...base, "ports"],
        "nothing is published on network = \"host\": the app's own ports are the node's; leave out ports (or use routes)",
      );
    }
    checkRoutes(routes, base, defaultHostname, { routeNames, served }, context);
    checkLegacyPorts(ports, base, hostPorts, context);
    checkVolumeTargets(list(component.volumes), base, context);
    checkComponentEnvironment(component, base, context);
    checkHealth(component, base, context);
  });
}

/**
 * A deploy starts a service's containers together and leases a port per route at once, and
 * podman sets up each volume (a mount) and published port (a firewall rule): a 4 MiB request
 * holds ~50,000 components or ~200,000 volumes. The limits are far above a real service (more is
 * several services), and are checked before anything else (validating 200,000 volumes took 3 s).
 */
export const MAX_COMPONENTS = 64;
export const MAX_ROUTES = 64;
const PER_COMPONENT: Record<string, number> = { volumes: 64, ports: 64, cmd: 4096, env: 4096 };

/** The counts only (validate.ts runs it first, alone). */
export function checkSize(components: unknown[], context: CheckContext): void {
  if (components.length > MAX_COMPONENTS) {
    context.report(
      ["components"],
      `a service has at most ${MAX_COMPONENTS} components (a deploy starts them together), got ${components.length}`,
    );
    return;
  }
  let routes = 0;
  components.forEach((value, index) => {
    const component = table(value);
    routes += list(component?.routes).length;
    for (const [key, max] of Object.entries(PER_COMPONENT)) {
      const field = component?.[key];
      const count = Array.isArray(field) ? field.length : Object.keys(table(field) ?? {}).length;
      if (count > max) context.report(["components", index, key], `at most ${max} entries, got ${count}`);
    }
  });
  if (routes > MAX_ROUTES) {
    context.report(
      ["components"],
      `a service has at most ${MAX_ROUTES} routes in all (a port is leased for each at once), got ${routes}`,
    );
  }
}

function checkRoutes(
  routes: unknown[],
  base: KeyPath,
  defaultHostname: string,
  seen: { routeNames: Map<string, KeyPath>; served: Map<string, { route: string; path: KeyPath }> },
  context: CheckContext,
): void {
  const variables = new Map<string, string>();
  routes.forEach((value, index) => {
    const route = table(value);
    const name = str(route?.name);
    if (!route || name === undefined) return;
    const path = [...base, "routes", index];
    unique(seen.routeNames, name, [...path, "name"], "route", context);

    const variable = portVariable(name, routes.length);
    const clash = variables.get(variable);
    if (clash !== undefined && clash !== name) {
      context.report(
        [...path, "name"],
        `route "${name}" would get the same port variable $${variable} as route "${clash}"`,
      );
    }
    variables.set(variable, name);

    const hostname = str(route.hostname);
    const inZone = hostname === context.domain || hostname?.endsWith(`.${context.domain}`);
    if (inZone && hostname !== defaultHostname) {
      context.report(
        [...path, "hostname"],
        `names under ${context.domain} are given by the platform; this service's is ${defaultHostname}`,
      );
    }
    const port = int(route.port);
    if (port === undefined) return;
    // Every route serves the service's default name, so two routes on one proxy port always clash.
    for (const host of new Set([defaultHostname, ...(hostname ? [hostname] : [])])) {
      const key = `${port} ${host}`;
      const other = seen.served.get(key);
      if (other) {
        context.report(
          [...path, "port"],
          `route "${name}" and route "${other.route}"${lineNote(other.path, context)} both serve ${host} on port ${port}`,
        );
        break;
      }
      seen.served.set(key, { route: name, path: [...path, "port"] });
    }
  });
}

function checkLegacyPorts(
  ports: unknown[],
  base: KeyPath,
  hostPorts: Map<string, KeyPath>,
  context: CheckContext,
) {
  ports.forEach((value, index) => {
    const spec = str(value);
    const mapping = spec === undefined ? undefined : parsePortMapping(spec);
    if (mapping === undefined || typeof mapping === "string" || mapping.hostPort === undefined) return;
    const path = [...base, "ports", index];
    const key = `${mapping.hostIp ?? "0.0.0.0"}:${mapping.hostPort}/${mapping.protocol}`;
    const first = hostPorts.get(key);
    if (first) context.report(path, `host port ${key} is already mapped${lineNote(first, context)}`);
    else hostPorts.set(key, path);
  });
}

/** Two volumes on one container path: podman refuses the container (the deploy would fail late). */
function checkVolumeTargets(volumes: unknown[], base: KeyPath, context: CheckContext): void {
  const targets = new Map<string, KeyPath>();
  volumes.forEach((value, index) => {
    const volume = typeof value === "string" ? parseVolume(value) : undefined;
    if (volume === undefined || typeof volume === "string") return;
    const path = [...base, "volumes", index];
    const first = targets.get(volume.target);
    if (first) context.report(path, `${volume.target} is already mounted${lineNote(first, context)}`);
    else targets.set(volume.target, path);
  });
}

function checkHealth(component: Table, base: KeyPath, context: CheckContext): void {
  const health = table(component.health);
  if (!health) return;
  const path = [...base, "health"];
  if (health.http !== undefined && health.tcp !== undefined) {
    context.report([...path, "tcp"], "a health check is http or tcp, not both");
  }
  const routes = list(component.routes).flatMap((route) => str(table(route)?.name) ?? []);
  const probePort = list(component.ports).some((spec) => {
    const mapping = typeof spec === "string" ? parsePortMapping(spec) : undefined;
    return typeof mapping === "object" && mapping.hostPort !== undefined;
  });
  if ((health.http !== undefined || health.tcp !== undefined) && routes.length === 0 && !probePort) {
    context.report(path, "nothing to probe: the component has no routes and no ports with a host port");
  }
  const route = str(health.route);
  if (route !== undefined && !routes.includes(route)) {
    const known =
      routes.length > 0 ? `its routes are ${routes.map((r) => `"${r}"`).join(", ")}` : "it has no routes";
    context.report([...path, "route"], `the component has no route "${route}": ${known}`);
  }
  // The probe speaks plain HTTP; behind an L4 route the app speaks TLS (it never answered).
  const probed = list(component.routes)
    .map((value) => table(value))
    .find((r) => str(r?.name) === (route ?? str(table(list(component.routes)[0])?.name)));
  if (health.http !== undefined && probed?.mode === "l4") {
    context.report(
      [...path, "http"],
      `route "${str(probed.name)}" is l4 (the app terminates TLS) and the probe speaks plain HTTP: use tcp = true`,
    );
  }
  const timeout = durationOf(health.timeout) ?? DEFAULT_HEALTH.timeoutMs;
  const deadline = durationOf(health.deadline) ?? DEFAULT_HEALTH.deadlineMs;
  const interval = durationOf(health.interval);
  if (interval !== undefined && interval < MIN_HEALTH_INTERVAL_MS) {
    context.report(
      [...path, "interval"],
      `at least ${MIN_HEALTH_INTERVAL_MS}ms (the first probes back off from it; "1ms" probed a thousand times a second until the deadline), got ${JSON.stringify(health.interval)}`,
    );
  }
  if (deadline > MAX_HEALTH_DEADLINE_MS) {
    context.report(
      [...path, "deadline"],
      `at most 10m: a deploy holds the service until its health gate ends (a stop is refused meanwhile), got ${JSON.stringify(health.deadline)}`,
    );
  }
  if (timeout > deadline) {
    const key = health.deadline !== undefined ? "deadline" : "timeout";
    context.report(
      [...path, key],
      `the deadline (${deadline} ms) is shorter than one probe's timeout (${timeout} ms)`,
    );
  }
}

/** The shortest probe interval: where DESIGN.md's backoff starts. */
export const MIN_HEALTH_INTERVAL_MS = 50;
/** A health gate's longest deadline (DESIGN.md's default is 30 s). */
export const MAX_HEALTH_DEADLINE_MS = 10 * 60_000;

function durationOf(value: unknown): number | undefined {
  const parsed = typeof value === "string" ? parseDuration(value) : undefined;
  return typeof parsed === "number" ? parsed : undefined;
}

/** Reports a name seen before (with the line it was first seen at), or remembers it. */
function unique(
  seen: Map<string, KeyPath>,
  name: string,
  path: KeyPath,
  kind: string,
  context: CheckContext,
) {
  const first = seen.get(name);
  if (first) context.report(path, `duplicate ${kind} name "${name}"${lineNote(first, context, "first")}`);
  else seen.set(name, path);
}

/** ` (line 12)`, or ` (first at line 12)`; empty when the line is unknown. */
function lineNote(path: KeyPath, context: CheckContext, word = "at"): string {
  const line = context.lineOf(path);
  if (line === undefined) return "";
  return word === "at" ? ` (line ${line})` : ` (${word} at line ${line})`;
}
