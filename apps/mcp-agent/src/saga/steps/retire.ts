// retire and commit: past the point of no return. The routes point at the new containers, so
// what is left only moves forward: unused routes and records go, the old backends drain, the old
// containers stop and are removed, the new ones take the canonical names, the old ports go back
// to the pool, and the registry commits the new version. The intent (journalled before any of
// it) holds everything, so a crash here is finished at the next start, never undone.
import { LABEL_COMPONENT, LABEL_DEPLOY, LABEL_SERVICE } from "../../runtime/labels.js";
import type { Deploy, Payload } from "../../store/journal.js";
import type { SagaDeps } from "../context.js";
import { serviceHostnames } from "../plan.js";
import type { DeployState, Step } from "../step.js";

export interface RetirePlan {
  removeRoutes: string[];
  removeRecords: string[];
  drainRoutes: string[];
  stopContainers: string[];
  renames: { from: string; to: string }[];
  releasePorts: number[];
  /** What the registry records at commit. */
  commit: {
    components: { name: string; container: string; containerId: string; ports: Record<string, number> }[];
    keep: string[];
  };
}

export function retireStep(deps: SagaDeps): Step {
  return {
    name: "retire",
    intent: (state) => retirePlan(deps, state) as unknown as Payload,
    async run(_state, intent) {
      const warnings = await retire(deps, intent as unknown as RetirePlan, _state.service);
      return { payload: { warnings }, reports: [] };
    },
  };
}

async function retirePlan(deps: SagaDeps, state: DeployState): Promise<RetirePlan> {
  const { registry } = deps;
  const { service, definition, plan } = state;
  const replaced = new Set(plan.replace);
  const removed = new Set(plan.remove);
  const wanted = new Set(
    definition.components.flatMap((c) =>
      c.routes.flatMap((r) => r.hostnames.map((h) => `${c.name}/${r.name}/${h}/${r.port}/${r.mode}`)),
    ),
  );
  const names = serviceHostnames(definition);
  // podman's view from the plan: containers this deploy made are excluded anyway.
  const containers = plan.observed.filter((c) => c.labels[LABEL_SERVICE] === service);
  const newNames = new Set([...state.containers.values()].map((c) => c.name));
  const stopContainers = containers
    .filter(
      (c) => replaced.has(c.labels[LABEL_COMPONENT] ?? "") || removed.has(c.labels[LABEL_COMPONENT] ?? ""),
    )
    .filter((c) => c.labels[LABEL_DEPLOY] !== state.deploy.id && !newNames.has(c.name))
    .map((c) => c.name);
  // Containers the registry binds without the agent's labels (adopted ones) go too.
  for (const component of [...replaced, ...removed]) {
    const bound = registry.components.get(service, component)?.containerName;
    if (bound && !newNames.has(bound) && !stopContainers.includes(bound)) stopContainers.push(bound);
  }
  const routeSpec = new Map(definition.components.map((c) => [c.name, new Set(c.routes.map((r) => r.name))]));
  return {
    removeRoutes: registry.bindings
      .proxyRoutes(service)
      .filter((b) => !wanted.has(`${b.component}/${b.route}/${b.hostname}/${b.listenerPort}/${b.mode}`))
      .map((b) => b.routeId),
    removeRecords: registry.bindings
      .records(service)
      .filter((r) => !names.includes(r.name))
      .map((r) => r.recordId),
    drainRoutes: [...state.switched],
    stopContainers,
    renames: [...state.containers.entries()]
      .filter(([component, c]) => c.name !== `${service}-${component}`)
      .map(([component, c]) => ({ from: c.name, to: `${service}-${component}` })),
    releasePorts: registry.leases
      .list(service)
      .filter(
        (l) =>
          l.deployId !== state.deploy.id &&
          (replaced.has(l.component) ||
            removed.has(l.component) ||
            !routeSpec.get(l.component)?.has(l.route)),
      )
      .map((l) => l.hostPort),
    commit: {
      components: [...state.containers.entries()].map(([name, c]) => ({
        name,
        container: c.name,
        containerId: c.id,
        ports: state.ports.get(name) ?? {},
      })),
      keep: definition.components.map((c) => c.name).filter((n) => !replaced.has(n)),
    },
  };
}

/** Does the retirement; every part is idempotent. Returns what could not be done (logged). */
export async function retire(deps: SagaDeps, plan: RetirePlan, service: string): Promise<string[]> {
  const warnings: string[] = [];
  const attempt = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      warnings.push(`${what}: ${(err as Error).message}`);
      deps.logger.warn({ service, err: (err as Error).message }, `retire: ${what} failed`);
    }
  };
  const { mcproxy, mcns } = deps.peers;
  for (const id of plan.removeRoutes) {
    await attempt(`remove route ${id}`, async () => {
      await mcproxy?.remove(id, service);
      deps.registry.bindings.removeProxyRoute(id);
    });
  }
  for (const id of plan.removeRecords) {
    await attempt(`delete record ${id}`, async () => {
      await mcns?.delete(id, service);
      deps.registry.bindings.removeRecord(id);
    });
  }
  // In-flight work on the old backends finishes (or hits mc-proxy's drain deadline) first.
  if (mcproxy && plan.drainRoutes.length > 0) {
    const until = Date.now() + deps.drainMs + 2000;
    for (const id of plan.drainRoutes) {
      await attempt(`drain route ${id}`, async () => {
        while (Date.now() < until && ((await mcproxy.get(id))?.draining.length ?? 0) > 0) {
          await new Promise((r) => setTimeout(r, 100));
        }
      });
    }
  }
  for (const name of plan.stopContainers) {
    await attempt(`stop ${name}`, async () => {
      if (await deps.podman.inspect(name)) await deps.podman.stop(name, deps.stopTimeoutS);
      await deps.podman.remove(name);
    });
  }
  for (const { from, to } of plan.renames) {
    await attempt(`rename ${from} to ${to}`, async () => {
      if ((await deps.podman.inspect(from)) && !(await deps.podman.inspect(to)))
        await deps.podman.rename(from, to);
    });
  }
  for (const port of plan.releasePorts) deps.registry.leases.release(port);
  return warnings;
}

/** Records the new version in the registry, in one transaction, and ends the deploy. */
export async function commit(deps: SagaDeps, deploy: Deploy, plan: RetirePlan): Promise<void> {
  const { registry } = deps;
  const service = deploy.service;
  const names = new Map<string, string>();
  for (const c of plan.commit.components) {
    const renamed = plan.renames.find((r) => r.from === c.container);
    const info = renamed ? await deps.podman.inspect(renamed.to) : undefined;
    names.set(c.name, info && info.labels[LABEL_DEPLOY] === deploy.id ? renamed!.to : c.container);
  }
  registry.transaction(() => {
    registry.services.put(deploy.definition, { desiredState: "running" });
    for (const c of plan.commit.components) {
      registry.components.bindContainer(service, c.name, {
        containerName: names.get(c.name) ?? c.container,
        containerId: c.containerId,
        deployId: deploy.id,
        startedAt: new Date(),
      });
      registry.components.setHealth(service, c.name, "healthy");
      for (const [route, port] of Object.entries(c.ports)) {
        registry.components.setRouteHostPort(service, c.name, route, port, deploy.id);
      }
    }
    // Kept components keep their ports: the leases move to this deploy, which is now current.
    for (const lease of registry.leases.list(service)) {
      if (plan.commit.keep.includes(lease.component)) registry.leases.transfer(lease.hostPort, deploy.id);
    }
    registry.services.setCurrentDeploy(service, deploy.id);
    registry.journal.finish(deploy.id, "completed");
  });
}
