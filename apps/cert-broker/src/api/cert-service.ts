// certbroker.v1.CertService over the broker.
import type { ConnectRouter } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { AuthPolicy } from "@mcp/mcdsl/auth";
import { CertService } from "@mcp/proto/certbroker/v1/service_pb.js";
import type { Broker } from "../broker/broker.js";
import type { Clock } from "../broker/clock.js";
import { normalizeHostname } from "../policy/hostnames.js";
import type { CertFiles } from "../store/cert-files.js";
import { connectErrors, keyTypeFrom, reasonFrom, statusFrom, toMessage, toTrustAnchor } from "./convert.js";

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

/** Issuing, renewing and revoking need the agent's or an admin's token; reading any token; the bundle none. */
export const certServicePolicy: AuthPolicy = {
  roles: {
    "certbroker.v1.CertService/IssueCertificate": ["agent", "admin"],
    "certbroker.v1.CertService/RenewCertificate": ["agent", "admin"],
    "certbroker.v1.CertService/RevokeCertificate": ["agent", "admin"],
  },
  public: ["certbroker.v1.CertService/GetTrustBundle"],
};

export function certServiceRoutes(broker: Broker, files: CertFiles, clock: Clock) {
  const message = (cert: Parameters<typeof toMessage>[0]) => toMessage(cert, files, clock.now());
  return (router: ConnectRouter): void => {
    router.service(CertService, {
      issueCertificate: (req) =>
        connectErrors(async () => {
          const result = await broker.issue({
            service: req.service,
            hostnames: req.hostnames,
            routeHostnames: req.routeHostnames,
            keyType: keyTypeFrom(req.keyType),
            clientAuth: req.clientAuth,
          });
          const cert = result.certificate;
          return {
            certificate: message(cert),
            reused: result.reused,
            certPem: cert.certPem,
            chainPem: cert.chainPem,
            keyPem: req.includePrivateKey ? result.keyPem : "",
          };
        }),
      renewCertificate: (req) =>
        connectErrors(async () => {
          const result = await broker.renew(req.serial);
          const cert = result.certificate;
          return {
            certificate: message(cert),
            certPem: cert.certPem,
            chainPem: cert.chainPem,
            keyPem: req.includePrivateKey ? result.keyPem : "",
          };
        }),
      revokeCertificate: (req) =>
        connectErrors(async () => ({
          certificate: message(await broker.revoke(req.serial, reasonFrom(req.reason))),
        })),
      listCertificates: (req) =>
        connectErrors(() => {
          const limit = Math.min(req.pageSize || DEFAULT_PAGE, MAX_PAGE);
          const certs = broker.list({
            service: req.service || undefined,
            hostname: req.hostname ? hostnameFilter(req.hostname) : undefined,
            status: statusFrom(req.status),
            limit: limit + 1,
            after: req.pageToken ? decodePageToken(req.pageToken) : undefined,
          });
          const page = certs.slice(0, limit);
          const last = page.at(-1);
          return {
            certificates: page.map(message),
            nextPageToken:
              certs.length > limit && last ? encodePageToken(last.issuedAt.getTime(), last.serial) : "",
          };
        }),
      getCertificate: (req) =>
        connectErrors(() => {
          const cert = broker.get(req.serial);
          return { certificate: message(cert), certPem: cert.certPem, chainPem: cert.chainPem };
        }),
      getTrustBundle: () =>
        connectErrors(async () => {
          const roots = await broker.trustBundle();
          return { pem: roots.map((r) => `${r.trimEnd()}\n`).join(""), anchors: roots.map(toTrustAnchor) };
        }),
    });
  };
}

function encodePageToken(issuedMs: number, serial: string): string {
  return Buffer.from(`${issuedMs}:${serial}`).toString("base64url");
}

function decodePageToken(token: string): { issuedMs: number; serial: string } {
  const [ms, serial] = Buffer.from(token, "base64url").toString().split(":");
  if (!ms || !serial || !/^\d+$/.test(ms) || !/^[0-9a-f]+$/.test(serial)) {
    throw new ConnectError("page_token is not one this service returned", Code.InvalidArgument);
  }
  return { issuedMs: Number(ms), serial };
}

/** A list filter is a lookup, not a request for a certificate: any bad spelling is InvalidArgument. */
function hostnameFilter(hostname: string): string {
  try {
    return normalizeHostname(hostname);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConnectError(`hostname (the filter): ${reason}`, Code.InvalidArgument);
  }
}
