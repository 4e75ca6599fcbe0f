// The config tables every app has, written once: spread them into the app's own schema, e.g.
//   server: section({ ...serverFields("127.0.0.1:8053") }), events: section(eventsFields()), …

import { z } from "zod";
import { listenAddress } from "../config/listen.js";
import { defaultPaths } from "../config/paths.js";

/** `[server]`: the API listener ($PORT overrides its port), an optional Unix socket, optional TLS. */
export function serverFields(defaultListen: string) {
  return {
    /** TCP address of the API (Connect, gRPC, gRPC-Web, REST, /healthz, /readyz, /metrics). */
    listen: listenAddress("api", { main: true }).default(defaultListen),
    /** Optional Unix socket serving the same API. */
    socket: z.string().optional(),
    /** TLS for the TCP listener (both or neither); cleartext HTTP/1.1 + h2c without them. */
    tls_cert_file: z.string().optional(),
    tls_key_file: z.string().optional(),
  };
}

/** `[auth]`: the static token file (`mcp token create` writes entries). */
export function authFields(app: string) {
  return { tokens_file: z.string().default(`${defaultPaths(app).configDir}/tokens.toml`) };
}

/** `[database]`: the app's SQLite file, under its data directory by default. */
export function databaseFields(app: string, fileName: string) {
  return { path: z.string().default(`${defaultPaths(app).dataDir}/${fileName}`) };
}

/** `[events]`: NATS servers (empty: nothing is published) and the node name events carry. */
export function eventsFields() {
  return {
    servers: z.array(z.string()).default([]),
    node: z.string().default("local"),
  };
}

/** `[log]`: the level of the JSON logs on stdout. */
export function logFields() {
  return { level: z.enum(["trace", "debug", "info", "warn", "error", "fatal"]).default("info") };
}
