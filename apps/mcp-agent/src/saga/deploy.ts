// The deploy saga (DESIGN.md section 5): validate → plan → lease ports → certificates → start
// new containers beside the old → health gate → DNS records → proxy routes → retire the old →
// commit. Each step is journalled before it runs and after; a failure before `retire` undoes
// the steps in reverse (the old version never stopped serving); from `retire` on, the deploy only
// moves forward. Every outcome is reported (stream + NATS).
import type { ServiceDefinition } from "@mcp/mcdsl/servicedef";
import { PeerError } from "../clients/peer-error.js";
import type { Deploy, DeployKind } from "../store/journal.js";
import { compensate } from "./compensators.js";
import type { SagaDeps } from "./context.js";
import { failpoint } from "./failpoint.js";
import { makePlan, serviceHostnames } from "./plan.js";
import { type ProgressListener, Reporter } from "./progress.js";
import type { DeployState, Step } from "./step.js";
import { certificateStep } from "./steps/certificates.js";
import { containerStep, healthStep } from "./steps/containers.js";
import { leaseStep } from "./steps/leases.js";
import { recordStep } from "./steps/records.js";
import { commit, type RetirePlan, retire, retireStep } from "./steps/retire.js";
import { routeStep } from "./steps/routes.js";

export interface DeployOptions {
  components?: string[];
  kind?: DeployKind;
  onProgress?: ProgressListener;
  /** Called once the deploy has its id (before the first step). */
  onStart?: (deploy: Deploy) => void;
}

/** A deploy that failed and was rolled back: the failing step and its error. */
export class DeployFailedError extends Error {
  readonly deployId: string;
  readonly step: string;
  override readonly cause: unknown;

  constructor(deployId: string, step: string, cause: unknown) {
    super(`deploy ${deployId} failed at ${step}: ${(cause as Error).message ?? String(cause)}; rolled back`);
    this.name = "DeployFailedError";
    this.deployId = deployId;
    this.step = step;
    this.cause = cause;
  }
}

/** Runs one deploy to its end; the caller holds the service's lock. Returns the deploy id. */
export async function runDeploy(
  deps: SagaDeps,
  definition: ServiceDefinition,
  options: DeployOptions = {},
): Promise<string> {
  const { registry } = deps;
  const service = definition.name;
  const plan = await makePlan(deps, definition, options.components ?? []);
  const deploy = registry.journal.begin({
    service,
    definition,
    kind: options.kind ?? "deploy",
    previousDeployId: registry.services.get(service)?.currentDeployId,
  });
  options.onStart?.(deploy);
  const reporter = new Reporter(deps.outbox, deps.logger, options.onProgress);
  const base = { deployId: deploy.id, service };
  const started = Date.now();
  await reporter.report({
    ...base,
    step: "started",
    status: "done",
    message: `deploying ${service}: ${plan.replace.length ? `new containers for ${plan.replace.join(", ")}` : "no container changes"}`,
    detail: { node: deps.node.name, components: plan.replace },
  });

  const state: DeployState = {
    deploy,
    service,
    definition,
    plan,
    ports: new Map(),
    containers: new Map(),
    switched: [],
  };
  const waves = buildWaves(deps, definition, plan.replace);
  let current = "plan";
  try {
    for (const wave of waves) {
      // A wave's steps do not depend on each other: they run together, and all of them settle
      // (each journalled as done or failed) before a failure rolls the deploy back.
      const outcomes = await Promise.allSettled(wave.map((step) => runStep(deps, state, step, reporter)));
      const failed = outcomes.findIndex((o) => o.status === "rejected");
      if (failed >= 0) {
        current = wave[failed]!.name;
        throw (outcomes[failed] as PromiseRejectedResult).reason;
      }
    }
  } catch (err) {
    await rollBack(deps, deploy, reporter, current, err);
    await reporter.flush();
    throw new DeployFailedError(deploy.id, current, err);
  }

  // The point of no return: retire is journalled with everything it will do, then done.
  const seq = registry.journal.stepStarted(deploy.id, "retire", {
    payload: await retireStep(deps).intent(state),
  });
  failpoint("after", "retire-journalled");
  const retirePlan = registry.journal.entry(seq)!.payload as unknown as RetirePlan;
  const warnings = await retire(deps, retirePlan, service);
  registry.journal.stepUpdated(seq, "done", { payload: { warnings } });
  failpoint("after", "retire");
  await commit(deps, deploy, retirePlan);
  await reporter.report({
    ...base,
    step: "completed",
    status: "done",
    message: `${service} deployed in ${Date.now() - started} ms${warnings.length ? ` (warnings: ${warnings.join("; ")})` : ""}`,
    detail: { durationMs: Date.now() - started, ...(warnings.length ? { warnings } : {}) },
  });
  await reporter.flush();
  return deploy.id;
}

