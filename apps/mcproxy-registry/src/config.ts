// mcproxy-registry's configuration file (TOML), loaded through mcdsl/config: `$MCPROXY_REGISTRY_*`
// variables override keys, `$PORT` overrides the admin API's listen port.
import { isIP } from "node:net";
import { isAbsolute } from "node:path";
import { createSecureContext } from "node:tls";
import { authFields, eventsFields, logFields, serverFields } from "@mcp/mcdsl/app";
import { defaultPaths, loadConfig, section, z } from "@mcp/mcdsl/config";

export const APP = "mcproxy-registry";

// Data and certificates live where mc-proxy always kept them: /srv/mc-proxy as root.
const proxyPaths = defaultPaths("mc-proxy");
const ms = (fallback: number) => z.number().int().min(0).max(3_600_000).default(fallback);

/** OpenSSL's group names, checked against the OpenSSL this Node carries. */
const tlsGroups = z
  .array(z.string().regex(/^[A-Za-z0-9_-]+$/, { message: "expected a group name such as X25519" }))
  .min(1)
  .default(["X25519", "P-256"])
  .superRefine((groups, ctx) => {
    for (const group of groups) {
      try {
        createSecureContext({ ecdhCurve: group });
      } catch {
        ctx.addIssue({
          code: "custom",
          message: `"${group}" is not a key exchange group this OpenSSL knows (e.g. X25519MLKEM768, X25519, P-256, P-384)`,
        });
      }
    }
  });

export const configSchema = z.object({
  server: section({
    ...serverFields("127.0.0.1:9093"),
    /** The agent's Unix socket: no tokens, the file's permissions are the access control. */
    socket: z.string().default(`${proxyPaths.dataDir}/admin.sock`),
    socket_mode: z.number().int().min(0).max(0o777).default(0o660),
  }),
  auth: section(authFields(APP)),
  database: section({
    path: z.string().default(`${proxyPaths.dataDir}/routes.db`),
  }),
  proxy: section({
    /** The address every route listener binds. */
    bind: z
      .string()
      .refine((v) => isIP(v) !== 0, { message: "expected an IP address such as 0.0.0.0, :: or 127.0.0.1" })
      .default("0.0.0.0"),
    /** Where cert-broker writes `<hostname>.pem` and `<hostname>.key`. */
    cert_dir: z.string().default(`${proxyPaths.dataDir}/certs`),
    /**
     * More directories whose certificate files routes added over the API may name (cert_dir always
     * may). Files elsewhere are refused: the API cannot make mc-proxy read any file it can.
     */
    extra_cert_dirs: z
      .array(z.string().refine((v) => isAbsolute(v), { message: "expected an absolute path" }))
      .default([]),
    /** The old mc-proxy route file, loaded at start as bootstrap routes; missing means none. */
    bootstrap_file: z.string().default(`${proxyPaths.configDir}/routes.toml`),
    handshake_timeout_ms: ms(10_000),
    connect_timeout_ms: ms(5_000),
    response_timeout_ms: ms(60_000),
    idle_timeout_ms: ms(120_000),
    /**
     * A backend that refuses a connection (or does not accept it in connect_timeout_ms) gets no
     * new connections for this long while its route has others; the connection goes to another.
     */
    backend_down_ms: ms(10_000),
    /** SetBackend's drain when the call does not say. */
    drain_timeout_ms: ms(30_000),
    /**
     * Client connections open at once, all listeners together; more are closed on arrival.
     * 0: derived from the open-file limit ((limit - 256) / 2, an L4 connection holding two).
     */
    max_connections: z.number().int().min(0).max(10_000_000).default(0),
    /**
     * Of those, how many one client address may have open, so that one client cannot take every
     * place. 0: a quarter of max_connections, at least 64.
     */
    max_connections_per_client: z.number().int().min(0).max(10_000_000).default(0),
    /**
     * On SIGTERM, how long requests in progress (and L4 connections) may take before they are cut.
     * Keep it under the service manager's stop timeout (podman stop: 10 s).
     */
    shutdown_timeout_ms: ms(8_000),
    /**
     * L7 key exchange groups, in order of preference. The default leaves out the post-quantum
     * hybrid X25519MLKEM768: it costs each connection ~6 KB and its handshake more CPU.
     */
    tls_groups: tlsGroups,
    /**
     * A plain-HTTP port (usually 80) that answers every request for a routed hostname with a 308
     * to its https:// address, and 404 for other names. 0: none.
     */
    http_redirect_port: z.number().int().min(0).max(65535).default(0),
    /** A JSON line per L7 request and per L4 connection on the log stream (`log: "access"`). */
    access_log: z.boolean().default(false),
  }),
  events: section(eventsFields()),
  log: section(logFields()),
});

export type McproxyConfig = z.output<typeof configSchema>;

export function loadMcproxyConfig(path: string | undefined): McproxyConfig {
  return loadConfig({ app: APP, schema: configSchema, path });
}
