// `mcp sync [--prune] [--dry-run]`: every definition in the services directory goes to its node's
// agent, which deploys what is new, changed or not running, stops what is inactive and, with
// --prune, stops and forgets services that have no definition any more. One bad file refuses the
// whole set before anything is sent; one service's failure does not stop the others (exit 1).
import { loadServiceDefinitions, type ServiceDefinition, toServiceSpec } from "@mcp/mcdsl/servicedef";
import { AgentService, SyncAction, SyncServicesResponseSchema } from "@mcp/proto/mcp/agent/v1/service_pb.js";
import type { Command } from "commander";
import { type CliContext, contextOf } from "../context.js";
import { CliError } from "../errors.js";
import { messageJson } from "../output/json.js";
import { table } from "../output/table.js";

const ACTIONS: Record<SyncAction, string> = {
  [SyncAction.UNSPECIFIED]: "-",
  [SyncAction.UNCHANGED]: "unchanged",
  [SyncAction.DEPLOYED]: "deployed",
  [SyncAction.STOPPED]: "stopped",
  [SyncAction.REMOVED]: "removed",
  [SyncAction.FAILED]: "failed",
};

interface SyncOptions {
  prune?: boolean;
  dryRun?: boolean;
}

export function registerSync(program: Command): void {
  program
    .command("sync")
    .description(
      "make each node run what the services directory defines (deploy, stop, and with --prune remove)",
    )
    .option("--prune", "also stop and forget services the directory no longer defines")
    .option("--dry-run", "show what sync would do, and change nothing")
    .action(async (options: SyncOptions, command: Command) => sync(contextOf(command), options));
}

async function sync(context: CliContext, options: SyncOptions): Promise<void> {
  const dir = context.servicesDir();
  const definitions = loadServiceDefinitions(dir);
  const byNode = groupByNode(context, definitions);
  if (byNode.size === 0) {
    throw new CliError(
      `no service definitions in ${dir}${context.options.node ? ` for node ${context.options.node}` : ""} (sync would ${options.prune ? "remove every service" : "do nothing"}; nothing was sent)`,
    );
  }
  const rows: string[][] = [];
  const json: unknown[] = [];
  let failed = 0;
  for (const [node, group] of byNode) {
    const agent = context.client(AgentService, "agent", node || undefined);
    const response = await agent.syncServices({
      services: group.map(toServiceSpec),
      prune: options.prune ?? false,
      dryRun: options.dryRun ?? false,
    });
    for (const r of response.results) {
      if (r.action === SyncAction.FAILED) failed++;
      rows.push([r.service, node || "(default)", ACTIONS[r.action], r.deployId || "-", r.error || ""]);
    }
    json.push({ node: node || null, ...(messageJson(SyncServicesResponseSchema, response) as object) });
  }
  const note = options.dryRun ? "\n(dry run: nothing was changed)" : "";
  context.print(`${table(["SERVICE", "NODE", "ACTION", "DEPLOY", "ERROR"], rows)}${note}`, { nodes: json });
  if (failed > 0)
    throw new CliError(`sync: ${failed} service${failed === 1 ? "" : "s"} failed (see ERROR above)`);
}

/**
 * Definitions by the node they run on: their `node`, else --node, else the config's ("" for the
 * default agent). With --node, only the definitions of that node (one that names another node is
 * left out): sync, and --prune, act on one node at a time.
 */
function groupByNode(
  context: CliContext,
  definitions: ServiceDefinition[],
): Map<string, ServiceDefinition[]> {
  const groups = new Map<string, ServiceDefinition[]>();
  for (const definition of definitions) {
    const node = definition.node ?? context.options.node ?? context.config.node ?? "";
    if (context.options.node && node !== context.options.node) continue;
    groups.set(node, [...(groups.get(node) ?? []), definition]);
  }
  return groups;
}
