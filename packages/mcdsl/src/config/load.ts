import type * as z from "zod";
import { rememberSource } from "./config-issues.js";
import { applyEnvOverrides } from "./env-overrides.js";
import { ConfigError } from "./errors.js";
import { applyPortOverrides } from "./listen.js";
import { defaultConfigFile, type PathContext } from "./paths.js";
import { parseTomlSource, readTomlFile, type TomlSource } from "./toml-source.js";
import { checkSchema, ValueOrigins } from "./validate.js";

export interface LoadConfigOptions<S extends z.ZodType> {
  /** The app's name: the `$<APP>_*` prefix and the default file `<config dir>/<app>.toml`. */
  app: string;
  /** The app's config schema (zod); its defaults fill what the file leaves out. */
  schema: S;
  /**
   * The config file. Given explicitly, it must exist; without it the default file is read when
   * it exists, and the config comes from defaults and the environment when it does not.
   */
  path?: string;
  /** Environment for `$<APP>_*`, `$PORT` and `$PORT_<NAME>` overrides (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** TOML text to use instead of reading the file; `path` then only names it in messages. */
  file?: string;
  /** Who the default path is for (default: this process). */
  paths?: PathContext;
}

/**
 * Loads an app's configuration: the TOML file, then `$<APP>_*` variables, then `$PORT` /
 * `$PORT_<NAME>` for listen addresses, validated against the schema with defaults applied.
 * Every problem is reported at once in a ConfigError, each at its file and line
 * (`/etc/mcns/mcns.toml:12: [dns] port: expected a number from 1 to 65535, got "53x"`) or its
 * variable (`$MCNS_DNS_PORT: …`).
 */
export function loadConfig<S extends z.ZodType>(options: LoadConfigOptions<S>): z.output<S> {
  const file = options.path ?? defaultConfigFile(options.app, options.paths);
  const env = options.env ?? process.env;
  const source: TomlSource | undefined =
    options.file !== undefined
      ? parseTomlSource(options.file, file)
      : readTomlFile(file, options.path === undefined);
  const data = structuredClone(source?.data ?? {});

  const origins = new ValueOrigins();
  const issues = [
    ...applyEnvOverrides(options.schema, data, options.app, env, origins),
    ...applyPortOverrides(options.schema, data, env, origins),
  ];
  const context = { file, positions: source?.positions, origins };
  const result = checkSchema(options.schema, data, context);
  if (!result.ok) issues.push(...result.issues);
  if (issues.length > 0 || !result.ok) throw new ConfigError(issues);
  rememberSource(result.value, context);
  return result.value;
}
