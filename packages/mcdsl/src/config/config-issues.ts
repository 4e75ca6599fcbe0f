// Issues found after loading (a port taken, a file unreadable) still belong at the key's line:
// loadConfig remembers where each loaded config, and each of its tables, came from.
import type { ConfigIssue, KeyPath } from "./errors.js";
import { type IssueContext, issueAt } from "./validate.js";

const sources = new WeakMap<object, { context: IssueContext; prefix: KeyPath }>();

const isTable = (value: unknown): value is object =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Records `config` (and its top-level tables) as loaded from `context`. */
export function rememberSource(config: unknown, context: IssueContext): void {
  if (!isTable(config)) return;
  sources.set(config, { context, prefix: [] });
  for (const [key, value] of Object.entries(config)) {
    if (isTable(value)) sources.set(value, { context, prefix: [key] });
  }
}

/**
 * An issue about `key` of a loaded config or one of its tables (`configIssue(config.server,
 * "listen", "address already in use")`), at the key's file and line or its variable.
 */
export function configIssue(table: object, key: string, message: string): ConfigIssue {
  const source = sources.get(table);
  if (!source) return { path: [key], message };
  return issueAt(source.context, [...source.prefix, key], message);
}
