// Which journalled step is undone how. Steps missing here (cert.ready, health.passed) leave
// nothing to undo. After the per-step undo, `sweep` removes whatever a step interrupted between
// its effect and its journal update could have left: containers labelled with the deploy and
// leases held by it.
import { LABEL_DEPLOY } from "../runtime/labels.js";
import type { Deploy, JournalEntry } from "../store/journal.js";
import type { SagaDeps } from "./context.js";
import type { Compensator } from "./step.js";
import { undoContainer } from "./steps/containers.js";
import { undoLease } from "./steps/leases.js";
import { undoRecord } from "./steps/records.js";
import { undoRoute } from "./steps/routes.js";

const compensators: Record<string, Compensator> = {
  "port.leased": undoLease,
  "container.started": undoContainer,
  "dns.published": undoRecord,
  "route.added": undoRoute,
};

/** Undoes every step of a deploy that may have had effects, newest first; returns their names. */
export async function compensate(
  deps: SagaDeps,
  deploy: Deploy,
  onUndone?: (entry: JournalEntry) => Promise<void>,
): Promise<string[]> {
  const { journal } = deps.registry;
  const undone: string[] = [];
  const entries = journal.entries(deploy.id).reverse();
  // Routes first whatever their order: traffic leaves the new containers before they go.
  entries.sort((a, b) => Number(b.step === "route.added") - Number(a.step === "route.added"));
  const problems: string[] = [];
  for (const entry of entries) {
    if (entry.state === "compensated") continue;
    const undo = compensators[entry.step];
    if (!undo || entry.payload.noEffect) continue;
    journal.stepUpdated(entry.seq, "compensating");
    try {
      await undo(deps, deploy, entry.payload);
    } catch (err) {
      // The other steps are still undone; this one is retried (recovery) until it succeeds.
      problems.push(
        `undo ${entry.step}${entry.component ? ` ${entry.component}` : ""}: ${(err as Error).message}`,
      );
      continue;
    }
    journal.stepUpdated(entry.seq, "compensated");
    undone.push(entry.component ? `${entry.step} ${entry.component}` : entry.step);
    await onUndone?.(entry);
  }
  if (problems.length > 0) throw new Error(problems.join("; "));
  await sweep(deps, deploy);
  return undone;
}

async function sweep(deps: SagaDeps, deploy: Deploy): Promise<void> {
  for (const container of await deps.podman.list({ [LABEL_DEPLOY]: deploy.id })) {
    await deps.podman.remove(container.name);
  }
  deps.registry.leases.releaseDeploy(deploy.id);
}
