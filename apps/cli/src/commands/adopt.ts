// `mcp adopt <service> [container...]`: containers started by hand (named <service> or
// <service>-<component>) taken into the agent's registry, their specs rebuilt from podman's view.
// The next deploy of the service then replaces them as it would its own containers.
import { AdoptContainersResponseSchema, AgentService } from "@mcp/proto/mcp/agent/v1/service_pb.js";
import type { Command } from "commander";
import { contextOf } from "../context.js";
import { messageJson } from "../output/json.js";
import { table } from "../output/table.js";

export function registerAdopt(program: Command): void {
  program
    .command("adopt <service> [containers...]")
    .description("take over containers started outside mcp (default: those named <service> or <service>-*)")
    .action(async (service: string, containers: string[], _options: unknown, command: Command) => {
      const context = contextOf(command);
      const response = await context.client(AgentService, "agent").adoptContainers({ service, containers });
      const rows = response.adopted.map((a) => [
        a.containerName,
        a.component,
        a.containerId.slice(0, 12),
        a.spec?.image ?? "",
      ]);
      context.print(
        `${table(["CONTAINER", "COMPONENT", "ID", "IMAGE"], rows)}\nadopted ${rows.length} container${rows.length === 1 ? "" : "s"} into ${service}: \`mcp service export ${service}\` shows the definition rebuilt from them`,
        messageJson(AdoptContainersResponseSchema, response),
      );
    });
}
