import { ContainerState, DeployOutcome, DriftKind, HealthState } from "@mcp/proto/mcp/agent/v1/status_pb.js";

/** Enum values as the tables show them: "running", "rolled back", "container state". */
const words = (name: string | undefined) => (name ?? "-").toLowerCase().replace(/_/g, " ");

export const containerState = (s: ContainerState) => words(ContainerState[s]);
export const healthState = (s: HealthState) => words(HealthState[s]);
export const outcome = (o: DeployOutcome) => words(DeployOutcome[o]);
export const driftKind = (k: DriftKind) => words(DriftKind[k]);
