// The plan: a definition diffed against the registry and podman (DESIGN.md section 5). Deploy
// acts on it (which components get new containers, which routes switch, what goes away); Plan
// returns it as it is and changes nothing. Plain types; api/ converts them.
import type { ComponentSpec, ServiceDefinition } from "@mcp/mcdsl/servicedef";
import type { ContainerSummary } from "../runtime/container-info.js";
import { LABEL_COMPONENT, LABEL_SERVICE } from "../runtime/labels.js";
import type { SagaDeps } from "./context.js";

export type Action = "create" | "update" | "delete" | "keep";

export interface PortChange {
  action: Action;
  component: string;
  route: string;
  hostPort: number;
  reason: string;
}
export interface CertificateChange {
  action: Action;
  hostname: string;
  serial: string;
  notAfter?: Date;
  reason: string;
}
export interface RecordChange {
  action: Action;
  name: string;
  type: string;
  oldValue: string;
  newValue: string;
  reason: string;
}
export interface RouteChange {
  action: Action;
  component: string;
  route: string;
  hostname: string;
  listenerPort: number;
  mode: "l4" | "l7";
  oldBackend: string;
  newBackend: string;
  reason: string;
}
export interface ContainerChange {
  action: Action;
  component: string;
  containerName: string;
  oldImage: string;
  newImage: string;
  reason: string;
}

export interface Plan {
  /** Components that get a new container. */
  replace: string[];
  /** Components in the registry the definition no longer has. */
  remove: string[];
  ports: PortChange[];
  certificates: CertificateChange[];
  records: RecordChange[];
  routes: RouteChange[];
  containers: ContainerChange[];
  hasChanges: boolean;
  /** podman's containers when the plan was made (the deploy uses them instead of asking again). */
  observed: ContainerSummary[];
}

/** Certificates closer than this to expiry are renewed by a deploy. */
const RENEW_WITHIN_MS = 7 * 24 * 3600_000;

