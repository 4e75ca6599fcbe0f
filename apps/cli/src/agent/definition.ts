import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadServiceDefinition, type ServiceDefinition } from "@mcp/mcdsl/servicedef";
import type { CliContext } from "../context.js";
import { CliError, UsageError } from "../errors.js";

/**
 * The definition a command acts on: `--file`, a path given as the service (`./hello.toml`), or
 * `<services_dir>/<service>.toml`. Parsed and validated by mcdsl/servicedef: a bad file throws a
 * ConfigError with file:line for each problem, before anything is sent.
 */
export function loadDefinition(
  context: CliContext,
  service: string | undefined,
  file: string | undefined,
): { definition: ServiceDefinition; file: string } {
  const isPath = service !== undefined && (service.includes("/") || service.endsWith(".toml"));
  const path = file ?? (isPath ? service : undefined);
  if (path !== undefined) {
    if (!existsSync(path)) throw new CliError(`${path}: no such file`);
    const definition = loadServiceDefinition(path);
    if (file !== undefined && service !== undefined && definition.name !== service) {
      throw new UsageError(`${file} defines service "${definition.name}", not "${service}"`);
    }
    return { definition, file: path };
  }
  if (service === undefined) throw new UsageError("name a service, or give its definition with --file");
  const named = join(context.servicesDir(), `${service}.toml`);
  if (!existsSync(named)) {
    throw new CliError(`no definition for "${service}": ${named} does not exist (give a path or --file)`);
  }
  const definition = loadServiceDefinition(named);
  if (definition.name !== service) {
    throw new CliError(`${named} defines service "${definition.name}", not "${service}"`);
  }
  return { definition, file: named };
}

/** The node a definition deploys to: --node, else its `node`, else the config's `node`. */
export function nodeOf(context: CliContext, definition: ServiceDefinition): string | undefined {
  return context.options.node ?? definition.node ?? context.config.node;
}
