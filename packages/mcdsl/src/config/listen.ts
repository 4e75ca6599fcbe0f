import * as z from "zod";
import { envName } from "./env-names.js";
import { setAt, settableKeys } from "./env-overrides.js";
import type { ConfigIssue } from "./errors.js";
import { defaultOf, unwrap, valueAt } from "./schema-walk.js";
import type { ValueOrigins } from "./validate.js";

/** What `listenAddress()` records about a listen-address field. */
export interface ListenerInfo {
  /** The listener's name; `$PORT_<NAME>` overrides it. */
  name: string;
  /** The app's main listener (its API server): plain `$PORT` overrides it. */
  main: boolean;
}

/** The listen-address fields of every schema, found again when the config is loaded. */
export const listeners = z.registry<ListenerInfo>();

const PORT = "(?:6553[0-5]|655[0-2]\\d|65[0-4]\\d{2}|6[0-4]\\d{3}|[1-5]\\d{4}|\\d{1,4})";
const ADDRESS = new RegExp(`^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]*):(${PORT})$`);

/**
 * A `host:port` listen address (`127.0.0.1:8080`, `[::1]:8080`, `:8080` for every interface)
 * that `$PORT_<NAME>` overrides, and `$PORT` too when `main` is set (or when it is the app's only
 * listener). Add `.default()`/`.optional()` around it, not other methods: the registration is on
 * this schema.
 */
export function listenAddress(name: string, options: { main?: boolean } = {}): z.ZodString {
  const schema = z.string().regex(ADDRESS, { message: "expected host:port such as 127.0.0.1:8080" });
  return schema.register(listeners, { name, main: options.main ?? false });
}

/** Splits a listen address into the host (brackets removed; "" for every interface) and port. */
export function parseListenAddress(address: string): { host: string; port: number } {
  const match = ADDRESS.exec(address);
  if (!match) throw new Error(`not a host:port listen address: ${JSON.stringify(address)}`);
  const host = (match[1] ?? "").replace(/^\[(.*)\]$/, "$1");
  return { host, port: Number(match[2]) };
}

/**
 * Applies `$PORT` and `$PORT_<NAME>`: the port of the listener's address is replaced and its host
 * kept (`127.0.0.1:8080` with `PORT=9000` → `127.0.0.1:9000`). This is how the agent hands a
 * container the ports it leased. Returns issues for variables that are not port numbers.
 */
export function applyPortOverrides(
  schema: z.core.$ZodType,
  data: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  origins: ValueOrigins,
): ConfigIssue[] {
  const fields = settableKeys(schema).flatMap((key) => {
    const info = listeners.get(unwrap(key.schema));
    return info ? [{ ...key, info }] : [];
  });
  const marked = fields.filter((field) => field.info.main);
  if (marked.length > 1) {
    throw new Error(`config schema marks ${marked.length} listen addresses as main; $PORT needs one`);
  }
  const main = marked[0] ?? (fields.length === 1 ? fields[0] : undefined);

  const issues: ConfigIssue[] = [];
  for (const field of fields) {
    // The named variable is the more specific one, so it wins over $PORT.
    const named = envName("PORT", field.info.name);
    const variable =
      env[named] !== undefined ? named : field === main && env.PORT !== undefined ? "PORT" : "";
    const raw = variable ? env[variable] : undefined;
    if (raw === undefined) continue;
    const port = raw.trim();
    if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
      issues.push({
        source: `$${variable}`,
        path: field.path,
        message: `expected a port number from 1 to 65535, got ${JSON.stringify(raw)}`,
      });
      continue;
    }
    const current = valueAt(data, field.path) ?? defaultOf(field.schema);
    const text = typeof current === "string" ? current : "";
    const host = text.includes(":") ? text.slice(0, text.lastIndexOf(":")) : "";
    if (setAt(data, field.path, `${host}:${Number(port)}`)) origins.set(field.path, `$${variable}`);
  }
  return issues;
}
