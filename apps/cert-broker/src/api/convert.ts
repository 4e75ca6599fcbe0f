// Plain broker types ↔ certbroker.v1 messages. Protobuf types stay in api/.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type Certificate,
  CertificateSchema,
  CertificateStatus,
  KeyType as KeyTypeMessage,
  RevocationReason,
  type TrustAnchor,
  TrustAnchorSchema,
} from "@mcp/proto/certbroker/v1/certificate_pb.js";
import { BrokerError, type BrokerErrorCode } from "../broker/errors.js";
import { fingerprint, type KeyType, x509 } from "../issuer/crypto.js";
import type { CertFiles } from "../store/cert-files.js";
import { type CertificateRecord, type Status, statusAt } from "../store/certificates.js";

const keyTypes: Record<KeyType, KeyTypeMessage> = {
  "ec-p256": KeyTypeMessage.EC_P256,
  "rsa-2048": KeyTypeMessage.RSA_2048,
  "rsa-3072": KeyTypeMessage.RSA_3072,
};

export function keyTypeFrom(message: KeyTypeMessage): KeyType {
  switch (message) {
    case KeyTypeMessage.UNSPECIFIED:
    case KeyTypeMessage.EC_P256:
      return "ec-p256";
    case KeyTypeMessage.RSA_2048:
      return "rsa-2048";
    case KeyTypeMessage.RSA_3072:
      return "rsa-3072";
    default:
      throw new ConnectError(`key_type ${message} is not a known KeyType`, Code.InvalidArgument);
  }
}

const statuses: Record<Status, CertificateStatus> = {
  valid: CertificateStatus.VALID,
  expiring: CertificateStatus.EXPIRING,
  expired: CertificateStatus.EXPIRED,
  revoked: CertificateStatus.REVOKED,
  superseded: CertificateStatus.SUPERSEDED,
};

export function statusFrom(message: CertificateStatus): Status | undefined {
  if (message === CertificateStatus.UNSPECIFIED) return undefined;
  const found = (Object.entries(statuses) as [Status, CertificateStatus][]).find(([, m]) => m === message);
  if (!found)
    throw new ConnectError(`status ${message} is not a known CertificateStatus`, Code.InvalidArgument);
  return found[0];
}

export function reasonFrom(message: RevocationReason): number {
  if (!(message in RevocationReason)) {
    throw new ConnectError(`reason ${message} is not a known RevocationReason`, Code.InvalidArgument);
  }
  return message; // the enum carries RFC 5280's codes
}

export function toMessage(cert: CertificateRecord, files: CertFiles, now: Date): Certificate {
  const status = statusAt(cert, now);
  // Files exist only for a certificate that is still served.
  const paths = cert.status === "valid" && cert.hostnames[0] ? files.paths(cert.hostnames[0]) : undefined;
  return create(CertificateSchema, {
    serial: cert.serial,
    service: cert.service,
    hostnames: cert.hostnames,
    notBefore: timestampFromDate(cert.notBefore),
    notAfter: timestampFromDate(cert.notAfter),
    status: statuses[status],
    issuer: cert.issuer,
    keyType: keyTypes[cert.keyType],
    clientAuth: cert.clientAuth,
    certFile: paths?.certFile ?? "",
    keyFile: paths?.keyFile ?? "",
    chainFile: paths?.chainFile ?? "",
    fingerprintSha256: cert.fingerprint,
    issueTime: timestampFromDate(cert.issuedAt),
    revokeTime: cert.revokedAt && timestampFromDate(cert.revokedAt),
    revocationReason: cert.revocationReason ?? 0,
    renews: cert.renews ?? "",
    replacedBy: cert.replacedBy ?? "",
  });
}

export function toTrustAnchor(pem: string): TrustAnchor {
  const cert = new x509.X509Certificate(pem);
  return create(TrustAnchorSchema, {
    subject: cert.subject,
    fingerprintSha256: fingerprint(cert),
    notBefore: timestampFromDate(cert.notBefore),
    notAfter: timestampFromDate(cert.notAfter),
  });
}

const codes: Record<BrokerErrorCode, Code> = {
  "invalid-argument": Code.InvalidArgument,
  "permission-denied": Code.PermissionDenied,
  "not-found": Code.NotFound,
  "failed-precondition": Code.FailedPrecondition,
  unavailable: Code.Unavailable,
};

/** Runs a broker call, turning its BrokerErrors into ConnectErrors with the same message. */
export async function connectErrors<T>(call: () => T | Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof BrokerError) throw new ConnectError(err.message, codes[err.code]);
    throw err;
  }
}
