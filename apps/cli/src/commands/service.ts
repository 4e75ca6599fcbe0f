import { Code, ConnectError } from "@connectrpc/connect";
import { formatServiceDefinition, fromServiceSpec } from "@mcp/mcdsl/servicedef";
import { AgentService } from "@mcp/proto/mcp/agent/v1/service_pb.js";
import { ServiceSpecSchema } from "@mcp/proto/mcp/agent/v1/spec_pb.js";
import type { Command } from "commander";
import { contextOf } from "../context.js";
import { messageJson } from "../output/json.js";

/** `mcp service export <service>`: the definition the agent holds, as the TOML file it came from. */
export function registerService(program: Command): void {
  const service = program.command("service").description("service definitions as the agent holds them");
  service
    .command("export <service>")
    .description("print a service's deployed definition as TOML (save it as <service>.toml)")
    .action(async (name: string, _options, command: Command) => {
      const context = contextOf(command);
      const { services } = await context.client(AgentService, "agent").listServices({});
      const spec = services.find((s) => s.spec?.name === name)?.spec;
      if (!spec) throw new ConnectError(`service "${name}" is not in the agent's registry`, Code.NotFound);
      const definition = fromServiceSpec(spec, { source: `${name} (from the agent)` });
      const text = formatServiceDefinition(definition).trimEnd();
      context.print(text, messageJson(ServiceSpecSchema, spec));
    });
}
