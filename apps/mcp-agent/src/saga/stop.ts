// Stop (DESIGN.md section 1, `mcp stop`): the deploy in reverse. Routes and records go first
// (traffic and names leave), then the containers stop and are removed, then the ports go back to
// the pool. Certificates stay for the next start. Journalled as one step whose intent lists
// everything, so a crash mid-stop is finished at the next start.
import type { ServiceDefinition } from "@mcp/mcdsl/servicedef";
import { LABEL_COMPONENT, LABEL_SERVICE } from "../runtime/labels.js";
import type { Deploy } from "../store/journal.js";
import type { SagaDeps } from "./context.js";
import { failpoint } from "./failpoint.js";

export interface StopPlan {
  components: string[];
  routes: string[];
  records: string[];
  containers: string[];
  ports: number[];
  /** Every component stops: the service becomes inactive. */
  whole: boolean;
}

/** Stops a service (or some of its components); the caller holds the lock. Returns the deploy id. */
export async function runStop(
  deps: SagaDeps,
  definition: ServiceDefinition,
  components: string[] = [],
): Promise<string> {
  const { registry } = deps;
  const service = definition.name;
  const whole = components.length === 0;
  const names = whole ? definition.components.map((c) => c.name) : components;
  const containers = await deps.podman.list({ [LABEL_SERVICE]: service });
  const plan: StopPlan = {
    components: names,
    whole,
    routes: registry.bindings
      .proxyRoutes(service)
      .filter((b) => names.includes(b.component))
      .map((b) => b.routeId),
    // Records name the service, not a component: they go when the whole service stops.
    records: whole ? registry.bindings.records(service).map((r) => r.recordId) : [],
    containers: [
      ...new Set([
        ...containers.filter((c) => names.includes(c.labels[LABEL_COMPONENT] ?? "")).map((c) => c.name),
        // Adopted containers carry no labels: the registry binds them by name.
        ...names.flatMap((name) => registry.components.get(service, name)?.containerName ?? []),
      ]),
    ],
    ports: registry.leases
      .list(service)
      .filter((l) => names.includes(l.component))
      .map((l) => l.hostPort),
  };
  const deploy = registry.journal.begin({
    service,
    definition,
    kind: "stop",
    previousDeployId: registry.services.get(service)?.currentDeployId,
  });
  const seq = registry.journal.stepStarted(deploy.id, "stop", {
    payload: plan as unknown as Record<string, unknown>,
  });
  failpoint("after", "stop-journalled");
  await finishStop(deps, deploy, plan);
  registry.journal.stepUpdated(seq, "done");
  return deploy.id;
}

/** Does a journalled stop (again): every part is idempotent. */
export async function finishStop(deps: SagaDeps, deploy: Deploy, plan: StopPlan): Promise<void> {
  const { registry, peers } = deps;
  const service = deploy.service;
  for (const id of plan.routes) {
    await peers.mcproxy?.remove(id, service);
    registry.bindings.removeProxyRoute(id);
  }
  for (const id of plan.records) {
    await peers.mcns?.delete(id, service);
    registry.bindings.removeRecord(id);
  }
  for (const name of plan.containers) {
    if (await deps.podman.inspect(name)) await deps.podman.stop(name, deps.stopTimeoutS);
    await deps.podman.remove(name);
  }
  registry.transaction(() => {
    for (const port of plan.ports) registry.leases.release(port);
    for (const component of plan.components) {
      registry.components.unbindContainer(service, component);
      registry.components.setDesiredState(service, component, "stopped");
      for (const route of registry.components.routes(service, component)) {
        registry.components.setRouteHostPort(service, component, route.name, undefined, undefined);
      }
    }
    // The stored definition says so too: ListServices and export show active = false.
    const stored = registry.services.get(service);
    if (plan.whole && stored)
      registry.services.put({ ...stored.definition, active: false }, { desiredState: "stopped" });
    registry.journal.finish(deploy.id, "completed");
  });
}
