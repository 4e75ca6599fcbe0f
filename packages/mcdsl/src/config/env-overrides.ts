import * as z from "zod";
import { envName } from "./env-names.js";
import type { ConfigIssue, KeyPath } from "./errors.js";
import { formatKeyPath } from "./errors.js";
import { unwrap } from "./schema-walk.js";
import type { ValueOrigins } from "./validate.js";

type Schema = z.core.$ZodType;

/** A key an environment variable can set: a scalar or a list of scalars, outside arrays of tables. */
export interface SettableKey {
  path: string[];
  schema: Schema;
}

/** Every settable key of a schema, walking nested tables. */
export function settableKeys(schema: Schema, path: string[] = []): SettableKey[] {
  const inner = unwrap(schema);
  if (!(inner instanceof z.ZodObject)) return [];
  const keys: SettableKey[] = [];
  for (const [key, field] of Object.entries(inner.shape as Record<string, Schema>)) {
    const fieldInner = unwrap(field);
    if (fieldInner instanceof z.ZodObject) keys.push(...settableKeys(fieldInner, [...path, key]));
    else if (fieldInner instanceof z.ZodRecord) continue;
    else if (fieldInner instanceof z.ZodArray && isTableSchema(fieldInner.element as Schema)) continue;
    else keys.push({ path: [...path, key], schema: field });
  }
  return keys;
}

/**
 * Applies `$APP_*` variables: `MCNS_DNS_PORT=5353` sets `[dns] port` for app "mcns". Each
 * variable is matched against the names the schema's keys would have, so keys that contain
 * underscores themselves (`listen_addr`) resolve without guessing; variables that match no key
 * are ignored, since another program's variables may share the prefix. Values are converted to
 * the key's type; one that does not convert is left as text for validation to reject, naming
 * the variable. Returns issues for variables that match two keys.
 */
export function applyEnvOverrides(
  schema: Schema,
  data: Record<string, unknown>,
  app: string,
  env: NodeJS.ProcessEnv,
  origins: ValueOrigins,
): ConfigIssue[] {
  const byName = new Map<string, SettableKey[]>();
  for (const key of settableKeys(schema)) {
    const name = envName(app, ...key.path);
    byName.set(name, [...(byName.get(name) ?? []), key]);
  }
  const issues: ConfigIssue[] = [];
  for (const [name, raw] of Object.entries(env)) {
    const keys = byName.get(name);
    if (!keys || raw === undefined) continue;
    const [key, ...others] = keys;
    if (!key) continue;
    if (others.length > 0) {
      const spelled = keys.map((k) => formatKeyPath(k.path)).join(" and ");
      issues.push({ source: `$${name}`, path: [], message: `ambiguous: it could set ${spelled}` });
      continue;
    }
    if (setAt(data, key.path, coerce(raw, key.schema))) origins.set(key.path, `$${name}`);
  }
  return issues;
}

/** Text to the key's type where it converts cleanly; otherwise the text itself. */
export function coerce(raw: string, schema: Schema): unknown {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodNumber) {
    const text = raw.trim();
    const number = Number(text);
    return text !== "" && Number.isFinite(number) ? number : raw;
  }
  if (inner instanceof z.ZodBoolean) {
    const text = raw.trim().toLowerCase();
    if (["true", "1", "yes", "on"].includes(text)) return true;
    if (["false", "0", "no", "off"].includes(text)) return false;
    return raw;
  }
  if (inner instanceof z.ZodArray) {
    // Lists are comma-separated: MCNS_DNS_FORWARDERS=1.1.1.1:53,9.9.9.9:53
    const items = raw.split(",").map((item) => item.trim());
    return items.filter((item) => item !== "").map((item) => coerce(item, inner.element as Schema));
  }
  return raw;
}

/** Sets a value at a key path, creating tables on the way; false when a non-table is in the way. */
export function setAt(data: Record<string, unknown>, path: KeyPath, value: unknown): boolean {
  let table: Record<string | number, unknown> = data;
  for (const part of path.slice(0, -1)) {
    const next = table[part] ?? {};
    if (typeof next !== "object" || next === null || next instanceof Date) return false;
    table[part] = next;
    table = next as Record<string | number, unknown>;
  }
  const last = path[path.length - 1];
  if (last === undefined) return false;
  table[last] = value;
  return true;
}

function isTableSchema(schema: Schema): boolean {
  const inner = unwrap(schema);
  return inner instanceof z.ZodObject || inner instanceof z.ZodRecord;
}