export async function makePlan(
  deps: SagaDeps,
  definition: ServiceDefinition,
  only: string[] = [],
): Promise<Plan> {
  const { registry } = deps;
  const service = definition.name;
  const stored = registry.services.get(service);
  const storedSpecs = new Map((stored?.definition.components ?? []).map((c) => [c.name, c]));
  // Every container: adopted ones are found by the name the registry binds, not by labels. A
  // service the registry has never seen has none to compare (a stray container holding its
  // name is handled when the new one is created), so a first deploy skips this podman call.
  const known = stored !== undefined || registry.components.list(service).length > 0;
  const containers = known ? await deps.podman.list() : [];
  const leases = registry.leases.list(service);

  const containerChanges: ContainerChange[] = [];
  const replace: string[] = [];
  for (const component of definition.components) {
    const row = registry.components.get(service, component.name);
    const running = findContainer(containers, service, component.name, row?.containerName);
    const reason = replaceReason(
      component,
      storedSpecs.get(component.name),
      running,
      stored?.desiredState,
      only,
    );
    const name = row?.containerName ?? `${service}-${component.name}`;
    if (reason) replace.push(component.name);
    containerChanges.push({
      action: reason ? (running ? "update" : "create") : "keep",
      component: component.name,
      containerName: name,
      oldImage: running?.image ?? "",
      newImage: component.image,
      reason: reason ?? "unchanged",
    });
  }
  const names = new Set(definition.components.map((c) => c.name));
  const remove = registry.components
    .list(service)
    .filter(() => only.length === 0)
    .map((c) => c.name)
    .filter((n) => !names.has(n));
  for (const name of remove) {
    const row = registry.components.get(service, name);
    const running = findContainer(containers, service, name, row?.containerName);
    containerChanges.push({
      action: "delete",
      component: name,
      containerName: row?.containerName ?? `${service}-${name}`,
      oldImage: running?.image ?? row?.image ?? "",
      newImage: "",
      reason: "component removed from the definition",
    });
  }

  const replaced = new Set(replace);
  const ports: PortChange[] = [];
  for (const component of definition.components) {
    for (const route of component.routes) {
      const lease = leases.find((l) => l.component === component.name && l.route === route.name);
      if (replaced.has(component.name) || !lease) {
        ports.push({
          action: "create",
          component: component.name,
          route: route.name,
          hostPort: 0,
          reason: lease ? "component replaced" : "new route",
        });
      } else {
        ports.push({
          action: "keep",
          component: component.name,
          route: route.name,
          hostPort: lease.hostPort,
          reason: "unchanged",
        });
      }
    }
  }
  for (const lease of leases) {
    const component = definition.components.find((c) => c.name === lease.component);
    const keeps =
      component && !replaced.has(component.name) && component.routes.some((r) => r.name === lease.route);
    if (!keeps) {
      ports.push({
        action: "delete",
        component: lease.component,
        route: lease.route,
        hostPort: lease.hostPort,
        reason: component ? "component replaced" : "component removed",
      });
    }
  }

  const hostnames = serviceHostnames(definition);
  const certs = registry.bindings.certificates(service);
  const certificates: CertificateChange[] = hostnames.map((hostname) => {
    const cert = certs.find((c) => c.hostname === hostname);
    if (!cert) return { action: "create", hostname, serial: "", reason: "no certificate" };
    if (cert.notAfter.getTime() - Date.now() < RENEW_WITHIN_MS) {
      return {
        action: "update",
        hostname,
        serial: cert.serial,
        notAfter: cert.notAfter,
        reason: "expires within the renewal window",
      };
    }
    return { action: "keep", hostname, serial: cert.serial, notAfter: cert.notAfter, reason: "valid" };
  });

  const bound = registry.bindings.records(service);
  const records: RecordChange[] = hostnames.map((name) => {
    const record = bound.find((r) => r.name === name);
    if (record && record.value === deps.node.address) {
      return {
        action: "keep",
        name,
        type: "A",
        oldValue: record.value,
        newValue: record.value,
        reason: "published",
      };
    }
    return {
      action: record ? "update" : "create",
      name,
      type: "A",
      oldValue: record?.value ?? "",
      newValue: deps.node.address,
      reason: record ? "node address changed" : "not published",
    };
  });
  for (const record of bound.filter((r) => !hostnames.includes(r.name))) {
    records.push({
      action: "delete",
      name: record.name,
      type: record.type,
      oldValue: record.value,
      newValue: "",
      reason: "no route serves the name",
    });
  }

  const proxyRoutes = registry.bindings.proxyRoutes(service);
  const routes: RouteChange[] = [];
  for (const component of definition.components) {
    for (const route of component.routes) {
      const lease = ports.find(
        (p) => p.component === component.name && p.route === route.name && p.action !== "delete",
      );
      const newBackend = lease?.hostPort ? `127.0.0.1:${lease.hostPort}` : "127.0.0.1:<new lease>";
      for (const hostname of route.hostnames) {
        const binding = proxyRoutes.find(
          (b) =>
            b.component === component.name &&
            b.route === route.name &&
            b.hostname === hostname &&
            b.listenerPort === route.port &&
            b.mode === route.mode,
        );
        const base = {
          component: component.name,
          route: route.name,
          hostname,
          listenerPort: route.port,
          mode: route.mode,
        };
        if (!binding)
          routes.push({ ...base, action: "create", oldBackend: "", newBackend, reason: "new route" });
        else if (replaced.has(component.name))
          routes.push({
            ...base,
            action: "update",
            oldBackend: binding.backend,
            newBackend,
            reason: "switch to the new container",
          });
        else
          routes.push({
            ...base,
            action: "keep",
            oldBackend: binding.backend,
            newBackend: binding.backend,
            reason: "unchanged",
          });
      }
    }
  }
  for (const binding of proxyRoutes) {
    if (
      !routes.some(
        (r) =>
          r.component === binding.component &&
          r.route === binding.route &&
          r.hostname === binding.hostname &&
          r.listenerPort === binding.listenerPort &&
          r.mode === binding.mode,
      )
    ) {
      routes.push({
        action: "delete",
        component: binding.component,
        route: binding.route,
        hostname: binding.hostname,
        listenerPort: binding.listenerPort,
        mode: binding.mode,
        oldBackend: binding.backend,
        newBackend: "",
        reason: "route removed from the definition",
      });
    }
  }

  const hasChanges = [ports, certificates, records, routes, containerChanges].some((list) =>
    (list as { action: Action }[]).some((c) => c.action !== "keep"),
  );
  return {
    replace,
    remove,
    ports,
    certificates,
    records,
    routes,
    containers: containerChanges,
    hasChanges,
    observed: containers,
  };
}

/** Every name the service's routes serve, each once, in definition order. */
export function serviceHostnames(definition: ServiceDefinition): string[] {
  const names = definition.components.flatMap((c) => c.routes.flatMap((r) => r.hostnames));
  return [...new Set(names)];
}

function findContainer(
  containers: ContainerSummary[],
  service: string,
  component: string,
  name: string | undefined,
): ContainerSummary | undefined {
  return (
    containers.find((c) => name !== undefined && c.name === name) ??
    containers.find((c) => c.labels[LABEL_SERVICE] === service && c.labels[LABEL_COMPONENT] === component)
  );
}

/** Why a component needs a new container; undefined when the running one is right. */
function replaceReason(
  component: ComponentSpec,
  stored: ComponentSpec | undefined,
  container: ContainerSummary | undefined,
  desired: string | undefined,
  only: string[],
): string | undefined {
  if (only.length > 0) return only.includes(component.name) ? "requested" : undefined;
  if (!stored) return "new component";
  if (!container) return "no container";
  if (container.state !== "running" || desired !== "running") return "not running";
  if (stored.image !== component.image) return "image changed";
  if (JSON.stringify(stored) !== JSON.stringify(component)) return "definition changed";
  return undefined;
}
