// The agent's plain status types (status/observe.ts, store/*) as mcp.agent.v1 status messages.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { toServiceSpec } from "@mcp/mcdsl/servicedef";
import { RouteMode } from "@mcp/proto/mcp/agent/v1/spec_pb.js";
import {
  CertificateBindingSchema,
  type ComponentStatus,
  ComponentStatusSchema,
  ContainerState,
  DeployOutcome,
  type DeployRecord,
  DeployRecordSchema,
  DriftKind,
  DriftSchema,
  HealthState,
  PortLeaseSchema,
  RecordBindingSchema,
  RouteBindingSchema,
  type ServiceInfo,
  ServiceInfoSchema,
} from "@mcp/proto/mcp/agent/v1/status_pb.js";
import type { Drift, ObservedComponent, ServiceState } from "../status/observe.js";
import type { CertificateBinding, ProxyRouteBinding, RecordBinding } from "../store/bindings.js";
import type { Health, ObservedState } from "../store/components.js";
import type { Deploy } from "../store/journal.js";
import type { PortLease } from "../store/leases.js";

/** What an environment value reads as to a caller who may not see it. */
export const HIDDEN_ENV_VALUE = "(hidden: needs the admin role)";

/**
 * A service's definition and state. `envValues: "hidden"` for callers without the admin role:
 * environment values are where definitions keep secrets (a database password, an API key), and
 * any valid token may read the registry.
 */
export function toServiceInfo(state: ServiceState, envValues: "shown" | "hidden" = "shown"): ServiceInfo {
  const spec = toServiceSpec(state.service.definition);
  if (envValues === "hidden") {
    for (const component of spec.components) {
      for (const name of Object.keys(component.env)) component.env[name] = HIDDEN_ENV_VALUE;
    }
  }
  return create(ServiceInfoSchema, {
    spec,
    components: state.components.map(toComponentStatus),
    lastDeploy: state.lastDeploy && toDeployRecord(state.lastDeploy),
  });
}

function toComponentStatus(c: ObservedComponent): ComponentStatus {
  const image = c.container?.image ?? c.image;
  const tag = /:([\w][\w.-]*)$/.exec(image.split("@")[0]!.split("/").pop() ?? "")?.[1];
  return create(ComponentStatusSchema, {
    name: c.name,
    desiredState: c.desiredState === "running" ? ContainerState.RUNNING : ContainerState.STOPPED,
    observedState: OBSERVED[c.observedState],
    containerId: c.container?.id ?? "",
    containerName: c.container?.name ?? c.containerName ?? "",
    image,
    version: tag ?? "latest",
    startTime: c.container?.startedAt && timestampFromDate(c.container.startedAt),
    restartCount: c.restartCount,
    health: HEALTH[c.health],
  });
}

function toDeployRecord(deploy: Deploy): DeployRecord {
  return create(DeployRecordSchema, {
    id: deploy.id,
    outcome: OUTCOME[deploy.outcome],
    startTime: timestampFromDate(deploy.startedAt),
    endTime: deploy.endedAt && timestampFromDate(deploy.endedAt),
    error: deploy.error ?? "",
  });
}

export function toDrift(drift: Drift) {
  return create(DriftSchema, {
    kind: DRIFT[drift.kind],
    component: drift.component,
    expected: drift.expected,
    observed: drift.observed,
    message: drift.message,
  });
}

export function toPortLease(l: PortLease) {
  return create(PortLeaseSchema, {
    hostPort: l.hostPort,
    service: l.service,
    component: l.component,
    route: l.route,
    deployId: l.deployId,
    leaseTime: timestampFromDate(l.leasedAt),
  });
}

export function toCertificateBinding(c: CertificateBinding) {
  return create(CertificateBindingSchema, {
    hostname: c.hostname,
    serial: c.serial,
    notAfter: timestampFromDate(c.notAfter),
    certFile: c.certFile,
    keyFile: c.keyFile,
    caFile: c.caFile,
  });
}

export function toRouteBinding(r: ProxyRouteBinding) {
  return create(RouteBindingSchema, {
    routeId: r.routeId,
    component: r.component,
    route: r.route,
    hostname: r.hostname,
    listenerPort: r.listenerPort,
    mode: r.mode === "l4" ? RouteMode.L4 : RouteMode.L7,
    backend: r.backend,
  });
}

export function toRecordBinding(r: RecordBinding) {
  return create(RecordBindingSchema, { recordId: r.recordId, name: r.name, type: r.type, value: r.value });
}

const OBSERVED: Record<ObservedState, ContainerState> = {
  unknown: ContainerState.UNSPECIFIED,
  running: ContainerState.RUNNING,
  stopped: ContainerState.STOPPED,
  created: ContainerState.CREATED,
  paused: ContainerState.PAUSED,
  missing: ContainerState.MISSING,
};

const HEALTH: Record<Health, HealthState> = {
  unknown: HealthState.UNKNOWN,
  healthy: HealthState.HEALTHY,
  unhealthy: HealthState.UNHEALTHY,
};

const OUTCOME: Record<Deploy["outcome"], DeployOutcome> = {
  in_progress: DeployOutcome.IN_PROGRESS,
  completed: DeployOutcome.COMPLETED,
  rolled_back: DeployOutcome.ROLLED_BACK,
};

const DRIFT: Record<Drift["kind"], DriftKind> = {
  container_state: DriftKind.CONTAINER_STATE,
  image: DriftKind.IMAGE,
  port: DriftKind.PORT,
  route: DriftKind.ROUTE,
  record: DriftKind.RECORD,
  certificate: DriftKind.CERTIFICATE,
};
