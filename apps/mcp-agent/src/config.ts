// The agent's configuration file (TOML), loaded through mcdsl/config: `$MCP_AGENT_*` variables
// override keys, `$PORT` overrides the API's listen port. Every key is in config.example.toml.
import { hostname } from "node:os";
import { authFields, databaseFields, logFields, serverFields } from "@mcp/mcdsl/app";
import { defaultPaths, loadConfig, section, z } from "@mcp/mcdsl/config";

export const APP = "mcp-agent";

const port = z.number().int().min(1).max(65535);

const registrySchema = z.object({
  /** As in image references: "mcr.metacircular.net" or "host:port". */
  host: z.string().min(1),
  username: z.string().optional(),
  /** A file holding the password (mode 0600). */
  password_file: z.string().optional(),
  /** A file holding an access token, sent as the password of `username` (default "token"). */
  token_file: z.string().optional(),
  /** PEM CA bundle for the registry's TLS certificate (e.g. the platform's root CA). */
  ca_file: z.string().optional(),
  /** Plain HTTP or unverified TLS; for test registries only. */
  insecure: z.boolean().default(false),
});

export const configSchema = z.object({
  server: section(serverFields("127.0.0.1:9444")),
  auth: section(authFields(APP)),
  database: section(databaseFields(APP, "registry.db")),
  node: section({
    /** This node's name, as definitions' `node` field names it; default the host name. */
    name: z.string().default(hostname()),
    /** The address MCNS records of this node's services point at (A record). */
    address: z.ipv4().default("127.0.0.1"),
  }),
  mcns: section({
    /** MCNS's RecordService; empty: no DNS records are published (deploys say so). */
    url: z.string().default(""),
    /** A file holding a token MCNS knows (role agent, its name in the zone's writers). */
    token_file: z.string().optional(),
    /** TTL of the records the agent publishes (seconds). */
    ttl: z.number().int().min(1).max(604800).default(60),
  }),
  cert_broker: section({
    /** cert-broker's CertService; empty: no certificates (L7/L4 routes then fail to deploy). */
    url: z.string().default(""),
    token_file: z.string().optional(),
    /** Where the agent keeps the platform's root CA (TLS_CA_FILE of L4 containers). */
    ca_file: z.string().default(`${defaultPaths(APP).dataDir}/root-ca.pem`),
  }),
  mcproxy: section({
    /** mc-proxy's admin socket (RouteService, no token: the socket's mode is the access control). */
    socket: z.string().default(""),
    /** How long the old backend keeps in-flight work after a route switches to a new one (ms). */
    drain_timeout_ms: z.number().int().min(0).max(600_000).default(30_000),
  }),
  events: section({
    /** NATS servers; empty: no events are published. */
    servers: z.array(z.string()).default([]),
  }),
  ports: section({
    /** Host ports are leased from min..max (inclusive), skipping the kernel's ephemeral range. */
    min: port.default(10000),
    max: port.default(60000),
  }),
  podman: section({
    binary: z.string().default("podman"),
    /** Defaults for components that do not set their own. */
    network: z.string().default("mcpnet"),
    user: z.string().default("0:0"),
    restart: z.string().default("unless-stopped"),
    /** Seconds podman waits after SIGTERM before SIGKILL when stopping a container. */
    stop_timeout: z.number().int().min(0).max(3600).default(10),
  }),
  files: section({
    /** PushFile/PullFile work under <root>/<service>/ (DESIGN: /srv/<service>). */
    root: z.string().default("/srv"),
    /** The largest file PushFile accepts (bytes). */
    max_bytes: z
      .number()
      .int()
      .min(1)
      .default(1 << 30),
    /**
     * A push that sends nothing for this long is abandoned (its temporary file removed): a stalled
     * client must not hold a file open forever.
     */
    idle_timeout_ms: z.number().int().min(1).max(3_600_000).default(60_000),
  }),
  monitor: section({
    /** Watch podman's events: observed state, mcp.container.* events, flapping, drift, alerts. */
    enabled: z.boolean().default(true),
    /** A program run on a death, flapping or drift, with MCP_ALERT_* in its environment. */
    alert_command: z.array(z.string()).default([]),
    /** This many restarts within flap_window_ms is flapping. */
    flap_restarts: z.number().int().min(2).default(3),
    flap_window_ms: z.number().int().min(1000).default(300_000),
    /** How often running services are compared with podman for drift (ms). */
    drift_interval_ms: z.number().int().min(1000).default(30_000),
  }),
  registries: z.array(registrySchema).default([]),
  log: section(logFields()),
});

export type AgentConfig = z.output<typeof configSchema>;

export function loadAgentConfig(path: string | undefined): AgentConfig {
  return loadConfig({ app: APP, schema: configSchema, path });
}
