// MCNS's configuration file (TOML), loaded through mcdsl/config: `$MCNS_*` variables override keys,
// `$PORT` overrides the API's listen port and `$PORT_DNS` the DNS port.
import { authFields, databaseFields, eventsFields, logFields, serverFields } from "@mcp/mcdsl/app";
import { listenAddress, loadConfig, section, z } from "@mcp/mcdsl/config";

export const APP = "mcns";

// A fully qualified name in the form the API uses: lower case, no trailing dot.
const domainName = z
  .string()
  .transform((s) => s.toLowerCase().replace(/\.$/, ""))
  .refine(
    (s) => /^([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/.test(s),
    {
      message: "expected a domain name such as ns1.example.net (letters, digits, '-', labels of 1-63)",
    },
  );

const seconds = z.number().int().min(0).max(2_147_483_647);

const zoneSchema = z.strictObject({
  /** The zone's apex, e.g. "svc.mcp.metacircular.net". */
  name: domainName,
  /** SOA MNAME: the primary name server. */
  primary_ns: domainName,
  /** SOA RNAME in mailbox form: "hostmaster.example.net" is hostmaster@example.net. */
  admin_mailbox: domainName,
  /** The zone's NS records at the apex; default: [primary_ns]. */
  ns: z.array(domainName).optional(),
  refresh: seconds.default(3600),
  retry: seconds.default(600),
  expire: seconds.default(1_209_600),
  /** SOA MINIMUM: the TTL of negative answers (RFC 2308). */
  negative_ttl: seconds.default(300),
  /** The TTL of records created with ttl = 0, and of the SOA and apex NS records. */
  default_ttl: seconds.default(300),
  /** Identities (token names) that may write records in this zone besides those with the admin role. */
  writers: z.array(z.string()).default([]),
});

export type ZoneConfig = z.output<typeof zoneSchema>;

export const configSchema = z.object({
  server: section(serverFields("127.0.0.1:8053")),
  dns: section({
    /** UDP and TCP address of the DNS server. */
    listen: listenAddress("dns").default("0.0.0.0:53"),
    /** The largest UDP answer we send to EDNS clients (RFC 9715 / DNS flag day 2020: 1232). */
    max_udp_payload: z.number().int().min(512).max(4096).default(1232),
    /** A TCP connection with no query for this long is closed (RFC 7766). */
    tcp_idle_timeout_ms: z.number().int().min(100).default(10_000),
    /** TCP connections beyond this are closed at once. */
    max_tcp_connections: z.number().int().min(1).default(1000),
    /** UDP answers queued for sending (libuv's queue); beyond this, queries are dropped (load shedding). */
    max_inflight: z.number().int().min(1).default(10_000),
    /**
     * Upstream resolvers ("host:port", tried in order) for names outside our zones: split horizon.
     * Empty (the default): such names are REFUSED, as an authoritative-only server should.
     */
    forwarders: z
      .array(
        z
          .string()
          .regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, "expected host:port, e.g. 192.0.2.53:53"),
      )
      .default([]),
    /** How long one upstream may take before the next is tried (then SERVFAIL). */
    forward_timeout_ms: z.number().int().min(50).max(30_000).default(2_000),
  }),
  /** The zones MCNS is authoritative for. */
  zones: z.array(zoneSchema).default([]),
  auth: section(authFields(APP)),
  database: section(databaseFields(APP, "mcns.db")),
  events: section(eventsFields()),
  log: section(logFields()),
});

export type McnsConfig = z.output<typeof configSchema>;

export function loadMcnsConfig(path: string | undefined): McnsConfig {
  const config = loadConfig({ app: APP, schema: configSchema, path });
  const seen = new Set<string>();
  for (const zone of config.zones) {
    if (seen.has(zone.name)) throw new Error(`zone "${zone.name}" is configured twice`);
    seen.add(zone.name);
  }
  return config;
}
