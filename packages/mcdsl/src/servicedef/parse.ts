import { readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { ConfigError, type ConfigIssue } from "../config/errors.js";
import { parseTomlSource, readTomlFile, type TomlSource } from "../config/toml-source.js";
import { checkSchema, type IssueContext, issueAt } from "../config/validate.js";
import { checkService } from "./checks.js";
import { normalize } from "./normalize.js";
import { serviceSchema } from "./schema.js";
import { DEFAULT_SERVICE_DOMAIN, type ServiceDefinition } from "./types.js";

export interface ServiceDefinitionOptions {
  /** The service domain (default `svc.mcp.metacircular.net`): routes serve `<service>.<domain>`. */
  domain?: string;
}

/** Parses and validates one definition; a ConfigError lists every problem of the file with its line. */
export function parseServiceDefinition(
  text: string,
  file: string,
  options: ServiceDefinitionOptions = {},
): ServiceDefinition {
  return fromSource(parseTomlSource(text, file), options);
}

/** Reads, parses and validates one definition file. */
export function loadServiceDefinition(
  file: string,
  options: ServiceDefinitionOptions = {},
): ServiceDefinition {
  return fromSource(readTomlFile(file) as TomlSource, options);
}

/**
 * Every `*.toml` definition in a directory (the CLI's `~/.config/mcp/services`), sorted by name.
 * Each file must be named after its service (`hello.toml` defines `name = "hello"`). One bad file
 * refuses them all, with every problem of every file in one ConfigError, so nothing acts on half
 * a set. A missing directory holds no definitions.
 */
export function loadServiceDefinitions(
  dir: string,
  options: ServiceDefinitionOptions = {},
): ServiceDefinition[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith(".toml"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new ConfigError([
      { file: dir, path: [], message: `cannot read the directory: ${(error as Error).message}` },
    ]);
  }
  const definitions: ServiceDefinition[] = [];
  const issues: ConfigIssue[] = [];
  for (const name of names.sort()) {
    try {
      definitions.push(loadNamedDefinition(join(dir, name), options));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues.push(...error.issues);
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return definitions;
}

/** A definition file whose name must match the service it defines; reports both kinds of problem. */
function loadNamedDefinition(file: string, options: ServiceDefinitionOptions): ServiceDefinition {
  const source = readTomlFile(file) as TomlSource;
  const issues: ConfigIssue[] = [];
  const declared = source.data.name;
  if (typeof declared === "string" && declared !== basename(file, ".toml")) {
    const context = { file, positions: source.positions };
    issues.push(issueAt(context, ["name"], `the file must be named after its service: ${declared}.toml`));
  }
  try {
    const definition = fromSource(source, options);
    if (issues.length === 0) return definition;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    issues.push(...error.issues);
  }
  throw new ConfigError(issues);
}

function fromSource(source: TomlSource, options: ServiceDefinitionOptions): ServiceDefinition {
  const domain = options.domain ?? DEFAULT_SERVICE_DOMAIN;
  const context: IssueContext = { file: source.file, positions: source.positions };
  const result = checkSchema(serviceSchema, source.data, context);
  const issues = result.ok ? [] : result.issues;
  checkService(source.data, {
    domain,
    report: (path, message) => issues.push(issueAt(context, path, message)),
    lineOf: (path) => source.positions.find(path)?.line,
  });
  if (!result.ok || issues.length > 0) throw new ConfigError(issues);
  return normalize(result.value, domain);
}
