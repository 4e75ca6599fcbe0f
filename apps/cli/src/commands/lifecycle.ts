import { AgentService } from "@mcp/proto/mcp/agent/v1/service_pb.js";
import type { ServiceInfo } from "@mcp/proto/mcp/agent/v1/status_pb.js";
import { ServiceInfoSchema } from "@mcp/proto/mcp/agent/v1/status_pb.js";
import type { Command } from "commander";
import { containerState } from "../agent/states.js";
import { type CliContext, contextOf } from "../context.js";
import { messageJson } from "../output/json.js";

type Verb = "stop" | "start" | "restart";

const DESCRIPTIONS: Record<Verb, string> = {
  stop: "stop a service: containers stopped, routes and records removed, ports released",
  start: "start a stopped service again from its stored definition",
  restart: "restart a service's containers in place (same ports, routes and records)",
};

/** `mcp stop|start|restart <service> [--component …]`. */
export function registerLifecycle(program: Command): void {
  for (const verb of ["stop", "start", "restart"] as const) {
    program
      .command(`${verb} <service>`)
      .description(DESCRIPTIONS[verb])
      .option("--component <name...>", `${verb} only these components`, [])
      .action(async (service: string, options: { component: string[] }, command: Command) => {
        const context = contextOf(command);
        const { info, deployId } = await call(context, verb, service, options.component);
        const states = info?.components.map((c) => `${c.name} ${containerState(c.observedState)}`).join(", ");
        const past = { stop: "stopped", start: "started", restart: "restarted" }[verb];
        context.print(
          `${past} ${service}${deployId ? ` (deploy ${deployId})` : ""}${states ? `: ${states}` : ""}`,
          { service: info ? messageJson(ServiceInfoSchema, info) : null, ...(deployId ? { deployId } : {}) },
        );
      });
  }
}

async function call(
  context: CliContext,
  verb: Verb,
  name: string,
  components: string[],
): Promise<{ info?: ServiceInfo; deployId?: string }> {
  const agent = context.client(AgentService, "agent");
  if (verb === "stop") return { info: (await agent.stopService({ name, components })).service };
  if (verb === "restart") return { info: (await agent.restartService({ name, components })).service };
  const started = await agent.startService({ name, components });
  return { info: started.service, deployId: started.deployId };
}
