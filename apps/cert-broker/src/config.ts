// cert-broker's configuration file (TOML), loaded through mcdsl/config: `$CERT_BROKER_*` variables
// override keys, `$PORT` the API's port and `$PORT_CRL` the CRL listener's.
import { authFields, databaseFields, eventsFields, logFields, serverFields } from "@mcp/mcdsl/app";
import { defaultPaths, listenAddress, loadConfig, section, z } from "@mcp/mcdsl/config";
import { DEFAULT_SERVICE_DOMAIN, parseDuration } from "@mcp/mcdsl/servicedef";
import { normalizeHostname } from "./policy/hostnames.js";

export const APP = "cert-broker";

const paths = defaultPaths(APP);

/** A duration with units ("720h", "90s", "500ms"). */
const duration = (fallback: string) =>
  z
    .string()
    .refine((v) => typeof parseDuration(v) === "number", {
      message: 'expected a duration such as "500ms", "90s" or "720h"',
    })
    .default(fallback);

/**
 * A DNS name as the policy reads it (with `suffix`, "." first means every name under it): a bad one
 * is refused here, with file, line and key, rather than by the policy at start without them.
 */
const dnsName = (suffix: boolean) =>
  z.string().superRefine((value, ctx) => {
    try {
      normalizeHostname(suffix && value.startsWith(".") ? value.slice(1) : value);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: err instanceof Error ? err.message : String(err) });
    }
  });

const fraction = (fallback: number) => z.number().min(0).max(1).default(fallback);

export const configSchema = z.object({
  server: section(serverFields("127.0.0.1:9443")),
  auth: section(authFields(APP)),
  database: section(databaseFields(APP, "cert-broker.db")),
  certificates: section({
    /** Where <hostname>.pem, .key and .chain.pem are published for mc-proxy and containers. */
    cert_dir: z.string().default("/srv/mc-proxy/certs"),
    /** Each certificate's key by serial (0600): the copy the published files are restored from. */
    keys_dir: z.string().default(`${paths.dataDir}/keys`),
    lifetime: duration("720h"),
    /** Renew up to this fraction of the lifetime before the two-thirds mark (random per certificate). */
    renew_jitter: fraction(0.05),
  }),
  policy: section({
    service_domain: dnsName(false).default(DEFAULT_SERVICE_DOMAIN),
    /** Public hostnames services may obtain: exact names, or ".example.org" for names under it. */
    public_hostnames: z.array(dnsName(true)).default([]),
  }),
  renewal: section({
    interval: duration("1m"),
    retry_base: duration("1m"),
    retry_max: duration("1h"),
    /** mcp.cert.expiring when less than this fraction of the lifetime is left without a renewal. */
    expiring_fraction: fraction(1 / 6),
  }),
  issuer: section({
    type: z.enum(["local", "acme"]).default("local"),
  }),
  local: section({
    ca_dir: z.string().default(`${paths.dataDir}/ca`),
    root_name: z.string().default("Metacircular Local Root CA"),
    intermediate_name: z.string().default("Metacircular Local Issuing CA"),
    root_lifetime: duration("87600h"),
    intermediate_lifetime: duration("43800h"),
  }),
  crl: section({
    /** Serves GET /crl (DER) and /crl.pem for the local CA; empty: no CRL listener. */
    listen: listenAddress("crl").optional(),
    /** The URL written into leaves as their CRL distribution point (e.g. http://ca.example:8081/crl). */
    url: z.string().optional(),
  }),
  acme: section({
    directory_url: z.string().optional(),
    email: z.string().optional(),
    /** PEM bundle to trust for the ACME directory's HTTPS (a private CA such as Metacrypt or Pebble). */
    directory_ca_file: z.string().optional(),
    /** The roots clients should trust (GetTrustBundle); by default the top of each issued chain. */
    trust_bundle_file: z.string().optional(),
    /** The ACME account key (created 0600 on first start). */
    account_key_file: z.string().default(`${paths.dataDir}/acme-account.key`),
    /** MCNS's API, where dns-01 TXT records are created. */
    mcns_url: z.string().optional(),
    /** A file holding the bearer token for MCNS (0600). */
    mcns_token_file: z.string().optional(),
    /** The MCNS zone the challenge records go into; by default the longest zone MCNS serves that fits. */
    mcns_zone: z.string().optional(),
  }),
  events: section(eventsFields()),
  log: section(logFields()),
});

export type CertBrokerConfig = z.output<typeof configSchema>;

export function loadCertBrokerConfig(path: string | undefined): CertBrokerConfig {
  return loadConfig({ app: APP, schema: configSchema, path });
}

/** A duration the schema has checked, in milliseconds. */
export function ms(value: string): number {
  return parseDuration(value) as number;
}
