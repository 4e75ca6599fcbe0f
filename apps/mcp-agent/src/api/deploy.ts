// The saga's plain values as mcp.agent.v1 messages (DeployResponse, PlanResponse), and its errors
// as Connect errors with the codes the proto promises.
import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { ChangeAction, DeployStep, StepStatus } from "@mcp/proto/mcp/agent/v1/deploy_pb.js";
import {
  type DeployResponse,
  DeployResponseSchema,
  type PlanResponse,
  PlanResponseSchema,
} from "@mcp/proto/mcp/agent/v1/service_pb.js";
import { RouteMode } from "@mcp/proto/mcp/agent/v1/spec_pb.js";
import { PeerError } from "../clients/peer-error.js";
import { PortsExhaustedError } from "../ports/allocator.js";
import { PodmanError } from "../runtime/errors.js";
import { StepError } from "../saga/context.js";
import { DeployFailedError } from "../saga/deploy.js";
import { ServiceBusyError } from "../saga/locks.js";
import { OperationError } from "../saga/operations.js";
import type { Action, Plan } from "../saga/plan.js";
import type { Progress } from "../saga/progress.js";

const STEPS: Record<Progress["step"], DeployStep> = {
  started: DeployStep.STARTED,
  "port.leased": DeployStep.PORT_LEASED,
  "cert.ready": DeployStep.CERT_READY,
  "container.started": DeployStep.CONTAINER_STARTED,
  "health.passed": DeployStep.HEALTH_PASSED,
  "dns.published": DeployStep.DNS_PUBLISHED,
  "route.added": DeployStep.ROUTE_ADDED,
  completed: DeployStep.COMPLETED,
  failed: DeployStep.FAILED,
  rolled_back: DeployStep.ROLLED_BACK,
};

const STATUSES: Record<Progress["status"], StepStatus> = {
  done: StepStatus.DONE,
  skipped: StepStatus.SKIPPED,
  failed: StepStatus.FAILED,
  undone: StepStatus.UNDONE,
};

export function toDeployResponse(p: Progress): DeployResponse {
  return create(DeployResponseSchema, {
    deployId: p.deployId,
    step: STEPS[p.step] ?? DeployStep.UNSPECIFIED,
    status: STATUSES[p.status],
    message: p.message,
    detail: JSON.parse(JSON.stringify(p.detail)) as JsonObject,
    time: timestampFromDate(p.time),
    component: p.component ?? "",
  });
}

const ACTIONS: Record<Action, ChangeAction> = {
  create: ChangeAction.CREATE,
  update: ChangeAction.UPDATE,
  delete: ChangeAction.DELETE,
  keep: ChangeAction.KEEP,
};
const mode = (m: "l4" | "l7") => (m === "l4" ? RouteMode.L4 : RouteMode.L7);

export function toPlanResponse(plan: Plan): PlanResponse {
  return create(PlanResponseSchema, {
    ports: plan.ports.map((p) => ({ ...p, action: ACTIONS[p.action] })),
    certificates: plan.certificates.map((c) => ({
      action: ACTIONS[c.action],
      hostname: c.hostname,
      serial: c.serial,
      notAfter: c.notAfter ? timestampFromDate(c.notAfter) : undefined,
      reason: c.reason,
    })),
    records: plan.records.map((r) => ({ ...r, action: ACTIONS[r.action] })),
    routes: plan.routes.map((r) => ({ ...r, action: ACTIONS[r.action], mode: mode(r.mode) })),
    containers: plan.containers.map((c) => ({ ...c, action: ACTIONS[c.action] })),
    hasChanges: plan.hasChanges,
  });
}

/** Any error of an operation as the ConnectError the caller gets. */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof DeployFailedError) {
    return new ConnectError(err.message, codeOf(err.cause));
  }
  return new ConnectError((err as Error).message ?? String(err), codeOf(err));
}

function codeOf(err: unknown): Code {
  if (err instanceof PeerError) return err.code;
  if (err instanceof PortsExhaustedError) return Code.ResourceExhausted;
  if (err instanceof ServiceBusyError) return Code.Aborted;
  if (err instanceof OperationError || err instanceof StepError) return CODES[err.code] ?? Code.Internal;
  if (err instanceof PodmanError)
    return err.code === "UNAVAILABLE" || err.code === "TIMEOUT" ? Code.Unavailable : Code.FailedPrecondition;
  return Code.Internal;
}

const CODES: Record<string, Code> = {
  INVALID_ARGUMENT: Code.InvalidArgument,
  FAILED_PRECONDITION: Code.FailedPrecondition,
  NOT_FOUND: Code.NotFound,
  ALREADY_EXISTS: Code.AlreadyExists,
  DEADLINE_EXCEEDED: Code.DeadlineExceeded,
  ABORTED: Code.Aborted,
};
