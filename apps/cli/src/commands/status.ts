import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  AgentService,
  type GetServiceStatusResponse,
  GetServiceStatusResponseSchema,
  ListServicesResponseSchema,
} from "@mcp/proto/mcp/agent/v1/service_pb.js";
import { RouteMode } from "@mcp/proto/mcp/agent/v1/spec_pb.js";
import type { Drift, ServiceInfo } from "@mcp/proto/mcp/agent/v1/status_pb.js";
import type { Command } from "commander";
import { containerState, driftKind, healthState, outcome } from "../agent/states.js";
import { type CliContext, contextOf } from "../context.js";
import { messageJson } from "../output/json.js";
import { table, when } from "../output/table.js";

/** `mcp status [service]`, `mcp ps`, `mcp list`: what a node's agent knows and sees. */
export function registerStatus(program: Command): void {
  program
    .command("status [service]")
    .description("desired and observed state of services, and the drift between them")
    .action(async (service: string | undefined, _options, command: Command) => {
      const context = contextOf(command);
      if (service !== undefined) return serviceStatus(context, service);
      const agent = context.client(AgentService, "agent");
      const { services } = await agent.listServices({});
      const statuses = await Promise.all(services.map((s) => agent.getServiceStatus({ name: s.spec!.name })));
      context.print(
        table(
          ["SERVICE", "COMPONENT", "DESIRED", "OBSERVED", "HEALTH", "VERSION", "DRIFT"],
          statuses.flatMap((status) =>
            status.service!.components.map((c) => [
              status.service!.spec!.name,
              c.name,
              containerState(c.desiredState),
              containerState(c.observedState),
              healthState(c.health),
              c.version || "-",
              driftSummary(status.drift.filter((d) => d.component === c.name || d.component === "")),
            ]),
          ),
        ),
        { services: statuses.map((s) => messageJson(GetServiceStatusResponseSchema, s)) },
      );
    });

  program
    .command("ps")
    .description("the containers of every service on a node")
    .action(async (_options, command: Command) => {
      const context = contextOf(command);
      const response = await context.client(AgentService, "agent").listServices({});
      context.print(
        table(
          ["SERVICE", "COMPONENT", "CONTAINER", "ID", "IMAGE", "STATE", "STARTED", "RESTARTS"],
          response.services.flatMap((s) =>
            s.components.map((c) => [
              s.spec!.name,
              c.name,
              c.containerName || "-",
              c.containerId.slice(0, 12) || "-",
              c.image || "-",
              containerState(c.observedState),
              when(c.startTime && timestampDate(c.startTime)),
              c.restartCount,
            ]),
          ),
        ),
        messageJson(ListServicesResponseSchema, response),
      );
    });

  program
    .command("list")
    .description("the services a node's agent knows, with their last deploy")
    .action(async (_options, command: Command) => {
      const context = contextOf(command);
      const response = await context.client(AgentService, "agent").listServices({});
      context.print(
        table(
          ["SERVICE", "NODE", "ACTIVE", "COMPONENTS", "RUNNING", "LAST DEPLOY"],
          response.services.map((s) => [
            s.spec!.name,
            s.spec!.node || "-",
            s.spec!.active ? "yes" : "no",
            s.components.length,
            s.components.filter((c) => containerState(c.observedState) === "running").length,
            lastDeploy(s),
          ]),
        ),
        messageJson(ListServicesResponseSchema, response),
      );
    });
}

async function serviceStatus(context: CliContext, name: string): Promise<void> {
  const status = await context.client(AgentService, "agent").getServiceStatus({ name });
  context.print(formatStatus(status), messageJson(GetServiceStatusResponseSchema, status));
}

function formatStatus(status: GetServiceStatusResponse): string {
  const service = status.service!;
  const spec = service.spec!;
  const parts = [
    `${spec.name}: ${spec.active ? "active" : "inactive"}${spec.node ? ` on node ${spec.node}` : ""}; last deploy ${lastDeploy(service)}`,
    table(
      ["COMPONENT", "DESIRED", "OBSERVED", "HEALTH", "VERSION", "RESTARTS", "CONTAINER"],
      service.components.map((c) => [
        c.name,
        containerState(c.desiredState),
        containerState(c.observedState),
        healthState(c.health),
        c.version || "-",
        c.restartCount,
        c.containerName,
      ]),
    ),
  ];
  const section = (title: string, head: string[], rows: (string | number)[][]) => {
    if (rows.length > 0) parts.push(`${title}:\n${table(head, rows)}`);
  };
  section(
    "ports",
    ["HOST PORT", "COMPONENT", "ROUTE"],
    status.ports.map((p) => [p.hostPort, p.component, p.route || "-"]),
  );
  section(
    "routes",
    ["HOSTNAME", "PORT", "MODE", "BACKEND", "ROUTE ID"],
    status.routes.map((r) => [
      r.hostname,
      r.listenerPort,
      r.mode === RouteMode.L4 ? "l4" : "l7",
      r.backend,
      r.routeId,
    ]),
  );
  section(
    "records",
    ["NAME", "TYPE", "VALUE", "RECORD ID"],
    status.records.map((r) => [r.name, r.type, r.value, r.recordId]),
  );
  section(
    "certificates",
    ["HOSTNAME", "SERIAL", "NOT AFTER"],
    status.certificates.map((c) => [c.hostname, c.serial, when(c.notAfter && timestampDate(c.notAfter))]),
  );
  parts.push(
    status.drift.length === 0
      ? "drift: none (the node matches the registry)"
      : `drift:\n${status.drift.map((d) => `  ${driftLine(d)}`).join("\n")}`,
  );
  return parts.join("\n\n");
}

function driftLine(d: Drift): string {
  const where = d.component ? ` ${d.component}` : "";
  return `${driftKind(d.kind)}${where}: expected ${d.expected || "-"}, observed ${d.observed || "-"}${d.message ? ` (${d.message})` : ""}`;
}

function driftSummary(drift: Drift[]): string {
  if (drift.length === 0) return "-";
  return drift.map((d) => `${driftKind(d.kind)}: ${d.observed || d.message}`).join("; ");
}

function lastDeploy(service: ServiceInfo): string {
  const d = service.lastDeploy;
  if (!d) return "-";
  const at = d.endTime ?? d.startTime;
  return `${outcome(d.outcome)} ${when(at && timestampDate(at))}${d.error ? ` (${d.error})` : ""}`;
}
