import { closeSync, constants, fstatSync, openSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { ConfigError, type ConfigIssue } from "../config/errors.js";
import { parseTomlSource, type TomlSource } from "../config/toml-source.js";
import { issueAt } from "../config/validate.js";
import { DEFAULT_SERVICE_DOMAIN, type ServiceDefinition } from "./types.js";
import { validateDefinition } from "./validate.js";

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
  return fromSource(readDefinitionFile(file), options);
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
  const source = readDefinitionFile(file);
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

/** Far above any real definition (a few KiB); a larger file is a mistake, or /dev/zero. */
export const MAX_DEFINITION_BYTES = 1024 * 1024;

/**
 * Reads a definition file: a regular file of at most MAX_DEFINITION_BYTES, checked on the open
 * handle (opened without blocking, so a FIFO named *.toml cannot hang the reader, and a device
 * or a huge file cannot exhaust its memory).
 */
function readDefinitionFile(file: string): TomlSource {
  const refuse = (message: string) => new ConfigError([{ file, path: [], message }]);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (error as Error).message;
    throw refuse(`cannot read the file: ${reason}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw refuse("cannot read the file: not a regular file");
    const tooBig = (bytes: number) =>
      refuse(`the file is ${bytes} bytes; a definition has at most ${MAX_DEFINITION_BYTES}`);
    if (stat.size > MAX_DEFINITION_BYTES) throw tooBig(stat.size);
    const bytes = readFileSync(fd);
    if (bytes.length > MAX_DEFINITION_BYTES) throw tooBig(bytes.length); // it grew meanwhile
    return parseTomlSource(bytes.toString("utf8"), file);
  } finally {
    closeSync(fd);
  }
}

function fromSource(source: TomlSource, options: ServiceDefinitionOptions): ServiceDefinition {
  return validateDefinition(
    source.data,
    { file: source.file, positions: source.positions },
    options.domain ?? DEFAULT_SERVICE_DOMAIN,
  );
}
