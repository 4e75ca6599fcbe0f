import { DeployStep, StepStatus } from "@mcp/proto/mcp/agent/v1/deploy_pb.js";

/** A step as its event names it (`mcp.deploy.<service>.<step>`): the names operators see in NATS. */
const STEP_NAMES: Record<DeployStep, string> = {
  [DeployStep.UNSPECIFIED]: "step",
  [DeployStep.STARTED]: "started",
  [DeployStep.PORT_LEASED]: "port.leased",
  [DeployStep.CERT_READY]: "cert.ready",
  [DeployStep.CONTAINER_STARTED]: "container.started",
  [DeployStep.HEALTH_PASSED]: "health.passed",
  [DeployStep.DNS_PUBLISHED]: "dns.published",
  [DeployStep.ROUTE_ADDED]: "route.added",
  [DeployStep.COMPLETED]: "completed",
  [DeployStep.FAILED]: "failed",
  [DeployStep.ROLLED_BACK]: "rolled_back",
};

export function stepName(step: DeployStep): string {
  return STEP_NAMES[step] ?? String(step);
}

export function statusName(status: StepStatus): string {
  return (StepStatus[status] ?? "-").toLowerCase();
}
