// The shape of a saga step (Nomad's allocation runner, as a list of hooks): a name and
// component for the journal, an intent computed when it starts (journalled before it runs, so a
// crash mid-step leaves enough to undo it), `run`, and a compensator that works from the journal
// payload alone, so rollback after a crash is the same code as rollback after a failure.
import type { ServiceDefinition } from "@mcp/mcdsl/servicedef";
import type { Deploy, Payload } from "../store/journal.js";
import type { SagaDeps } from "./context.js";
import type { Plan } from "./plan.js";
import type { Detail, EventStep, StepStatus } from "./progress.js";

export interface DeployState {
  deploy: Deploy;
  service: string;
  definition: ServiceDefinition;
  plan: Plan;
  /** component → route → leased host port (this deploy's). */
  ports: Map<string, Record<string, number>>;
  /** component → the new container. */
  containers: Map<string, { name: string; id: string }>;
  /** Route ids switched to a new backend: the old backend drains before its container stops. */
  switched: string[];
  /** MCNS's zones, read once per deploy. */
  zones?: string[];
}

export interface StepReport {
  step: EventStep;
  status: StepStatus;
  message: string;
  component?: string;
  subject?: string;
  detail: Detail;
}

export interface StepResult {
  /** Merged into the journal entry: what the step made (ids, ports) for compensation. */
  payload?: Payload;
  reports: StepReport[];
}

export interface Step {
  /** The journal's step name (an event step, or "retire"/"commit"). */
  name: string;
  component?: string;
  intent(state: DeployState): Promise<Payload> | Payload;
  /** `note` journals a fact mid-step (e.g. "stopped the old container") for its compensation. */
  run(state: DeployState, intent: Payload, note: (payload: Payload) => void): Promise<StepResult>;
}

/** Undoes one journalled step; must be idempotent and work from the payload alone. */
export type Compensator = (deps: SagaDeps, deploy: Deploy, payload: Payload) => Promise<void>;
