// Crash recovery (DESIGN.md section 5): at start-up, every saga the journal shows in progress is
// finished. A deploy that reached `retire` is rolled forward (its routes already point at the new
// containers); one that did not is rolled back from its journal, so no lease, route, record or
// container it made is left behind. A stop is finished. Runs before lease reclaim.
import type { Deploy } from "../store/journal.js";
import type { SagaDeps } from "./context.js";
import { rollBack } from "./deploy.js";
import { Reporter } from "./progress.js";
import { commit, type RetirePlan, retire } from "./steps/retire.js";
import { finishStop, type StopPlan } from "./stop.js";

export interface Recovered {
  deployId: string;
  service: string;
  outcome: "rolled_back" | "rolled_forward" | "stopped" | "failed";
  error?: string;
}

/** Recovers every saga in progress, or only the given deploys (a retry after a peer was down). */
export async function recoverSagas(deps: SagaDeps, only?: Set<string>): Promise<Recovered[]> {
  const out: Recovered[] = [];
  for (const deploy of deps.registry.journal.inProgress()) {
    if (only && !only.has(deploy.id)) continue;
    try {
      out.push({ deployId: deploy.id, service: deploy.service, outcome: await recoverOne(deps, deploy) });
    } catch (err) {
      const error = (err as Error).message;
      deps.logger.error(
        { deployId: deploy.id, service: deploy.service, err: error },
        "recovery failed; retried at the next start",
      );
      out.push({ deployId: deploy.id, service: deploy.service, outcome: "failed", error });
    }
  }
  return out;
}

async function recoverOne(deps: SagaDeps, deploy: Deploy): Promise<Recovered["outcome"]> {
  const { journal } = deps.registry;
  const entries = journal.entries(deploy.id);
  if (deploy.kind === "stop") {
    const entry = entries.find((e) => e.step === "stop");
    if (entry) await finishStop(deps, deploy, entry.payload as unknown as StopPlan);
    else journal.finish(deploy.id, "completed");
    return "stopped";
  }
  if (deploy.kind === "restart") {
    journal.finish(deploy.id, "completed");
    return "rolled_forward";
  }
  const retireEntry = entries.find((e) => e.step === "retire");
  if (retireEntry) {
    const plan = retireEntry.payload as unknown as RetirePlan;
    await retire(deps, plan, deploy.service);
    journal.stepUpdated(retireEntry.seq, "done");
    await commit(deps, deploy, plan);
    deps.logger.info({ deployId: deploy.id, service: deploy.service }, "recovered: deploy rolled forward");
    return "rolled_forward";
  }
  const last = entries.filter((e) => e.state === "started" || e.state === "failed").at(-1) ?? entries.at(-1);
  const step = last ? last.step : "started";
  const problem = await rollBack(
    deps,
    deploy,
    new Reporter(deps.outbox, deps.logger),
    step,
    new Error("the agent stopped during the deploy"),
  );
  if (problem !== undefined) throw new Error(problem); // recorded as "failed" with the reason
  return "rolled_back";
}
