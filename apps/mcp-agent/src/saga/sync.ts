// SyncServices: make the node match a set of definitions. Each one is stored; an active one that
// is new, changed or not running is deployed; an inactive one is stopped; with prune, services
// missing from the set are stopped and forgotten. One service's failure does not stop the others.

import { Code, ConnectError } from "@connectrpc/connect";
import type { ServiceDefinition } from "@mcp/mcdsl/servicedef";
import type { Operations } from "./operations.js";

export type SyncAction = "unchanged" | "deployed" | "stopped" | "removed" | "failed";

export interface SyncResult {
  service: string;
  action: SyncAction;
  deployId?: string;
  error?: string;
}

// Its refusals are ConnectErrors, not OperationErrors: the SyncServices handler passes errors on as
// they are.
export async function syncServices(
  ops: Operations,
  definitions: ServiceDefinition[],
  options: { prune: boolean; dryRun: boolean },
): Promise<SyncResult[]> {
  const { registry } = ops.deps;
  refuseTwice(definitions);
  // As the CLI refuses to send it: an empty set with prune is "remove every service on the node",
  // what an empty or mistyped services directory (or a CI's bad checkout) looks like.
  if (options.prune && definitions.length === 0 && !options.dryRun) {
    throw new ConnectError(
      "prune with no definitions would stop and forget every service on this node; send the definitions to keep (or stop services by name)",
      Code.InvalidArgument,
    );
  }
  const results: SyncResult[] = [];
  for (const definition of definitions) {
    const service = definition.name;
    try {
      const stored = registry.services.get(service);
      if (!definition.active) {
        if (!stored) {
          if (!options.dryRun) registry.services.put(definition);
          results.push({ service, action: "unchanged" });
        } else if (stored.desiredState === "stopped" && !stored.active) {
          results.push({ service, action: "unchanged" });
        } else {
          const deployId = options.dryRun ? undefined : await ops.stop(service);
          results.push({ service, action: "stopped", deployId });
        }
        continue;
      }
      const plan = await ops.plan(definition);
      if (!plan.hasChanges && stored?.desiredState === "running") {
        results.push({ service, action: "unchanged" });
        continue;
      }
      const deployId = options.dryRun ? undefined : await ops.deploy(definition);
      results.push({ service, action: "deployed", deployId });
    } catch (err) {
      results.push({ service, action: "failed", error: (err as Error).message });
    }
  }
  if (options.prune) {
    const wanted = new Set(definitions.map((d) => d.name));
    for (const stored of registry.services.list()) {
      if (wanted.has(stored.name)) continue;
      try {
        let deployId: string | undefined;
        if (!options.dryRun) {
          deployId = await ops.stop(stored.name);
          ops.forget(stored.name);
        }
        results.push({ service: stored.name, action: "removed", deployId });
      } catch (err) {
        results.push({ service: stored.name, action: "failed", error: (err as Error).message });
      }
    }
  }
  return results;
}

/**
 * A set naming a service twice is refused whole, before anything is done: which of the two the
 * operator meant is not the agent's to guess (in order, the last would silently win).
 */
function refuseTwice(definitions: ServiceDefinition[]): void {
  const first = new Map<string, number>();
  const twice: string[] = [];
  definitions.forEach((definition, index) => {
    const at = first.get(definition.name);
    if (at === undefined) first.set(definition.name, index);
    else twice.push(`services[${index}]: ${definition.name} is defined twice (first at services[${at}])`);
  });
  if (twice.length > 0) throw new ConnectError(twice.join("\n"), Code.InvalidArgument);
}
