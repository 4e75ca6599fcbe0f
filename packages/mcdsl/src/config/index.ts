// mcdsl/config: TOML config files with environment overrides, and the error/line machinery
// that service definitions reuse.

// Apps build their schemas with this zod, the instance the schema walker knows.
export { z } from "zod";
export { configIssue } from "./config-issues.js";
export { envName } from "./env-names.js";
export { ConfigError, type ConfigIssue, formatIssue, formatKeyPath, type KeyPath } from "./errors.js";
export { type ListenerInfo, listenAddress, listeners, parseListenAddress } from "./listen.js";
export { type LoadConfigOptions, loadConfig } from "./load.js";
export { type DefaultPaths, defaultConfigFile, defaultPaths, type PathContext } from "./paths.js";
export { describe as describeSchema, showValue } from "./schema-walk.js";
export { section } from "./section.js";
export { nearest } from "./suggest.js";
export { type Position, SourcePositions } from "./toml-positions.js";
export { parseTomlSource, readTomlFile, type TomlSource } from "./toml-source.js";
export { type CheckResult, checkSchema, type IssueContext, issueAt, ValueOrigins } from "./validate.js";
