// The known event types and the shape of their data (DESIGN.md section 3). `publish` checks a known
// type's data at compile time; a known family with an unknown fact (mcp.cert.bogus) is refused at
// run time too; any other valid mcp.* type carries free-form JSON.
import type { JsonObject } from "@bufbuild/protobuf";

/** The deploy saga's steps: `mcp.deploy.<service>.<step>`, all with the deploy's `deployId`. */
export type DeployEvents = {
  started: { service: string; node: string; components: string[] };
  "port.leased": { service: string; component: string; route: string; port: number };
  "cert.ready": { service: string; hostname: string; serial: string; notAfter: string };
  "container.started": { service: string; component: string; container: string; image: string };
  "health.passed": { service: string; component: string; elapsedMs: number };
  "dns.published": { service: string; name: string; recordId: string; address: string };
  "route.added": { service: string; component: string; route: string; hostname: string; routeId: string };
  completed: { service: string; durationMs: number };
  failed: { service: string; step: string; error: string };
  rolled_back: { service: string; undone: string[] };
};

/** `mcp.cert.<fact>`, published by cert-broker; the envelope's subject is the hostname. */
export type CertEvents = {
  issued: { hostname: string; serial: string; notAfter: string; service?: string };
  renewed: { hostname: string; serial: string; previousSerial: string; notAfter: string };
  expiring: { hostname: string; serial: string; notAfter: string; daysLeft: number };
  revoked: { hostname: string; serial: string; reason: string };
};

/** `mcp.route.<fact>`, published by mcproxy-registry; the envelope's subject is the hostname. */
export type RouteEvents = {
  added: { routeId: string; hostname: string; port: number; mode: "l4" | "l7"; backend: string };
  removed: { routeId: string; hostname: string; port: number };
  switched: { routeId: string; hostname: string; from: string; to: string };
};

/** `mcp.dns.<fact>`, published by mcns; the envelope's subject is the record name. */
export type DnsEvents = {
  created: { recordId: string; zone: string; name: string; type: string; value: string; owner: string };
  updated: { recordId: string; zone: string; name: string; type: string; value: string; owner: string };
  deleted: { recordId: string; zone: string; name: string; type: string };
};

/** `mcp.container.<service>.<component>.<fact>`, published by the agent's monitor. */
export type ContainerEvents = {
  died: { service: string; component: string; container: string; exitCode?: number };
  restarted: { service: string; component: string; container: string; restarts: number };
  drift: { service: string; component: string; expected: string; actual: string };
};

/**
 * The data type of an event type: the catalogued shape for a known type, `never` for an unknown
 * fact in a known family, free-form JSON otherwise (and for a `string` only known at run time).
 */
export type EventData<T extends string> = T extends `mcp.deploy.${string}.${infer Step}`
  ? Fact<DeployEvents, Step>
  : T extends `mcp.cert.${infer F}`
    ? Fact<CertEvents, F>
    : T extends `mcp.route.${infer F}`
      ? Fact<RouteEvents, F>
      : T extends `mcp.dns.${infer F}`
        ? Fact<DnsEvents, F>
        : T extends `mcp.container.${string}.${string}.${infer F}`
          ? Fact<ContainerEvents, F>
          : JsonObject;

type Fact<Family, F extends string> = F extends keyof Family ? Family[F] : never;

/** A family of known types: a fixed prefix, `names` name tokens, then one of `facts`. */
export interface EventFamily {
  prefix: string;
  /** How the name tokens are read, e.g. ["service", "component"]. */
  names: string[];
  facts: readonly string[];
}

const keys = <T extends object>(o: T) => Object.keys(o) as (keyof T & string)[];
// Runtime mirrors of the types above (the objects exist only to list their keys once).
const deploySteps: Record<keyof DeployEvents, true> = {
  started: true,
  "port.leased": true,
  "cert.ready": true,
  "container.started": true,
  "health.passed": true,
  "dns.published": true,
  "route.added": true,
  completed: true,
  failed: true,
  rolled_back: true,
};
const certFacts: Record<keyof CertEvents, true> = {
  issued: true,
  renewed: true,
  expiring: true,
  revoked: true,
};
const routeFacts: Record<keyof RouteEvents, true> = { added: true, removed: true, switched: true };
const dnsFacts: Record<keyof DnsEvents, true> = { created: true, updated: true, deleted: true };
const containerFacts: Record<keyof ContainerEvents, true> = { died: true, restarted: true, drift: true };

export const eventFamilies: readonly EventFamily[] = [
  { prefix: "mcp.deploy.", names: ["service"], facts: keys(deploySteps) },
  { prefix: "mcp.cert.", names: [], facts: keys(certFacts) },
  { prefix: "mcp.route.", names: [], facts: keys(routeFacts) },
  { prefix: "mcp.dns.", names: [], facts: keys(dnsFacts) },
  { prefix: "mcp.container.", names: ["service", "component"], facts: keys(containerFacts) },
];
