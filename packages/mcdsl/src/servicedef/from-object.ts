// A definition that arrives as data instead of a file (the agent's Deploy and Sync RPCs carry it
// as protobuf): the same schema, cross-field checks and normalization as a TOML file, with errors
// named by key path under `source` instead of by line.
import type { ServiceDefinitionOptions } from "./parse.js";
import { DEFAULT_SERVICE_DOMAIN, type ServiceDefinition } from "./types.js";
import { validateDefinition } from "./validate.js";

/**
 * Validates a definition given as a TOML-shaped object (`{ name, components: [{ name, image,
 * routes: [...] }] }`, keys as in the file). A ConfigError lists every problem, each prefixed by
 * `source` (e.g. "deploy request") and the key path.
 */
export function serviceDefinitionFromObject(
  data: Record<string, unknown>,
  source: string,
  options: ServiceDefinitionOptions = {},
): ServiceDefinition {
  return validateDefinition(data, { file: source }, options.domain ?? DEFAULT_SERVICE_DOMAIN);
}