/**
 * The deploy's steps in waves, each wave's steps independent of each other so they run together
 * (a deploy should cost little more than the `podman run` it wraps):
 * leases → the certificate, with the containers that do not mount it → containers with L4 routes
 * (they mount the certificate) → health gates → DNS records → proxy routes (last, as DESIGN.md
 * orders them: traffic arrives only once everything else is in place).
 */
function buildWaves(deps: SagaDeps, definition: ServiceDefinition, replace: string[]): Step[][] {
  const components = definition.components.filter((c) => replace.includes(c.name));
  const mountsCertificate = (c: (typeof components)[number]) => c.routes.some((r) => r.mode === "l4");
  const hostnames = serviceHostnames(definition);
  const waves: Step[][] = [
    components.flatMap((c) => c.routes.map((r) => leaseStep(deps, c.name, r.name))),
    [
      ...(hostnames.length > 0 ? [certificateStep(deps)] : []),
      ...components.filter((c) => !mountsCertificate(c)).map((c) => containerStep(deps, c)),
    ],
    components.filter(mountsCertificate).map((c) => containerStep(deps, c)),
    components.map((c) => healthStep(deps, c)),
    hostnames.map((name) => recordStep(deps, name)),
    components.flatMap((c) => c.routes.flatMap((r) => r.hostnames.map((h) => routeStep(deps, c.name, r, h)))),
  ];
  return waves.filter((wave) => wave.length > 0);
}

async function runStep(deps: SagaDeps, state: DeployState, step: Step, reporter: Reporter): Promise<void> {
  const { journal } = deps.registry;
  const intent = await step.intent(state);
  const seq = journal.stepStarted(state.deploy.id, step.name, { component: step.component, payload: intent });
  failpoint("before", step.name);
  try {
    const result = await step.run(state, intent, (payload) =>
      journal.stepUpdated(seq, "started", { payload }),
    );
    // The step's events are recorded with its journal update: a crash from here on loses none.
    const reported = deps.registry.transaction(() => {
      journal.stepUpdated(seq, "done", { payload: result.payload });
      return result.reports.map((report) =>
        reporter.prepare({ deployId: state.deploy.id, service: state.service, ...report }),
      );
    });
    failpoint("after", step.name);
    for (const progress of reported) reporter.send(progress);
  } catch (err) {
    // A call that never reached its peer had no effect: compensation can skip it (and must, as
    // that peer is likely still down).
    const noEffect = err instanceof PeerError && err.notDelivered;
    journal.stepUpdated(seq, "failed", {
      error: (err as Error).message,
      payload: noEffect ? { noEffect } : {},
    });
    throw err;
  }
}

/**
 * Undoes what the deploy did, reports failed + rolled_back and ends it as rolled back. Returns
 * what could not be undone (the deploy then stays in progress), or undefined.
 */
export async function rollBack(
  deps: SagaDeps,
  deploy: Deploy,
  reporter: Reporter,
  step: string,
  err: unknown,
): Promise<string | undefined> {
  const base = { deployId: deploy.id, service: deploy.service };
  const error = (err as Error).message ?? String(err);
  await reporter.report({
    ...base,
    step: "failed",
    status: "failed",
    message: `${step} failed: ${error}`,
    detail: { step, error },
  });
  let undone: string[] = [];
  let problem: string | undefined;
  try {
    undone = await compensate(deps, deploy, async (entry) => {
      await reporter.report({
        ...base,
        step: eventStepOf(entry.step),
        status: "undone",
        component: entry.component || undefined,
        message: `undone: ${entry.step}${entry.component ? ` ${entry.component}` : ""}`,
        detail: { ...(entry.payload as Record<string, string>) },
      });
    });
  } catch (compensationError) {
    // Left in progress: recovery at the next start (or the next deploy) tries again.
    problem = (compensationError as Error).message;
    deps.logger.error({ deployId: deploy.id, err: problem }, "rollback failed; the deploy stays in progress");
  }
  if (problem === undefined) deps.registry.journal.finish(deploy.id, "rolled_back", `${step}: ${error}`);
  await reporter.report({
    ...base,
    step: "rolled_back",
    status: problem === undefined ? "done" : "failed",
    message:
      problem === undefined
        ? `rolled back (${undone.length} steps undone); the previous version keeps serving`
        : `rollback incomplete: ${problem}; it is retried when the agent restarts`,
    detail: { undone, ...(problem ? { error: problem } : {}) },
  });
  return problem;
}

function eventStepOf(step: string): "port.leased" | "container.started" | "dns.published" | "route.added" {
  return step as "port.leased";
}
