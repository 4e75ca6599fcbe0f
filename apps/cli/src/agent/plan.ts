import { ChangeAction } from "@mcp/proto/mcp/agent/v1/deploy_pb.js";
import type { PlanResponse } from "@mcp/proto/mcp/agent/v1/service_pb.js";
import { RouteMode } from "@mcp/proto/mcp/agent/v1/spec_pb.js";
import { table } from "../output/table.js";

const action = (a: ChangeAction) => (ChangeAction[a] ?? "-").toLowerCase();
const arrow = (from: string, to: string) =>
  from && to && from !== to ? `${from} -> ${to}` : to || from || "-";

/** The plan as `terraform plan` shows one: a section per kind of resource, each change with its reason. */
export function formatPlan(service: string, plan: PlanResponse): string {
  const sections: string[] = [];
  const add = (title: string, head: string[], rows: (string | number)[][]) => {
    if (rows.length > 0) sections.push(`${title}:\n${table(head, rows)}`);
  };
  add(
    "containers",
    ["ACTION", "COMPONENT", "CONTAINER", "IMAGE", "REASON"],
    plan.containers.map((c) => [
      action(c.action),
      c.component,
      c.containerName,
      arrow(c.oldImage, c.newImage),
      c.reason,
    ]),
  );
  add(
    "ports",
    ["ACTION", "COMPONENT", "ROUTE", "HOST PORT", "REASON"],
    plan.ports.map((p) => [action(p.action), p.component, p.route, p.hostPort || "new", p.reason]),
  );
  add(
    "certificates",
    ["ACTION", "HOSTNAME", "SERIAL", "REASON"],
    plan.certificates.map((c) => [action(c.action), c.hostname, c.serial || "-", c.reason]),
  );
  add(
    "records",
    ["ACTION", "NAME", "TYPE", "VALUE", "REASON"],
    plan.records.map((r) => [action(r.action), r.name, r.type, arrow(r.oldValue, r.newValue), r.reason]),
  );
  add(
    "routes",
    ["ACTION", "HOSTNAME", "PORT", "MODE", "BACKEND", "REASON"],
    plan.routes.map((r) => [
      action(r.action),
      r.hostname,
      r.listenerPort,
      r.mode === RouteMode.L4 ? "l4" : "l7",
      arrow(r.oldBackend, r.newBackend),
      r.reason,
    ]),
  );
  const summary = plan.hasChanges
    ? `plan for ${service}: a deploy would make the changes above (nothing was changed)`
    : `plan for ${service}: no changes; a deploy would do nothing`;
  return [...sections, summary].join("\n\n");
}
