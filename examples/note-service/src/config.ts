// The note service's configuration file (TOML), loaded through mcdsl/config: `$NOTE_SERVICE_*`
// variables override keys, `$PORT` overrides the API's listen port.
import { defaultPaths, listenAddress, loadConfig, section, z } from "@mcp/mcdsl/config";

export const APP = "note-service";

const dataDir = defaultPaths(APP).dataDir;

export const configSchema = z.object({
  server: section({
    /** TCP address of the API (Connect, gRPC, gRPC-Web, REST, /healthz, /readyz, /metrics). */
    listen: listenAddress("api", { main: true }).default("127.0.0.1:8080"),
    /** Optional Unix socket serving the same API. */
    socket: z.string().optional(),
    /** TLS for the TCP listener; cleartext (HTTP/1.1 + h2c) when left out. */
    tls_cert_file: z.string().optional(),
    tls_key_file: z.string().optional(),
  }),
  auth: section({
    /** The static token file (`[[tokens]] name, roles, sha256`); `mcp token create` writes entries. */
    tokens_file: z.string().default(`${defaultPaths(APP).configDir}/tokens.toml`),
  }),
  database: section({
    path: z.string().default(`${dataDir}/notes.db`),
  }),
  events: section({
    /** NATS servers; empty: no events are published. */
    servers: z.array(z.string()).default([]),
    /** The node name in every event's source. */
    node: z.string().default("local"),
  }),
  log: section({
    level: z.enum(["trace", "debug", "info", "warn", "error", "fatal"]).default("info"),
  }),
});

export type NoteServiceConfig = z.output<typeof configSchema>;

export function loadNoteServiceConfig(path: string | undefined): NoteServiceConfig {
  return loadConfig({ app: APP, schema: configSchema, path });
}
