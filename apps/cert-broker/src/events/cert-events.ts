// mcp.cert.{issued,renewed,expiring,revoked}, one event per hostname (the hostname in the envelope's
// subject: mc-proxy keys its certificates by hostname). Each is recorded in the event outbox inside
// the transaction that stores the change, and published after the commit (flush): a NATS outage
// neither fails nor holds up the call, and the event is published once NATS is back or at the next
// start. mc-proxy swaps a renewed certificate only on mcp.cert.renewed, so that one must not be lost.
import type { EventOutbox } from "@mcp/mcdsl/events";
import type { CertificateRecord } from "../store/certificates.js";

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

/** Records certificate events: call a method inside the store's transaction, then flush() after it. */
export class CertEvents {
  constructor(private readonly outbox: EventOutbox) {}

  issued(cert: CertificateRecord): void {
    for (const hostname of cert.hostnames) {
      this.outbox.record(
        "mcp.cert.issued",
        { hostname, serial: cert.serial, notAfter: cert.notAfter.toISOString(), service: cert.service },
        { subject: hostname },
      );
    }
  }

  renewed(cert: CertificateRecord, previousSerial: string): void {
    for (const hostname of cert.hostnames) {
      this.outbox.record(
        "mcp.cert.renewed",
        { hostname, serial: cert.serial, previousSerial, notAfter: cert.notAfter.toISOString() },
        { subject: hostname },
      );
    }
  }

  expiring(cert: CertificateRecord, now: Date): void {
    const daysLeft = Math.max(0, (cert.notAfter.getTime() - now.getTime()) / 86_400_000);
    for (const hostname of cert.hostnames) {
      this.outbox.record(
        "mcp.cert.expiring",
        {
          hostname,
          serial: cert.serial,
          notAfter: cert.notAfter.toISOString(),
          daysLeft: Math.round(daysLeft * 100) / 100,
        },
        { subject: hostname },
      );
    }
  }

  revoked(cert: CertificateRecord, reasonCode: number): void {
    for (const hostname of cert.hostnames) {
      this.outbox.record(
        "mcp.cert.revoked",
        { hostname, serial: cert.serial, reason: reasonName(reasonCode) },
        { subject: hostname },
      );
    }
  }

  /** Publishes what was recorded (see EventOutbox.flush: it never waits long on an outage). */
  flush(): Promise<void> {
    return this.outbox.flush();
  }
}
