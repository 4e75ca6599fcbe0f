// A definition that arrives as data instead of a file (the agent's Deploy and Sync RPCs carry it
// as protobuf): the same schema, cross-field checks and normalization as a TOML file, with errors
// named by key path under `source` instead of by line.
import { ConfigError } from "../config/errors.js";
import { checkSchema, type IssueContext, issueAt } from "../config/validate.js";
import { checkService } from "./checks.js";
import { normalize } from "./normalize.js";
import type { ServiceDefinitionOptions } from "./parse.js";
import { serviceSchema } from "./schema.js";
import { DEFAULT_SERVICE_DOMAIN, type ServiceDefinition } from "./types.js";

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
  const domain = options.domain ?? DEFAULT_SERVICE_DOMAIN;
  const context: IssueContext = { file: source };
  const result = checkSchema(serviceSchema, data, context);
  const issues = result.ok ? [] : result.issues;
  checkService(data, {
    domain,
    report: (path, message) => issues.push(issueAt(context, path, message)),
    lineOf: () => undefined,
  });
  if (!result.ok || issues.length > 0) throw new ConfigError(issues);
  return normalize(result.value, domain);
}
