// mcp.cert.{issued,renewed,expiring,revoked} on NATS, one event per hostname (the hostname in the
// envelope's subject: mc-proxy keys its certificates by hostname). The change is committed before the
// event is published, so a NATS outage is logged and does not fail the call.
import type { EventBus } from "@mcp/mcdsl/events";
import type { Logger } from "@mcp/mcdsl/log";
import type { CertificateRecord } from "../store/certificates.js";

/** What CertEvents needs of mcdsl's event bus. */
export type EventPublisher = Pick<EventBus, "publish">;

const REASONS: Record<number, string> = {
  0: "unspecified",
  1: "keyCompromise",
  2: "cACompromise",
  3: "affiliationChanged",
  4: "superseded",
  5: "cessationOfOperation",
  9: "privilegeWithdrawn",
};

export function reasonName(code: number): string {
  return REASONS[code] ?? `reason-${code}`;
}

export class CertEvents {
  constructor(
    private readonly logger: Logger,
    private readonly bus?: EventPublisher,
  ) {}

  issued(cert: CertificateRecord): Promise<void> {
    return this.#each(cert, (hostname) =>
      this.bus?.publish(
        "mcp.cert.issued",
        { hostname, serial: cert.serial, notAfter: cert.notAfter.toISOString(), service: cert.service },
        { subject: hostname },
      ),
    );
  }

  renewed(cert: CertificateRecord, previousSerial: string): Promise<void> {
    return this.#each(cert, (hostname) =>
      this.bus?.publish(
        "mcp.cert.renewed",
        { hostname, serial: cert.serial, previousSerial, notAfter: cert.notAfter.toISOString() },
        { subject: hostname },
      ),
    );
  }

  expiring(cert: CertificateRecord, now: Date): Promise<void> {
    const daysLeft = Math.max(0, (cert.notAfter.getTime() - now.getTime()) / 86_400_000);
    return this.#each(cert, (hostname) =>
      this.bus?.publish(
        "mcp.cert.expiring",
        {
          hostname,
          serial: cert.serial,
          notAfter: cert.notAfter.toISOString(),
          daysLeft: Math.round(daysLeft * 100) / 100,
        },
        { subject: hostname },
      ),
    );
  }

  revoked(cert: CertificateRecord, reasonCode: number): Promise<void> {
    return this.#each(cert, (hostname) =>
      this.bus?.publish(
        "mcp.cert.revoked",
        { hostname, serial: cert.serial, reason: reasonName(reasonCode) },
        { subject: hostname },
      ),
    );
  }

  async #each(
    cert: CertificateRecord,
    publish: (hostname: string) => Promise<unknown> | undefined,
  ): Promise<void> {
    for (const hostname of cert.hostnames) {
      try {
        await publish(hostname);
      } catch (err) {
        this.logger.warn({ err, serial: cert.serial, hostname }, "could not publish the certificate event");
      }
    }
  }
}
