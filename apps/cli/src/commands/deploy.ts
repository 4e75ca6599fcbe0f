import { ConnectError } from "@connectrpc/connect";
import { toServiceSpec } from "@mcp/mcdsl/servicedef";
import { DeployStep, StepStatus } from "@mcp/proto/mcp/agent/v1/deploy_pb.js";
import { AgentService, type DeployResponse, PlanResponseSchema } from "@mcp/proto/mcp/agent/v1/service_pb.js";
import type { Command } from "commander";
import { loadDefinition, nodeOf } from "../agent/definition.js";
import { formatPlan } from "../agent/plan.js";
import { createProgressView } from "../agent/progress.js";
import { stepName } from "../agent/steps.js";
import { describeConnectError } from "../clients/connect.js";
import { type CliContext, contextOf } from "../context.js";
import { CliError } from "../errors.js";
import { messageJson } from "../output/json.js";

interface DeployOptions {
  plan?: boolean;
  file?: string;
  component: string[];
}

/** `mcp deploy [--plan] [--file F] <service>` and `mcp plan <service>`. */
export function registerDeploy(program: Command): void {
  program
    .command("deploy [service]")
    .description("deploy a service from its definition (ports, certificates, containers, DNS, routes)")
    .option("--plan", "show what the deploy would change, and change nothing")
    .option("-f, --file <definition.toml>", "the definition (default: <services_dir>/<service>.toml)")
    .option("--component <name...>", "deploy only these components", [])
    .action(async (service: string | undefined, options: DeployOptions, command: Command) => {
      const context = contextOf(command);
      if (options.plan) return plan(context, service, options);
      return deploy(context, service, options);
    });

  program
    .command("plan [service]")
    .description("show what a deploy would change, changing nothing")
    .option("-f, --file <definition.toml>", "the definition (default: <services_dir>/<service>.toml)")
    .option("--component <name...>", "plan only these components", [])
    .action((service: string | undefined, options: DeployOptions, command: Command) =>
      plan(contextOf(command), service, options),
    );
}

async function plan(context: CliContext, service: string | undefined, options: DeployOptions): Promise<void> {
  const { definition } = loadDefinition(context, service, options.file);
  const agent = context.client(AgentService, "agent", nodeOf(context, definition));
  const response = await agent.plan({ service: toServiceSpec(definition), components: options.component });
  context.print(formatPlan(definition.name, response), messageJson(PlanResponseSchema, response));
}

async function deploy(
  context: CliContext,
  service: string | undefined,
  options: DeployOptions,
): Promise<void> {
  const { definition } = loadDefinition(context, service, options.file);
  const agent = context.client(AgentService, "agent", nodeOf(context, definition));
  const view = createProgressView(definition.name, { json: context.options.json ?? false });
  let failed: DeployResponse | undefined;
  let last: DeployResponse | undefined;
  try {
    for await (const message of agent.deploy({
      service: toServiceSpec(definition),
      components: options.component,
    })) {
      view.step(message);
      last = message;
      if (message.status === StepStatus.FAILED && failed === undefined) failed = message;
    }
  } catch (error) {
    view.end();
    if (!(error instanceof ConnectError)) throw error;
    // The agent's error names the failing step and the rollback; name them here only if it did not.
    let text = describeConnectError(error);
    const step = failed && failed.step !== DeployStep.FAILED ? stepName(failed.step) : undefined;
    if (step && !text.includes(step)) text = `${step}: ${text}`;
    if (last?.step === DeployStep.ROLLED_BACK && !text.includes("rolled back")) text += " (rolled back)";
    throw new CliError(`deploy of ${definition.name} failed: ${text}`);
  }
  view.end();
  if (!context.options.json) {
    process.stdout.write(
      `deployed ${definition.name}${last?.deployId ? ` (deploy ${last.deployId})` : ""}\n`,
    );
  }
}
